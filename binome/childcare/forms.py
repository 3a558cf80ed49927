"""The childcare forms: a provider's places, a request, a provider's answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from binome.childcare.models import (
    DEFAULT_RADIUS_KM,
    MAX_RADIUS_KM,
    PAST_INTERVIEW_MESSAGE,
    DeclineReason,
    Eligibility,
    PlacementEndReason,
    Provider,
    ProviderKind,
    Reason,
    Urgency,
)
from binome.core.forms import BinomeForm
from binome.organisations.models import Organisation, OrganisationKind
from binome.people.models import HouseholdMember
from binome.support.models import FollowupOutcome

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


if TYPE_CHECKING:
    _ProviderModelForm = forms.ModelForm[Provider]
else:  # ModelForm is generic for the type checker only
    _ProviderModelForm = forms.ModelForm


class ProviderForm(BinomeForm, _ProviderModelForm):
    """A provider's places on one short form; the model's ``clean`` checks they fit."""

    class Meta:
        model = Provider
        fields = [
            "kind",
            "label_on",
            "label_caf",
            "capacity",
            "avip_places",
            "free_places",
            "free_from",
            "min_age_months",
            "max_age_months",
            "opening_hours",
            "emergency_capacity",
            "answering_hours",
            "is_active",
        ]
        widgets = {"label_on": DATE_WIDGET, "free_from": DATE_WIDGET}
        help_texts = {
            "free_places": "Les places réservées AVIP disponibles pour un nouvel enfant.",
            "min_age_months": "En mois : 0 dès la naissance, 3 à partir de 3 mois…",
            "max_age_months": "En mois : 36 jusqu'à 3 ans, 120 jusqu'à 10 ans.",
            "opening_hours": "Par exemple : du lundi au vendredi, de 7h30 à 18h30.",
            "emergency_capacity": "Services de garde à domicile : les accueils d'urgence "
            "(réponse sous 24 heures) possibles par jour.",
            "answering_hours": "Services de garde à domicile : quand vous répondez aux urgences.",
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organisation = organisation
        field = self.fields["label_caf"]
        assert isinstance(field, forms.ModelChoiceField)
        # The label is given by the CAF of the provider's département (and a choice already
        # made stays offered): not the country's 180 CAF organisations in one list.
        cafs = Q(department_id=organisation.department_id)
        if self.instance.label_caf_id is not None:
            cafs |= Q(pk=self.instance.label_caf_id)
        field.queryset = (
            Organisation.objects.active().filter(kind=OrganisationKind.CAF).filter(cafs)
        )
        field.empty_label = "Non labellisé"
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = ProviderKind.choices


class RequestForm(BinomeForm):
    """A childcare request from the person's file: the children, the reason and the date,
    the urgency, the consent. The children are the household's (ticked) and, when missing
    there, one typed here — first name and birth date, never more."""

    # Not named "children": a form's named control would hide the form's own ``children``.
    child_ids = forms.MultipleChoiceField(
        label="Enfants du foyer concernés",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_first_name = forms.CharField(
        label="Autre enfant : prénom", max_length=100, required=False
    )
    other_birth_date = forms.DateField(
        label="Autre enfant : date de naissance", required=False, widget=DATE_WIDGET
    )
    reason = forms.ChoiceField(label="Motif", choices=Reason.choices)
    reason_on = forms.DateField(
        label="Date de l'entretien, de la formation ou du début de l'emploi",
        required=False,
        widget=DATE_WIDGET,
    )
    needed_on = forms.DateField(label="Accueil nécessaire à partir du", widget=DATE_WIDGET)
    schedule = forms.CharField(
        label="Jours et horaires",
        max_length=200,
        help_text="Par exemple : mardi 8 décembre, de 9 h à 12 h ; ou du lundi au vendredi, "
        "de 8 h 30 à 17 h 30.",
    )
    urgency = forms.ChoiceField(label="Urgence", choices=Urgency.choices, widget=forms.RadioSelect)
    single_parent = forms.BooleanField(label="Parent isolé", required=False)
    qpv = forms.BooleanField(
        label="Habite un quartier prioritaire (QPV) : à cocher par vous",
        required=False,
        help_text="Binôme ne le déduit pas encore de l'adresse : la liste des quartiers "
        "prioritaires 2024 et leurs contours n'y sont pas chargés. Cochez si vous avez vérifié "
        "que l'adresse de la personne est dans un quartier prioritaire ; la CAF et les accueils "
        "le verront comme un critère déclaré.",
    )
    rsa = forms.BooleanField(label="Bénéficiaire du RSA", required=False)
    radius_km = forms.IntegerField(
        label="Distance maximale du domicile (km)",
        help_text="Sans diagnostic qui indique le rayon de mobilité de la personne : "
        f"{DEFAULT_RADIUS_KM} km par défaut.",
        initial=DEFAULT_RADIUS_KM,
        min_value=1,
        max_value=MAX_RADIUS_KM,
        error_messages={
            "min_value": f"Entre 1 et {MAX_RADIUS_KM} km.",
            "max_value": f"Entre 1 et {MAX_RADIUS_KM} km.",
        },
    )
    consent_now = forms.BooleanField(
        label="La personne accepte aujourd'hui que sa demande soit transmise à la CAF et aux "
        "accueils sollicités",
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        household: Sequence[HouseholdMember],
        has_consent: bool,
        mobility_km: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if mobility_km is not None:
            # The person's mobility, as the diagnostic measured it, is the matching radius.
            radius = self.fields["radius_km"]
            radius.initial = min(MAX_RADIUS_KM, max(1, mobility_km))
            radius.help_text = (
                f"Le rayon de mobilité de la personne selon son diagnostic : {mobility_km} km."
            )
        self.household = {str(member.pk): member for member in household}
        field = self.fields["child_ids"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (str(member.pk), f"{member.first_name}, né(e) le {member.birth_date:%d/%m/%Y}")
            for member in household
            if member.birth_date is not None
        ]
        if not field.choices:
            del self.fields["child_ids"]
        self.has_consent = has_consent
        if has_consent:
            del self.fields["consent_now"]

    def clean_needed_on(self) -> date:
        value: date = self.cleaned_data["needed_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(
                "Cette date est passée : indiquez à partir de quand l'accueil est nécessaire."
            )
        return value

    def clean_other_birth_date(self) -> date | None:
        value: date | None = self.cleaned_data.get("other_birth_date")
        if value is not None and value > timezone.localdate():
            raise forms.ValidationError("La date de naissance ne peut pas être dans le futur.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        children: list[tuple[str, date]] = [
            (self.household[key].first_name, self.household[key].birth_date)  # type: ignore[misc]
            for key in data.get("child_ids") or []
            if key in self.household
        ]
        first_name = (data.get("other_first_name") or "").strip()
        birth_date = data.get("other_birth_date")
        if first_name and birth_date is None and "other_birth_date" not in self.errors:
            self.add_error("other_birth_date", "Indiquez la date de naissance de l'enfant.")
        elif birth_date is not None and not first_name:
            self.add_error("other_first_name", "Indiquez le prénom de l'enfant.")
        elif first_name and birth_date is not None:
            children.append((first_name, birth_date))
        if not children and not self.errors:
            raise forms.ValidationError(
                "Choisissez au moins un enfant du foyer, ou indiquez le prénom et la date de "
                "naissance de l'enfant à faire garder."
            )
        data["child_list"] = children
        reason_on = data.get("reason_on")
        if (
            data.get("reason") == Reason.INTERVIEW
            and reason_on is not None
            and reason_on < timezone.localdate()
        ):
            self.add_error("reason_on", PAST_INTERVIEW_MESSAGE)
        if not self.has_consent and not data.get("consent_now"):
            self.add_error(
                "consent_now",
                "Sans le consentement de la personne à la transmission de sa demande à la CAF "
                "et aux accueils, la demande ne peut pas être envoyée.",
            )
        return data


class SendForm(BinomeForm):
    """The providers to send the request to (one for a place, several for an emergency)."""

    providers = forms.MultipleChoiceField(
        label="Accueils à solliciter", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["providers"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        field.error_messages["required"] = "Choisissez au moins un accueil à solliciter."


class WithdrawForm(BinomeForm):
    withdrawn_reason = forms.CharField(
        label="Motif du retrait",
        max_length=300,
        help_text="Par exemple : solution de garde trouvée par la famille, entretien annulé.",
        error_messages={"required": "Indiquez pourquoi la demande est retirée."},
    )


class AcceptForm(BinomeForm):
    start_on = forms.DateField(label="Début de l'accueil", widget=DATE_WIDGET)
    place_details = forms.CharField(
        label="La place proposée",
        max_length=300,
        help_text="Par exemple : section des moyens, du lundi au vendredi de 8 h à 17 h.",
    )


class DeclineForm(BinomeForm):
    decline_reason = forms.ChoiceField(
        label="Motif du refus", choices=[("", "Choisir un motif"), *DeclineReason.choices]
    )
    decline_details = forms.CharField(label="Précisions", max_length=300, required=False)


class EligibilityForm(BinomeForm):
    eligibility = forms.ChoiceField(
        label="Les critères AVIP sont-ils remplis ?",
        choices=Eligibility.choices,
        widget=forms.RadioSelect,
    )
    eligibility_reason = forms.CharField(
        label="Motif",
        max_length=300,
        required=False,
        help_text="Obligatoire pour une demande non éligible.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("eligibility") == Eligibility.NOT_ELIGIBLE
            and not (data.get("eligibility_reason") or "").strip()
        ):
            self.add_error("eligibility_reason", "Indiquez pourquoi la demande n'est pas éligible.")
        return data


class PlacementEndForm(BinomeForm):
    ended_on = forms.DateField(label="Fin de l'accueil le", widget=DATE_WIDGET)
    end_reason = forms.ChoiceField(
        label="Motif de fin", choices=[("", "Choisir un motif"), *PlacementEndReason.choices]
    )
    end_outcome = forms.ChoiceField(
        label="Situation du parent à la fin de l'accueil",
        choices=[("", "Choisir une situation"), *FollowupOutcome.choices],
    )
    end_details = forms.CharField(label="Précisions", max_length=300, required=False)


class PlacementFollowupForm(BinomeForm):
    followup_outcome = forms.ChoiceField(
        label="Situation du parent six mois après la fin de l'accueil",
        choices=[("", "Choisir une situation"), *FollowupOutcome.choices],
    )
    followup_situation = forms.CharField(label="Précisions", max_length=300, required=False)


class ChildcareSettingsForm(BinomeForm):
    emergency_weekends_count = forms.BooleanField(
        label="Les samedis et dimanches comptent dans le délai de 24 heures des urgences",
        required=False,
        help_text="Décochez pour arrêter l'horloge le week-end : une urgence déposée le "
        "vendredi à 18 h est alors attendue le lundi à 18 h.",
    )


class PeriodForm(BinomeForm):
    """The period of the figures, both ends included (a year to today by default)."""

    debut = forms.DateField(label="Du", widget=DATE_WIDGET)
    fin = forms.DateField(label="Au (inclus)", widget=DATE_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("debut"), data.get("fin")
        if start and end and end < start:
            self.add_error("fin", "La fin de la période précède son début.")
        return data
