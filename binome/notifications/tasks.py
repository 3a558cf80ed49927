"""Periodic jobs of notifications, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connections, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from procrastinate.contrib.django import app

from binome.accounts.models import User
from binome.notifications import actions, emails
from binome.notifications.models import (
    RETENTION,
    EmailFrequency,
    Notification,
    NotificationQuerySet,
)

logger = logging.getLogger(__name__)

# A digest lists this many notifications at most, newest first, and says how many more.
DIGEST_MAX_ITEMS = 50


def _pending(now: datetime) -> NotificationQuerySet:
    return Notification.objects.filter(
        emailed_at__isnull=True, read_at__isnull=True, created_at__lte=now
    )


def send_daily_digests(now: datetime | None = None) -> int:
    """One e-mail to each user who chose the daily digest, with their unread notifications
    not e-mailed yet. Safe to run twice: the notifications are marked e-mailed in the same
    transaction as the e-mail leaves (a second run finds none; an e-mail that fails rolls
    the mark back, so the next run retries it). Returns the number of e-mails sent."""
    now = now or timezone.now()
    users = (
        User.objects.filter(
            is_active=True, notification_preference__email_frequency=EmailFrequency.DAILY
        )
        .exclude(email="")
        .filter(Exists(_pending(now).filter(recipient=OuterRef("pk"))))
        .order_by("pk")
    )
    sent = 0
    for user in users:
        try:
            with transaction.atomic():
                # Locked and re-checked: a concurrent run skips them, or finds them e-mailed.
                pending = list(
                    _pending(now)
                    .filter(recipient=user)
                    .select_for_update(skip_locked=True)
                    .order_by("-created_at", "-id")
                )
                if not pending:
                    continue
                Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=now)
                emails.digest_message(user, pending[:DIGEST_MAX_ITEMS], total=len(pending)).send()
        except Exception:
            logger.exception("Résumé quotidien non envoyé à l'utilisateur %s.", user.pk)
            continue
        sent += 1
    logger.info("Résumés quotidiens de notifications : %s e-mail(s) envoyé(s).", sent)
    return sent


def delete_expired_notifications(now: datetime | None = None) -> int:
    """Retention: notifications older than six months are deleted. Returns how many."""
    return actions.delete_old_notifications(before=(now or timezone.now()) - RETENTION)


@app.periodic(cron="0 6 * * *")
@app.task(queue="maintenance", queueing_lock="notifications_daily_digest")
def daily_digest(timestamp: int) -> None:
    """Every morning: the digest of the users who chose one."""
    try:
        send_daily_digests()
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()


@app.periodic(cron="41 3 * * *")
@app.task(queue="maintenance", queueing_lock="notifications_retention")
def notifications_retention(timestamp: int) -> None:
    """Every night: notifications older than six months are deleted."""
    try:
        deleted = delete_expired_notifications()
        logger.info("Notifications de plus de six mois supprimées : %s.", deleted)
    finally:
        connections.close_all()
