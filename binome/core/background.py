"""What the imports run by the background worker share, whatever they import.

- ``ProgressWriter`` writes a run's progress through a connection of its own, in
  autocommit, since the import's own transaction is invisible to the page until it commits;
- ``runs_with_a_live_job`` tells which runs still have a job waiting for a worker or run by
  a worker alive, so that a run left "en cours" by a worker that died can be failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models
from procrastinate.contrib.django.models import ProcrastinateJob

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
