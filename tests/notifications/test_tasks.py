"""The daily digest and the retention of notifications, periodic jobs of the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from procrastinate.contrib.django import app

from binome.notifications import tasks
from binome.notifications.actions import notify, set_email_frequency
from binome.notifications.models import EmailFrequency, Notification, NotificationKind


def _tell(users: list[Any], title: str, captured: Any) -> None:
    with captured(execute=True):
        notify(
            recipients=users,
            kind=NotificationKind.REFERRAL_RECEIVED,
            title=title,
            body="France Travail Toulon vous adresse une orientation.",
            url="/suivi/personnes/",
        )


def test_the_digest_sends_once_what_was_not_e_mailed(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc, paul = personas["ines"], personas["marc"], personas["paul"]
    set_email_frequency(user=ines, frequency=EmailFrequency.DAILY)
    set_email_frequency(user=marc, frequency=EmailFrequency.NEVER)
    _tell([ines, marc, paul], "Première orientation", django_capture_on_commit_callbacks)
    _tell([ines, marc, paul], "Seconde orientation", django_capture_on_commit_callbacks)
    _tell([ines], "Déjà lue", django_capture_on_commit_callbacks)
    Notification.objects.filter(title="Déjà lue").update(read_at=timezone.now())
    assert [m.to for m in mail.outbox] == [[paul.email], [paul.email]]  # at once
    mail.outbox.clear()

    assert tasks.send_daily_digests() == 1
    [digest] = mail.outbox
    assert digest.to == [ines.email]
    assert digest.subject == "Binôme : 2 nouvelles notifications"
    assert "Première orientation" in digest.body and "Seconde orientation" in digest.body
    assert "Déjà lue" not in digest.body
    assert "/notifications/" in digest.alternatives[0][0]
    assert not Notification.objects.filter(recipient=ines, read_at__isnull=True).filter(
        emailed_at__isnull=True
    )

    # Run twice: nothing more. A new notification goes in the next digest.
    assert tasks.send_daily_digests() == 0
    _tell([ines], "Troisième orientation", django_capture_on_commit_callbacks)
    assert tasks.send_daily_digests() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Binôme : 1 nouvelle notification"
    assert "Troisième orientation" in mail.outbox[1].body
    assert "Première orientation" not in mail.outbox[1].body


def test_a_failed_digest_is_retried_by_the_next_run(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc = personas["ines"], personas["marc"]
    for user in (ines, marc):
        set_email_frequency(user=user, frequency=EmailFrequency.DAILY)
    _tell([ines, marc], "Orientation", django_capture_on_commit_callbacks)
    good = marc.email
    marc.email = "marc@invalid\nbcc: x@example.org"  # refused by the mail API
    marc.save(update_fields=["email"])
    assert tasks.send_daily_digests() == 1
    assert [m.to for m in mail.outbox] == [[ines.email]]
    assert Notification.objects.get(recipient=marc).emailed_at is None  # rolled back
    marc.email = good
    marc.save(update_fields=["email"])
    assert tasks.send_daily_digests() == 1
    assert mail.outbox[-1].to == [good]


def test_notifications_older_than_six_months_are_deleted(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _tell([personas["ines"]], "Ancienne", django_capture_on_commit_callbacks)
    _tell([personas["ines"]], "Récente", django_capture_on_commit_callbacks)
    Notification.objects.filter(title="Ancienne").update(
        created_at=timezone.now() - timedelta(days=200)
    )
    Notification.objects.filter(title="Récente").update(
        created_at=timezone.now() - timedelta(days=150)
    )
    assert tasks.delete_expired_notifications() == 1
    assert list(Notification.objects.values_list("title", flat=True)) == ["Récente"]


def test_the_jobs_are_periodic_tasks_of_the_worker() -> None:
    crons = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert crons[tasks.daily_digest.name] == "0 6 * * *"
    assert crons[tasks.notifications_retention.name] == "41 3 * * *"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_digest() -> None:
    """The job goes through procrastinate: queued in the database, run by a worker."""
    from binome.accounts.models import User

    user = User.objects.create_user("digest@binome.test", first_name="Dora", last_name="Digest")
    set_email_frequency(user=user, frequency=EmailFrequency.DAILY)
    notify(
        recipients=[user],
        kind=NotificationKind.DIRECTORY,
        title="Annuaire mis à jour",
        body="Un service de l'annuaire a changé.",
        url="/annuaire/",
    )
    assert mail.outbox == []
    tasks.daily_digest.defer(timestamp=0)
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:  # type: ignore[attr-defined]
        worker_app.run_worker(
            queues=["maintenance"], wait=False, install_signal_handlers=False, listen_notify=False
        )
    assert [m.to for m in mail.outbox] == [["digest@binome.test"]]
    assert Notification.objects.get(recipient=user).emailed_at is not None
