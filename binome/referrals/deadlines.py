"""The referrals' daily job, set-based: remind the receiving side of the unanswered referrals
past their due date, expire those past their expiry date.

The due referrals are taken by batches of a few thousand, each batch in its own transaction:

1. one ``UPDATE … RETURNING`` whose ``WHERE`` is the queryset that selected them
   (``due_for_expiry`` / ``due_for_reminder``), re-evaluated under the row locks, taken in
   id order: running the job twice, or two workers at once, reminds and expires each
   referral once, and a referral answered since its selection is left alone;
2. one read of what changed, with what the texts name (organisations, structure, service);
3. the steps (:class:`ReferralEvent`), the timeline lines and their audit rows inserted in
   bulk, the same rows :func:`binome.referrals.actions.remind` and ``expire`` write for one;
4. the notifications through ``notify_many`` (recipients computed per organisation in one
   query, :func:`binome.referrals.notices.dispatchers_of`), and the reminder e-mails of the
   structures without an account (their current link signed anew).

The e-mails leave after the batch commits, over one connection per kind. The number of
queries depends on the number of batches, never on the number of referrals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from binome.access.audit import audit_row, record_many
from binome.access.models import AuditKind
from binome.notifications.actions import notify_many
from binome.referrals import links, notices
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralEvent,
    Status,
    Via,
    actor_label,
)
from binome.support.actions import timeline_row
from binome.support.models import EventKind, TimelineEvent

BATCH = 2000
JOB_LABEL = actor_label(None, Via.JOB)


def reminder_summary(referral: Referral) -> str:
    """The timeline line of a reminder."""
    return (
        f"Orientation vers {referral.target_label} relancée : pas de réponse depuis le "
        f"{timezone.localtime(referral.sent_at):%d/%m/%Y}"
    )


def expiry_summary(referral: Referral) -> str:
    """The timeline line of an expiry."""
    return f"Orientation vers {referral.target_label} expirée sans réponse"


# Names from the model and the ORM's own SQL for the selection; every value is a parameter.
_UPDATE = """
WITH due (id, status) AS ({selection})
UPDATE {table} AS r SET {assignments}
FROM due WHERE r.{pk} = due.id
RETURNING r.{pk}, due.status
"""


def _update_returning(
    due: QuerySet[Referral], ids: Sequence[int], assignments: dict[str, object]
) -> dict[int, str]:
    """``UPDATE`` the referrals of ``ids`` still in ``due``, locked in id order; returns
    their former status by id. The ``WHERE`` clause is the queryset's own (its SQL), run
    with ``FOR UPDATE``: a row changed by a concurrent transaction is re-checked against it
    once that transaction ends, and skipped when it no longer matches."""
    selection = (
        due.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)).values("pk", "status")
    )
    select_sql, select_params = selection.query.sql_with_params()
    quote = connection.ops.quote_name
    fields = {f.name: f.column or f.name for f in Referral._meta.concrete_fields}
    sql = _UPDATE.format(
        selection=select_sql,
        table=quote(Referral._meta.db_table),
        assignments=", ".join(f"{quote(fields[name])} = %s" for name in assignments),
        pk=quote(fields["id"]),
    )
    params: list[Any] = [*select_params, *assignments.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _changed(ids: Sequence[int]) -> list[Referral]:
    """The referrals just updated, with what their texts and e-mails name."""
    return list(
        Referral.objects.filter(pk__in=ids)
        .select_related(
            "person",
            "sender",
            "sender_organisation",
            "to_organisation",
            "structure",
            "service",
        )
        .order_by("pk")
    )


def _write_steps(
    referrals: Sequence[Referral],
    former: dict[int, str],
    *,
    action: str,
    summary: Callable[[Referral], str],
    now: datetime,
) -> None:
    """Each referral's step, timeline line and audit row: three INSERTs in all."""
    ReferralEvent.objects.bulk_create(
        ReferralEvent(
            referral=r,
            action=action,
            from_status=former[r.pk],
            to_status=r.status,
            actor=None,
            actor_label=JOB_LABEL,
            via=Via.JOB,
            at=now,
            message="",
            details={},
        )
        for r in referrals
    )
    lines = [(r, summary(r)) for r in referrals]
    # The lines ``records.trace`` writes one by one (filed under the sender's organisation).
    TimelineEvent.objects.bulk_create(
        timeline_row(
            person=r.person,
            kind=EventKind.REFERRAL,
            actor=None,
            organisation=r.sender_organisation,
            summary=text,
            target=r,
            at=now,
        )
        for r, text in lines
    )
    record_many(
        audit_row(
            AuditKind.REFERRAL_CHANGED,
            actor_label=JOB_LABEL,
            organisation=r.sender_organisation,
            department_id=r.person.department_id,
            target=r,
            person_id=r.person_id,
            what=text,
        )
        for r, text in lines
    )


