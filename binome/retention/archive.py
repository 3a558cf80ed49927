"""The intermediate archive, optional per territory (CNIL, référentiel social et
médico-social): with a written justification, a file at the end of its retention is moved out
of every professional's reach (``Person.archived_until``: the file's pages answer 404, its
lists and the identity search leave it out) for the territory's duration, read only by the
territory's archivist — each read with its reason in the audit log — then anonymised by the
retention job (``actions.run``).

The functions here write the archive's own rows; choosing which files are archived, and
anonymising them at the end, is the job's (``binome.retention.actions``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import audit_row, record, record_many
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.retention import settings as retention_settings
from binome.retention.contact import add_months
from binome.retention.models import (
    ARCHIVE_YEARS_MAX,
    ARCHIVE_YEARS_MIN,
    Archive,
    ArchiveOutcome,
    ArchiveSettings,
    RetentionNotice,
    RetentionRun,
)
from binome.support.actions import timeline_row
from binome.support.models import EventKind, TimelineEvent, Visibility

JOB_LABEL = "traitement de conservation"


def archiving_years() -> dict[str, int]:
    """``{département: years}`` of the territories whose intermediate archive is on."""
    return dict(ArchiveSettings.objects.filter(enabled=True).values_list("department_id", "years"))


def end_of_archive(today: date, years: int) -> date:
    """The day the file archived ``today`` is anonymised."""
    return add_months(today, 12 * years)


@transaction.atomic
def set_archive_settings(
    *,
    department_id: str,
    enabled: bool,
    years: int,
    justification: str,
    by: User,
    request: HttpRequest | None = None,
) -> ArchiveSettings:
    """The territory turns its intermediate archive on (with its duration and its written
    justification, both required) or off. Files already archived keep their end date."""
    justification = justification.strip()
    if not ARCHIVE_YEARS_MIN <= years <= ARCHIVE_YEARS_MAX:
        raise ValidationError(
            {"years": f"L'archive dure de {ARCHIVE_YEARS_MIN} à {ARCHIVE_YEARS_MAX} ans."}
        )
    if enabled and not justification:
        raise ValidationError(
            {"justification": "Indiquez la justification écrite de l'archive intermédiaire."}
        )
    before = ArchiveSettings.for_department(department_id)
    found, _ = ArchiveSettings.objects.update_or_create(
        department_id=department_id,
        defaults={"enabled": enabled, "years": years, "justification": justification},
    )
    record(
        AuditKind.ARCHIVE_SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what=(
            f"Archive intermédiaire activée pour {years} an{'s' * (years > 1)}"
            if enabled
            else "Archive intermédiaire désactivée"
        ),
        request=request,
        details={
            "before": [before.enabled, before.years, before.justification],
            "after": [enabled, years, justification],
        },
    )
    return found


def archive_many(
    last_contacts: dict[int, date],
    *,
    years_by_department: dict[str, int],
    today: date,
    run: RetentionRun | None,
) -> list[Archive]:
    """Archive the files (their rows locked by the caller): each leaves every professional's
    reach until the end of its territory's archive, with its record, its timeline line and
    its audit row — a few statements for the whole batch."""
    ids = sorted(last_contacts)
    persons = list(Person.objects.filter(pk__in=ids).only("id", "department_id", "organisation_id"))
    organisations = Organisation.objects.in_bulk({person.organisation_id for person in persons})
    ends = {
        person.pk: end_of_archive(today, years_by_department[person.department_id])
        for person in persons
    }
    for ends_on in set(ends.values()):
        Person.objects.filter(pk__in=[pk for pk, end in ends.items() if end == ends_on]).update(
            archived_until=ends_on
        )
    archives = Archive.objects.bulk_create(
        Archive(
            person=person,
            department_id=person.department_id,
            organisation_id=person.organisation_id,
            last_contact_on=last_contacts[person.pk],
            ends_on=ends[person.pk],
            run=run,
        )
        for person in persons
    )
    TimelineEvent.objects.bulk_create(
        timeline_row(
            person=person,
            kind=EventKind.PERSON,
            actor=None,
            organisation=organisations[person.organisation_id],
            summary=f"Dossier archivé jusqu'au {ends[person.pk]:%d/%m/%Y} (archive intermédiaire)",
            visibility=Visibility.TEAM,
            target=person,
        )
        for person in persons
    )
    record_many(
        audit_row(
            AuditKind.FILE_ARCHIVED,
            actor_label=JOB_LABEL,
            organisation=organisations[person.organisation_id],
            department_id=person.department_id,
            target=person,
            person_id=person.pk,
            what=f"Dossier archivé jusqu'au {ends[person.pk]:%d/%m/%Y}, puis anonymisé",
            details={"ends_on": ends[person.pk].isoformat()},
        )
        for person in persons
    )
    return archives


def close_archives(person_ids: list[int], *, outcome: str, by: User | None, reason: str) -> int:
    """The files leave the archive (anonymised, or restored): back to the ordinary rules."""
    Person.objects.filter(pk__in=person_ids, archived_until__isnull=False).update(
        archived_until=None
    )
    return (
        Archive.objects.current()
        .filter(person_id__in=person_ids)
        .update(closed_at=timezone.now(), outcome=outcome, closed_by=by, reason=reason)
    )


@transaction.atomic
def restore(*, person: Person, reason: str, by: User) -> Archive:
    """A territory administrator restores a file archived by mistake, with the reason: back
    to its team, and told again — without a new contact within the notice period, the next
    run archives it again."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez pourquoi le dossier est rétabli."})
    person = Person.objects.select_for_update().get(pk=person.pk)
    archive = Archive.objects.current().filter(person=person).first()
    if archive is None:
        raise ValidationError({"reason": "Ce dossier n'est pas dans l'archive intermédiaire."})
    close_archives([person.pk], outcome=ArchiveOutcome.RESTORED, by=by, reason=reason)
    archive.refresh_from_db()
    again_on = timezone.localdate() + timedelta(days=retention_settings.notice_days())
    RetentionNotice.objects.filter(person=person, last_contact_on=archive.last_contact_on).update(
        anonymise_on=again_on
    )
    TimelineEvent.objects.bulk_create(
        [
            timeline_row(
                person=person,
                kind=EventKind.PERSON,
                actor=by,
                organisation=Organisation.objects.get(pk=person.organisation_id),
                summary="Dossier rétabli de l'archive intermédiaire",
                visibility=Visibility.TEAM,
                target=person,
            )
        ]
    )
    record(
        AuditKind.FILE_RESTORED,
        actor=by,
        department_id=person.department_id,
        target=archive,
        person_id=person.pk,
        what=f"Dossier rétabli de l'archive ; archivé de nouveau sans contact d'ici le "
        f"{again_on:%d/%m/%Y}",
        details={"reason": reason},
    )
    return archive


def record_archive_read(*, request: HttpRequest, archive: Archive, reason: str) -> None:
    """One read of an archived file by the archivist: a line « consultation d'archive » with
    its reason (required)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Indiquez le motif de la consultation."})
    record(
        AuditKind.ARCHIVE_READ,
        actor=request.user,
        department_id=archive.department_id,
        target=archive,
        person_id=archive.person_id,
        what=f"Consultation d'archive : {reason}",
        request=request,
        details={"reason": reason},
    )
