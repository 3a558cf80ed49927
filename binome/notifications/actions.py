"""Creating notifications and changing their state. Other apps call :func:`notify` only.

A notification is an in-app row at once; its e-mail leaves after the caller's transaction
commits — immediately for users who kept the default, in the daily digest for the others
(``binome.notifications.tasks``), never for those who switched e-mails off.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from binome.accounts.models import User
from binome.notifications import emails
from binome.notifications.models import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationPreference,
)

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = Notification._meta.get_field("title").max_length or 200
URL_MAX_LENGTH = Notification._meta.get_field("url").max_length or 500
DEDUP_KEY_MAX_LENGTH = Notification._meta.get_field("dedup_key").max_length or 200


@dataclass(frozen=True)
class Notice:
    """One event to tell to several users, for :func:`notify_many` (periodic jobs)."""

    recipient_ids: Collection[int]
    kind: NotificationKind | str
    title: str
    body: str
    url: str
    dedup_key: str = ""
    actor_id: int | None = None


def notify(
    *,
    recipients: Iterable[Any],
    kind: NotificationKind | str,
    title: str,
    body: str,
    url: str,
    dedup_key: str | None = None,
    actor: Any = None,
) -> list[Notification]:
    """Tell ``recipients`` of an event: one in-app notification each, and an e-mail.

    Duplicated recipients are collapsed, inactive accounts skipped, and the actor is never
    told of their own action. With a ``dedup_key``, a recipient who already has a
    notification with that key gets nothing (a periodic job may run twice). Returns the
    notifications created. Call it inside the caller's transaction: the e-mails leave
    when it commits. Title and body never name the person nor detail the file.
    """
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return notify_many(
        [
            Notice(
                recipient_ids=[user.pk for user in recipients],
                kind=kind,
                title=title,
                body=body,
                url=url,
                dedup_key=dedup_key or "",
                actor_id=actor_id,
            )
        ]
    )


def _checked(notice: Notice) -> Notice:
    kind = NotificationKind(notice.kind)  # ValueError for an unknown kind
    title, body, url = notice.title.strip(), notice.body.strip(), notice.url.strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ValueError(f"Titre de notification vide ou trop long ({len(title)} caractères).")
    if not body:
        raise ValueError("Message de notification vide.")
    if not url.startswith("/") or url.startswith("//") or len(url) > URL_MAX_LENGTH:
        raise ValueError(f"Le lien d'une notification est un chemin de Binôme, pas « {url} ».")
    if len(notice.dedup_key) > DEDUP_KEY_MAX_LENGTH:
        raise ValueError("Clé d'unicité de notification trop longue.")
    return Notice(
        recipient_ids=notice.recipient_ids,
        kind=kind,
        title=title,
        body=body,
        url=url,
        dedup_key=notice.dedup_key,
        actor_id=notice.actor_id,
    )


_INSERT = """
INSERT INTO {table} (recipient_id, kind, title, body, url, actor_id, dedup_key, created_at)
SELECT v.recipient_id, v.kind, v.title, v.body, v.url, v.actor_id, v.dedup_key, %s
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[],
            %s::text[]) AS v(recipient_id, kind, title, body, url, actor_id, dedup_key)
JOIN {user_table} u ON u.id = v.recipient_id AND u.is_active
ON CONFLICT DO NOTHING
RETURNING {columns}
"""


def notify_many(notices: Sequence[Notice], *, now: datetime | None = None) -> list[Notification]:
    """:func:`notify` for many events at once: one INSERT whatever their number.

    The set-based form for periodic jobs; the same rules (collapsed recipients, actor
    skipped, inactive accounts skipped, deduplication keys, e-mails on commit).
    """
    rows: list[tuple[int, str, str, str, str, int | None, str]] = []
    seen: set[tuple[int, str]] = set()
    for notice in map(_checked, notices):
        for recipient_id in dict.fromkeys(notice.recipient_ids):
            if recipient_id == notice.actor_id:
                continue
            if notice.dedup_key:
                if (recipient_id, notice.dedup_key) in seen:
                    continue
                seen.add((recipient_id, notice.dedup_key))
            rows.append(
                (
                    recipient_id,
                    str(notice.kind),
                    notice.title,
                    notice.body,
                    notice.url,
                    notice.actor_id,
                    notice.dedup_key,
                )
            )
    if not rows:
        return []
    fields = list(Notification._meta.concrete_fields)
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(Notification._meta.db_table),
        user_table=quote(User._meta.db_table),
        columns=", ".join(quote(f.column or f.attname) for f in fields),
    )
    params: list[Any] = [now or timezone.now()]
    params.extend(list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = [
            Notification(**{f.attname: value for f, value in zip(fields, row, strict=True)})
            for row in cursor.fetchall()
        ]
    for notification in created:
        notification._state.adding = False
        notification._state.db = connection.alias
    if created:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: send_immediate_emails(ids))
    return created


def send_immediate_emails(notification_ids: Collection[int]) -> int:
    """E-mail these notifications to the recipients who want an e-mail at once.

    Run after the commit of the transaction that created them. Each sent notification gets
    its ``emailed_at``; a failed e-mail is logged and never breaks the caller.
    Returns the number of e-mails sent.
    """
    pending = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .filter(
            Q(recipient__notification_preference__isnull=True)
            | Q(recipient__notification_preference__email_frequency=EmailFrequency.IMMEDIATE)
        )
        .select_related("recipient")
        .order_by("pk")
    )
    sent = emails.send_each(
        [(n.pk, emails.notification_message(n)) for n in pending if n.recipient.email]
    )
    if sent:
        Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    return len(sent)


# --- Reading ------------------------------------------------------------------------------


def mark_read(*, notification: Notification, by: Any) -> None:
    """The recipient opened (or marked as read) one notification."""
    if notification.recipient_id != by.pk:
        raise PermissionError("Une notification ne se lit que par son destinataire.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )


def mark_all_read(*, user: Any) -> int:
    """Every unread notification of the user is marked as read. Returns how many."""
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())


def set_email_frequency(*, user: Any, frequency: EmailFrequency | str) -> NotificationPreference:
    """The user chooses e-mails at once, a daily digest, or no e-mail (in-app always)."""
    frequency = EmailFrequency(frequency)
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_frequency": frequency}
    )
    return preference


def delete_old_notifications(*, before: datetime) -> int:
    """Retention: notifications created before ``before`` are deleted. Returns how many."""
    deleted, _ = Notification.objects.older_than(before).delete()
    return deleted
