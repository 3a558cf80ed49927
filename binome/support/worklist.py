"""« Mes personnes »: the worklist's filters (name, commune, kind, alert), applied in SQL.

The alert filters are the SQL form of the alerts the worklist shows
(``support.views.worklist``): a row whose situation at 6 months is expected shows only that
alert, the other alerts are those of the open accompaniments.
"""

from __future__ import annotations

from datetime import date, datetime, time
from types import SimpleNamespace
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from binome.core.forms import BinomeForm
from binome.core.text import normalize
from binome.support.models import (
    END_ALERTS,
    NO_CONTACT_ALERT,
    OPEN_STATES,
    Kind,
    State,
    TeamMember,
)
from binome.territories.forms import CommuneField

ALERT_NO_CONTACT = "sans-contact"
ALERT_END = "fin-proche"
ALERT_NO_DIAGNOSTIC = "sans-diagnostic"
ALERT_OVERDUE = "actions-en-retard"
ALERT_FOLLOWUP = "situation-6-mois"
ALERTS = [
    (ALERT_NO_CONTACT, "Aucun contact depuis 30 jours"),
    (ALERT_END, "Fin prévue proche"),
    (ALERT_NO_DIAGNOSTIC, "Diagnostic pas encore fait"),
    (ALERT_OVERDUE, "Actions à échéance dépassée"),
    (ALERT_FOLLOWUP, "Situation 6 mois après la sortie à renseigner"),
]
# Longer than any name a person has: beyond, it is not a search for a name.
QUERY_MAX_LENGTH = 100


class WorklistFilterForm(BinomeForm, forms.Form):
    """The worklist's search form (GET): every field optional, the filters combine."""

    q = forms.CharField(
        label="Nom ou prénom",
        required=False,
        max_length=QUERY_MAX_LENGTH,
        help_text="Majuscules et accents indifférents : « belkacem » trouve « BELKACEM ».",
        error_messages={
            "max_length": f"Tapez au plus {QUERY_MAX_LENGTH} caractères pour chercher un nom."
        },
    )
    commune = CommuneField(label="Commune de la personne", required=False)
    type = forms.ChoiceField(
        label="Type d'accompagnement",
        choices=[("", "Tous les types"), *Kind.choices],
        required=False,
        error_messages={
            "invalid_choice": "Ce type d'accompagnement n'existe pas : choisissez-en un "
            "dans la liste."
        },
    )
    alerte = forms.ChoiceField(
        label="Alerte",
        choices=[("", "Toutes les personnes"), *ALERTS],
        required=False,
        error_messages={
            "invalid_choice": "Cette alerte n'existe pas : choisissez-en une dans la liste."
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The commune picker shows the chosen commune's name from ``form.instance``.
        self.instance = SimpleNamespace(commune=None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.instance.commune = cleaned.get("commune")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The valid filters only: a bad value is reported and does not filter."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


def no_contact_for_long(last_contact_on: date | None, opened_at: datetime, today: date) -> bool:
    """« Aucun contact depuis 30 jours »: since the last contact or, before any, since the
    accompaniment was opened (a file opened today has no such alert)."""
    since = last_contact_on or timezone.localdate(opened_at)
    return today - since > NO_CONTACT_ALERT


def no_contact_condition(today: date) -> Q:
    """:func:`no_contact_for_long` in SQL, on team rows."""
    # Opened before this instant: opened more than 30 days before today.
    opened_before = timezone.make_aware(datetime.combine(today - NO_CONTACT_ALERT, time.min))
    return Q(person__last_contact_on__lt=today - NO_CONTACT_ALERT) | Q(
        person__last_contact_on__isnull=True, accompaniment__created_at__lt=opened_before
    )


def alert_condition(alert: str, today: date) -> Q:
    """The rows showing ``alert`` in the worklist, as a SQL condition on rows annotated by
    ``support.plan.with_plan_alerts`` (``has_diagnostic``, ``overdue_actions``)."""
    followup = Q(
        accompaniment__state=State.ENDED,
        accompaniment__followup_due_on__lte=today,
        accompaniment__followup_recorded_on__isnull=True,
    )
    if alert == ALERT_FOLLOWUP:
        return followup
    conditions = {
        ALERT_NO_CONTACT: no_contact_condition(today),
        ALERT_END: Q(accompaniment__planned_end_on__lte=today + END_ALERTS[0]),
        ALERT_NO_DIAGNOSTIC: Q(has_diagnostic=False),
        ALERT_OVERDUE: Q(overdue_actions__gt=0),
    }
    # The rows of the list that are not ended are open (see the view's query).
    return conditions[alert] & Q(accompaniment__state__in=OPEN_STATES)


def filter_rows(
    rows: QuerySet[TeamMember], filters: dict[str, Any], today: date
) -> QuerySet[TeamMember]:
    """The worklist's rows narrowed by the form's valid filters, all in SQL."""
    for word in normalize(filters.get("q", "")).split():
        rows = rows.filter(person__search_name__contains=word)
    if commune := filters.get("commune"):
        rows = rows.filter(person__commune=commune)
    if kind := filters.get("type"):
        rows = rows.filter(accompaniment__kind=kind)
    if alert := filters.get("alerte"):
        rows = rows.filter(alert_condition(alert, today))
    return rows
