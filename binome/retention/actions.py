"""Retention: the notice before the end of a file's retention, its anonymisation, the legal
holds, and the job that runs them (``run``).

Each file is anonymised whole or not at all, in its own transaction that first locks the
person's row and checks again why it could be kept (a hold set while the job ran, a new
contact, an accompaniment reopened). Two runs at once: the second waits for the first
(a PostgreSQL advisory lock), then finds nothing left to do.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import audit_row, record, record_many
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.notifications.actions import Notice, notify_many
from binome.notifications.models import NotificationKind
from binome.organisations.models import Organisation, TerritoryRole, TerritoryRoleKind
from binome.people.models import Person
from binome.retention import archive, audit_partitions, contact, erasure
from binome.retention import settings as retention_settings
from binome.retention.models import (
    Anonymisation,
    AnonymisationCause,
    ArchiveOutcome,
    DataAccessRequest,
    LegalHold,
    RetentionNotice,
    RetentionRun,
)
from binome.support.actions import timeline_row
from binome.support.models import (
    EventKind,
    TeamMember,
    TimelineEvent,
    Visibility,
)

logger = logging.getLogger(__name__)

# The key of the advisory lock that serialises the runs (any constant of our own).
RUN_LOCK_KEY = 0x62696E6F6D6552  # "binomeR"
JOB_LABEL = "traitement de conservation"
# The RSA states of a dossier whose obligations are not over.
RSA_UNFINISHED_STATES = ("0", "2", "3", "4")


class KeptReason:
    OPEN_ACCOMPANIMENT = "accompagnement en cours"
    RSA = "droits et devoirs RSA en cours"
    HOLD = "conservation pour motif légal"


@dataclass
class Candidate:
    """A file whose retention ends within the notice period (or has ended)."""

    person_id: int
    department_id: str
    organisation_id: int
    last_contact_on: date
    deadline: date
    kept: list[str] = field(default_factory=list)
    notice: RetentionNotice | None = None
    organisation_name: str = ""
    # A file in the intermediate archive: the day its archive ends (``deadline`` then too).
    archived_until: date | None = None

    def due(self, today: date) -> bool:
        """Past its retention, told in time, and nothing keeps it."""
        return (
            not self.kept
            and self.deadline < today
            and self.notice is not None
            and self.notice.anonymise_on <= today
        )


def deadline_of(last_contact_on: date) -> date:
    """The last day the file is kept whole."""
    return contact.add_months(last_contact_on, retention_settings.retention_months())


def _local_date_sql(expression: str) -> str:
    return f"(({expression}) AT TIME ZONE %(tz)s)::date"


# Why a file is kept (the same rules for its anonymisation, its archive and the end of it).
def kept_sql(alias: str) -> str:
    """The flags of what keeps the file of the person row ``alias``: an open accompaniment,
    an unfinished RSA obligation, a legal hold."""
    return f"""
          EXISTS (SELECT 1 FROM support_accompaniment a
                  WHERE a.person_id = {alias}.id AND a.state <> 'ended') AS open_acc,
          EXISTS (SELECT 1 FROM rsa_beneficiary r JOIN rsa_dossier d ON d.id = r.dossier_id
                  WHERE r.person_id = {alias}.id AND r.subject_to_rights_and_duties
                    AND d.state = ANY(%(rsa_states)s)) AS rsa,
          EXISTS (SELECT 1 FROM retention_legalhold h
                  WHERE h.person_id = {alias}.id AND h.lifted_at IS NULL) AS held"""  # noqa: S608 (the alias is ours)


def _kept(open_acc: bool, rsa: bool, held: bool) -> list[str]:
    return [
        reason
        for reason, flag in (
            (KeptReason.OPEN_ACCOMPANIMENT, open_acc),
            (KeptReason.RSA, rsa),
            (KeptReason.HOLD, held),
        )
        if flag
    ]


def candidates(
    *,
    today: date,
    department_id: str | None = None,
    after_id: int = 0,
    limit: int | None = None,
    person_ids: list[int] | None = None,
) -> list[Candidate]:
    """The files (not yet anonymised) whose deadline is within the notice period or past,
    with what keeps them, ordered by person id (``after_id``, ``limit``: a batch)."""
    months = retention_settings.retention_months()
    # A last contact on or before this day puts the deadline within the notice period (one
    # day of margin for the months of unequal lengths; the exact deadline is checked below).
    latest = contact.add_months(
        today + timedelta(days=retention_settings.notice_days() + 1), -months
    )
    lc = contact.last_contact_sql("p")
    # The files are chosen first (in id order, each last contact computed once, through a
    # lateral subquery the planner cannot inline twice), then what keeps them is looked up
    # for the batch alone: with the batch materialised, each flag is an index probe per file
    # rather than a scan of every accompaniment of the country per batch.
    sql = f"""
        WITH batch AS MATERIALIZED (
          SELECT p.id, p.department_id, p.organisation_id, l.lc
          FROM people_person p
          CROSS JOIN LATERAL (SELECT {lc} AS lc OFFSET 0) l
          WHERE {"p.id = ANY(%(persons)s)" if person_ids is not None else "p.id > %(after)s"}
            AND p.created_at < %(latest_ts)s
            AND p.archived_until IS NULL
            AND NOT EXISTS (SELECT 1 FROM retention_anonymisation x WHERE x.person_id = p.id)
            {"AND p.department_id = %(dept)s" if department_id else ""}
            AND l.lc < %(latest_ts)s
          ORDER BY p.id
          {"LIMIT %(limit)s" if limit else ""}
        )
        SELECT b.id, b.department_id, b.organisation_id, {_local_date_sql("b.lc")} AS lc,
          {kept_sql("b")}
        FROM batch b
        ORDER BY b.id
    """  # noqa: S608 (only fixed fragments; every value is a parameter)
    tz = timezone.get_current_timezone()
    params: dict[str, Any] = {
        "after": after_id,
        "persons": person_ids,
        "latest_ts": timezone.make_aware(
            datetime.combine(latest + timedelta(days=1), datetime.min.time()), tz
        ),
        "tz": str(tz),
        "rsa_states": list(RSA_UNFINISHED_STATES),
        "dept": department_id,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = []
    for person_id, dept, organisation_id, lc_on, open_acc, rsa, held in rows:
        deadline = deadline_of(lc_on)
        if deadline - timedelta(days=retention_settings.notice_days()) > today:
            continue
        kept = _kept(open_acc, rsa, held)
        found.append(Candidate(person_id, dept, organisation_id, lc_on, deadline, kept))
    notices = {
        (n.person_id, n.last_contact_on): n
        for n in RetentionNotice.objects.filter(person_id__in=[c.person_id for c in found])
    }
    for candidate in found:
        candidate.notice = notices.get((candidate.person_id, candidate.last_contact_on))
    return found


def expired_archives(
    *,
    today: date,
    department_id: str | None = None,
    after_id: int = 0,
    limit: int | None = None,
    person_ids: list[int] | None = None,
) -> list[Candidate]:
    """The files whose intermediate archive has come to its end (to anonymise), with what
    keeps them, ordered by person id (``after_id``, ``limit``: a batch)."""
    sql = f"""
        SELECT p.id, p.department_id, p.organisation_id, x.last_contact_on, p.archived_until,
          {kept_sql("p")}
        FROM people_person p
        JOIN retention_archive x ON x.person_id = p.id AND x.closed_at IS NULL
        WHERE {"p.id = ANY(%(persons)s)" if person_ids is not None else "p.id > %(after)s"}
          AND p.archived_until <= %(today)s
          {"AND p.department_id = %(dept)s" if department_id else ""}
        ORDER BY p.id
        {"LIMIT %(limit)s" if limit else ""}
    """  # noqa: S608 (only fixed fragments; every value is a parameter)
    params: dict[str, Any] = {
        "after": after_id,
        "persons": person_ids,
        "today": today,
        "rsa_states": list(RSA_UNFINISHED_STATES),
        "dept": department_id,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            person_id,
            dept,
            organisation_id,
            lc_on,
            until,
            _kept(open_acc, rsa, held),
            archived_until=until,
        )
        for person_id, dept, organisation_id, lc_on, until, open_acc, rsa, held in rows
    ]


def recipients_by_person(persons: dict[int, str]) -> dict[int, list[int]]:
    """Who is told, for each file (person id → département): its current team, or without
    one the territory's administrators (who read it on their page « Conservation des
    dossiers »). Two statements whatever the number of files."""
    team: dict[int, list[int]] = defaultdict(list)
    for person_id, user_id in (
        TeamMember.objects.current()
        .filter(person_id__in=persons, user__is_active=True)
        .order_by("person_id", "user_id")
        .values_list("person_id", "user_id")
        .distinct()
    ):
        team[person_id].append(user_id)
    without_team = {code for pk, code in persons.items() if pk not in team}
    admins: dict[str, list[int]] = defaultdict(list)
    if without_team:
        for code, user_id in (
            TerritoryRole.objects.filter(
                department_id__in=sorted(without_team),
                role=TerritoryRoleKind.TERRITORY_ADMIN,
                user__is_active=True,
            )
            .order_by("department_id", "user_id")
            .values_list("department_id", "user_id")
            .distinct()
        ):
            admins[code].append(user_id)
    return {pk: team.get(pk) or admins.get(code, []) for pk, code in persons.items()}


def recipients_of(person: Person) -> list[User]:
    """:func:`recipients_by_person` for one file."""
    ids = recipients_by_person({person.pk: person.department_id})[person.pk]
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


@transaction.atomic
def send_notice(candidate: Candidate, *, today: date) -> RetentionNotice:
    """Tell the team that the file will be anonymised, once per last contact."""
    send_notices([candidate], today=today)
    return RetentionNotice.objects.get(
        person_id=candidate.person_id, last_contact_on=candidate.last_contact_on
    )


@transaction.atomic
def send_notices(found: list[Candidate], *, today: date) -> int:
    """:func:`send_notice` for a batch of files, set-based: the notice rows, the
    notifications and the audit lines each in one statement. A file already told for its
    last contact is skipped (the unique constraint holds it even against a concurrent
    writer). Returns the number of files told."""
    if not found:
        return 0
    notice_days = retention_settings.notice_days()
    persons = {c.person_id: c.department_id for c in found}
    recipients = recipients_by_person(persons)
    with_team = set(
        TeamMember.objects.current()
        .filter(person_id__in=persons)
        .values_list("person_id", flat=True)
        .distinct()
    )
    rows = [
        RetentionNotice(
            person_id=c.person_id,
            last_contact_on=c.last_contact_on,
            deadline=c.deadline,
            anonymise_on=max(c.deadline + timedelta(days=1), today + timedelta(days=notice_days)),
            notified_on=today,
            recipient_ids=recipients[c.person_id],
        )
        for c in found
    ]
    already = set(
        RetentionNotice.objects.filter(person_id__in=persons).values_list(
            "person_id", "last_contact_on"
        )
    )
    rows = [n for n in rows if (n.person_id, n.last_contact_on) not in already]
    RetentionNotice.objects.bulk_create(rows, ignore_conflicts=True)
    created = {
        (n.person_id, n.last_contact_on): n
        for n in RetentionNotice.objects.filter(
            person_id__in=[n.person_id for n in rows], notified_on=today
        )
    }
    told = [n for n in rows if (n.person_id, n.last_contact_on) in created]
    # A territory with an intermediate archive archives the file first.
    archiving = archive.archiving_years()

    def fate(notice: RetentionNotice) -> str:
        return "archivé" if persons[notice.person_id] in archiving else "anonymisé"

    for candidate in found:
        candidate.notice = created.get((candidate.person_id, candidate.last_contact_on))
    notify_many(
        [
            Notice(
                recipient_ids=notice.recipient_ids,
                kind=NotificationKind.RETENTION,
                title=f"Un dossier sera {fate(notice)} faute de contact",
                body=(
                    f"Sans contact depuis le {notice.last_contact_on:%d/%m/%Y}, ce dossier "
                    f"sera {fate(notice)} à partir du {notice.anonymise_on:%d/%m/%Y}. Un "
                    "nouveau contact (entretien, rendez-vous honoré, note…) annule ce décompte."
                ),
                url=(
                    reverse("people:detail", args=[notice.person_id])
                    if notice.person_id in with_team
                    else reverse("retention:territory", args=[persons[notice.person_id]])
                ),
                dedup_key=f"retention-{notice.person_id}-{notice.last_contact_on:%Y%m%d}",
            )
            for notice in told
        ]
    )
    record_many(
        audit_row(
            AuditKind.RETENTION_NOTICE,
            actor_label=JOB_LABEL,
            department_id=persons[notice.person_id],
            target=created[(notice.person_id, notice.last_contact_on)],
            person_id=notice.person_id,
            what=f"{'Archive' if fate(notice) == 'archivé' else 'Anonymisation'} annoncée "
            f"pour le {notice.anonymise_on:%d/%m/%Y}",
            details={
                "recipients": len(notice.recipient_ids),
                "deadline": notice.deadline.isoformat(),
            },
        )
        for notice in told
    )
    return len(told)


@transaction.atomic
def anonymise_if_due(candidate: Candidate, *, today: date, run: RetentionRun | None) -> bool:
    """Anonymise the file if, with its row locked, it is still due: no hold set meanwhile,
    no new contact, no accompaniment reopened. Returns whether it was anonymised."""
    return bool(anonymise_due([candidate.person_id], today=today, run=run))


def _lock_persons(person_ids: list[int]) -> list[int]:
    """The persons' rows, locked in one order: a hold or a note on one of them waits for
    the batch (and the batch for them), and no two batches deadlock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM people_person WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [person_ids],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class Retired:
    """The files of a batch that left the active base: anonymised, or archived."""

    anonymised: set[int] = field(default_factory=set)
    archived: set[int] = field(default_factory=set)


