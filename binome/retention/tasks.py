"""The retention job, run every night by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging

from django.db import connections
from procrastinate.contrib.django import app

from binome.retention.actions import run

logger = logging.getLogger(__name__)


@app.periodic(cron="30 2 * * *")
@app.task(queue="maintenance", queueing_lock="retention_run")
def retention_run(timestamp: int) -> None:
    """Every night: tell the teams of the files near the end of their retention, anonymise
    those past it, keep the audit log's months. Safe to run twice (the second waits)."""
    try:
        report = run()
        logger.info(
            "Conservation : %s dossier(s) signalé(s), %s anonymisé(s), %s conservé(s).",
            report.notified,
            report.anonymised,
            report.kept,
        )
    finally:
        connections.close_all()
