"""A legal hold set while the job runs, from another connection, is honoured: the job finds
the file due, waits for the hold's transaction (both lock the person's row), then sees the
hold and keeps the file."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import connections, transaction
from django.utils import timezone

from binome.people.models import Person
from binome.retention import actions
from binome.retention.models import Anonymisation, LegalHold, RetentionRun
from tests.factories import SmallTerritory
from tests.retention.conftest import age_file, days_until_deadline_is
from tests.retention.test_killed_run import _database_url


def _someone_waits_for_a_row_lock(watcher: psycopg.Connection[Any]) -> bool:
    with watcher.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.query LIKE '%%FOR UPDATE%%'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@pytest.mark.django_db(transaction=True)
def test_a_hold_set_from_another_connection_during_the_run_keeps_the_file(
    referential: None, closed_file: SmallTerritory
) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(10))
    actions.run()  # the team is told
    age_file(person, 40)  # due: told 40 days ago, 30 days past the deadline
    assert [c.person_id for c in actions.plan(today=timezone.localdate()).anonymise] == [person.pk]

    reports: list[RetentionRun] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            reports.append(actions.run())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    watcher = psycopg.connect(_database_url(), autocommit=True)
    try:
        with transaction.atomic():
            # The administrator's transaction: the person's row locked, the hold written.
            actions.set_legal_hold(
                person=person, reason="Réquisition judiciaire", by=closed_file.dan
            )
            runner = threading.Thread(target=job)
            runner.start()
            # The job has read the file as due (the hold is not committed) and now waits
            # for the person's row.
            deadline = time.monotonic() + 60
            while not _someone_waits_for_a_row_lock(watcher):
                assert runner.is_alive() and time.monotonic() < deadline, errors
                time.sleep(0.05)
        runner.join(60)
    finally:
        watcher.close()
    assert not errors and not runner.is_alive()
    assert reports[0].anonymised == 0
    assert not Anonymisation.objects.filter(person_id=person.pk).exists()
    assert Person.objects.get(pk=person.pk).first_name == "Zoé"
    assert LegalHold.objects.active().filter(person=person).exists()


@pytest.mark.django_db
def test_a_hold_cannot_be_set_on_an_anonymised_file(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    actions.erase_mistaken_file(person=person, reason="Doublon", by=closed_file.dan)
    with pytest.raises(actions.ValidationError, match="déjà anonymisé"):
        actions.set_legal_hold(person=person, reason="Réquisition", by=closed_file.dan)