def retire_due(person_ids: list[int], *, today: date, run: RetentionRun | None) -> Retired:
    """Retire, in one transaction, the files of ``person_ids`` that are still due once
    their rows are locked (no hold set meanwhile, no new contact, no accompaniment
    reopened): archived where the territory keeps an intermediate archive, anonymised
    elsewhere; one statement per table for the whole batch. Killed midway, the transaction
    is rolled back: every file is whole, or archived or anonymised with all its rows."""
    retired = Retired()
    with transaction.atomic():
        locked = _lock_persons(person_ids)
        if not locked:
            return retired
        fresh = [
            candidate
            for candidate in candidates(today=today, person_ids=locked)
            if candidate.due(today)
        ]
        if not fresh:
            return retired
        years = archive.archiving_years()
        to_archive = {c.person_id: c.last_contact_on for c in fresh if c.department_id in years}
        to_anonymise = {
            c.person_id: c.last_contact_on for c in fresh if c.department_id not in years
        }
        if to_archive:
            archive.archive_many(to_archive, years_by_department=years, today=today, run=run)
        if to_anonymise:
            _anonymise_many(
                dict(to_anonymise),
                cause=AnonymisationCause.RETENTION,
                run=run,
                by=None,
                reason="",
            )
        retired.archived = set(to_archive)
        retired.anonymised = set(to_anonymise)
        return retired


