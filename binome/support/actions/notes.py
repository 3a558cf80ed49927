"""Notes of meetings and appointments: what happened with the person, and when."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.support.actions.timeline import trace
from binome.support.models import (
    Accompaniment,
    Appointment,
    AppointmentStatus,
    EventKind,
    Note,
    Visibility,
)


def _touch_contact(person: Person, day: date) -> None:
    if person.last_contact_on is None or day > person.last_contact_on:
        Person.objects.filter(pk=person.pk).update(last_contact_on=day)
        person.last_contact_on = day


@transaction.atomic
def happened_on(day: date) -> datetime | None:
    """The timeline's date of something that happened on ``day``: None (now) for today,
    else the start of that day (the timeline shows no hour for it)."""
    if day >= timezone.localdate():
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def write_note(
    *,
    person: Person,
    author: User,
    organisation: Organisation,
    date: date,
    medium: str,
    text: str,
    visibility: str = "",
    is_health: bool = False,
    accompaniment: Accompaniment | None = None,
    request: HttpRequest | None = None,
) -> Note:
    """A note of an interview. Health details default to the author's organisation."""
    if not visibility:
        visibility = Visibility.ORGANISATION if is_health else Visibility.TEAM
    note = Note.objects.create(
        person=person,
        accompaniment=accompaniment,
        author=author,
        organisation=organisation,
        date=date,
        medium=medium,
        text=text,
        is_health=is_health,
        visibility=visibility,
    )
    _touch_contact(person, date)
    summary = (
        f"Note d'entretien ({note.get_medium_display().lower()}) de {author.get_full_name()}, "
        f"{organisation.name}"
    )
    trace(
        EventKind.NOTE,
        AuditKind.NOTE_WRITTEN,
        person=person,
        by=author,
        organisation=organisation,
        accompaniment=accompaniment,
        visibility=visibility,
        target=note,
        summary=summary,
        request=request,
        details={"visibility": visibility},
        at=happened_on(date),
    )
    return note


@transaction.atomic
def record_appointment(
    *,
    person: Person,
    by: User,
    organisation: Organisation,
    at: datetime,
    place: str,
    with_whom: str,
    status: str = AppointmentStatus.PLANNED,
    accompaniment: Accompaniment | None = None,
    request: HttpRequest | None = None,
) -> Appointment:
    appointment = Appointment.objects.create(
        person=person,
        accompaniment=accompaniment,
        at=at,
        place=place,
        with_whom=with_whom,
        status=status,
        created_by=by,
        organisation=organisation,
    )
    if status == AppointmentStatus.HELD:
        _touch_contact(person, timezone.localdate(at))
    summary = f"Rendez-vous du {timezone.localtime(at):%d/%m/%Y à %H:%M} avec {with_whom}"
    summary += f" ({appointment.get_status_display().lower()})"
    trace(
        EventKind.APPOINTMENT,
        AuditKind.APPOINTMENT_CHANGED,
        person=person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=appointment,
        summary=summary,
        request=request,
    )
    return appointment


@transaction.atomic
def set_appointment_status(
    *,
    appointment: Appointment,
    status: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update().select_related("person").get(pk=appointment.pk)
    )
    if status not in AppointmentStatus.values:
        raise ValidationError("Statut de rendez-vous inconnu.")
    appointment.status = status
    appointment.save(update_fields=["status"])
    if status == AppointmentStatus.HELD:
        _touch_contact(appointment.person, timezone.localdate(appointment.at))
    summary = (
        f"Rendez-vous du {timezone.localtime(appointment.at):%d/%m/%Y} : "
        f"{appointment.get_status_display().lower()}"
    )
    trace(
        EventKind.APPOINTMENT,
        AuditKind.APPOINTMENT_CHANGED,
        person=appointment.person,
        by=by,
        organisation=organisation,
        accompaniment=appointment.accompaniment,
        target=appointment,
        summary=summary,
        request=request,
    )
    return appointment


# --- Joining a team: granted, never taken --------------------------------------------
