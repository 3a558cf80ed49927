"""An unanswered referral: reminded past its due date (the periodic job), nudged by the
sender's side, expired past its expiry date."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.referrals import links, notices
from binome.referrals.actions.transitions import transition
from binome.referrals.deadlines import expiry_summary, reminder_summary
from binome.referrals.models import (
    AWAITING,
    NUDGE_INTERVAL,
    EventAction,
    Referral,
    ReferralEvent,
    ReferralKind,
    Status,
    Via,
)
from binome.referrals.records import lock, record_event, trace


@transaction.atomic
def remind(*, referral: Referral, today: date | None = None) -> bool:
    """Remind the receiving side of an unanswered referral past its due date. Once:
    returns False (and changes nothing) when already reminded, answered or expired.

    One referral, locked and re-checked. The daily job does the same for many at once
    (:func:`binome.referrals.deadlines.remind_many`); a test keeps both writing the same
    rows."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    locked = lock(referral)
    if (
        locked.status not in AWAITING
        or locked.kind == ReferralKind.RSA  # the orientation RSA follows its own deadlines
        or locked.reminded_at is not None
        or locked.due_on > today
        or locked.expires_on <= today
        # An urgent referral is reminded on its clock, once its due time has passed.
        or (locked.is_urgent and locked.due_at is not None and locked.due_at > now)
    ):
        return False
    locked.reminded_at = now
    locked.save(update_fields=["reminded_at"])
    record_event(
        locked, action=EventAction.REMINDED, from_status=locked.status, by=None, via=Via.JOB
    )
    trace(
        locked,
        by=None,
        via=Via.JOB,
        summary=reminder_summary(locked),
    )
    if locked.has_account:
        notices.reminded(locked)
    else:
        links.send_reminder(locked)
    return True


def last_nudge(referral: Referral) -> ReferralEvent | None:
    """The referral's latest « Relancer », whoever made it."""
    return referral.events.filter(action=EventAction.NUDGED).order_by("-at", "-id").first()


def can_nudge_now(referral: Referral, now: datetime | None = None) -> bool:
    """Unanswered, and not nudged in the last 24 hours."""
    if not referral.is_awaiting:
        return False
    last = last_nudge(referral)
    return last is None or last.at <= (now or timezone.now()) - NUDGE_INTERVAL


@transaction.atomic
def nudge(*, referral: Referral, by: User, request: HttpRequest | None = None) -> Referral:
    """« Relancer »: the sender's side reminds the receiver of an unanswered referral
    (e-mail and in-app), once a day at most whoever nudged."""
    now = timezone.now()
    locked = lock(referral)
    if not locked.is_awaiting:
        raise ValidationError(
            f"Cette orientation est « {locked.get_status_display().lower()} » : elle ne se "
            "relance plus."
        )
    last = last_nudge(locked)
    if last is not None and last.at > now - NUDGE_INTERVAL:
        raise ValidationError(
            f"Cette orientation a déjà été relancée le "
            f"{timezone.localtime(last.at):%d/%m/%Y à %H:%M} par {last.actor_label} : "
            "une relance par jour au plus."
        )
    event = record_event(
        locked,
        action=EventAction.NUDGED,
        from_status=locked.status,
        by=by,
        via=Via.APP,
        at=now,
    )
    trace(
        locked,
        by=by,
        via=Via.APP,
        summary=f"Orientation vers {locked.target_label} relancée par {by.get_full_name()}",
        audit_kind=AuditKind.REFERRAL_CHANGED,
        request=request,
        details={"nudge": event.pk},
    )
    if locked.has_account:
        notices.nudged(locked, actor=by, key=str(event.pk))
    else:
        links.send_reminder(locked)
    return locked


@transaction.atomic
def expire(*, referral: Referral, today: date | None = None) -> bool:
    """Close an unanswered referral past its expiry date. Returns False when it was
    answered, withdrawn or expired meanwhile. One referral; the daily job expires many at
    once (:func:`binome.referrals.deadlines.expire_many`), with the same rows."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    locked = lock(referral)
    if (
        locked.status not in AWAITING
        or locked.kind == ReferralKind.RSA  # never expires: see ``on_answer_clock``
        or locked.expires_on > today
    ):
        return False
    locked, _ = transition(
        locked,
        to_status=Status.EXPIRED,
        action=EventAction.EXPIRED,
        by=None,
        via=Via.JOB,
        fields={"closed_at": now},
    )
    trace(
        locked,
        by=None,
        via=Via.JOB,
        summary=expiry_summary(locked),
    )
    notices.expired(locked)
    return True
