"""The key figures' rollups (``support.caseload.FiguresMonth`` and ``ExitMonth``): the
dashboard's key figures of the global accompaniments, its exits by reason and its entries by
profile summed from them are the live figures, and the nightly job keeps them right."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from binome.core.figures import FigureScope
from binome.people.models import HouseholdMember, Person
from binome.rsa.models import Beneficiary, Dossier, FlowImport, ImportStatus
from binome.steering.figures import entries_by_profile
from binome.support import caseload
from binome.support.caseload import CaseloadCoverage, ExitMonth, FiguresMonth
from binome.support.figures import (
    JOB_REASONS,
    TRAINING_REASONS,
    accompaniment_figures,
    exits_by_reason,
    median,
    steering_section,
)
from binome.support.models import Accompaniment, ExitReason, FollowupOutcome
from tests.factories import SmallTerritory

TODAY = date(2026, 6, 17)  # the job's day: the rollups cover the months before June 2026
PERIODS = (
    (date(2026, 1, 1), date(2026, 3, 31)),  # whole months, all covered
    (date(2025, 1, 1), date(2025, 12, 31)),  # a year
    (date(2026, 2, 10), date(2026, 5, 3)),  # days at both ends
    (date(2026, 4, 1), date(2026, 6, 30)),  # past the covered months (June: live)
    (date(2026, 5, 15), date(2026, 6, 10)),  # no whole month
    (date(2026, 3, 31), date(2026, 4, 1)),  # two days astride two months
    (date(2024, 2, 1), date(2024, 2, 29)),  # one whole month
    (date(2023, 1, 1), date(2023, 1, 31)),  # before every accompaniment
    (date(2024, 1, 1), date(2026, 12, 31)),  # everything, and months not yet covered
)


def _territory(var: SmallTerritory, how_many: int = 120) -> None:
    """Accompaniments started and ended anywhere from 2024 to June 2026, of persons of every
    profile (sex, age, RSA file, household), some activated, some followed up six months
    after their exit."""
    chance = random.Random(18)
    flow = FlowImport.objects.create(
        department_id="83", file_name="flux.xml", file_hash="0" * 64, status=ImportStatus.APPLIED
    )
    reasons = [value for value, _ in ExitReason.choices]
    outcomes = [value for value, _ in FollowupOutcome.choices]
    for index in range(how_many):
        person = Person.objects.create(
            first_name=f"P{index}",
            last_name="Test",
            birth_date=date(1960, 1, 1) + timedelta(days=chance.randrange(45 * 365)),
            sex=chance.choice(("F", "M", "")),
            department_id="83",
            organisation=var.france_travail,
        )
        for relation in chance.choice(((), ("child",), ("child", "partner"), ("partner",))):
            HouseholdMember.objects.create(person=person, relation=relation, first_name="Proche")
        if chance.random() < 0.4:
            dossier = Dossier.objects.create(
                department_id="83",
                body="CAF",
                number=f"N{index}",
                state="2",
                first_import=flow,
                last_import=flow,
            )
            Beneficiary.objects.create(
                dossier=dossier,
                role="DEM",
                person=person,
                match_status="matched",
                first_name=person.first_name,
                last_name=person.last_name,
                birth_date=person.birth_date,
                subject_to_rights_and_duties=True,
            )
        started = date(2024, 1, 1) + timedelta(days=chance.randrange(900))
        fields: dict[str, Any] = {
            "person": person,
            "kind": "global",
            "started_on": started,
            "activated_on": started + timedelta(days=chance.randrange(40))
            if chance.random() < 0.7
            else None,
            "age_at_start": chance.choice((None, None, 24, 50)),
        }
        ended = started + timedelta(days=chance.randrange(0, 300))
        if ended > TODAY or chance.random() < 0.3:
            Accompaniment.objects.create(state="active", **fields)
            continue
        followup = ended + timedelta(days=chance.randrange(150, 220))
        Accompaniment.objects.create(
            state="ended",
            ended_on=ended,
            exit_reason=chance.choice(reasons),
            followup_recorded_on=followup if chance.random() < 0.6 else None,
            followup_outcome=chance.choice(outcomes) if chance.random() < 0.8 else "",
            **fields,
        )


def _figures(start: date, end: date) -> tuple[Any, ...]:
    scope = FigureScope("83", start, end)
    return (
        tuple((figure.key, figure.value) for figure in accompaniment_figures(scope)),
        entries_by_profile(scope).rows,
        exits_by_reason(scope).rows,
    )


@pytest.fixture
def territory(small_var: SmallTerritory) -> SmallTerritory:
    _territory(small_var)
    return small_var


def test_the_rollups_hold_the_exit_reasons_of_the_figures() -> None:
    assert set(caseload.JOB_TRAINING) == {str(r) for r in JOB_REASONS + TRAINING_REASONS}


def test_the_median_of_counted_values_is_postgresqls(db: None) -> None:
    assert median([]) is None
    assert median([(5, 1)]) == 5
    assert median([(3, 1), (10, 1)]) == 6.5
    assert median([(1, 2), (4, 1), (9, 3)]) == 6.5  # 1 1 4 9 9 9
    assert median([(1, 2), (4, 1), (9, 2)]) == 4  # 1 1 4 9 9
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) "
            "FROM unnest(ARRAY[1, 1, 4, 9, 9, 9, -2, 30]) v"
        )
        assert median([(-2, 1), (1, 2), (4, 1), (9, 3), (30, 1)]) == cursor.fetchone()[0]


def test_the_figures_from_the_rollups_are_the_live_figures(territory: SmallTerritory) -> None:
    live = {period: _figures(*period) for period in PERIODS}
    values = [value for figures, _, _ in live.values() for _, value in figures]
    assert any(value for value in values)  # the data set counts something
    assert any(rows[0][1] for _, rows, _ in live.values())  # and RSA entries
    assert any(count for _, _, rows in live.values() for _, count in rows)  # and exits
    assert caseload.refresh(TODAY) > 0
    assert FiguresMonth.objects.filter(department_id="83").exists()
    assert ExitMonth.objects.filter(department_id="83").exists()
    for period in PERIODS:
        assert _figures(*period) == live[period], period
    # A rollup run earlier (covering up to February only) answers the same.
    caseload.refresh(date(2026, 2, 20))
    for period in PERIODS:
        assert _figures(*period) == live[period], period


def test_whole_covered_months_read_the_rollups_alone(territory: SmallTerritory) -> None:
    caseload.refresh(TODAY)
    with CaptureQueriesContext(connection) as captured:
        _figures(date(2026, 1, 1), date(2026, 3, 31))
    statements = [query["sql"] for query in captured.captured_queries]
    rolled = [sql for sql in statements if "support_figuresmonth" in sql]
    exits = [sql for sql in statements if "support_exitmonth" in sql]
    assert len(rolled) == 2 and len(exits) == 2  # key figures, entries; median, by reason
    for sql in (*rolled, *exits):
        # The live part reads nothing: its condition is false.
        assert "support_accompaniment" not in sql or "AND (false)" in sql, sql
    # One organisation's dashboard is counted live (the rollups are per département).
    scope = replace(FigureScope("83", date(2026, 1, 1), date(2026, 3, 31)), organisation_id=1)
    with CaptureQueriesContext(connection) as captured:
        accompaniment_figures(scope)
        entries_by_profile(scope)
        exits_by_reason(scope)
    statements = [query["sql"] for query in captured.captured_queries]
    assert not any(
        "support_figuresmonth" in sql or "support_exitmonth" in sql for sql in statements
    )


def test_the_nightly_job_keeps_the_rollups_right(territory: SmallTerritory) -> None:
    caseload.refresh(TODAY)
    assert caseload.check(TODAY) == []
    # Changes to covered months: an exit dated back, a follow-up recorded last year, a
    # person found in an RSA file, a new accompaniment started last year.
    old = Accompaniment.objects.filter(started_on__lt=date(2025, 6, 1)).order_by("id")
    Accompaniment.objects.filter(pk=old[0].pk).update(
        state="ended", ended_on=date(2025, 7, 14), exit_reason=ExitReason.TRAINING
    )
    Accompaniment.objects.filter(pk=old[1].pk).update(
        state="ended",
        ended_on=date(2025, 1, 10),
        exit_reason=ExitReason.DROPPED,
        followup_recorded_on=date(2025, 8, 1),
        followup_outcome=FollowupOutcome.DURABLE_JOB,
    )
    Person.objects.filter(pk=old[2].person_id).update(sex="F", birth_date=date(2004, 1, 1))
    Accompaniment.objects.create(
        person=Person.objects.create(
            first_name="Nouvelle",
            last_name="Test",
            birth_date=date(1990, 1, 1),
            department_id="83",
            organisation=territory.caf,
        ),
        kind="global",
        state="active",
        started_on=date(2025, 3, 3),
    )
    assert caseload.check(TODAY) != []
    caseload.refresh(TODAY)
    assert caseload.check(TODAY) == []
    rolled = {period: _figures(*period) for period in PERIODS}
    CaseloadCoverage.objects.all().delete()  # back to the live count
    assert {period: _figures(*period) for period in PERIODS} == rolled


def test_the_section_says_when_its_rollup_was_computed(territory: SmallTerritory) -> None:
    scope = FigureScope("83", date(2026, 1, 1), date(2026, 3, 31))
    section = steering_section(scope)
    assert section is not None and section.notes == ()
    assert "calculés le" not in entries_by_profile(scope).definition
    assert "calculés le" not in exits_by_reason(scope).definition
    caseload.refresh(TODAY)
    CaseloadCoverage.objects.update(refreshed_at=datetime(2026, 6, 17, 1, 15, tzinfo=UTC))
    section = steering_section(scope)
    assert section is not None
    assert "Chiffres clés" in section.notes[0]
    assert "calculés le 17 juin 2026 à 03:15" in section.notes[0]
    assert "calculés le 17 juin 2026 à 03:15" in entries_by_profile(scope).definition
    assert "calculés le 17 juin 2026 à 03:15" in exits_by_reason(scope).definition
