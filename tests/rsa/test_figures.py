"""The RSA figures on a small known data set, judged today (T):

- Hélène: right opened T-60, oriented (sociale, CCAS) T-30: 30 days; referent designated
  2 days after the notification, contract signed 20 days after it.
- Noël: right opened T-100, oriented (emploi, France Travail) T-50: 50 days; referent 20
  days after, no contract (its month is over).
- Farid: right opened T-10, not oriented: too recent to be judged.
- Gaëlle: not subject to rights and duties: counted nowhere.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import replace

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binome.core.figures import FigureScope, registered_sections
from binome.rsa import orientations
from binome.rsa.figures import rsa_figures
from binome.rsa.models import Beneficiary, Orientation, OrientationKind
from tests.rsa.conftest import RsaTerritory


def known_data(rsa_var: RsaTerritory) -> datetime.date:
    today = timezone.localdate()
    days = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    noon = lambda day: datetime.datetime.combine(  # noqa: E731
        day, datetime.time(12), tzinfo=timezone.get_current_timezone()
    )
    people, mia, dep = rsa_var.people, rsa_var.mia, rsa_var.var.departement
    helene = orientations.orient(
        beneficiary=people["Hélène"],
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=mia,
        organisation=dep,
    )
    orientations.designate_referent(
        orientation=helene, referent=rsa_var.ccas_worker, by=rsa_var.ccas_worker
    )
    orientations.record_contract_signature(
        orientation=helene, signed_on=today, by=rsa_var.ccas_worker
    )
    noel = orientations.orient(
        beneficiary=people["Noël"],
        decision=orientations.Decision(
            referent_body=rsa_var.var.france_travail, kind=OrientationKind.EMPLOYMENT
        ),
        by=mia,
        organisation=dep,
    )
    orientations.designate_referent(
        orientation=noel, referent=rsa_var.var.alice, by=rsa_var.var.alice
    )
    for name, opened in (("Hélène", 60), ("Noël", 100), ("Farid", 10)):
        Beneficiary.objects.filter(pk=people[name].pk).update(right_opened_on=days(opened))
    Orientation.objects.filter(pk=helene.pk).update(
        notified_on=days(30), referent_designated_at=noon(days(28)), contract_signed_on=days(10)
    )
    Orientation.objects.filter(pk=noel.pk).update(
        notified_on=days(50), referent_designated_at=noon(days(30))
    )
    return today


def test_the_figures_of_a_known_data_set(rsa_var: RsaTerritory) -> None:
    today = known_data(rsa_var)
    scope = FigureScope(department="83", start=today - datetime.timedelta(days=120), end=today)
    f = rsa_figures(scope)
    assert (f.stock, f.entrants) == (3, 3)
    assert (f.oriented_within, f.oriented_base, f.oriented_share) == (1, 2, 50.0)
    assert (f.oriented_45, f.oriented_45_base) == (1, 2)
    assert f.orientation_median_days == 40.0
    c = f.contracts
    assert (c.orientations, c.signed_within, c.signed_base, c.signed_share) == (2, 1, 2, 50.0)
    assert c.sign_median_days == 20.0
    assert (c.referent_30, c.referent_30_base) == (2, 2)
    assert (c.referent_15, c.referent_15_base, c.referent_15_share) == (1, 2, 50.0)
    by_kind = {label: figures for label, figures in f.by_kind}
    assert by_kind["Sociale"].signed_share == 100.0
    assert by_kind["Professionnelle (emploi)"].signed_share == 0.0
    by_body = {label: figures.orientations for label, figures in f.by_body}
    assert by_body == {"CCAS de Toulon": 1, "France Travail Toulon": 1}
    # Month by month: the entrants by their clock's start, the orientations by notification.
    days = lambda n: today - datetime.timedelta(days=n)  # noqa: E731
    month = lambda n: days(n).replace(day=1)  # noqa: E731
    entrants = {}
    for opened, oriented_in_time, judged in ((60, 1, 1), (100, 0, 1), (10, 0, 0)):
        count, within, base = entrants.get(month(opened), (0, 0, 0))
        entrants[month(opened)] = (count + 1, within + oriented_in_time, base + judged)
    assert {
        m.month: (m.entrants, m.oriented_within, m.oriented_base) for m in f.by_month if m.entrants
    } == entrants
    notified: dict[datetime.date, int] = {}
    for n in (30, 50):
        notified[month(n)] = notified.get(month(n), 0) + 1
    assert {m.month: m.contracts.orientations for m in f.by_month if m.contracts} == notified
    # One referent body: its orientations only.
    ccas = rsa_figures(
        FigureScope(
            department="83",
            start=scope.start,
            end=today,
            organisation_id=rsa_var.ccas.pk,
        )
    )
    assert (ccas.contracts.orientations, ccas.contracts.signed_share) == (1, 100.0)
    # Another territory, or a period before all this: nothing.
    assert rsa_figures(FigureScope(department="91", start=scope.start, end=today)).entrants == 0
    assert rsa_figures(FigureScope(department="83", start=today, end=today)).contracts == (
        rsa_figures(FigureScope(department="91", start=today, end=today)).contracts
    )


def test_the_figures_only_scope_counts_the_same_without_the_tables(rsa_var: RsaTerritory) -> None:
    """The dashboard's previous period reads the key figures alone: the same numbers, one
    group, no referent body's name joined."""
    today = known_data(rsa_var)
    scope = FigureScope(department="83", start=today - datetime.timedelta(days=120), end=today)
    full = rsa_figures(scope)
    with CaptureQueriesContext(connection) as captured:
        alone = rsa_figures(replace(scope, figures_only=True))
    assert alone.contracts == full.contracts
    assert (alone.stock, alone.entrants, alone.oriented_share, alone.orientation_median_days) == (
        full.stock,
        full.entrants,
        full.oriented_share,
        full.orientation_median_days,
    )
    assert alone.by_kind == () and alone.by_body == ()
    orientations = captured.captured_queries[-1]["sql"]
    assert "organisations_organisation" not in orientations
    assert "GROUPING SETS" not in orientations


