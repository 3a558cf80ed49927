"""The childcare periodic jobs, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging

from django.db import connections
from django.utils import timezone
from procrastinate.contrib.django import app

from binome.childcare.deadlines import (
    ask_placement_followups,
    remind_placement_reviews,
    remind_places_to_confirm,
    run_deadlines,
)

logger = logging.getLogger(__name__)


@app.periodic(cron="*/15 * * * *")
@app.task(queue="maintenance", queueing_lock="childcare_deadlines")
def childcare_deadlines(timestamp: int) -> None:
    """Every quarter of an hour (a 24-hour clock needs it): remind the providers at half of
    the delay, escalate to the territory's coordinator past the due time. Safe to run twice."""
    try:
        reminded, escalated = run_deadlines()
        logger.info(
            "Garde d'enfants : %s demande(s) relancée(s) à mi-délai, %s signalée(s).",
            reminded,
            escalated,
        )
    finally:
        connections.close_all()


@app.periodic(cron="0 7 * * *")
@app.task(queue="maintenance", queueing_lock="childcare_places_to_confirm")
def childcare_places_to_confirm(timestamp: int) -> None:
    """Every morning: remind the providers whose places were not confirmed for a month."""
    try:
        reminded = remind_places_to_confirm(timezone.now())
        logger.info("Garde d'enfants : %s accueil(s) invité(s) à confirmer.", reminded)
    finally:
        connections.close_all()


@app.periodic(cron="15 7 * * *")
@app.task(queue="maintenance", queueing_lock="childcare_placements")
def childcare_placements(timestamp: int) -> None:
    """Every morning: the reviews of the placements ending soon, and the parents' situation
    six months after a placement's end."""
    try:
        today = timezone.localdate()
        reviews = remind_placement_reviews(today)
        followups = ask_placement_followups(today)
        logger.info(
            "Garde d'enfants : %s revue(s) annoncée(s), %s situation(s) à 6 mois demandée(s).",
            reviews,
            followups,
        )
    finally:
        connections.close_all()
