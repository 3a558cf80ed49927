"""The territory administrator's forms of retention: a legal hold, the erasure of a file
created by mistake. A file is named by its number (shown on the file's page)."""

from __future__ import annotations

from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.core.http import parse_id
from binome.people.models import Person
from binome.retention.models import (
    ARCHIVE_YEARS_DEFAULT,
    ARCHIVE_YEARS_MAX,
    ARCHIVE_YEARS_MIN,
    Anonymisation,
)


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


class RestoreForm(FileForm):
    """A file archived by mistake, given back to its team."""

    prefix = "restore"


class ArchiveSettingsForm(BinomeForm):
    """The territory's intermediate archive: off by default; on, a duration and a written
    justification."""

    enabled = forms.BooleanField(
        label="Archiver les dossiers à la fin de leur durée de conservation, au lieu de les "
        "anonymiser tout de suite",
        required=False,
    )
    years = forms.IntegerField(
        label="Durée de l'archive (années)",
        min_value=ARCHIVE_YEARS_MIN,
        max_value=ARCHIVE_YEARS_MAX,
        help_text=f"De {ARCHIVE_YEARS_MIN} à {ARCHIVE_YEARS_MAX} ans ; "
        f"{ARCHIVE_YEARS_DEFAULT} par défaut. Le dossier est anonymisé à la fin de l'archive.",
        error_messages={
            "required": "Indiquez la durée de l'archive.",
            "invalid": "Indiquez un nombre entier d'années.",
            "min_value": f"L'archive dure au moins {ARCHIVE_YEARS_MIN} an.",
            "max_value": f"L'archive ne dépasse pas {ARCHIVE_YEARS_MAX} ans.",
        },
    )
    justification = forms.CharField(
        label="Justification écrite",
        help_text="Pourquoi le territoire garde les dossiers en archive (obligation légale, "
        "contentieux possibles…) ; elle est publiée sur la page « Données personnelles ».",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=3000,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("enabled") and not (data.get("justification") or "").strip():
            self.add_error(
                "justification", "Indiquez la justification écrite de l'archive intermédiaire."
            )
        return data


class ArchiveReadForm(BinomeForm):
    reason = forms.CharField(
        label="Motif de la consultation",
        help_text="Par exemple : demande d'accès de la personne, réquisition, contentieux. "
        "Il est enregistré au journal d'audit.",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        error_messages={"required": "Indiquez le motif de la consultation."},
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Indiquez le motif de la consultation.")
        return reason