def anonymise_due(person_ids: list[int], *, today: date, run: RetentionRun | None) -> set[int]:
    """The files of ``person_ids`` still due, anonymised (or archived, where the territory
    keeps an intermediate archive): :func:`retire_due`. Returns the ids of those retired."""
    retired = retire_due(person_ids, today=today, run=run)
    return retired.anonymised | retired.archived


def anonymise_expired(person_ids: list[int], *, today: date, run: RetentionRun | None) -> set[int]:
    """Anonymise, in one transaction, the archived files of ``person_ids`` whose archive has
    ended and that nothing keeps once their rows are locked (a hold set meanwhile keeps the
    file in the archive). Returns the ids of those anonymised."""
    with transaction.atomic():
        locked = _lock_persons(person_ids)
        if not locked:
            return set()
        fresh = [c for c in expired_archives(today=today, person_ids=locked) if not c.kept]
        if not fresh:
            return set()
        _anonymise_many(
            {candidate.person_id: candidate.last_contact_on for candidate in fresh},
            cause=AnonymisationCause.RETENTION,
            run=run,
            by=None,
            reason="",
        )
        return {candidate.person_id for candidate in fresh}


def _anonymise(
    person: Person,
    *,
    cause: str,
    last_contact_on: date | None,
    run: RetentionRun | None,
    by: User | None,
    reason: str,
) -> Anonymisation:
    [anonymisation] = _anonymise_many(
        {person.pk: last_contact_on}, cause=cause, run=run, by=by, reason=reason
    )
    return anonymisation


