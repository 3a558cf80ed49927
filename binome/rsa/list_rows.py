"""The rows of « À orienter » as HTML, written in one pass in Python.

A page holds 50 persons to orient and up to 50 reorientations asked: as template loops they
were two thirds of the page's time (about 22 variables, two ``{% url %}`` and three
conditions a row). Here each row is one f-string: every text from the database goes through
``escape`` (the standard library's, which Django's own ``escape`` calls), the addresses are
reversed once per page (``id_url``). The HTML is the template's, cell for cell.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString

from binome.core.links import id_url
from binome.rsa.flux import RightState, Role
from binome.rsa.models import WARNING_DAYS, Beneficiary, Orientation

NO_VALUE = "—"
_ROLES = dict(Role.choices)
_STATES = dict(RightState.choices)


def _day(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


def _text(value: object) -> str:
    return escape(str(value))


def to_orient_html(
    rows: Sequence[Beneficiary], *, today: datetime.date, family_labels: dict[str, str]
) -> list[SafeString]:
    """Each person to orient as a ``<tr>``: her checkbox, her name (to her file) with her
    role, birth date and dossier, her household, the state of the right, her France Travail
    id, the deadline (a badge when near or past) and the link to orient her."""
    file_url = id_url("people:detail")
    orient_url = id_url("rsa:orient")
    html = []
    for row in rows:
        pk, dossier, person = row.pk, row.dossier, row.person
        assert person is not None  # « à orienter » holds only persons with a file
        name = _text(f"{row.first_name} {row.last_name}")
        household = _text(family_labels.get(dossier.family_situation) or NO_VALUE)
        if dossier.children:
            household += f", {int(dossier.children)} enfant(s)"
        state = _text(_STATES.get(dossier.state, dossier.state))
        if dossier.no_fixed_address:
            state += ' <p class="fr-badge fr-badge--sm fr-badge--warning">Sans domicile fixe</p>'
        due_on = row.orientation_due_on
        assert due_on is not None  # the list's order: every person to orient has a deadline
        days_left = (due_on - today).days
        if days_left < 0:
            due = f'<p class="fr-badge fr-badge--sm fr-badge--error">Dépassé : {_day(due_on)}</p>'
        elif days_left <= WARNING_DAYS:
            due = f'<p class="fr-badge fr-badge--sm fr-badge--warning">{_day(due_on)}</p>'
        else:
            due = _day(due_on)
        html.append(
            SafeString(
                "<tr>"
                '<td><div class="fr-checkbox-group fr-checkbox-group--sm">'
                f'<input type="checkbox" id="choisir-{pk}" name="b" value="{pk}">'
                f'<label class="fr-label" for="choisir-{pk}">'
                f'Choisir<span class="fr-sr-only"> {name}</span></label></div></td>'
                f'<td><a href="{file_url(person.pk)}">'
                f"{_text(person.first_name)} {_text(person.last_name)}</a><br>"
                f'<span class="fr-text--xs">{_text(_ROLES.get(row.role, row.role))}, '
                f"né(e) le {_day(row.birth_date)} — RSA n° {_text(dossier.number)}</span></td>"
                f"<td>{household}</td>"
                f"<td>{state}</td>"
                f"<td>{_text(row.france_travail_id or NO_VALUE)}</td>"
                f"<td>{due}</td>"
                f'<td><a class="fr-link" href="{orient_url(pk)}">'
                f'Orienter<span class="fr-sr-only"> {name}</span></a></td>'
                "</tr>"
            )
        )
    return html


def reorientations_html(asked: Iterable[Orientation]) -> list[SafeString]:
    """Each reorientation a referent body asked for as a ``<tr>``: the person (to her file),
    the body, the day, the reason and the link to reorient her."""
    file_url = id_url("people:detail")
    orient_url = id_url("rsa:orient")
    html = []
    for orientation in asked:
        name = _text(orientation.person.full_name)
        asked_at = orientation.reorientation_asked_at
        assert asked_at is not None  # the queryset's filter
        html.append(
            SafeString(
                "<tr>"
                f'<td><a href="{file_url(orientation.person_id)}">{name}</a></td>'
                f"<td>{_text(orientation.referent_body.name)}</td>"
                f"<td>{_day(timezone.localtime(asked_at))}</td>"
                f"<td>{_text(orientation.reorientation_reason)}</td>"
                f'<td><a class="fr-link" href="{orient_url(orientation.beneficiary_id)}">'
                f'Réorienter<span class="fr-sr-only"> {name}</span></a></td>'
                "</tr>"
            )
        )
    return html
