"""The person's own space: what a person sees of their file, and who read it.

A person sees their accompaniments and team, and the items written with the visibility
"the team and the person" (plan objectives and actions, notes); never an
item kept to an author or an organisation, a diagnostic comment, or the NIR.

The read log ("Qui a consulté mon dossier") lists the reads of the file by others:
every ``AuditKind.READ`` row (and ``ARCHIVE_READ``, an archivist's read of the file in
the intermediate archive) whose ``person_id`` is the person's, or the id of a file
merged into theirs (the audit log is append-only, so a merge does not re-point its rows:
the merged ids are read through ``Person.merged_into``), and every row of a list page
whose ``person_ids`` names one of them (the person's name was shown in that list). The
person's own reads of their space are logged too, but not listed: the list answers "which
professionals saw my file". A visit is one line: the reads of one professional (same
account, same organisation) that follow each other within ``VISIT_GAP`` are shown as the
first of them (a page and its fragments, the pages of one consultation).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Lag

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.support.models import (
    Accompaniment,
    Action,
    Note,
    Objective,
    TeamMember,
    Visibility,
)

PERSON_VISIBILITY = Visibility.TEAM_AND_PERSON
# Reads of one professional closer than this to the previous one belong to the same visit.
VISIT_GAP = timedelta(minutes=5)


def own_person(user: Any) -> Person | None:
    """The file of the logged-in person (their own account), or None for anyone else."""
    if not user.is_authenticated:
        return None
    if hasattr(user, "_binome_own_person"):
        cached: Person | None = user._binome_own_person
        return cached
    person = (
        Person.objects.select_related("organisation", "department", "commune")
        .filter(user=user, merged_into__isnull=True)
        .first()
    )
    user._binome_own_person = person
    return person


def is_accompanied_person(user: Any) -> bool:
    """The user is a person with their own space (their account is linked to their file)."""
    return own_person(user) is not None


def file_ids(person: Person) -> list[int]:
    """The person's id and the ids of the files merged into theirs."""
    merged = Person.objects.filter(merged_into=person).values_list("pk", flat=True)
    return [person.pk, *merged]


def accompaniments_of(person: Person) -> list[Accompaniment]:
    """The person's accompaniments, newest first, with their current team."""
    return list(
        Accompaniment.objects.filter(person=person)
        .prefetch_related(
            Prefetch(
                "team",
                queryset=TeamMember.objects.current().select_related("user", "organisation"),
                to_attr="current_team",
            )
        )
        .order_by("-started_on", "-id")
    )


def plan_accompaniment(accompaniments: list[Accompaniment]) -> Accompaniment | None:
    """The accompaniment whose plan the person sees: the latest open one, else the latest."""
    for accompaniment in accompaniments:
        if accompaniment.is_open:
            return accompaniment
    return accompaniments[0] if accompaniments else None


def person_objectives(accompaniment: Accompaniment | None) -> list[Objective]:
    """The plan's objectives and actions shared with the person, in plan order."""
    if accompaniment is None:
        return []
    return list(
        Objective.objects.filter(accompaniment=accompaniment, visibility=PERSON_VISIBILITY)
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=Action.objects.filter(visibility=PERSON_VISIBILITY)
                .select_related("carried_by", "service")
                .order_by("due_on", "created_at", "id"),
            )
        )
        .order_by("created_at", "id")
    )


def person_notes(person: Person) -> QuerySet[Note]:
    """Notes written for the team and the person."""
    return (
        Note.objects.filter(person=person, visibility=PERSON_VISIBILITY)
        .select_related("author", "organisation")
        .order_by("-date", "-id")
    )


def reads_kept_since(today: date) -> date:
    """The first day of the oldest month of the audit log still kept: the retention job
    drops each month whole once older than ``BINOME_AUDIT_RETENTION_MONTHS``."""
    index = today.year * 12 + today.month - 1 - settings.BINOME_AUDIT_RETENTION_MONTHS
    return date(index // 12, index % 12 + 1, 1)


def reads_of_file(person: Person) -> QuerySet[AuditEvent]:
    """Who read the person's file (and the files merged into it) or saw their name in a
    list, one line per visit (its first read), newest first.

    One query (two indexes: ``person_id`` and the GIN one of ``person_ids``); the visits
    are cut in SQL (the previous read of the same professional, by a window function),
    so that a page of the paginated list is a page of visits."""
    ids = file_ids(person)
    reads = AuditEvent.objects.filter(
        Q(person_id__in=ids) | Q(person_ids__overlap=ids),
        kind__in=[AuditKind.READ, AuditKind.ARCHIVE_READ],
    )
    if person.user_id is not None:
        reads = reads.exclude(actor_id=person.user_id)
    previous_read = Window(
        Lag("created_at"),
        partition_by=[F("actor_id"), F("actor_label"), F("organisation_id")],
        order_by=[F("created_at").asc(), F("id").asc()],
    )
    return (
        reads.annotate(previous_read_at=previous_read)
        .filter(
            Q(previous_read_at__isnull=True) | Q(previous_read_at__lt=F("created_at") - VISIT_GAP)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