def _anonymise_many(
    last_contacts: dict[int, date | None],
    *,
    cause: str,
    run: RetentionRun | None,
    by: User | None,
    reason: str,
) -> list[Anonymisation]:
    """Erase the files (their rows locked by the caller) and write, for each, its record,
    its timeline line and its audit row: a few statements for the whole batch."""
    ids = sorted(last_contacts)
    persons = list(Person.objects.filter(pk__in=ids).only("id", "department_id", "organisation_id"))
    organisations = Organisation.objects.in_bulk({person.organisation_id for person in persons})
    erasure.erase_persons(ids)
    # An archived file (at the end of its archive, or erased as a mistake) leaves it.
    archive.close_archives(ids, outcome=ArchiveOutcome.ANONYMISED, by=by, reason="")
    anonymisations = Anonymisation.objects.bulk_create(
        Anonymisation(
            person=person,
            department_id=person.department_id,
            organisation_id=person.organisation_id,
            cause=cause,
            reason=reason,
            last_contact_on=last_contacts[person.pk],
            run=run,
            by=by,
        )
        for person in persons
    )
    label = AnonymisationCause(cause).label.lower()
    TimelineEvent.objects.bulk_create(
        timeline_row(
            person=person,
            kind=EventKind.PERSON,
            actor=None,
            organisation=organisations[person.organisation_id],
            summary=f"Dossier anonymisé ({label})",
            visibility=Visibility.TEAM,
            target=person,
        )
        for person in persons
    )
    record_many(
        audit_row(
            AuditKind.FILE_ANONYMISED
            if cause == AnonymisationCause.RETENTION
            else AuditKind.FILE_ERASED,
            actor=by,
            actor_label="" if by is not None else JOB_LABEL,
            organisation=organisations[person.organisation_id] if by is None else None,
            department_id=person.department_id,
            target=person,
            person_id=person.pk,
            what=f"Dossier anonymisé : {label}",
            details={"reason": reason} if reason else {},
        )
        for person in persons
    )
    return anonymisations


