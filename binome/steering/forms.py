"""The choice of the period (query string): the last quarter by default."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from binome.accounts.models import User
from binome.core.forms import BinomeForm
from binome.organisations.models import Organisation
from binome.steering.models import TARGET_DAYS_BOUNDS, AgeBand, ComiteSession, Household
from binome.steering.periods import MAX_DAYS, Period, last_quarter, last_three_months, year

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FIRST_YEAR = 2015


class PeriodForm(BinomeForm):
    periode = forms.ChoiceField(
        label="Période",
        choices=[
            ("trimestre", "Le dernier trimestre"),
            ("trois_mois", "Les trois derniers mois"),
            ("annee", "Une année"),
            ("dates", "Entre deux dates"),
        ],
        initial="trimestre",
    )
    annee = forms.IntegerField(
        label="Année",
        help_text="Pour « une année », au format AAAA.",
        required=False,
    )
    du = forms.DateField(
        label="Du", help_text="Pour « entre deux dates ».", widget=DATE_WIDGET, required=False
    )
    au = forms.DateField(label="Au", widget=DATE_WIDGET, required=False)

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["annee"].help_text = f"Pour « une année », de {FIRST_YEAR} à {today.year}."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("periode") or "trimestre"
        if kind == "annee":
            number = data.get("annee")
            if number is None:
                self.add_error("annee", "Indiquez l'année, par exemple 2025.")
            elif not FIRST_YEAR <= number <= self.today.year:
                self.add_error("annee", f"Indiquez une année de {FIRST_YEAR} à {self.today.year}.")
        if kind == "dates":
            start, end = data.get("du"), data.get("au")
            if start is None and "du" not in self.errors:
                self.add_error("du", "Indiquez la date de début.")
            if end is None and "au" not in self.errors:
                self.add_error("au", "Indiquez la date de fin.")
            if start and end:
                if end < start:
                    self.add_error("au", "La date de fin doit suivre la date de début.")
                elif (end - start).days + 1 > MAX_DAYS:
                    self.add_error("au", "Choisissez une période de cinq ans au plus.")
                elif start.year < FIRST_YEAR:
                    self.add_error("du", f"Choisissez une date à partir de {FIRST_YEAR}.")
        return data

    def period(self) -> Period:
        """The chosen period; the last quarter when none, or when the choice is invalid."""
        if not self.is_valid():
            return last_quarter(self.today)
        data = self.cleaned_data
        kind = data.get("periode") or "trimestre"
        if kind == "trois_mois":
            return last_three_months(self.today)
        if kind == "annee":
            return year(data["annee"])
        if kind == "dates":
            return Period(data["du"], data["au"])
        return last_quarter(self.today)


class SteeringSettingsForm(BinomeForm):
    target_days = forms.IntegerField(
        label="Objectif de délai (jours)",
        help_text="De l'orientation au diagnostic partagé, et à l'activation de "
        "l'accompagnement : trois semaines (21 jours) par défaut.",
        min_value=TARGET_DAYS_BOUNDS[0],
        max_value=TARGET_DAYS_BOUNDS[1],
    )


class MemberChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name())


class SessionForm(BinomeForm):
    held_on = forms.DateField(label="Date de la séance", widget=DATE_WIDGET)
    place = forms.CharField(label="Lieu", max_length=200, required=False)
    members = MemberChoiceField(
        label="Membres du comité",
        help_text="Ils verront l'ordre du jour et les résumés des situations, jamais les dossiers.",
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = self.fields["members"]
        assert isinstance(members, forms.ModelMultipleChoiceField)
        members.queryset = (
            User.objects.filter(
                memberships__organisation__department_id=department_id,
                memberships__is_active=True,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )


class CaseForm(BinomeForm):
    session = forms.ModelChoiceField(
        label="Séance du comité", queryset=ComiteSession.objects.none(), empty_label=None
    )
    age_band = forms.ChoiceField(label="Tranche d'âge", choices=AgeBand.choices)
    household = forms.ChoiceField(label="Composition du foyer", choices=Household.choices)
    barriers = forms.CharField(
        label="Freins et leur niveau",
        help_text="Repris du dernier diagnostic validé ; sans nom, ni NIR, ni adresse.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    tried = forms.CharField(
        label="Ce qui a été tenté", max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    question = forms.CharField(
        label="La question posée au comité",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    agreement = forms.BooleanField(
        label="La personne a donné son accord pour que sa situation soit présentée au comité"
    )
    agreement_on = forms.DateField(label="Accord recueilli le", widget=DATE_WIDGET)

    def __init__(self, *args: Any, sessions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = self.fields["session"]
        assert isinstance(session, forms.ModelChoiceField)
        session.queryset = sessions


class DecisionForm(BinomeForm):
    decision = forms.CharField(
        label="Décision ou recommandation du comité",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OperationForm(BinomeForm):
    """A territory's FSE+ operation: its name, its period, the organisations it covers."""

    name = forms.CharField(label="Nom de l'opération", max_length=200)
    starts_on = forms.DateField(label="Début de l'opération", widget=DATE_WIDGET)
    ends_on = forms.DateField(label="Fin de l'opération", widget=DATE_WIDGET)
    organisations = forms.ModelMultipleChoiceField(
        label="Organisations couvertes",
        help_text="Les participants sont les personnes dont l'accompagnement global a été "
        "activé pendant l'opération, avec un membre de l'une de ces organisations dans "
        "l'équipe.",
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins une organisation couverte."},
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisations = self.fields["organisations"]
        assert isinstance(organisations, forms.ModelMultipleChoiceField)
        organisations.queryset = Organisation.objects.filter(department_id=department_id).order_by(
            "name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "La fin de l'opération doit suivre son début.")
        return data
