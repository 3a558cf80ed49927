"""The caseload rollup (``support.caseload``): the steering tables by organisation and by
place read from it give the same rows as the live count, and the nightly job keeps it right."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.core.figures import FigureScope
from binome.organisations.models import OrganisationKind
from binome.people.models import Person
from binome.support import caseload, tasks
from binome.support.caseload import CaseloadCoverage, CaseloadMonth
from binome.support.figures import by_organisation, by_place
from binome.support.models import Accompaniment, ExitReason, TeamMember
from tests.factories import SmallTerritory, make_member, make_organisation

COMMUNES = (None, "83137", "83069", "83050")  # nowhere, Toulon, Hyères, Draguignan
TODAY = date(2026, 6, 17)  # the job's day: the rollup covers the months before June 2026
PERIODS = (
    (date(2026, 1, 1), date(2026, 3, 31)),  # whole months, all covered
    (date(2025, 1, 1), date(2025, 12, 31)),  # a year
    (date(2026, 2, 10), date(2026, 5, 3)),  # days at both ends
    (date(2026, 4, 1), date(2026, 6, 30)),  # past the covered months (June: live)
    (date(2026, 5, 15), date(2026, 6, 10)),  # no whole month
    (date(2026, 3, 31), date(2026, 4, 1)),  # two days astride two months
    (date(2023, 1, 1), date(2023, 1, 31)),  # before every accompaniment
)


def _territory(var: SmallTerritory, how_many: int = 80) -> None:
    """Accompaniments started and ended anywhere from 2024 to June 2026, each with one or
    two organisations on its team (sometimes two members of the same), in four places."""
    chance = random.Random(18)
    organisations = (var.france_travail, var.departement, var.caf)
    users = {
        organisation: (user, make_member(f"Second {index}", organisation))
        for index, (organisation, user) in enumerate(
            ((var.france_travail, var.alice), (var.departement, var.bob), (var.caf, var.carol))
        )
    }
    reasons = [value for value, _ in ExitReason.choices]
    for index in range(how_many):
        person = Person.objects.create(
            first_name=f"P{index}",
            last_name="Test",
            birth_date=date(1980, 1, 1),
            department_id="83",
            organisation=var.france_travail,
            commune_id=chance.choice(COMMUNES),
        )
        started = date(2024, 1, 1) + timedelta(days=chance.randrange(900))
        ended = started + timedelta(days=chance.randrange(0, 300))
        if ended > TODAY or chance.random() < 0.3:
            accompaniment = Accompaniment.objects.create(
                person=person, kind="global", state="active", started_on=started
            )
        else:
            accompaniment = Accompaniment.objects.create(
                person=person,
                kind="global",
                state="ended",
                started_on=started,
                ended_on=ended,
                exit_reason=chance.choice(reasons),
            )
        for organisation in chance.sample(organisations, chance.choice((1, 1, 2, 3))):
            for user in users[organisation][: chance.choice((1, 1, 2))]:
                TeamMember.objects.create(
                    accompaniment=accompaniment,
                    person=person,
                    user=user,
                    organisation=organisation,
                    role="other",
                )


def _tables(start: date, end: date) -> tuple[Any, ...]:
    scope = FigureScope("83", start, end)
    return (by_organisation(scope).rows, *(table.rows for table in by_place(scope)))


@pytest.fixture
def territory(small_var: SmallTerritory) -> SmallTerritory:
    _territory(small_var)
    return small_var


def test_the_tables_from_the_rollup_are_the_live_tables(territory: SmallTerritory) -> None:
    live = {period: _tables(*period) for period in PERIODS}
    assert any(rows for tables in live.values() for rows in tables)
    assert caseload.refresh(TODAY) > 0
    assert CaseloadCoverage.objects.get(department_id="83").before == date(2026, 6, 1)
    for period in PERIODS:
        assert _tables(*period) == live[period], period
    # A rollup run earlier (covering up to February only) answers the same.
    caseload.refresh(date(2026, 2, 20))
    for period in PERIODS:
        assert _tables(*period) == live[period], period


def test_whole_covered_months_read_the_rollup_alone(territory: SmallTerritory) -> None:
    caseload.refresh(TODAY)
    with CaptureQueriesContext(connection) as captured:
        _tables(date(2026, 1, 1), date(2026, 3, 31))
    statements = [query["sql"] for query in captured.captured_queries]
    tables = [sql for sql in statements if CaseloadMonth._meta.db_table in sql]
    assert len(tables) == 2  # by organisation, by place
    assert not any("support_accompaniment" in sql for sql in tables)
    # One organisation's dashboard is counted live (the rollup is per département).
    scope = replace(FigureScope("83", date(2026, 1, 1), date(2026, 3, 31)), organisation_id=1)
    with CaptureQueriesContext(connection) as captured:
        by_organisation(scope)
    assert CaseloadMonth._meta.db_table not in captured.captured_queries[-1]["sql"]


def test_the_nightly_job_keeps_the_rollup_right(territory: SmallTerritory) -> None:
    var = territory
    caseload.refresh(TODAY)
    assert caseload.check(TODAY) == []
    # Changes to accompaniments of covered months: a new organisation on an old team, a
    # person who moved, an exit dated back, a new accompaniment started last year.
    old = Accompaniment.objects.filter(started_on__lt=date(2025, 6, 1)).order_by("id")
    first = old.first()
    assert first is not None
    ccas = make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    TeamMember.objects.create(
        accompaniment=first,
        person=first.person,
        user=make_member("Eve", ccas),
        organisation=ccas,
        role="other",
    )
    Person.objects.filter(pk=old[1].person_id).update(commune_id="83050")
    Accompaniment.objects.filter(pk=old[2].pk).update(
        state="ended", ended_on=date(2025, 7, 14), exit_reason=ExitReason.TRAINING
    )
    person = Person.objects.create(
        first_name="Nouvelle",
        last_name="Test",
        birth_date=date(1990, 1, 1),
        department_id="83",
        organisation=var.caf,
        commune_id="83137",
    )
    Accompaniment.objects.create(
        person=person, kind="global", state="active", started_on=date(2025, 3, 3)
    )
    assert caseload.check(TODAY) != []
    assert tasks.refresh_caseload is caseload.refresh  # what the nightly task runs
    caseload.refresh()
    assert caseload.check() == []
    rolled = {period: _tables(*period) for period in PERIODS}
    CaseloadCoverage.objects.all().delete()  # back to the live count
    assert {period: _tables(*period) for period in PERIODS} == rolled


def test_a_table_from_the_rollup_says_when_it_was_computed(territory: SmallTerritory) -> None:
    scope = FigureScope("83", date(2026, 1, 1), date(2026, 3, 31))
    live = [by_organisation(scope), *by_place(scope)]
    assert not any("calculés le" in table.definition for table in live)
    caseload.refresh(TODAY)
    CaseloadCoverage.objects.update(
        refreshed_at=datetime(2026, 6, 17, 1, 15, tzinfo=UTC)  # 03:15 in Paris
    )
    for table in (by_organisation(scope), *by_place(scope)):
        assert "calculés le 17 juin 2026 à 03:15" in table.definition, table.key
        assert "après le calcul suivant" in table.definition


def test_the_demo_command_fills_the_rollup(personas: dict[str, Any], capsys: Any) -> None:
    call_command("load_demo")
    assert CaseloadCoverage.objects.filter(department_id="83").exists()
    assert CaseloadMonth.objects.filter(department_id="83").exists()
    assert caseload.check() == []
    today = timezone.localdate()
    year = (today - timedelta(days=365), today)
    rolled = _tables(*year)
    assert rolled[0]  # the Var's organisations are on the dashboard
    CaseloadCoverage.objects.all().delete()
    assert _tables(*year) == rolled


def test_the_command_fills_the_rollup(territory: SmallTerritory, capsys: Any) -> None:
    assert not CaseloadMonth.objects.exists()
    call_command("refresh_caseload")
    assert CaseloadMonth.objects.exists()
    assert CaseloadCoverage.objects.filter(department_id="83").exists()
    assert caseload.check() == []
    assert "File active par mois recalculée" in capsys.readouterr().out
