"""The referrals' periodic job, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging

from django.db import connections
from procrastinate.contrib.django import app

from binome.referrals.deadlines import run_deadlines, run_urgent_reminders

logger = logging.getLogger(__name__)


@app.periodic(cron="30 6 * * *")
@app.task(queue="maintenance", queueing_lock="referral_deadlines")
def referral_deadlines(timestamp: int) -> None:
    """Every morning: remind the unanswered referrals past their due date, expire those past
    their expiry date. Safe to run twice:
    each referral is updated under its row lock, re-checked."""
    try:
        reminded, expired = run_deadlines()
        logger.info("Orientations : %s relancée(s), %s expirée(s).", reminded, expired)
    finally:
        connections.close_all()


@app.periodic(cron="*/15 * * * *")
@app.task(queue="maintenance", queueing_lock="referral_urgent_reminders")
def referral_urgent_reminders(timestamp: int) -> None:
    """Every quarter of an hour: remind the receiving side of the urgent referrals
    unanswered at half of their delay, then past their due time (once each)."""
    try:
        half_time, past_due = run_urgent_reminders()
        logger.info(
            "Orientations urgentes : %s relancée(s) à mi-délai, %s délai dépassé.",
            half_time,
            past_due,
        )
    finally:
        connections.close_all()
