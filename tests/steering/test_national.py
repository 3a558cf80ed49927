"""The national dashboard: every département a row, the country's total, for the holders of
the national steering permission only."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from binome.accounts.models import User
from binome.steering.national import departments_table
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, Kind, State, TeamRole
from tests.steering.conftest import PERIOD, QUERY, Known

NATIONAL = reverse("steering:national")
EXPORT = reverse("steering:national_export", args=["national", "par_departement", "csv"])


def _national_steering(known: Known) -> Client:
    user = known.var.dan
    user.user_permissions.add(Permission.objects.get(codename="view_national_dashboard"))
    return known.var.client(User.objects.get(pk=user.pk))  # permissions are cached per object


def _essonne_entry(known: Known) -> None:
    """Charlie's person in the Essonne, entered in the period and still accompanied."""
    person = support_actions.create_person(
        data={"first_name": "Ève", "last_name": "Test", "birth_date": date(1992, 4, 1)},
        by=known.var.charlie,
        organisation=known.var.charlie.memberships.get().organisation,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    Accompaniment.objects.filter(person=person).update(
        started_on=date(2026, 3, 1), state=State.ACTIVE
    )


def _rows(table: Any) -> dict[str, tuple[object, ...]]:
    return {row[0]: row[1:] for row in table.rows}


def test_every_departement_is_a_row_and_the_country_sums_them(known: Known) -> None:
    _essonne_entry(known)
    table = departments_table(PERIOD)
    rows = _rows(table)
    assert len(table.rows) == 101 + 1
    # The Var (conftest.py): entries P1, P2, P4 / P3; P2 active; P1 and P3 out (54 and 76
    # days: median 65), one of them for a job.
    assert rows["83 — Var"] == (3, 1, 1, 2, 50.0, 65)
    assert rows["91 — Essonne"] == (1, 0, 1, 0, None, None)
    assert rows["29 — Finistère"] == (0, 0, 0, 0, None, None)
    assert rows["France entière"] == (4, 1, 2, 2, 50.0, 65)
    assert table.rows[-1][0] == "France entière"


def test_the_national_steering_reads_the_page_and_exports_it(known: Known) -> None:
    client = _national_steering(known)
    response = client.get(NATIONAL, QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Tableau de bord national" in body
    assert "Chiffres du 01/01/2026 au 31/03/2026" in body
    assert '<th scope="row">83 — Var</th>' in body
    assert "Zoé" not in body
    export = client.get(EXPORT, QUERY)
    assert export.status_code == 200
    lines = export.content.decode().splitlines()
    assert "83 — Var;3;1;1;2;50,0;65" in lines
    assert lines[-1] == "France entière;3;1;1;2;50,0;65"
    xlsx = client.get(
        reverse("steering:national_export", args=["national", "par_departement", "xlsx"]), QUERY
    )
    assert xlsx.status_code == 200


def test_a_territory_role_does_not_reach_the_national_dashboard(known: Known) -> None:
    # Dan steers the Var, Alice and Bob accompany persons: none of them sees the country.
    for user in (known.var.dan, known.var.alice, known.var.bob):
        client = known.var.client(user)
        assert client.get(NATIONAL).status_code == 403
        assert client.get(EXPORT).status_code == 403
    assert Client().get(NATIONAL).status_code == 302


def test_unknown_table_format_or_bad_period(known: Known) -> None:
    client = _national_steering(known)
    for args in (["national", "nope", "csv"], ["nope", "par_departement", "csv"]):
        assert client.get(reverse("steering:national_export", args=args)).status_code == 404
    pdf = reverse("steering:national_export", args=["national", "par_departement", "pdf"])
    assert client.get(pdf).status_code == 404
    response = client.get(NATIONAL, {"periode": "dates", "du": "2026-03-01", "au": "2026-01-01"})
    assert response.status_code == 200
    assert "La date de fin doit suivre la date de début." in response.content.decode()
