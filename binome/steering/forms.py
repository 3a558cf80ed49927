"""The choice of the period (query string): the last quarter by default."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.steering.models import TARGET_DAYS_BOUNDS
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
