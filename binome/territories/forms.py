"""The commune picker: a commune chosen by its INSEE code in the autocomplete
(``territories/_commune_picker.html``), or typed in full and resolved."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from binome.core.text import normalize
from binome.territories.models import Commune


class TypedCommune(str):
    """What a user typed in the commune picker without choosing one of its proposals."""


class CommunePickerInput(forms.HiddenInput):
    """The INSEE code the commune picker fills (``territories/_commune_picker.html``). When
    it is empty, the text typed beside it (``commune_recherche``) comes as a
    ``TypedCommune``, so that a commune typed but not chosen is never silently dropped."""

    search_name = "commune_recherche"

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        code = data.get(name, "")
        if code:
            return code
        # No commune name is longer than 100 characters: beyond, it is not one.
        typed = " ".join(str(data.get(self.search_name, "")).split())[:101]
        return TypedCommune(typed) if typed else ""


_LABEL = re.compile(r"^(?P<name>.+?)\s*\((?P<postal_code>\d{5})\)$")


def resolve_typed_commune(typed: str) -> Commune:
    """The one commune a typed text names: its exact name, a postal code of one commune,
    or the picker's own label « Toulon (83000) ». Otherwise a French message that says why
    and what to do."""
    match = _LABEL.match(typed)
    name, postal_code = (match["name"], match["postal_code"]) if match else (typed, "")
    if not postal_code and name.replace(" ", "").isdigit() and len(name.replace(" ", "")) == 5:
        name, postal_code = "", name.replace(" ", "")
    communes = Commune.objects.all()
    if name:
        communes = communes.filter(search_name=normalize(name))
    if postal_code:
        communes = communes.filter(postal_codes__contains=[postal_code])
    found = list(communes[:2])
    if len(found) == 1:
        return found[0]
    if found:
        raise forms.ValidationError(
            f"« {typed} » désigne plusieurs communes : choisissez la vôtre dans la liste "
            "proposée en tapant son nom ou son code postal."
        )
    raise forms.ValidationError(
        f"Aucune commune ne s'appelle « {typed} » : choisissez-la dans la liste proposée en "
        "tapant son nom ou son code postal."
    )


class CommuneField(forms.CharField):
    """A commune chosen by its INSEE code (filled by the autocomplete), or typed in full."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", CommunePickerInput)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Commune | None:
        if isinstance(value, TypedCommune):
            return resolve_typed_commune(value)
        value = super().clean(value)
        if not value:
            return None
        commune = Commune.objects.filter(insee_code=value).first()
        if commune is None:
            raise forms.ValidationError(
                "Commune inconnue : choisissez-la dans la liste proposée en tapant son nom "
                "ou son code postal."
            )
        return commune
