"""Login throttling, on two counts.

- Per account: django-axes counts the failures of an e-mail address, read by
  :func:`lockout_username` so that its case and surrounding spaces do not make a new
  account to try (``LOGIN_FAILURE_LIMIT``, 5).
- Per client address: the failures recorded in the audit log from one address, whatever
  the accounts tried (``LOGIN_ADDRESS_FAILURE_LIMIT``, 30), see :func:`address_locked`.

Both last ``AXES_COOLOFF_TIME`` (15 minutes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import client_ip
from binome.access.models import AuditEvent, AuditKind


def normalised_email(value: str) -> str:
    return value.strip().lower()


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account django-axes counts a failure against: the e-mail in lower case."""
    value = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return normalised_email(str(value)) if value else None


def lock_window() -> timedelta:
    return timedelta(hours=settings.AXES_COOLOFF_TIME)


def address_locked(request: HttpRequest) -> bool:
    """Whether the client's address failed ``LOGIN_ADDRESS_FAILURE_LIMIT`` logins within
    the lock window (the failures of every account tried from it)."""
    ip = client_ip(request)
    if ip is None:
        return False
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    failures = AuditEvent.objects.filter(
        kind=AuditKind.LOGIN_FAILED,
        ip_address=ip,
        created_at__gte=timezone.now() - lock_window(),
    )
    return failures[:limit].count() >= limit
