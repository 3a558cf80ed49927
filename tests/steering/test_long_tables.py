"""A long table (a département's communes): the dashboard shows its first rows and says so,
the full table is one link away, and its exports carry every row."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date

import pytest
from django.urls import reverse

from binome.people.models import Person
from binome.steering.dashboard import SHOWN_ROWS, find_table
from binome.support.models import Accompaniment
from binome.territories.models import Commune
from tests.steering.conftest import PERIOD, QUERY, Known

COMMUNES = 25


@pytest.fixture
def communes(known: Known) -> list[str]:
    """25 more Var communes, each with 1 to 25 accompaniments in progress (one more each)."""
    names = []
    for index, commune in enumerate(
        Commune.objects.filter(department_id="83").order_by("insee_code")[:COMMUNES]
    ):
        for number in range(index + 1):
            person = Person.objects.create(
                first_name=f"P{index}-{number}",
                last_name="Test",
                birth_date=date(1980, 1, 1),
                department_id="83",
                organisation=known.var.france_travail,
                commune_id=commune.insee_code,
            )
            Accompaniment.objects.create(
                person=person, kind="global", state="active", started_on=date(2026, 2, 1)
            )
        names.append(commune.name)
    assert len(set(names)) == COMMUNES
    return names[::-1]  # the most accompaniments first


def _dashboard(known: Known) -> str:
    response = known.var.client(known.var.dan).get(
        reverse("steering:territory", args=["83"]), QUERY
    )
    assert response.status_code == 200
    return response.content.decode()


def _table_html(page: str, caption: str) -> str:
    start = page.index(f"<caption>{caption}</caption>")
    return page[start : page.index("</table>", start)]


def test_the_dashboard_shows_a_long_tables_first_rows_and_says_so(
    known: Known, communes: list[str]
) -> None:
    full = find_table("83", PERIOD, None, "support", "by_commune")
    assert full is not None and len(full.rows) > COMMUNES  # and those of the known persons
    total = len(full.rows)
    page = _dashboard(known)
    assert f"{SHOWN_ROWS} communes sur {total}, celles qui comptent le plus" in html.unescape(page)
    table = html.unescape(_table_html(page, "Par commune de la personne"))
    assert table.count("<tr>") == 1 + SHOWN_ROWS
    assert all(name in table for name in communes[:SHOWN_ROWS])
    assert not any(f">{name}<" in table for name in communes[SHOWN_ROWS:])
    # The chart draws the rows the table shows.
    chart = re.search(r'<bar-chart x="([^"]*)"[^>]*name="\[&quot;En cours', page)
    charts = re.findall(r'<bar-chart x="([^"]*)"', page)
    labels = [json.loads(html.unescape(x))[0] for x in charts]
    assert chart is not None and [row[0] for row in full.rows[:SHOWN_ROWS]] in labels
    # One link to the whole table, for the same period.
    url = reverse("steering:territory_table", args=["83", "support", "by_commune"])
    assert f'href="{url}?periode=dates&amp;du=2026-01-01&amp;au=2026-03-31"' in page
    assert f"Voir les {total} lignes" in page
    # A short table is shown whole, without a link.
    assert "sur 2, " not in page
    assert reverse("steering:territory_table", args=["83", "support", "by_epci"]) not in page


def test_the_full_table_and_its_export_have_every_row(known: Known, communes: list[str]) -> None:
    full = find_table("83", PERIOD, None, "support", "by_commune")
    assert full is not None
    client = known.var.client(known.var.dan)
    url = reverse("steering:territory_table", args=["83", "support", "by_commune"])
    response = client.get(url, QUERY)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "<h1>Par commune de la personne — Var</h1>" in page
    assert f"toutes les lignes du tableau ({len(full.rows)})" in page
    table = _table_html(page, "Par commune de la personne")
    assert table.count("<tr>") == 1 + len(full.rows)
    assert all(f">{name}<" in table for name in communes)
    export = reverse("steering:territory_export", args=["83", "support", "by_commune", "csv"])
    assert f"{export}?periode=dates&du=2026-01-01&au=2026-03-31" in page
    exported = client.get(export, QUERY).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert all(any(row and row[0] == name for row in rows) for name in communes)
    assert "/pilotage/territoires/83/?periode=dates" in page  # back to the dashboard


def test_who_sees_a_full_table(known: Known) -> None:
    var = known.var
    url = reverse("steering:territory_table", args=["83", "support", "by_commune"])
    assert var.client(var.dan).get(url).status_code == 200  # the last quarter by default
    assert var.client(var.carol).get(url).status_code == 403  # a Var professional
    assert var.client(var.charlie).get(url).status_code == 404  # the Essonne
    for section, table in (("support", "nothing"), ("nothing", "by_commune")):
        missing = reverse("steering:territory_table", args=["83", section, table])
        assert var.client(var.dan).get(missing).status_code == 404
    # A bad period gets the default one, as on the dashboard.
    assert var.client(var.dan).get(url, {"periode": "dates", "du": "x"}).status_code == 200
    organisation = reverse(
        "steering:organisation_table", args=[var.departement.pk, "support", "by_organisation"]
    )
    assert var.client(var.dan).get(organisation, QUERY).status_code == 200
    assert var.client(var.bob).get(organisation).status_code == 403  # a member, not an admin
    assert var.client(var.charlie).get(organisation).status_code == 404
