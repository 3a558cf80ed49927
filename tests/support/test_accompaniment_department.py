"""The accompaniment's copy of its person's département, kept by the database (migration
``support/0013``): the steering figures scope a département's accompaniments by it, so it
must be the person's whatever wrote the row."""

from __future__ import annotations

import re
from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from binome.core.figures import FigureScope
from binome.people.models import Person
from binome.steering.national import departments_table
from binome.steering.periods import Period
from binome.support import actions as support_actions
from binome.support import figures as support_figures
from binome.support.models import Accompaniment, Kind, State, TeamRole
from tests.factories import SmallTerritory

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))


def _person(var: SmallTerritory) -> Person:
    return support_actions.create_person(
        data={"first_name": "Zoé", "last_name": "Test", "birth_date": date(1990, 5, 1)},
        by=var.alice,
        organisation=var.france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )


def _stored(accompaniment: Accompaniment) -> str | None:
    return Accompaniment.objects.values_list("department_id", flat=True).get(pk=accompaniment.pk)


def test_an_accompaniment_takes_its_persons_department(small_var: SmallTerritory) -> None:
    person = _person(small_var)
    accompaniment = Accompaniment.objects.get(person=person)
    assert person.department_id == "83"
    assert _stored(accompaniment) == "83"
    # A full save from an instance that never read the column leaves the person's.
    accompaniment.department_id = None
    accompaniment.save()
    assert _stored(accompaniment) == "83"
    # Raw SQL too (as COPY and the generators write).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE support_accompaniment SET department_id = '06' WHERE id = %s",
            [accompaniment.pk],
        )
    assert _stored(accompaniment) == "83"


def test_a_person_who_moves_takes_her_accompaniments_along(small_var: SmallTerritory) -> None:
    person = _person(small_var)
    accompaniment = Accompaniment.objects.get(person=person)
    Accompaniment.objects.filter(pk=accompaniment.pk).update(
        started_on=date(2026, 2, 1), state=State.ACTIVE
    )
    Person.objects.filter(pk=person.pk).update(department_id="06")
    assert _stored(accompaniment) == "06"
    rows = {row[0]: row[1:] for row in departments_table(PERIOD).rows}
    assert rows["06 — Alpes-Maritimes"][0] == 1
    assert rows["83 — Var"][0] == 0
    scope = FigureScope("06", PERIOD.start, PERIOD.end, None)
    entries = {f.key: f.value for f in support_figures.accompaniment_figures(scope)}["entries"]
    assert entries == 1


def test_the_support_figures_do_not_join_the_persons(small_var: SmallTerritory) -> None:
    scope = FigureScope("83", PERIOD.start, PERIOD.end, None)
    with CaptureQueriesContext(connection) as captured:
        support_figures.accompaniment_figures(scope)
        support_figures.exits_by_reason(scope)
        support_figures.by_organisation(scope)
        departments_table(PERIOD)
    statements = [
        q["sql"] for q in captured.captured_queries if "support_accompaniment" in q["sql"]
    ]
    assert len(statements) == 4
    assert all("people_person" not in sql for sql in statements)


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # The test's tables are tiny: make any index cheaper than reading the table, so that
        # the plan says which index the statement can use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")
    return plan


def test_the_figures_read_the_departments_accompaniments_from_the_index_alone(
    small_var: SmallTerritory,
) -> None:
    """The département's index of global accompaniments includes every column the key
    figures, the exits by reason, the teams' organisations and the first steps read: their
    scan of the département's history never visits the table (a column added to one of them
    without the index fails here)."""
    from binome.steering import figures as steering_figures

    scope = FigureScope("83", PERIOD.start, PERIOD.end, None)
    with CaptureQueriesContext(connection) as captured:
        support_figures.accompaniment_figures(scope)
        support_figures.exits_by_reason(scope)
        support_figures.by_organisation(scope)
        steering_figures.first_steps(scope, 21)
    statements = [
        q["sql"] for q in captured.captured_queries if "support_accompaniment" in q["sql"]
    ]
    assert len(statements) == 4
    for sql in statements:
        plan = _plan(sql)
        assert re.search(r"Index (Only )?Scan using accompaniment_dept_figures\b", plan), plan
