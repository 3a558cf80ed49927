"""PostgreSQL's postmaster killed (SIGKILL) in the middle of the work the background worker
does — an RSA import, a directory import, the referrals' daily job — at a moment chosen by
polling the work's progress, then started again.

Each time: nothing is half-written, the worker stops by itself (it can no longer reach its
queue), an import left « en cours » is shown failed with a French message by the imports'
page once it has been silent long enough, and a re-run gives the same rows as an
uninterrupted run.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from binome.accounts.models import User
from binome.directory import imports as directory_imports
from binome.directory.models import ImportRun, Service, Structure
from binome.notifications.actions import set_email_frequency
from binome.notifications.models import EmailFrequency, Notification
from binome.people.models import Person
from binome.referrals.models import Referral, ReferralEvent, Status
from binome.referrals.tasks import referral_deadlines
from binome.rsa import imports as rsa_imports
from binome.rsa.models import Beneficiary, Dossier, FlowImport, ImportStatus
from binome.support.models import TimelineEvent
from binome.territories.models import Department
from tests.factories import build_small_territory
from tests.faults import directory_file, rsa_flow
from tests.faults.cluster import (
    PrivateCluster,
    kill_postmaster,
    private_cluster,
    restart_postgresql,
    wait_for,
)

__all__ = ["private_cluster"]

# The test database is created (migrated) for these tests, then copied into the cluster.
pytestmark = pytest.mark.django_db(transaction=True)


def _minutes_pass(minutes: int) -> None:
    """What the database looks like ``minutes`` later: the workers' heartbeats and the
    imports' last progress that much older."""
    delay = timedelta(minutes=minutes)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = last_heartbeat - %s", [delay]
        )
    FlowImport.objects.update(progress_at=F("progress_at") - delay)
    ImportRun.objects.update(progress_at=F("progress_at") - delay)


def _stops_by_itself(cluster: PrivateCluster, worker: object, log: str) -> None:
    assert wait_for(
        lambda: worker.poll() is not None,  # type: ignore[attr-defined]
        f"arrêt du worker ({cluster.logs / log})",
        seconds=90,
    )


def _jobs_done(task_name: str) -> bool:
    statuses = set(
        ProcrastinateJob.objects.filter(task_name=task_name).values_list("status", flat=True)
    )
    return statuses == {"succeeded"}


def test_postgresql_killed_mid_rsa_import(private_cluster: PrivateCluster) -> None:
    build_small_territory()
    rows = rsa_flow.dossiers(3000)
    content = rsa_flow.flow_bytes(rows)
    var = Department.objects.get(code="83")
    run = rsa_imports.start_import(
        department=var, file_name="flux-novembre.xml", content=content, by=None
    )
    worker = private_cluster.start_binome("worker", log="worker-1.log")
    wait_for(lambda: FlowImport.objects.get(pk=run.pk).percent >= 20, "import à 20 %", seconds=120)
    kill_postmaster()
    _stops_by_itself(private_cluster, worker, "worker-1.log")
    restart_postgresql()

    # Nothing of the import is written; the run is still « en cours ».
    assert not Dossier.objects.exists() and not Beneficiary.objects.exists()
    assert FlowImport.objects.get(pk=run.pk).status == ImportStatus.RUNNING
    # No worker came back; a quarter of an hour later the imports' page shows it failed.
    _minutes_pass(16)
    assert rsa_imports.unfinished_import("83") is None
    failed = FlowImport.objects.get(pk=run.pk)
    assert failed.status == ImportStatus.REFUSED
    assert failed.message == rsa_imports.STALE_MESSAGE
    assert "Aucun dossier n'a été modifié ; vous pouvez relancer l'import." in failed.message

    # The administrator runs it again and a worker comes back: the new run applies the whole
    # file; the first job, taken up again, leaves its refused run alone.
    again = rsa_imports.start_import(
        department=var, file_name="flux-novembre.xml", content=content, by=None
    )
    worker = private_cluster.start_binome("worker", log="worker-2.log")
    wait_for(lambda: _jobs_done(rsa_imports.RUN_IMPORT_TASK), "imports terminés", seconds=180)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)

    assert FlowImport.objects.get(pk=run.pk).status == ImportStatus.REFUSED
    applied = FlowImport.objects.get(pk=again.pk)
    assert applied.status == ImportStatus.APPLIED and applied.created == len(rows)
    assert rsa_flow.imported() == rsa_flow.expected(rows)