@transaction.atomic
def expire_many(ids: Sequence[int], *, today: date) -> int:
    """Expire those of ``ids`` still awaiting an answer past their expiry date, in one
    transaction. Returns how many."""
    now = timezone.now()
    former = _update_returning(
        Referral.objects.due_for_expiry(today),
        ids,
        {"status": Status.EXPIRED, "closed_at": now},
    )
    if not former:
        return 0
    referrals = _changed(list(former))
    _write_steps(referrals, former, action=EventAction.EXPIRED, summary=expiry_summary, now=now)
    recipients = notices.dispatchers_of(referrals)
    notify_many([notices.expiry_notice(r, recipients[r.pk]) for r in referrals], now=now)
    return len(referrals)


@transaction.atomic
def remind_many(ids: Sequence[int], *, today: date) -> int:
    """Remind those of ``ids`` still awaiting an answer past their due date, not reminded
    yet and not expired, in one transaction. Returns how many."""
    now = timezone.now()
    former = _update_returning(Referral.objects.due_for_reminder(today), ids, {"reminded_at": now})
    if not former:
        return 0
    referrals = _changed(list(former))
    _write_steps(referrals, former, action=EventAction.REMINDED, summary=reminder_summary, now=now)
    with_account = [r for r in referrals if r.has_account]
    recipients = notices.dispatchers_of(with_account)
    notify_many([notices.reminder_notice(r, recipients[r.pk]) for r in with_account], now=now)
    links.send_reminders([r for r in referrals if not r.has_account])
    return len(referrals)


def urgent_reminder_summary(referral: Referral, *, half: bool) -> str:
    """The timeline line of an urgent referral's reminder (at half-time or at its due time)."""
    when = "à mi-délai" if half else "délai dépassé"
    return (
        f"Orientation urgente vers {referral.target_label} relancée ({when}) : pas de réponse "
        f"depuis le {timezone.localtime(referral.sent_at):%d/%m/%Y à %H:%M}"
    )


def _half_summary(referral: Referral) -> str:
    return urgent_reminder_summary(referral, half=True)


def _due_summary(referral: Referral) -> str:
    return urgent_reminder_summary(referral, half=False)


@transaction.atomic
def remind_urgent_many(ids: Sequence[int], *, now: datetime, half: bool) -> int:
    """Remind those of ``ids`` still urgent and unanswered at half of their delay
    (``half``) or past their due time, once each, in one transaction. Returns how many."""
    if half:
        due = Referral.objects.urgent_half_time(now)
        assignments: dict[str, object] = {"half_reminded_at": now}
    else:
        due = Referral.objects.urgent_due_for_reminder(now)
        assignments = {"reminded_at": now}
    former = _update_returning(due, ids, assignments)
    if not former:
        return 0
    referrals = _changed(list(former))
    _write_steps(
        referrals,
        former,
        action=EventAction.REMINDED,
        summary=_half_summary if half else _due_summary,
        now=now,
    )
    with_account = [r for r in referrals if r.has_account]
    recipients = notices.dispatchers_of(with_account)
    notice = notices.urgent_half_notice if half else notices.urgent_due_notice
    notify_many([notice(r, recipients[r.pk]) for r in with_account], now=now)
    if not half:
        links.send_reminders([r for r in referrals if not r.has_account])
    return len(referrals)


def run_urgent_reminders(now: datetime | None = None, *, batch: int = BATCH) -> tuple[int, int]:
    """The urgent referrals' clock (every quarter of an hour): remind the receiving side once
    when an urgent referral passes half of its delay unanswered, once when it passes its due
    time. Safe to run twice or on two workers at once. Returns (at half-time, past due)."""
    now = now or timezone.now()
    counts = []
    # Past due first: one that passed both marks since the last run gets the second only.
    for half, due in (
        (False, Referral.objects.urgent_due_for_reminder(now)),
        (True, Referral.objects.urgent_half_time(now)),
    ):
        ids = list(due.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(ids), batch):
            done += remind_urgent_many(ids[start : start + batch], now=now, half=half)
        counts.append(done)
    past_due, half_time = counts
    return half_time, past_due


def run_deadlines(today: date | None = None, *, batch: int = BATCH) -> tuple[int, int]:
    """The periodic job: expire, then remind, what is due, ``batch`` referrals per
    transaction. Safe to run twice or on two workers at once: each referral is expired and
    reminded once. Returns (reminded, expired)."""
    today = today or timezone.localdate()
    expired = reminded = 0
    to_expire = list(
        Referral.objects.due_for_expiry(today).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(to_expire), batch):
        expired += expire_many(to_expire[start : start + batch], today=today)
    to_remind = list(
        Referral.objects.due_for_reminder(today).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(to_remind), batch):
        reminded += remind_many(to_remind[start : start + batch], today=today)
    return reminded, expired
