from __future__ import annotations

import re
from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.core.text import normalize
from binome.organisations.models import (
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRoleKind,
    function_choices,
    validate_siret,
)
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


class OrganisationForm(BinomeForm, forms.ModelForm):
    commune = CommuneField(
        label="Commune",
        required=False,
        error_messages={"required": "Choisissez la commune dans la liste proposée."},
    )

    class Meta:
        model = Organisation
        fields = ["name", "kind", "siret", "address", "commune", "email", "phone"]
        help_texts = {
            "siret": "14 chiffres, sans espace. Facultatif pour un service interne.",
            "phone": "Par exemple 04 94 00 00 00.",
        }
        error_messages = {
            "name": {"required": "Indiquez le nom de l'organisation."},
            "kind": {"required": "Choisissez le type d'organisation."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            ("", "Choisir un type"),
            *OrganisationKind.choices,
        ]
        self.fields["siret"].validators = [validate_siret]
        if self.instance and self.instance.commune_id:
            self.initial["commune"] = self.instance.commune_id

    def clean_siret(self) -> str:
        return "".join(self.cleaned_data.get("siret", "").split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        commune = cleaned.get("commune")
        department_id = getattr(self, "department_id", None) or self.instance.department_id
        if commune is not None and department_id and commune.department_id != department_id:
            self.add_error(
                "commune",
                f"La commune {commune.name} n'est pas dans le département {department_id} de "
                "cette organisation.",
            )
        return cleaned


class InviteMemberForm(BinomeForm):
    email = forms.EmailField(
        label="Adresse e-mail professionnelle",
        error_messages={
            "required": "Indiquez l'adresse e-mail de la personne à inviter.",
            "invalid": (
                "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@francetravail.fr)."
            ),
        },
    )
    first_name = forms.CharField(
        label="Prénom", max_length=150, error_messages={"required": "Indiquez le prénom."}
    )
    last_name = forms.CharField(
        label="Nom", max_length=150, error_messages={"required": "Indiquez le nom."}
    )
    job_title = forms.CharField(label="Intitulé du poste", max_length=120, required=False)
    function = forms.ChoiceField(
        label="Fonction déclarée",
        required=False,
        help_text="Elle détermine ce que le membre voit des dossiers partagés : le NIR et la "
        "santé sont réservés aux travailleurs sociaux et aux référents.",
    )
    role = forms.ChoiceField(label="Rôle", choices=Role.choices, initial=Role.PROFESSIONAL)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["function"].choices = function_choices(kind)


class MemberFunctionForm(BinomeForm):
    function = forms.ChoiceField(label="Fonction déclarée", required=False)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["function"].choices = function_choices(kind)


class ChangeRoleForm(BinomeForm):
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)


class TerritoryRoleForm(BinomeForm):
    email = forms.EmailField(
        label="Adresse e-mail de l'utilisateur",
        error_messages={"required": "Indiquez l'adresse e-mail d'un utilisateur de Binôme."},
    )
    role = forms.ChoiceField(label="Rôle", choices=TerritoryRoleKind.choices)