def test_postgresql_killed_mid_directory_import(private_cluster: PrivateCluster) -> None:
    build_small_territory()
    content = directory_file.rows(4000)
    files = [("datainclusion.json", directory_file.file_bytes(content))]
    var = Department.objects.get(code="83")
    run = directory_imports.start_import(department=var, files=files, by=None)
    worker = private_cluster.start_binome("worker", log="worker-1.log")
    # Killed while it writes the structures and services (from 65 % on).
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).percent >= 66, "écriture", seconds=180)
    kill_postmaster()
    _stops_by_itself(private_cluster, worker, "worker-1.log")
    restart_postgresql()

    assert not Structure.objects.exists() and not Service.objects.exists()
    assert ImportRun.objects.get(pk=run.pk).status == directory_imports.ImportStatus.RUNNING
    _minutes_pass(16)
    assert directory_imports.unfinished_import("83") is None
    failed = ImportRun.objects.get(pk=run.pk)
    assert failed.status == directory_imports.ImportStatus.FAILED
    assert failed.errors == [directory_imports.STALE_MESSAGE]
    assert "L'annuaire n'a pas été modifié" in failed.errors[0]

    again = directory_imports.start_import(department=var, files=files, by=None)
    worker = private_cluster.start_binome("worker", log="worker-2.log")
    wait_for(lambda: _jobs_done(directory_imports.RUN_IMPORT_TASK), "imports terminés", seconds=180)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)

    assert ImportRun.objects.get(pk=run.pk).status == directory_imports.ImportStatus.FAILED
    assert ImportRun.objects.get(pk=again.pk).status == directory_imports.ImportStatus.DONE
    assert directory_file.imported() == directory_file.expected(content)


REFERRALS = 6000  # half to expire, half to remind: two batches of 2,000 each


def _due_referrals(count: int) -> None:
    small = build_small_territory()
    # In-app notifications only: thousands of e-mails would only slow the job down here.
    for user in User.objects.all():
        set_email_frequency(user=user, frequency=EmailFrequency.NEVER)
    today = timezone.localdate()
    persons = Person.objects.bulk_create(
        Person(
            department_id="83",
            organisation=small.france_travail,
            first_name=f"Personne{number}",
            last_name="Essai",
            search_name=f"personne{number} essai",
            birth_date=date(1990, 1, 1),
        )
        for number in range(count)
    )
    sent = timezone.now() - timedelta(days=40)
    referrals = Referral.objects.bulk_create(
        Referral(
            person=person,
            department_id="83",
            sender=small.alice,
            sender_organisation=small.france_travail,
            to_organisation=small.departement,
            reason="Motif.",
            sent_at=sent,
            due_on=today - timedelta(days=30 if number % 2 else 1),
            expires_on=today if number % 2 else today + timedelta(days=20),
        )
        for number, person in enumerate(persons)
    )
    ReferralEvent.objects.bulk_create(
        ReferralEvent(referral=referral, action="sent", to_status="sent", at=sent)
        for referral in referrals
    )


def _each_referral_whole() -> Counter[str]:
    """Every referral changed with all its rows, or not at all; the count of each state."""
    states: Counter[str] = Counter()
    timeline = Counter(TimelineEvent.objects.values_list("person_id", flat=True))
    events = Counter(ReferralEvent.objects.values_list("referral_id", flat=True))
    for pk, person_id, status, reminded_at in Referral.objects.values_list(
        "pk", "person_id", "status", "reminded_at"
    ):
        if status == Status.EXPIRED:
            state = "expirée"
        elif reminded_at is not None:
            state = "relancée"
        else:
            state = "inchangée"
        changed = state != "inchangée"
        assert events[pk] == 1 + changed, (pk, state, events[pk])
        assert timeline[person_id] == int(changed), (pk, state, timeline[person_id])
        states[state] += 1
    return states


def test_postgresql_killed_mid_referrals_daily_job(private_cluster: PrivateCluster) -> None:
    _due_referrals(REFERRALS)
    referral_deadlines.defer(timestamp=0)
    worker = private_cluster.start_binome("worker", log="worker-1.log", console_mail=True)
    # Killed once a first batch is committed and before the last.
    wait_for(lambda: Referral.objects.filter(status=Status.EXPIRED).exists(), "premier lot", 120)
    kill_postmaster()
    _stops_by_itself(private_cluster, worker, "worker-1.log")
    restart_postgresql()

    interrupted = _each_referral_whole()
    assert 0 < interrupted["inchangée"] < REFERRALS, interrupted

    # A worker comes back: the job, taken up again, finishes the work, each referral once.
    _minutes_pass(3)
    worker = private_cluster.start_binome("worker", log="worker-2.log", console_mail=True)
    wait_for(lambda: _jobs_done("binome.referrals.tasks.referral_deadlines"), "tâche reprise", 300)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)

    assert _each_referral_whole() == {"expirée": REFERRALS // 2, "relancée": REFERRALS // 2}
    # The same notifications for each referral as for any other of its kind (none twice,
    # none missing).
    per_referral = Counter(Notification.objects.values_list("kind", "url"))
    assert len({url for _kind, url in per_referral}) == REFERRALS
    for kind in {kind for kind, _url in per_referral}:
        assert len({n for (k, _url), n in per_referral.items() if k == kind}) == 1, kind
