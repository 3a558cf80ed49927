"""The referrals' periodic job, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging

from django.db import connections
from procrastinate.contrib.django import app

from binome.referrals.deadlines import run_deadlines

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
