"""Referral figures from recorded step dates: medians, shares within 10 days, acceptance
and no-show rates — checked against values computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from binome.people.models import Person
from binome.referrals.figures import _params, _sql, figures_by_receiver, figures_for
from binome.referrals.models import (
    Referral,
    ReferralEvent,
    ReferralMilestones,
    Status,
    check_milestones,
)

# action → the status it leads to
LEADS_TO = {
    "seen": "seen",
    "accepted": "accepted",
    "declined": "declined",
    "withdrawn": "withdrawn",
    "started": "started",
    "completed": "completed",
    "no_show": "no_show",
}


def _referral(
    ctx: dict[str, Any],
    *,
    person: Person,
    kind: str,
    sent: datetime,
    steps: list[tuple[str, int]],
    to: str = "dep83",
    sender: tuple[str, str] = ("ines", "ft_toulon"),
) -> Referral:
    status = LEADS_TO[steps[-1][0]] if steps else Status.SENT
    referral = Referral.objects.create(
        kind=kind,
        status=status,
        person=person,
        department_id="83",
        sender=ctx["personas"][sender[0]],
        sender_organisation=ctx["orgs"][sender[1]],
        to_organisation=ctx["orgs"][to],
        reason="Motif.",
        decline_reason="no_place" if status == "declined" else "",
        sent_at=sent,
        due_on=(sent + timedelta(days=10)).date(),
        expires_on=(sent + timedelta(days=40)).date(),
    )
    ReferralEvent.objects.create(referral=referral, action="sent", to_status="sent", at=sent)
    for action, day in steps:
        ReferralEvent.objects.create(
            referral=referral,
            action=action,
            to_status=LEADS_TO[action],
            at=sent + timedelta(days=day),
        )
    return referral


@pytest.fixture
def scenario(personas: dict[str, Any], orgs: dict[str, Any]) -> datetime:
    """Seven referrals received by the Département du Var (sent by France Travail Toulon),
    one received by France Travail Toulon, one sent before the period."""
    ctx = {"personas": personas, "orgs": orgs}
    Referral.objects.all().delete()  # the demo's referrals: the figures are these only
    nadia = Person.objects.get(user=personas["nadia"])
    now = timezone.now()
    d = lambda days: now - timedelta(days=days)  # noqa: E731
    # R1 answered in 2 days, started at 5, completed.
    _referral(
        ctx,
        person=nadia,
        kind="service",
        sent=d(60),
        steps=[("accepted", 2), ("started", 5), ("completed", 30)],
    )
    # R2 declined after 12 days.
    _referral(ctx, person=nadia, kind="service", sent=d(50), steps=[("declined", 12)])
    # R3 accepted in 4 days, the person never came.
    _referral(
        ctx, person=nadia, kind="service", sent=d(40), steps=[("accepted", 4), ("no_show", 20)]
    )
    # R4 accepted in 1 day, started at 15 (still open).
    _referral(
        ctx, person=nadia, kind="service", sent=d(30), steps=[("accepted", 1), ("started", 15)]
    )
    # R5 withdrawn by its sender after 3 days: left out of the share of answers.
    _referral(ctx, person=nadia, kind="social", sent=d(20), steps=[("withdrawn", 3)])
    # R6 sent 3 days ago, unanswered: its fate at 10 days is not known yet.
    other = Person.objects.create(
        department_id="83",
        organisation=orgs["ft_toulon"],
        first_name="Autre",
        last_name="Personne",
        birth_date="1990-01-01",
    )
    _referral(ctx, person=other, kind="social", sent=d(3), steps=[])
    # R7 seen, unanswered after 15 days: counts as not answered within 10 days.
    _referral(ctx, person=nadia, kind="global", sent=d(15), steps=[("seen", 1)])
    # R8 before the period (a year): left out.
    _referral(
        ctx,
        person=other,
        kind="service",
        sent=d(400),
        steps=[("accepted", 1), ("started", 2), ("completed", 9)],
    )
    # R9 received by France Travail Toulon, sent by the Département: accepted in 6 days.
    _referral(
        ctx,
        person=other,
        kind="global",
        sent=d(11),
        steps=[("accepted", 6)],
        to="ft_toulon",
        sender=("marc", "dep83"),
    )
    return now


def test_figures_of_a_receiving_organisation_by_hand(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    figures = figures_for("receiver", orgs["dep83"].pk, now=scenario)
    assert figures.sent == 7
    # Answers after 1, 2, 4 and 12 days: median (2 + 4) / 2.
    assert figures.answered == 4
    assert figures.answer_median_days == pytest.approx(3.0)
    # Within 10 days: R1, R3, R4 out of R1, R2, R3, R4, R7 (R5 withdrawn, R6 too recent).
    assert (figures.answered_within, figures.answer_base) == (3, 5)
    assert figures.answered_within_share == pytest.approx(0.6)
    # Starts after 5 and 15 days: median 10; within 10 days: R1 out of R1, R3, R4.
    assert figures.started == 2
    assert figures.start_median_days == pytest.approx(10.0)
    assert (figures.started_within, figures.start_base) == (1, 3)
    # Accepted 3, declined 1; no-show 1 out of 2 starts + 1 no-show.
    assert figures.acceptance_rate == pytest.approx(0.75)
    assert figures.no_show_rate == pytest.approx(1 / 3)
    # France Travail Toulon sent exactly these seven.
    assert figures_for("sender", orgs["ft_toulon"].pk, now=scenario) == figures


def test_figures_of_the_territory_and_by_receiver(scenario: datetime, orgs: dict[str, Any]) -> None:
    figures = figures_for("department", "83", now=scenario)
    assert figures.sent == 8
    # Answers after 1, 2, 4, 6 and 12 days.
    assert figures.answer_median_days == pytest.approx(4.0)
    assert (figures.answered_within, figures.answer_base) == (4, 6)
    assert figures.acceptance_rate == pytest.approx(0.8)
    by_receiver = figures_by_receiver("83", now=scenario)
    assert set(by_receiver) == {orgs["dep83"].pk, orgs["ft_toulon"].pk}
    assert by_receiver[orgs["ft_toulon"].pk].answer_median_days == pytest.approx(6.0)
    assert by_receiver[orgs["dep83"].pk] == figures_for("receiver", orgs["dep83"].pk, now=scenario)


def test_no_referral_gives_no_rate(orgs: dict[str, Any]) -> None:
    figures = figures_for("receiver", orgs["creche_toulon"].pk)
    assert figures.sent == 0
    assert figures.answer_median_days is None
    assert figures.acceptance_rate is None and figures.no_show_rate is None


def test_the_organisation_page_loads_its_figures_after_it(
    scenario: datetime, orgs: dict[str, Any], client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for("marc")
    dep83 = orgs["dep83"].pk
    path = reverse("organisations:detail", args=[dep83])
    figures = reverse("referral_figures:organisation", args=[dep83])
    client.get(path)
    with django_assert_max_num_queries(12):
        page = client.get(path).content.decode()
    assert f'hx-get="{figures}"' in page
    assert "Orientations reçues par" not in page  # not computed with the page

    with django_assert_max_num_queries(8):  # the request's own, the organisation, 2 figures
        fragment = client.get(figures, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert "Orientations reçues par Département du Var" in fragment  # its full name follows
    assert "3 jours" in fragment  # median delay to the answer
    assert "60\u00a0%" in fragment  # answered within 10 days
    assert "75\u00a0%" in fragment  # acceptance rate
    assert "Orientations envoyées par Département du Var" in fragment  # R9

    # Without JavaScript, the link opens them as a page of their own.
    standalone = client.get(figures).content.decode()
    assert "<h1>Orientations : délais et taux — Département du Var" in standalone
    assert "75\u00a0%" in standalone
    assert client_for("charlie").get(figures).status_code == 404


def test_the_territory_page_is_for_admins_and_steering(
    scenario: datetime, orgs: dict[str, Any], client_for: Any
) -> None:
    path = reverse("referral_figures:territory", args=["83"])
    for persona in ("claire", "paul"):
        page = client_for(persona).get(path)
        assert page.status_code == 200
        html = page.content.decode()
        assert "80\u00a0%" in html  # the territory's acceptance rate
        assert "Département du Var" in html and "France Travail Toulon" in html
        assert "Nadia" not in html
    assert client_for("ines").get(path).status_code == 403
    assert client_for("charlie").get(path).status_code == 404


def test_the_milestones_follow_every_writer_of_the_steps(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    """The rollup the figures read is exact after the scenario's steps (ORM inserts), a
    bulk insert, a step changed in place, steps deleted and a referral deleted."""
    assert ReferralMilestones.objects.count() == Referral.objects.count() == 9
    assert check_milestones() == []
    unanswered = Referral.objects.get(kind="social", sent_at__gt=scenario - timedelta(days=4))
    ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(
                referral=unanswered, action="accepted", to_status="accepted", at=scenario
            ),
            ReferralEvent(referral=unanswered, action="started", to_status="started", at=scenario),
        ]
    )
    milestones = ReferralMilestones.objects.get(referral=unanswered)
    assert (milestones.accepted, milestones.answered_at, milestones.started_at) == (
        True,
        scenario,
        scenario,
    )
    ReferralEvent.objects.filter(referral=unanswered, action="accepted").update(action="declined")
    ReferralEvent.objects.filter(referral=unanswered, action="started").delete()
    milestones.refresh_from_db()
    assert (milestones.accepted, milestones.declined, milestones.started_at) == (False, True, None)
    assert check_milestones() == []
    unanswered.delete()
    assert not ReferralMilestones.objects.filter(referral_id=unanswered.pk).exists()
    assert check_milestones() == []


def test_the_figures_read_the_milestones_not_a_year_of_steps(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    _since, _until, params = _params(orgs["dep83"].pk, None, None, scenario)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {_sql('receiver')}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referrals_referralmilestones" in plan
    assert "referrals_referralevent" not in plan


def test_the_milestones_follow_their_referrals_scope_and_sending_time(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    """A referral sent again to another organisation, or moved in time, moves its row: the
    figures of both organisations follow (one row's update, then a bulk update)."""
    dep83, toulon = orgs["dep83"].pk, orgs["ft_toulon"].pk
    before = figures_for("receiver", dep83, now=scenario)
    accepted = Referral.objects.get(  # R1, sent 60 days ago
        sent_at__range=(scenario - timedelta(days=61), scenario - timedelta(days=59))
    )
    accepted.to_organisation_id = toulon
    accepted.save()
    assert check_milestones() == []
    assert figures_for("receiver", dep83, now=scenario).sent == before.sent - 1
    assert figures_for("receiver", toulon, now=scenario).sent == 2
    Referral.objects.filter(pk=accepted.pk).update(sent_at=scenario - timedelta(days=500))
    assert check_milestones() == []
    assert figures_for("receiver", toulon, now=scenario).sent == 1


def test_the_figures_read_one_index_of_the_milestones_alone(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    """Each scope's statement reads a covering index of the milestones, neither the
    referrals (no join) nor the milestones' table (an index-only scan).

    Each of the three covering indexes carries every scope's columns, so on a test's few
    rows the planner may pick any of them depending on its statistics: the test pins what
    holds whatever they are, one index-only scan of the milestones and no join."""
    keys = {"receiver": orgs["dep83"].pk, "sender": orgs["ft_toulon"].pk, "department": "83"}
    indexes = {
        "receiver": "referral_milestones_received",
        "sender": "referral_milestones_sent",
        "department": "referral_milestones_department",
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for scope, key in keys.items():
            _since, _until, params = _params(key, None, None, scenario)
            cursor.execute(f"EXPLAIN (FORMAT JSON) {_sql(scope)}", params)
            plan = cursor.fetchone()[0][0]["Plan"]
            scans = []
            nodes = [plan]
            while nodes:
                node = nodes.pop()
                nodes += node.get("Plans", [])
                if "Relation Name" in node:
                    scans.append((node["Node Type"], node["Relation Name"], node["Index Name"]))
            assert len(scans) == 1, scans
            node_type, relation, index = scans[0]
            assert (node_type, relation) == ("Index Only Scan", "referrals_referralmilestones")
            assert index in set(indexes.values()), index


def test_the_dashboards_prescribers_are_read_from_the_milestones_alone(
    scenario: datetime, orgs: dict[str, Any]
) -> None:
    """The dashboard's accepted referrals to the binôme by prescriber read the département's
    covering index of the milestones (kind, sending organisation, acceptance on each row):
    the referrals' table is not read, only the few sending organisations are joined."""
    from django.test.utils import CaptureQueriesContext

    from binome.core.figures import FigureScope
    from binome.referrals.figures import entries_by_prescriber

    today = timezone.localdate(scenario)
    period = FigureScope("83", today - timedelta(days=30), today)
    # R9, to the binôme, sent by the Département 11 days ago and accepted; R7, to the binôme
    # too, only seen.
    assert entries_by_prescriber(period) == {"departement": 1}
    assert entries_by_prescriber(FigureScope("83", today - timedelta(days=5), today)) == {}
    assert entries_by_prescriber(FigureScope("91", today - timedelta(days=30), today)) == {}
    toulon = FigureScope("83", period.start, period.end, orgs["ft_toulon"].pk)
    assert entries_by_prescriber(toulon) == {"departement": 1}  # it received R9
    caf = FigureScope("83", period.start, period.end, orgs["caf83"].pk)
    assert entries_by_prescriber(caf) == {}
    with CaptureQueriesContext(connection) as captured:
        entries_by_prescriber(period)
    (statement,) = [query["sql"] for query in captured.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}")
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = []
    nodes = [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if "Relation Name" in node:
            scans.append((node["Node Type"], node["Relation Name"]))
    assert ("Index Only Scan", "referrals_referralmilestones") in scans
    assert {relation for _, relation in scans} == {
        "referrals_referralmilestones",
        "organisations_organisation",
    }
