"""The retention job killed for real in the middle of a batch: every file is whole or
anonymised, never half, and the next run completes.

The job runs in a process of its own (``binome retention run``) on the test
database, in batches of five files, one transaction per batch. This test holds the lock of
the note of a file in the middle of the third batch, so the job stops inside that batch's
transaction, after it has already erased the names of the batch's files and the notes of
those before it; the process is then killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connections
from django.utils import timezone

from binome.people.models import Person
from binome.retention import actions
from binome.retention.models import Anonymisation
from binome.support import actions as support_actions
from binome.support.models import ExitReason, Kind, Medium, Note, TeamRole
from tests.factories import SmallTerritory
from tests.retention.conftest import age_file, days_until_deadline_is

FILES = 15
BATCH = 5


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"Délai dépassé : {what}")


def _database_url() -> str:
    settings = connections["default"].settings_dict
    return (
        f"postgresql://{quote(settings['USER'], safe='')}@{quote(settings['HOST'], safe='')}"
        f"/{settings['NAME']}"
    )


ON_NOTES = (
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND datname = current_database() AND query LIKE 'UPDATE \"support_note\"%%' "
)


def _activity_on_notes(condition: str) -> int:
    """Sessions other than ours whose last statement updates the notes, read from the
    test's own connection: outside a transaction, so that the view is fresh at each call."""
    with connections["default"].cursor() as cursor:
        cursor.execute(ON_NOTES + condition)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _waiting_on_notes() -> int:
    return _activity_on_notes("AND wait_event_type = 'Lock'")


def _running_on_notes() -> int:
    return _activity_on_notes("AND state <> 'idle'")


def _old_files(small_var: SmallTerritory) -> list[Person]:
    """``FILES`` closed files, each with a note naming her, past their retention and told."""
    today = timezone.localdate()
    persons = []
    for number in range(FILES):
        person = support_actions.create_person(
            data={
                "first_name": f"Prénom{number:02d}",
                "last_name": "Témoin",
                "birth_date": today.replace(year=1990),
            },
            by=small_var.alice,
            organisation=small_var.france_travail,
            kind=Kind.GLOBAL,
            role=TeamRole.DEDICATED_COUNSELOR,
        )
        support_actions.write_note(
            person=person,
            author=small_var.alice,
            organisation=small_var.france_travail,
            date=today,
            medium=Medium.IN_PERSON,
            text=f"Entretien avec Prénom{number:02d}",
        )
        support_actions.end_accompaniment(
            accompaniment=person.accompaniments.get(),
            ended_on=today,
            reason=ExitReason.DURABLE_JOB,
            situation="CDI",
            by=small_var.alice,
            organisation=small_var.france_travail,
        )
        age_file(person, days_until_deadline_is(10))
        persons.append(person)
    assert actions.run().notified >= FILES
    for person in persons:
        age_file(person, 40)  # told 40 days ago, 30 days past the deadline
    return persons


def _whole_or_anonymised(person: Person, number: int) -> bool:
    person.refresh_from_db()
    texts = set(Note.objects.filter(person=person).values_list("text", flat=True))
    if Anonymisation.objects.filter(person_id=person.pk).exists():
        return person.first_name == "Personne" and texts == {""}
    return person.first_name == f"Prénom{number:02d}" and texts == {
        f"Entretien avec Prénom{number:02d}"
    }


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_mid_batch_leaves_each_file_whole_or_anonymised(
    referential: None, small_var: SmallTerritory, tmp_path: Path
) -> None:
    persons = _old_files(small_var)
    # A file in the middle of the third batch: the two before it in the batch are erased
    # within the batch's transaction when the job stops.
    third_batch = persons[2 * BATCH + 2]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "BINOME_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "binome.settings",
        "BINOME_RETENTION_BATCH": str(BATCH),
    }
    blocker = psycopg.connect(_database_url(), autocommit=False)
    job: subprocess.Popen[bytes] | None = None
    log = (tmp_path / "job.log").open("wb")
    try:
        with blocker.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM support_note WHERE person_id = %s FOR UPDATE", [third_batch.pk]
            )
        job = subprocess.Popen(
            [sys.executable, "-m", "django", "retention", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def job_waits_on_the_note() -> bool:
            assert job is not None
            if job.poll() is not None:
                output = (tmp_path / "job.log").read_text()
                raise AssertionError(f"Le traitement s'est arrêté seul : {output}")
            return _waiting_on_notes() > 0

        _wait_for(job_waits_on_the_note, "le traitement attend la note du troisième lot")
        # Inside the third batch's transaction: its persons are already erased there.
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)
        assert job.returncode == -signal.SIGKILL
    finally:
        blocker.rollback()  # the lock goes; the orphaned statement ends, its batch rolls back
        blocker.close()
        log.close()
        if job is not None and job.poll() is None:
            job.kill()
            job.wait()

    _wait_for(lambda: not _running_on_notes(), "la transaction du processus tué se termine")
    # Two batches committed, the third rolled back whole, the rest untouched.
    assert Anonymisation.objects.count() == 2 * BATCH
    for number, person in enumerate(persons):
        assert _whole_or_anonymised(person, number), person.pk
    assert not Anonymisation.objects.filter(person_id__in=[p.pk for p in persons[2 * BATCH :]])

    # The next run completes.
    assert actions.run().anonymised == FILES - 2 * BATCH
    for number, person in enumerate(persons):
        assert _whole_or_anonymised(person, number)
    assert Anonymisation.objects.count() == FILES