@contextmanager
def _run_lock() -> Iterator[None]:
    """One run at a time: a second one waits here until the first is over."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RUN_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])


@dataclass
class Plan:
    """What a run would do (the dry run) or did."""

    notify: list[Candidate] = field(default_factory=list)
    anonymise: list[Candidate] = field(default_factory=list)
    waiting: list[Candidate] = field(default_factory=list)
    kept: list[Candidate] = field(default_factory=list)
    # Where the territory keeps an intermediate archive: the files due, to archive…
    archive: list[Candidate] = field(default_factory=list)
    # …and the archived files whose archive has ended, to anonymise.
    archive_expired: list[Candidate] = field(default_factory=list)

    def by_organisation(self) -> dict[int, Counter[str]]:
        counts: dict[int, Counter[str]] = defaultdict(Counter)
        for name in PLAN_LISTS:
            for candidate in getattr(self, name):
                counts[candidate.organisation_id][name] += 1
        return dict(counts)


PLAN_LISTS = ("notify", "anonymise", "waiting", "kept", "archive", "archive_expired")


def plan(*, today: date, department_id: str | None = None) -> Plan:
    """What a run would do today, without writing anything (« ce qui serait anonymisé »):
    the files to tell the team about, those to anonymise (or to archive, where the territory
    keeps an intermediate archive), those told and waiting for their date, those kept (with
    why), and the archives come to their end (to anonymise)."""
    result = Plan()
    years = archive.archiving_years()
    for candidate in candidates(today=today, department_id=department_id):
        if candidate.kept:
            result.kept.append(candidate)
        elif candidate.notice is None:
            result.notify.append(candidate)
        elif candidate.due(today):
            if candidate.department_id in years:
                result.archive.append(candidate)
            else:
                result.anonymise.append(candidate)
        else:
            result.waiting.append(candidate)
    for candidate in expired_archives(today=today, department_id=department_id):
        (result.kept if candidate.kept else result.archive_expired).append(candidate)
    return result


def run(*, today: date | None = None, dry_run: bool = False) -> RetentionRun:
    """The periodic job, in batches: tell the teams of the files whose retention ends within
    the notice period, anonymise those past it and told in time, then keep the audit log's
    months (create the coming ones, drop the expired ones). Idempotent."""
    today = today or timezone.localdate()
    started = time.monotonic()
    report = RetentionRun(today=today, dry_run=dry_run)
    by_department: dict[str, Counter[str]] = defaultdict(Counter)
    if dry_run:
        result = plan(today=today)
        for name in ("notify", "anonymise", "kept", "archive", "archive_expired"):
            for candidate in getattr(result, name):
                by_department[candidate.department_id][name] += 1
        for candidate in result.archive_expired:
            by_department[candidate.department_id]["anonymise"] += 1
        report.notified = len(result.notify)
        report.anonymised = len(result.anonymise) + len(result.archive_expired)
        report.archived = len(result.archive)
        report.archive_expired = len(result.archive_expired)
        report.kept = len(result.kept)
        report.by_department = {k: dict(v) for k, v in by_department.items()}
        report.duration_ms = int((time.monotonic() - started) * 1000)
        return report
    with _run_lock():
        report.save()
        after = 0
        while True:
            batch = candidates(today=today, after_id=after, limit=retention_settings.batch_size())
            if not batch:
                break
            after = batch[-1].person_id
            due: list[Candidate] = []
            to_tell: list[Candidate] = []
            for candidate in batch:
                counts = by_department[candidate.department_id]
                if candidate.kept:
                    counts["kept"] += 1
                    report.kept += 1
                elif candidate.notice is None:
                    to_tell.append(candidate)
                    counts["notify"] += 1
                    report.notified += 1
                elif candidate.due(today):
                    due.append(candidate)
            send_notices(to_tell, today=today)
            if due:
                retired = retire_due(
                    [candidate.person_id for candidate in due], today=today, run=report
                )
                for candidate in due:
                    if candidate.person_id in retired.anonymised:
                        by_department[candidate.department_id]["anonymise"] += 1
                    elif candidate.person_id in retired.archived:
                        by_department[candidate.department_id]["archive"] += 1
                report.anonymised += len(retired.anonymised)
                report.archived += len(retired.archived)
        # The intermediate archives come to their end: the files are anonymised.
        after = 0
        while True:
            batch = expired_archives(
                today=today, after_id=after, limit=retention_settings.batch_size()
            )
            if not batch:
                break
            after = batch[-1].person_id
            due = []
            for candidate in batch:
                if candidate.kept:
                    by_department[candidate.department_id]["kept"] += 1
                    report.kept += 1
                else:
                    due.append(candidate)
            if due:
                done = anonymise_expired(
                    [candidate.person_id for candidate in due], today=today, run=report
                )
                for candidate in due:
                    if candidate.person_id in done:
                        by_department[candidate.department_id]["anonymise"] += 1
                        by_department[candidate.department_id]["archive_expired"] += 1
                report.anonymised += len(done)
                report.archive_expired += len(done)
        created, dropped = audit_partitions.maintain(today=today)
        report.audit_partitions_created = created
        report.audit_partitions_dropped = dropped
        report.by_department = {k: dict(v) for k, v in by_department.items()}
        report.finished_at = timezone.now()
        report.duration_ms = int((time.monotonic() - started) * 1000)
        report.save()
        record(
            AuditKind.RETENTION_RUN,
            actor_label=JOB_LABEL,
            target=report,
            what=(
                f"{report.notified} dossier(s) signalé(s), {report.anonymised} anonymisé(s) "
                f"(dont {report.archive_expired} en fin d'archive), {report.archived} archivé(s), "
                f"{report.kept} conservé(s) ; {report.duration_ms} ms"
            ),
            details={"by_department": report.by_department},
        )
        for code, counts in report.by_department.items():
            record(
                AuditKind.RETENTION_RUN,
                actor_label=JOB_LABEL,
                department_id=code,
                target=report,
                what=(
                    f"{counts.get('notify', 0)} dossier(s) signalé(s), "
                    f"{counts.get('anonymise', 0)} anonymisé(s), "
                    f"{counts.get('archive', 0)} archivé(s), "
                    f"{counts.get('kept', 0)} conservé(s)"
                ),
            )
    return report


# --- Legal holds and the erasure of a file created by mistake ------------------------


@transaction.atomic
def set_legal_hold(*, person: Person, reason: str, by: User) -> LegalHold:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la conservation."})
    Person.objects.select_for_update().get(pk=person.pk)
    if Anonymisation.objects.filter(person_id=person.pk).exists():
        raise ValidationError({"reason": "Ce dossier est déjà anonymisé."})
    if LegalHold.objects.active().filter(person=person).exists():
        raise ValidationError({"reason": "Ce dossier est déjà conservé pour un motif légal."})
    hold = LegalHold.objects.create(person=person, reason=reason, set_by=by)
    record(
        AuditKind.LEGAL_HOLD_SET,
        actor=by,
        department_id=person.department_id,
        target=hold,
        person_id=person.pk,
        what="Conservation pour motif légal posée",
        details={"reason": reason},
    )
    return hold


@transaction.atomic
def lift_legal_hold(*, hold: LegalHold, by: User) -> LegalHold:
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        return hold
    hold.lifted_at = timezone.now()
    hold.lifted_by = by
    hold.save(update_fields=["lifted_at", "lifted_by"])
    person = Person.objects.get(pk=hold.person_id)
    record(
        AuditKind.LEGAL_HOLD_LIFTED,
        actor=by,
        department_id=person.department_id,
        target=hold,
        person_id=person.pk,
        what="Conservation pour motif légal levée",
    )
    return hold


@transaction.atomic
def erase_mistaken_file(*, person: Person, reason: str, by: User) -> Anonymisation:
    """A territory administrator erases at once a file created by mistake (a duplicate
    merged, the wrong person): what identifies her goes as at the end of retention."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez pourquoi ce dossier a été créé par erreur."})
    person = Person.objects.select_for_update().get(pk=person.pk)
    if Anonymisation.objects.filter(person_id=person.pk).exists():
        raise ValidationError({"reason": "Ce dossier est déjà anonymisé."})
    if LegalHold.objects.active().filter(person=person).exists():
        raise ValidationError(
            {
                "reason": "Ce dossier est conservé pour un motif légal : levez d'abord la "
                "conservation."
            }
        )
    return _anonymise(
        person,
        cause=AnonymisationCause.MISTAKE,
        last_contact_on=None,
        run=None,
        by=by,
        reason=reason,
    )


