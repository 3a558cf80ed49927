"""What every change of a referral writes, whoever makes it (an action, an answer through
a signed link, the periodic job): the row lock, its step (:class:`ReferralEvent`), and its
line in the person's timeline with its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.referrals.models import Referral, ReferralEvent, actor_label
from binome.support import actions as support_actions
from binome.support.models import EventKind


def lock(referral: Referral) -> Referral:
    """Re-read the referral under a row lock: two answers at the same moment are
    serialised, and the second sees the first's outcome."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related(
            "person",
            "sender",
            "sender_organisation",
            "to_organisation",
            "structure",
            "service",
            "assigned_to",
        )
        .get(pk=referral.pk)
    )


def trace(
    referral: Referral,
    *,
    by: User | None,
    via: str,
    summary: str,
    audit_kind: AuditKind = AuditKind.REFERRAL_CHANGED,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """The timeline line (filed under the sender's organisation, so the person's team sees
    every step of the referral whoever answered) and its audit row."""
    support_actions.trace(
        EventKind.REFERRAL,
        audit_kind,
        person=referral.person,
        by=by,
        actor_label="" if by is not None else actor_label(None, via),
        organisation=referral.sender_organisation,
        target=referral,
        summary=summary,
        request=request,
        details=details,
    )


def record_event(
    referral: Referral,
    *,
    action: str,
    from_status: str,
    by: User | None,
    via: str,
    message: str = "",
    at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> ReferralEvent:
    """The referral's step: from which state to its current one, who, through what, when."""
    return ReferralEvent.objects.create(
        referral=referral,
        action=action,
        from_status=from_status,
        to_status=referral.status,
        actor=by,
        actor_label=actor_label(by, via),
        via=via,
        at=at or timezone.now(),
        message=message,
        details=details or {},
    )
