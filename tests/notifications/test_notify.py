"""notify(): in-app rows at once, e-mails after the commit, per each user's preference."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from binome.notifications.actions import notify, set_email_frequency
from binome.notifications.models import EmailFrequency, Notification, NotificationKind

URL = "/suivi/personnes/"


def _notify(recipients: list[Any], **kwargs: Any) -> list[Notification]:
    values: dict[str, Any] = {
        "recipients": recipients,
        "kind": NotificationKind.REFERRAL_RECEIVED,
        "title": "Nouvelle orientation reçue",
        "body": "France Travail Toulon vous adresse une orientation.",
        "url": URL,
    }
    values.update(kwargs)
    return notify(**values)


def test_rows_at_once_and_e_mails_after_commit(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc = personas["ines"], personas["marc"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = _notify([ines, marc, ines])
        assert Notification.objects.count() == 2  # duplicates collapsed
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert sorted(n.recipient_id for n in created) == sorted([ines.pk, marc.pk])
    assert all(n.pk and n.read_at is None for n in created)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([ines.email, marc.email])
    message = next(m for m in mail.outbox if m.to == [ines.email])
    notification = Notification.objects.get(recipient=ines)
    assert message.subject == "Nouvelle orientation reçue"
    assert "France Travail Toulon vous adresse une orientation." in message.body
    link = f"{settings.BASE_URL}/notifications/{notification.pk}/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert notification.emailed_at is not None


def test_a_rolled_back_transaction_sends_nothing(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify([personas["ines"]])
        raise RuntimeError
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_the_actor_is_not_told_of_their_own_action(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc = personas["ines"], personas["marc"]
    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([ines, marc], actor=ines)
    assert [n.recipient_id for n in created] == [marc.pk]
    assert created[0].actor_id == ines.pk
    assert [m.to for m in mail.outbox] == [[marc.email]]


def test_inactive_accounts_are_skipped(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    marc = personas["marc"]
    marc.is_active = False
    marc.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([personas["ines"], marc])
    assert [n.recipient_id for n in created] == [personas["ines"].pk]
    assert [m.to for m in mail.outbox] == [[personas["ines"].email]]


def test_a_dedup_key_notifies_once(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc = personas["ines"], personas["marc"]
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify([ines], dedup_key="referral-1-reminder")
    with django_capture_on_commit_callbacks(execute=True):
        second = _notify([ines, marc], dedup_key="referral-1-reminder")
    with django_capture_on_commit_callbacks(execute=True):
        third = _notify([ines, marc], dedup_key="referral-1-reminder")
    assert len(first) == 1
    assert [n.recipient_id for n in second] == [marc.pk]  # Inès already had it
    assert third == []
    assert Notification.objects.filter(dedup_key="referral-1-reminder").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([ines.email, marc.email])
    # Without a key, the same event may be told again.
    with django_capture_on_commit_callbacks(execute=True):
        _notify([ines])
        _notify([ines])
    assert Notification.objects.filter(recipient=ines).count() == 3


def test_digest_and_no_e_mail_users_get_no_immediate_e_mail(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc, paul = personas["ines"], personas["marc"], personas["paul"]
    set_email_frequency(user=ines, frequency=EmailFrequency.DAILY)
    set_email_frequency(user=marc, frequency=EmailFrequency.NEVER)
    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([ines, marc, paul])
    assert len(created) == 3  # in-app always
    assert [m.to for m in mail.outbox] == [[paul.email]]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "unknown"}, "is not a valid NotificationKind"),
        ({"url": "https://example.org/x"}, "chemin de Binôme"),
        ({"url": "//example.org/x"}, "chemin de Binôme"),
        ({"title": ""}, "Titre"),
        ({"title": "x" * 201}, "Titre"),
        ({"body": "  "}, "Message"),
    ],
)
def test_a_programming_error_is_refused(
    personas: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _notify([personas["ines"]], **change)
    assert Notification.objects.count() == 0


def test_a_refused_e_mail_does_not_break_the_caller(
    personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    ines, marc = personas["ines"], personas["marc"]
    marc.email = "marc@invalid\nbcc: x@example.org"  # refused by the mail API
    marc.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        _notify([ines, marc])
    assert [m.to for m in mail.outbox] == [[ines.email]]
    assert Notification.objects.get(recipient=ines).emailed_at is not None
