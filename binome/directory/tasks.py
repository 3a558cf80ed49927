"""Background jobs of the directory, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connections, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from procrastinate.contrib.django import app

from binome.accounts.models import User
from binome.directory.models import FreshnessReminder, Service
from binome.organisations.models import Membership

logger = logging.getLogger(__name__)


def send_freshness_reminders(today: date | None = None) -> int:
    """E-mail every editor the published services of their organisations that are past their
    update frequency. At most one e-mail per editor and month: what was sent is recorded
    (``FreshnessReminder``), so running it twice in a month sends nothing more.
    Returns the number of e-mails sent."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    stale = list(
        Service.objects.published()
        .needs_checking(today)
        .filter(owner__isnull=False, owner__is_active=True)
        .select_related("structure")
        .order_by("structure__name", "name")
    )
    by_owner: dict[int, list[Service]] = defaultdict(list)
    for service in stale:
        assert service.owner_id is not None
        by_owner[service.owner_id].append(service)
    if not by_owner:
        return 0
    by_user: dict[int, list[Service]] = defaultdict(list)
    for user_id, organisation_id in (
        Membership.objects.active()
        .filter(organisation_id__in=sorted(by_owner))
        .values_list("user_id", "organisation_id")
    ):
        by_user[user_id].extend(by_owner[organisation_id])
    already = set(
        FreshnessReminder.objects.filter(month=month, user_id__in=by_user).values_list(
            "user_id", flat=True
        )
    )
    sent = 0
    for user in User.objects.filter(pk__in=sorted(set(by_user) - already)).order_by("pk"):
        services = by_user[user.pk]
        try:
            with transaction.atomic():
                # The row first: a concurrent run hits the unique constraint and skips; an
                # e-mail that fails rolls the row back, so the next run retries it.
                FreshnessReminder.objects.create(
                    user=user, month=month, services=[s.pk for s in services]
                )
                send_mail(
                    subject=(
                        f"Binôme : {len(services)} service{'s' if len(services) > 1 else ''} "
                        "de l'annuaire à vérifier"
                    ),
                    message=render_to_string(
                        "directory/email/freshness_reminder.txt",
                        {"user": user, "services": services, "base_url": settings.BASE_URL},
                    ),
                    from_email=None,
                    recipient_list=[user.email],
                )
        except IntegrityError:
            continue
        sent += 1
    logger.info("Rappels de mise à jour de l'annuaire : %s courriel(s) envoyé(s).", sent)
    return sent


@app.periodic(cron="0 8 1 * *")
@app.task(queue="maintenance", queueing_lock="directory_freshness_reminders")
def freshness_reminders(timestamp: int) -> None:
    """On the first of every month at 8 a.m.: remind editors of their services to check."""
    send_freshness_reminders()


@app.periodic(cron="*/5 * * * *")
@app.task(queue="maintenance", queueing_lock="directory_stale_imports")
def stale_imports(timestamp: int) -> None:
    """Every five minutes: fail the imports left "En cours" by a worker that died."""
    from binome.directory.imports import fail_stale_imports

    try:
        fail_stale_imports()
    finally:
        connections.close_all()


@app.task(queue="directory", name="binome.directory.run_import")
def run_directory_import(run_id: int) -> None:
    """Run an import uploaded from the territory page (``binome.directory.imports``)."""
    from binome.directory.imports import run_import

    try:
        run_import(run_id=run_id)
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()