def test_the_section_is_registered_and_shown_to_the_orientation_manager(
    rsa_var: RsaTerritory,
) -> None:
    known_data(rsa_var)
    assert "rsa" in dict(registered_sections())
    client = rsa_var.var.client(rsa_var.mia)
    response = client.get(reverse("rsa:figures", args=["83"]), {"du": "nonsense"})
    assert response.status_code == 200
    section = response.context["section"]
    values = {figure.key: figure.value for figure in section.figures}
    assert values["oriented_6_weeks"] == 50.0 and values["accompanied_30_days"] == 100.0
    assert "Orientés en moins de 45 jours (rdv-insertion)" in response.content.decode()
    for user in (rsa_var.var.alice, rsa_var.var.charlie):
        assert rsa_var.var.client(user).get(reverse("rsa:figures", args=["83"])).status_code == 404


def test_the_orientations_are_read_from_their_index_alone(rsa_var: RsaTerritory) -> None:
    """The index by département and notification's day includes every column the figures
    read: the orientations of the period never visit the table (a column added to the
    statements without the index fails here)."""
    today = known_data(rsa_var)
    scope = FigureScope(department="83", start=today - datetime.timedelta(days=120), end=today)
    with CaptureQueriesContext(connection) as captured:
        rsa_figures(scope)
        rsa_figures(replace(scope, figures_only=True))
    statements = [q["sql"] for q in captured.captured_queries if "WITH decided" in q["sql"]]
    assert len(statements) == 2
    with connection.cursor() as cursor:
        # The test's tables are tiny: make any index cheaper than reading the table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for sql in statements:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert re.search(r"Index (Only )?Scan using rsa_orientation_notified\b", plan), plan
