"""Jobs of a worker that died are queued again (``binome.core.background.retry_stalled_jobs``,
run by ``binome worker`` when it starts and every minute), and a run is run by one process at
a time (``run_alone``). The same with real processes killed: ``tests/faults/``."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from binome.core.background import retry_stalled_jobs, run_alone
from binome.core.tasks import clear_expired_sessions
from binome.rsa.tasks import run_rsa_import


def _worker(seconds_silent: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - make_interval(secs => %s)) RETURNING id",
            [seconds_silent],
        )
        return int(cursor.fetchone()[0])


def _doing(worker_id: int | None, *, run_id: int = 0) -> int:
    job_id = run_rsa_import.defer(run_id=run_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [worker_id, job_id],
        )
    return job_id


def test_the_jobs_of_a_silent_or_pruned_worker_are_queued_again_not_those_of_a_live_one(
    db: None,
) -> None:
    dead = _doing(_worker(seconds_silent=180), run_id=1)
    pruned = _doing(None, run_id=2)  # its worker's row deleted by a worker started since
    alive = _doing(_worker(seconds_silent=5), run_id=3)

    assert sorted(retry_stalled_jobs()) == sorted([dead, pruned])

    jobs = {job.pk: job for job in ProcrastinateJob.objects.all()}
    assert (jobs[dead].status, jobs[dead].attempts) == ("todo", 1)
    assert (jobs[pruned].status, jobs[pruned].attempts) == ("todo", 1)
    assert (jobs[alive].status, jobs[alive].attempts) == ("doing", 0)
    periodic = {t.task.name for t in app.periodic_registry.periodic_tasks.values()}
    assert "binome.core.tasks.take_up_stalled_jobs" in periodic


def test_the_command_binome_worker_runs_first_says_what_it_took_up(db: None, capsys) -> None:  # type: ignore[no-untyped-def]
    dead = _doing(_worker(seconds_silent=600))

    call_command("retry_stalled_jobs")

    assert f"1 tâche(s) reprise(s), leur worker s'était arrêté : {dead}" in capsys.readouterr().out
    assert ProcrastinateJob.objects.get(pk=dead).status == "todo"


def test_a_stalled_periodic_job_already_deferred_again_ends_failed(db: None) -> None:
    stalled = clear_expired_sessions.defer(timestamp=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [_worker(seconds_silent=600), stalled],
        )
    waiting = clear_expired_sessions.defer(timestamp=2)  # the same queueing lock

    assert retry_stalled_jobs() == []

    jobs = {job.pk: job.status for job in ProcrastinateJob.objects.all()}
    assert jobs == {stalled: "failed", waiting: "todo"}


def test_a_run_is_run_by_one_process_at_a_time(db: None) -> None:
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    try:
        with run_alone("binome.rsa.run_import", 7) as alone:
            assert alone
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", _key("binome.rsa.run_import", 7)
                )
                assert cursor.fetchone()[0] is False
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", _key("binome.rsa.run_import", 7))
            assert cursor.fetchone()[0] is True
        with run_alone("binome.rsa.run_import", 7) as alone:
            assert not alone
    finally:
        other.close()


def _key(kind: str, pk: int) -> tuple[int, int]:
    import zlib

    return zlib.crc32(kind.encode()) % 2**31, pk