# --- The person's right of access ------------------------------------------------------


@transaction.atomic
def record_access_request(
    *, person: Person, requested_on: date, by: User, by_person: bool = False
) -> DataAccessRequest:
    """The person asked for her data (to her team, or from her space): dated, due in a
    month."""
    if requested_on > timezone.localdate():
        raise ValidationError({"requested_on": "La date de la demande ne peut pas être future."})
    access_request = DataAccessRequest.objects.create(
        person=person, requested_on=requested_on, recorded_by=by, by_person=by_person
    )
    record(
        AuditKind.DATA_ACCESS_REQUESTED,
        actor=by,
        department_id=person.department_id,
        target=access_request,
        person_id=person.pk,
        what=f"Demande d'accès à ses données du {requested_on:%d/%m/%Y}",
    )
    return access_request


@transaction.atomic
def answer_access_request(
    *, access_request: DataAccessRequest, by: User, file_format: str
) -> DataAccessRequest:
    """The data handed over (each download is a line of the log; the first dates the
    answer)."""
    access_request = DataAccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if access_request.answered_at is None:
        access_request.answered_at = timezone.now()
        access_request.answered_by = by
        access_request.save(update_fields=["answered_at", "answered_by"])
    record(
        AuditKind.DATA_ACCESS_ANSWERED,
        actor=by,
        department_id=Person.objects.values_list("department_id", flat=True).get(
            pk=access_request.person_id
        ),
        target=access_request,
        person_id=access_request.person_id,
        what=f"Données remises ({file_format.upper()})",
    )
    return access_request
