"""The dashboard's numbers on a small known territory, counted by hand (conftest.py)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.people.models import Person
from binome.steering.dashboard import compared_sections
from binome.steering.models import SteeringSettings
from tests.conftest import login_as
from tests.steering.conftest import PERIOD, QUERY, Known


def _figures(known: Known, organisation_id: int | None = None) -> dict[str, Any]:
    sections = compared_sections("83", PERIOD, organisation_id)
    return {
        f"{section.key}.{compared.figure.key}": (compared.figure.value, compared.previous)
        for section in sections
        for compared in section.figures
    }


def _table(known: Known, section: str, table: str, organisation_id: int | None = None) -> Any:
    sections = {s.key: s for s in compared_sections("83", PERIOD, organisation_id)}
    return {t.key: t for t in sections[section].tables}[table].rows


def test_accompaniment_figures_against_the_previous_period(known: Known) -> None:
    figures = _figures(known)
    assert figures["support.entries"] == (3, 1)  # P1, P2, P4 / P3
    assert figures["support.active"] == (1, 1)  # P2 on 31 March / P3 on 31 December
    assert figures["support.exits"] == (2, 0)  # P1 and P3; P4 never entered
    assert figures["support.median_duration"] == (65, None)  # median of 54 and 76 days
    assert figures["support.job_training_share"] == (50.0, None)
    assert figures["support.followup_job_training_share"] == (None, None)


def test_first_steps_against_the_territory_target(known: Known) -> None:
    figures = _figures(known)
    # Diagnostics of the period: P1 at 15 days from its referral, P2 at 28 from its start.
    assert figures["steering.diagnostic_median"] == (21.5, None)
    assert figures["steering.diagnostic_within_target"] == (50.0, None)
    # Activations: P1 at 20 days (in the period); P3 at 16 days (the previous one).
    assert figures["steering.activation_median"] == (20.0, 16.0)
    assert figures["steering.activation_within_target"] == (100.0, 100.0)
    SteeringSettings.objects.create(department_id="83", target_days=15)
    figures = _figures(known)
    assert figures["steering.diagnostic_within_target"] == (50.0, None)
    assert figures["steering.activation_within_target"] == (0.0, 0.0)


def test_entries_by_profile(known: Known) -> None:
    rows = {row[0]: row[1:3] for row in _table(known, "steering", "entries_by_profile")}
    assert rows == {
        "Allocataires du RSA": (0, 0.0),
        "Parents isolés": (1, 33.3),
        "Femmes": (1, 33.3),
        "Moins de 26 ans": (1, 33.3),
        "26 à 44 ans": (2, 66.7),
        "45 à 54 ans": (0, 0.0),
        "55 ans et plus": (0, 0.0),
    }


def test_exits_by_reason_organisation_and_commune(known: Known) -> None:
    reasons = dict(_table(known, "support", "exits_by_reason"))
    assert reasons["Emploi durable (CDI ou CDD de plus de 6 mois)"] == 1
    assert reasons["Abandon"] == 1
    assert reasons["Non pertinent après diagnostic"] == 1
    assert sum(reasons.values()) == 3
    assert _table(known, "support", "by_organisation") == (
        ("France Travail Toulon", 1, 3, 2),
        ("Département du Var", 0, 1, 1),
    )
    assert _table(known, "support", "by_commune") == (("Commune non renseignée", 1, 3, 2),)


def test_barriers_lifted_between_the_first_and_the_last_diagnostic(known: Known) -> None:
    rows = {row[0]: row[1:] for row in _table(known, "support", "barriers_lifted")}
    assert rows["Logement"] == (1, 1, 100.0)
    assert rows["Mobilité"] == (1, 0, 0.0)
    assert rows["Santé"] == (0, 0, None)


def test_orientations_each_kind_apart_with_the_territory_delay(known: Known) -> None:
    figures = _figures(known)
    assert figures["referrals.sent"] == (2, 0)
    assert figures["referrals.answered_within_share"] == (50.0, None)
    rows = {row[0]: row[1:] for row in _table(known, "referrals", "by_kind")}
    assert rows["Vers l'accompagnement global (binôme)"] == (1, 1, 2.0, 100.0, 100.0, None)
    assert rows["Vers l'accompagnement social"] == (1, 1, 12.0, 0.0, 0.0, None)
    assert rows["Vers un service de l'annuaire"] == (0, 0, None, None, None, None)
    prescribers = dict(_table(known, "referrals", "by_prescriber"))
    assert prescribers["CAF"] == 1
    assert sum(prescribers.values()) == 1


def test_an_organisation_sees_its_teams_only(known: Known) -> None:
    departement = known.var.departement.pk
    figures = _figures(known, departement)
    assert figures["support.entries"] == (1, 0)  # Bob is on P1's team only
    assert figures["support.exits"] == (2 - 1, 0)
    assert figures["referrals.sent"] == (1, 0)  # the social referral it received
    assert _table(known, "support", "by_organisation", departement) == (
        ("Département du Var", 0, 1, 1),
    )


def test_the_steering_officer_reads_the_page(known: Known) -> None:
    response = known.var.client(known.var.dan).get(
        reverse("steering:territory", args=["83"]), QUERY
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Chiffres du 01/01/2026 au 31/03/2026" in body
    assert "du 03/10/2025 au 31/12/2025" in body
    assert '<th scope="row">Entrées en accompagnement global</th>' in body
    assert "<td>3</td>\n                  <td>1</td>\n                  <td>+2</td>" in body
    assert "Freins levés par thème" in body
    assert "Zoé" not in body and "Paulo" not in body


def test_the_last_quarter_by_default(known: Known) -> None:
    response = known.var.client(known.var.dan).get(reverse("steering:territory", args=["83"]))
    assert response.status_code == 200
    assert "Chiffres du 01/07/2026 au 30/09/2026" in response.content.decode()


def test_bad_period_gets_a_message_and_the_default(known: Known) -> None:
    client = known.var.client(known.var.dan)
    url = reverse("steering:territory", args=["83"])
    body = client.get(url, {"periode": "dates", "du": "2026-03-01", "au": "2026-01-01"}).content
    assert "La date de fin doit suivre la date de début." in body.decode()
    body = client.get(url, {"periode": "annee", "annee": "deux mille"}).content
    assert "Saisissez un nombre entier." in body.decode()
    body = client.get(url, {"periode": "annee", "annee": "1900"}).content
    assert "Indiquez une année de 2015 à 2026." in body.decode()
    response = client.get(url, {"periode": "annee", "annee": "2026"})
    assert "Chiffres du 01/01/2026 au 31/12/2026" in response.content.decode()


def test_who_sees_the_dashboards(known: Known) -> None:
    var = known.var
    territory = reverse("steering:territory", args=["83"])
    departement = reverse("steering:organisation", args=[var.departement.pk])
    TOTPDevice.objects.create(user=known.dep_admin, name="Téléphone", confirmed=True)
    admin = login_as(Client(), known.dep_admin)
    assert Client().get(territory).status_code == 302
    assert var.client(var.dan).get(territory).status_code == 200
    assert var.client(var.carol).get(territory).status_code == 403  # a Var professional
    assert var.client(var.charlie).get(territory).status_code == 404  # the Essonne
    assert var.client(var.dan).get(reverse("steering:territory", args=["99"])).status_code == 404
    assert admin.get(departement).status_code == 200
    assert var.client(var.dan).get(departement).status_code == 200
    assert var.client(var.bob).get(departement).status_code == 403  # a member, not an admin
    assert admin.get(territory).status_code == 403
    caf = reverse("steering:organisation", args=[var.caf.pk])
    assert admin.get(caf).status_code == 403
    assert var.client(var.charlie).get(departement).status_code == 404


def test_a_section_that_is_not_registered_is_not_shown(known: Known) -> None:
    from binome.core import figures

    saved = dict(figures._registry)
    try:
        figures._registry.pop("referrals")
        keys = [section.key for section in compared_sections("83", PERIOD)]
    finally:
        figures._registry.clear()
        figures._registry.update(saved)
    assert "referrals" not in keys and "support" in keys


def test_by_commune_and_by_epci_of_the_person(known: Known) -> None:
    # P1 in Toulon and P2 in Hyères (the same métropole), P3 in Draguignan, P4 nowhere.
    for person, commune in ((known.p1, "83137"), (known.p2, "83069"), (known.p3, "83050")):
        Person.objects.filter(pk=person.pk).update(commune_id=commune)
    assert _table(known, "support", "by_epci") == (
        ("Métropole Toulon-Provence-Méditerranée", 1, 2, 1),  # P2 active; P1, P2 in; P1 out
        ("CA Dracénie Provence Verdon Agglomération", 0, 0, 1),  # P3 left in the period
        ("EPCI non renseigné", 0, 1, 0),  # P4: entered, « non pertinent » is not an exit
    )
    assert _table(known, "support", "by_commune") == (
        ("Hyères", 1, 1, 0),
        ("Commune non renseignée", 0, 1, 0),
        ("Draguignan", 0, 0, 1),
        ("Toulon", 0, 1, 1),
    )
    response = known.var.client(known.var.dan).get(
        reverse("steering:territory_export", args=["83", "support", "by_epci", "csv"]), QUERY
    )
    assert response.status_code == 200
    assert "Métropole Toulon-Provence-Méditerranée;1;2;1" in response.content.decode()


def test_the_previous_period_reads_the_figures_not_the_tables(known: Known) -> None:
    with CaptureQueriesContext(connection) as captured:
        sections = compared_sections("83", PERIOD)
    statements = [query["sql"] for query in captured.captured_queries]
    # Each table once (the chosen period), the key figures twice (to compare).
    # The tables by commune and by EPCI: one statement for both.
    assert sum("(c.insee_code, c.name), (e.siren, e.name)" in sql for sql in statements) == 1
    support = next(section for section in sections if section.key == "support")
    assert [compared.previous for compared in support.figures][:3] == [1, 1, 0]


def test_the_previous_period_reads_no_referral_table(known: Known) -> None:
    with CaptureQueriesContext(connection) as captured:
        sections = compared_sections("83", PERIOD)
    statements = [query["sql"] for query in captured.captured_queries]
    # The referrals by prescriber are a table: read for the chosen period only.
    assert sum('"organisations_organisation"."kind"' in sql for sql in statements) == 1
    # The referrals by kind give the key figures: read for both periods.
    assert sum("FROM referrals_referralmilestones m WHERE" in sql for sql in statements) == 2
    referrals = next(section for section in sections if section.key == "referrals")
    assert [table.key for table in referrals.tables] == ["by_kind", "by_prescriber"]


def test_a_tables_rows_are_written_in_one_pass_the_french_way() -> None:
    from binome.core.figures import FigureTable
    from binome.steering.templatetags.steering import shown_rows

    table = FigureTable(
        "t",
        "T",
        ("Commune", "En cours", "Part (%)", "Fermée", "Note"),
        (("Toulon", 1234, 12.5, True, "<b>"), (None, 0, None, False, "")),
    )
    assert shown_rows(table) == [
        '<th scope="row">Toulon</th><td>1\u202f234</td><td>12,5</td><td>oui</td><td>&lt;b&gt;</td>',
        '<th scope="row">—</th><td>0</td><td>—</td><td>non</td><td></td>',
    ]
