"""The orientation manager's and the referent body's forms."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from binome.core.forms import BinomeForm
from binome.organisations.models import Organisation, OrganisationKind
from binome.rsa.models import EmploymentSituation, Obstacle, OrientationKind, Qualification
from binome.rsa.orientations import Decision, referent_bodies, referent_candidates
from binome.support.forms import RadioButtons
from binome.support.plan_forms import CHECKBOXES_SNIPPET, Checkboxes

RADIOS_SNIPPET = "dsfr/form_field_snippets/radioselect_snippet.html"
DELEGATED = "delegated"


class ListFilterForm(forms.Form):
    """The « À orienter » list's filters (anything invalid is ignored)."""

    q = forms.CharField(label="Nom ou prénom", required=False, max_length=100)
    due = forms.ChoiceField(
        label="Échéance",
        required=False,
        choices=[
            ("", "Toutes"),
            ("overdue", "Dépassée"),
            ("week", "Dans les 7 jours"),
        ],
    )
    sdf = forms.BooleanField(label="Sans domicile fixe seulement", required=False)


class OrientationForm(BinomeForm):
    """Kind and referent body, with the criteria of the national referential; or the
    delegation to France Travail."""

    kind = forms.ChoiceField(
        label="Orientation",
        choices=[*OrientationKind.choices, (DELEGATED, "Déléguer à France Travail")],
        widget=RadioButtons,
        template_name=RADIOS_SNIPPET,  # type: ignore[call-arg]
        error_messages={"required": "Choisissez le type d'orientation."},
    )
    referent_body = forms.ModelChoiceField(
        label="Organisme référent",
        queryset=Organisation.objects.none(),
        help_text="France Travail, le département, un CCAS, une mission locale, Cap emploi…",
        error_messages={"required": "Choisissez l'organisme référent."},
    )
    employment_situation = forms.ChoiceField(
        label="Situation vis-à-vis de l'emploi",
        choices=[("", "—"), *EmploymentSituation.choices],
        required=False,
    )
    qualification = forms.ChoiceField(
        label="Niveau de qualification",
        choices=[("", "—"), *Qualification.choices],
        required=False,
    )
    aspirations = forms.CharField(
        label="Aspirations de la personne",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    obstacles = forms.MultipleChoiceField(
        label="Freins",
        choices=Obstacle.choices,
        required=False,
        widget=Checkboxes,
        template_name=CHECKBOXES_SNIPPET,  # type: ignore[call-arg]
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["referent_body"]
        field.queryset = referent_bodies(department_id)

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        body = data.get("referent_body")
        if (
            data.get("kind") == DELEGATED
            and body is not None
            and body.kind != OrganisationKind.FRANCE_TRAVAIL
        ):
            self.add_error(
                "referent_body", "Une orientation déléguée l'est à une agence France Travail."
            )
        return data

    def decision(self) -> Decision:
        data = self.cleaned_data
        delegated = data["kind"] == DELEGATED
        return Decision(
            referent_body=data["referent_body"],
            kind="" if delegated else data["kind"],
            delegated=delegated,
            employment_situation=data["employment_situation"],
            qualification=data["qualification"],
            aspirations=data["aspirations"],
            obstacles=data["obstacles"],
        )


class ReferentForm(BinomeForm):
    referent = forms.ModelChoiceField(
        label="Référent de parcours",
        queryset=Organisation.objects.none(),
        error_messages={"required": "Choisissez le référent parmi les membres."},
    )

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["referent"]
        field.queryset = referent_candidates(organisation_id)
        field.label_from_instance = lambda user: user.get_full_name()


class ContractForm(BinomeForm):
    signed_on = forms.DateField(
        label="Contrat d'engagement signé le",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Indiquez la date de signature du contrat.",
            "invalid": "Date invalide : indiquez une date réelle (jj/mm/aaaa).",
        },
    )

    def clean_signed_on(self) -> datetime.date:
        signed_on: datetime.date = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError("La date de signature est à venir.")
        return signed_on


class ReorientationRequestForm(BinomeForm):
    reason = forms.CharField(
        label="Motif de la demande de réorientation",
        help_text="Le département décide sur ce motif (situation nouvelle, diagnostic…).",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Motivez la demande de réorientation : le département décide sur ce motif."
        },
    )
