"""Background jobs and periodic tasks, run by the PostgreSQL-backed worker (procrastinate)."""

from __future__ import annotations

import logging

from django.core.management import call_command
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)


@app.periodic(cron="17 3 * * *")
@app.task(queue="maintenance", queueing_lock="clear_expired_sessions")
def clear_expired_sessions(timestamp: int) -> None:
    """Every night: remove expired sessions from the database."""
    call_command("clearsessions")
    logger.info("Sessions expirées supprimées (%s).", timestamp)
