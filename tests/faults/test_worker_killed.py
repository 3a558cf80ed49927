"""A worker killed (SIGKILL) in the middle of an RSA import: another worker takes the job up
again and, the import being applied in one transaction that died with the first worker, does
its work once — the same rows as an uninterrupted import."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from binome.rsa.imports import RUN_IMPORT_TASK, start_import
from binome.rsa.models import Beneficiary, Dossier, FlowImport, ImportStatus
from binome.territories.models import Department
from tests.factories import build_small_territory
from tests.faults.cluster import PrivateCluster, kill_group, private_cluster, wait_for
from tests.faults.rsa_flow import dossiers, expected, flow_bytes, imported

__all__ = ["private_cluster"]

# The test database is created (migrated) for this test, then copied into the private cluster.
pytestmark = pytest.mark.django_db(transaction=True)

DOSSIERS = 3000


def _percent(run_id: int) -> int:
    return FlowImport.objects.values_list("percent", flat=True).get(pk=run_id)


def _status(run_id: int) -> str:
    return FlowImport.objects.values_list("status", flat=True).get(pk=run_id)


def _time_passes_for_workers(delay: timedelta) -> None:
    """The workers' last heartbeats, ``delay`` older: what a dead worker's row looks like once
    that time has passed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = last_heartbeat - %s", [delay]
        )


def test_a_worker_killed_mid_import_has_its_job_taken_up_by_another_and_done_once(
    private_cluster: PrivateCluster,
) -> None:
    build_small_territory()
    rows = dossiers(DOSSIERS)
    run = start_import(
        department=Department.objects.get(code="83"),
        file_name="flux-novembre.xml",
        content=flow_bytes(rows),
        by=None,
    )
    first = private_cluster.start_binome("worker", log="worker-1.log")
    wait_for(lambda: _percent(run.pk) >= 20, "import à 20 %", seconds=120)
    kill_group(first)

    # Killed in the middle: nothing of the import is written, the run is still « en cours »
    # and its job « doing » for a worker that no longer exists.
    assert _status(run.pk) == ImportStatus.RUNNING
    assert 20 <= _percent(run.pk) < 100
    assert not Dossier.objects.exists() and not Beneficiary.objects.exists()
    job = ProcrastinateJob.objects.get(task_name=RUN_IMPORT_TASK)
    assert job.status == "doing" and job.attempts == 0

    # Two minutes later, another worker starts: it queues the job again and runs it.
    _time_passes_for_workers(timedelta(minutes=3))
    second = private_cluster.start_binome("worker", log="worker-2.log")
    try:
        wait_for(
            lambda: ProcrastinateJob.objects.get(pk=job.pk).status == "succeeded",
            f"import repris ({private_cluster.logs / 'worker-2.log'})",
            seconds=180,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert "1 tâche(s) reprise(s)" in private_cluster.log("worker-2.log")
    job.refresh_from_db()
    assert job.attempts == 2  # procrastinate counts the retry, then the finished run
    applied = FlowImport.objects.get(pk=run.pk)
    assert applied.status == ImportStatus.APPLIED
    assert applied.created == DOSSIERS and applied.percent == 100
    assert FlowImport.objects.count() == 1
    assert imported() == expected(rows)
