"""What the imports run by the background worker share, whatever they import.

- ``ProgressWriter`` writes a run's progress through a connection of its own, in
  autocommit, since the import's own transaction is invisible to the page until it commits;
- ``runs_with_a_live_job`` tells which runs still have a job waiting for a worker or run by
  a worker alive, so that a run left "en cours" by a worker that died can be failed;
- ``retry_stalled_jobs`` puts back in the queue the jobs left « doing » by a worker that died
  (killed, or stopped by PostgreSQL's own death): the worker calls it when it starts and
  every minute (``binome.core.tasks``);
- ``run_alone`` makes sure that one run is run by one process at a time, even if a job was
  wrongly taken for stalled while its worker still ran it.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate import sql
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

logger = logging.getLogger(__name__)

# A procrastinate worker updates its heartbeat every 10 s; it is taken for dead after
# 30 s without (procrastinate's own ``stalled_worker_timeout``). A margin for busy machines.
WORKER_SILENT_AFTER = timedelta(minutes=2)


class ProgressWriter:
    """Updates one row of ``model`` (its fields, and ``progress_at`` set to now) through its own
    autocommit connection; ``write(..., throttle=True)`` skips a write made less than ``every``
    seconds after the last one."""

    def __init__(self, model: type[models.Model], pk: int, *, every: float = 0.5) -> None:
        self.table = model._meta.db_table
        self.pk = pk
        self.every = every
        self.last = 0.0
        self.side = connection.get_new_connection(connection.get_connection_params())
        self.side.autocommit = True

    def throttled(self) -> bool:
        """Whether the last write was less than ``every`` seconds ago."""
        return time.monotonic() - self.last < self.every

    def write(self, *, throttle: bool = False, **fields: Any) -> None:
        if throttle and self.throttled():
            return
        assignments = "".join(f"{connection.ops.quote_name(name)} = %s, " for name in fields)
        self.execute(
            f"UPDATE {self.table} SET {assignments}progress_at = now() "  # noqa: S608
            "WHERE id = %s",
            [*fields.values(), self.pk],
        )

    def execute(self, sql: str, params: list[Any]) -> None:
        """Run one statement of the caller's own on the side connection."""
        self.last = time.monotonic()
        with self.side.cursor() as cursor:
            cursor.execute(sql, params)

    def close(self) -> None:
        self.side.close()


def runs_with_a_live_job(task_name: str, run_ids: Iterable[int], now: datetime) -> set[int]:
    """The runs (a job's ``run_id`` argument) whose job is waiting for a worker, or run by a
    worker still alive."""
    alive: set[int] = set()
    jobs = ProcrastinateJob.objects.filter(
        task_name=task_name, args__run_id__in=list(run_ids)
    ).values_list("args", "status", "worker__last_heartbeat")
    for args, status, heartbeat in jobs:
        waiting = status == "todo"
        running = status == "doing" and heartbeat is not None
        if waiting or (running and heartbeat >= now - WORKER_SILENT_AFTER):
            alive.add(args["run_id"])
    return alive


def retry_stalled_jobs(*, silent_after: timedelta = WORKER_SILENT_AFTER) -> list[int]:
    """Put back in the queue the jobs « doing » whose worker is gone: no heartbeat for
    ``silent_after``, or its row pruned by a worker that started since. Returns their ids.

    A job taken up again runs from its start: every job of Binôme is idempotent (the imports
    apply in one transaction, which died with the worker; the daily jobs look at the state)."""
    now = timezone.now()
    stalled = list(
        ProcrastinateJob.objects.filter(status="doing")
        .filter(Q(worker__isnull=True) | Q(worker__last_heartbeat__lt=now - silent_after))
        .order_by("id")
        .values_list("id", "task_name")
    )
    retried = []
    for job_id, task_name in stalled:
        try:
            with transaction.atomic():  # a savepoint when called inside a transaction
                app.job_manager.retry_job_by_id(job_id=job_id, retry_at=now)
        except procrastinate_exceptions.UniqueViolation:
            # A job with the same queueing lock is already waiting (a periodic job deferred
            # again since): that one will do the work; this one ends failed.
            app.job_manager.connector.get_sync_connector().execute_query(
                query=sql.queries["finish_job"], job_id=job_id, status="failed", delete_job=False
            )
            logger.warning("Tâche %s (%s) abandonnée : la même attend déjà.", job_id, task_name)
            continue
        except procrastinate_exceptions.ConnectorException:
            continue  # finished or retried by someone else meanwhile
        logger.warning("Tâche %s (%s) reprise : son worker s'est arrêté.", job_id, task_name)
        retried.append(job_id)
    return retried


@contextmanager
def run_alone(kind: str, pk: int) -> Iterator[bool]:
    """Hold PostgreSQL's session lock on (``kind``, ``pk``) while the block runs; yields False,
    without waiting, when another process holds it. The lock goes with the session, so with
    a process that dies."""
    key = (zlib.crc32(kind.encode()) % 2**31, int(pk) % 2**31)  # two int4
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        (held,) = cursor.fetchone()
    try:
        yield bool(held)
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except DatabaseError:
                pass  # the session is gone, and its lock with it
