"""The trace of every action on a person's file: its timeline line and its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.support.models import (
    Accompaniment,
    TimelineEvent,
    Visibility,
)


def add_event(
    *,
    person: Person,
    kind: str,
    actor: User | None,
    organisation: Organisation,
    summary: str,
    visibility: str = Visibility.TEAM,
    accompaniment: Accompaniment | None = None,
    target: Model | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Append one line to the person's timeline."""
    event = timeline_row(
        person=person,
        kind=kind,
        actor=actor,
        organisation=organisation,
        summary=summary,
        visibility=visibility,
        accompaniment=accompaniment,
        target=target,
        at=at,
    )
    event.save()
    return event


def timeline_row(
    *,
    person: Person,
    kind: str,
    actor: User | None,
    organisation: Organisation,
    summary: str,
    visibility: str = Visibility.TEAM,
    accompaniment: Accompaniment | None = None,
    target: Model | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """One line of the person's timeline, not saved yet: :func:`add_event` appends it at
    once, a job appends many with ``TimelineEvent.objects.bulk_create``."""
    return TimelineEvent(
        person=person,
        accompaniment=accompaniment,
        kind=kind,
        at=at or timezone.now(),
        actor=actor,
        organisation=organisation,
        visibility=visibility,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=target.pk if target is not None else None,
        summary=summary[:300],
    )


def trace(
    event_kind: str,
    audit_kind: AuditKind,
    *,
    person: Person,
    by: User | None,
    organisation: Organisation,
    target: Model,
    summary: str,
    accompaniment: Accompaniment | None = None,
    visibility: str = Visibility.TEAM,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
    at: datetime | None = None,
) -> TimelineEvent:
    """The trace of an action on a person's file: its timeline line and its audit row, with
    the same summary (call it inside the action's transaction).

    ``by`` is None when nobody logged in acted (an answer through a signed link, a periodic
    job): ``actor_label`` then says who or what did it in the audit line. ``at``: when the
    thing happened, when not now (an interview's note written days later): the timeline is
    dated by it, the audit line by the recording."""
    event = add_event(
        person=person,
        kind=event_kind,
        actor=by,
        organisation=organisation,
        accompaniment=accompaniment,
        visibility=visibility,
        target=target,
        summary=summary,
        at=at,
    )
    record(
        audit_kind,
        actor=by,
        actor_label=actor_label,
        organisation=organisation,
        department_id=person.department_id,
        target=target,
        person_id=person.pk,
        what=summary,
        request=request,
        details=details,
    )
    return event
