"""The e-mails of notifications: one per notification, or one daily digest per user.

French templates under ``templates/notifications/email/`` (plain text and HTML), sent
through Django's mail backend. Links are absolute (``BASE_URL``) and open the notification
in Binôme, which marks it read and leads to its page after login.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse

from binome.notifications.models import Notification

logger = logging.getLogger(__name__)


def open_link(notification: Notification) -> str:
    return settings.BASE_URL + reverse("notifications:open", args=[notification.pk])


def _context(user: Any) -> dict[str, Any]:
    return {
        "user": user,
        "centre_link": settings.BASE_URL + reverse("notifications:list"),
        "preferences_link": settings.BASE_URL + reverse("accounts:security"),
    }


def _message(
    subject: str, template: str, context: dict[str, Any], to: str
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"notifications/email/{template}.html", context), "text/html"
    )
    return message


def notification_message(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail of one notification: its title as subject, its body and its link."""
    user = notification.recipient
    context = {
        **_context(user),
        "notification": notification,
        "link": open_link(notification),
    }
    return _message(notification.title, "notification", context, user.email)


def digest_message(
    user: Any, notifications: Sequence[Notification], *, total: int | None = None
) -> EmailMultiAlternatives:
    """The daily digest: the user's notifications not e-mailed yet, newest first
    (``total`` when there are more than the ones listed)."""
    count = total if total is not None else len(notifications)
    subject = (
        f"Binôme : {count} nouvelle{'s' if count > 1 else ''} "
        f"notification{'s' if count > 1 else ''}"
    )
    context = {
        **_context(user),
        "items": [(n, open_link(n)) for n in notifications],
        "count": count,
        "more": count - len(notifications),
    }
    return _message(subject, "digest", context, user.email)


def send_each[K](
    messages: Sequence[tuple[K, EmailMultiAlternatives]],
    *,
    what: str = "E-mail de notification",
) -> list[K]:
    """Send the messages over one connection; returns the keys of those that left.

    A message the backend refuses is logged and skipped: the others still leave. When the
    connection itself cannot be opened, nothing leaves (logged): the caller may retry.
    """
    if not messages:
        return []
    sent: list[K] = []
    try:
        with mailers.default as mailer:
            for key, message in messages:
                try:
                    if mailer.send_messages([message]):
                        sent.append(key)
                except Exception:
                    logger.exception("%s non envoyé (%s).", what, key)
    except Exception:
        logger.exception("%s : connexion au serveur d'e-mails impossible.", what)
    return sent
