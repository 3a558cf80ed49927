"""The territory administrator's forms of retention: a legal hold, the erasure of a file
created by mistake. A file is named by its number (shown on the file's page)."""

from __future__ import annotations

from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.core.http import parse_id
from binome.people.models import Person
from binome.retention.models import Anonymisation


class FileForm(BinomeForm):
    person = forms.CharField(
        label="Numéro du dossier",
        help_text="Le numéro affiché sur la page du dossier (« Dossier n° … »).",
        max_length=20,
        error_messages={"required": "Indiquez le numéro du dossier."},
    )
    reason = forms.CharField(
        label="Motif",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Indiquez le motif."},
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.department_id = department_id

    def clean_person(self) -> Person:
        number = parse_id(self.cleaned_data["person"].strip().removeprefix("n°").strip())
        person = (
            Person.objects.filter(pk=number, department_id=self.department_id).first()
            if number is not None
            else None
        )
        if person is None:
            raise forms.ValidationError("Aucun dossier de ce territoire ne porte ce numéro.")
        if Anonymisation.objects.filter(person_id=person.pk).exists():
            raise forms.ValidationError("Ce dossier est déjà anonymisé.")
        return person

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Indiquez le motif.")
        return reason


class HoldForm(FileForm):
    prefix = "hold"


class EraseForm(FileForm):
    prefix = "erase"
    confirm = forms.BooleanField(
        label="Je confirme que ce dossier a été créé par erreur : son identité et ses textes "
        "seront effacés tout de suite, sans retour possible.",
    )


class AccessRequestForm(BinomeForm):
    requested_on = forms.DateField(
        label="Date de la demande de la personne",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Indiquez la date de la demande.",
            "invalid": "Indiquez une date valide (jj/mm/aaaa).",
        },
    )
