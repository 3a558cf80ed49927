from __future__ import annotations

from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.organisations.models import (
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRoleKind,
    function_choices,
    validate_siret,
)
from binome.territories.forms import CommuneField


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
