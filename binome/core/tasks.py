"""Background jobs and periodic tasks, run by the PostgreSQL-backed worker (procrastinate)."""

from __future__ import annotations

import logging

from django.core.management import call_command
from django.db import connections
from procrastinate.contrib.django import app

from binome.core.background import retry_stalled_jobs

logger = logging.getLogger(__name__)


@app.periodic(cron="17 3 * * *")
@app.task(queue="maintenance", queueing_lock="clear_expired_sessions")
def clear_expired_sessions(timestamp: int) -> None:
    """Every night: remove expired sessions from the database."""
    call_command("clearsessions")
    logger.info("Sessions expirées supprimées (%s).", timestamp)


@app.periodic(cron="* * * * *")
@app.task(queue="maintenance", queueing_lock="retry_stalled_jobs")
def take_up_stalled_jobs(timestamp: int) -> None:
    """Every minute: queue again the jobs of a worker that died in the middle (killed, or its
    machine or PostgreSQL stopped); another worker takes them up."""
    try:
        retry_stalled_jobs()
    finally:
        connections.close_all()
