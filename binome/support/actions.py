"""State-changing operations on accompaniments, teams, notes and appointments.

Each is one transaction: the change, its timeline event and its audit line together.
Refusals are ``ValidationError`` with a French message (the view shows it as is).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation, OrganisationKind
from binome.people.models import Person
from binome.support.access import is_steering
from binome.support.models import (
    FOLLOWUP_AFTER_MONTHS,
    GLOBAL_DURATION_MONTHS,
    Accompaniment,
    Appointment,
    AppointmentStatus,
    EventKind,
    Extension,
    FollowupOutcome,
    Kind,
    Note,
    State,
    TeamMember,
    TeamRole,
    TimelineEvent,
    Transition,
    Visibility,
    add_months,
)

SOCIAL_WORKER_KINDS = (
    OrganisationKind.DEPARTMENT,
    OrganisationKind.CCAS,
    OrganisationKind.CAF,
    OrganisationKind.MSA,
    OrganisationKind.ASSOCIATION,
)
MAX_EXTENSION_MONTHS = 12


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
) -> TimelineEvent:
    """The trace of an action on a person's file: its timeline line and its audit row, with
    the same summary (call it inside the action's transaction).

    ``by`` is None when nobody logged in acted (an answer through a signed link, a periodic
    job): ``actor_label`` then says who or what did it in the audit line."""
    event = add_event(
        person=person,
        kind=event_kind,
        actor=by,
        organisation=organisation,
        accompaniment=accompaniment,
        visibility=visibility,
        target=target,
        summary=summary,
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


def _check_can_join(user: User, organisation: Organisation, person: Person) -> None:
    if is_steering(user, person.department_id):
        raise ValidationError(
            "Un rôle de pilotage ne peut pas rejoindre l'équipe d'un dossier nominatif."
        )
    if not user.memberships.filter(organisation=organisation, is_active=True).exists():
        raise ValidationError(f"{user.get_full_name()} n'est pas membre de {organisation}.")


@transaction.atomic
def open_accompaniment(
    *,
    person: Person,
    kind: str,
    started_on: date,
    by: User,
    organisation: Organisation,
    role: str,
    join_reason: str = "",
    planned_end_on: date | None = None,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """Open a proposed accompaniment; its opener joins its team.

    A global accompaniment lasts 12 months from its start.
    """
    _check_can_join(by, organisation, person)
    # The person's row lock serialises two openings at the same moment.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    current = Accompaniment.objects.open().filter(person=person, kind=kind).first()
    if current is not None:
        raise ValidationError(
            f"{person.full_name} a déjà un {current.get_kind_display().lower()} ouvert (état : "
            f"{current.get_state_display().lower()}, depuis le {current.started_on:%d/%m/%Y}) : "
            "rejoignez son équipe plutôt que d'en ouvrir un second."
        )
    if kind == Kind.GLOBAL:
        planned_end_on = add_months(started_on, GLOBAL_DURATION_MONTHS)
    elif planned_end_on is not None and planned_end_on <= started_on:
        raise ValidationError("La fin prévue doit être postérieure au début.")
    accompaniment = Accompaniment.objects.create(
        person=person,
        kind=kind,
        state=State.PROPOSED,
        started_on=started_on,
        planned_end_on=planned_end_on,
        created_by=by,
    )
    Transition.objects.create(
        accompaniment=accompaniment, from_state="", to_state=State.PROPOSED, by=by
    )
    TeamMember.objects.create(
        accompaniment=accompaniment,
        person=person,
        user=by,
        organisation=organisation,
        role=role,
        join_reason=join_reason,
    )
    summary = f"{accompaniment.get_kind_display()} proposé par {by.get_full_name()}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_OPENED,
        person=person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
    )
    return accompaniment


def binome_is_complete(accompaniment: Accompaniment) -> bool:
    """A global accompaniment needs, on its current team, a France Travail dedicated
    counselor and a social worker of a département, CCAS/CIAS, CAF, MSA or association."""
    team = list(accompaniment.team.current().values_list("role", "organisation__kind").order_by())
    return (TeamRole.DEDICATED_COUNSELOR, OrganisationKind.FRANCE_TRAVAIL) in team and any(
        role == TeamRole.SOCIAL_WORKER and kind in SOCIAL_WORKER_KINDS for role, kind in team
    )


def lock_accompaniment(accompaniment: Accompaniment) -> Accompaniment:
    """Re-read the accompaniment under a row lock: two concurrent changes are serialised."""
    return (
        Accompaniment.objects.select_for_update().select_related("person").get(pk=accompaniment.pk)
    )


@transaction.atomic
def change_state(
    *,
    accompaniment: Accompaniment,
    to_state: str,
    by: User,
    organisation: Organisation,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Accompaniment:
    """Activate, suspend or resume (ending goes through ``end_accompaniment``)."""
    accompaniment = lock_accompaniment(accompaniment)
    labels = dict(State.choices)
    if to_state == State.ENDED:
        raise ValidationError("Pour terminer l'accompagnement, renseignez la sortie.")
    if to_state not in accompaniment.allowed_transitions():
        raise ValidationError(
            f"Un accompagnement « {labels[accompaniment.state].lower()} » ne peut pas passer à "
            f"« {labels.get(to_state, to_state).lower()} »."
        )
    if to_state == State.SUSPENDED and not reason.strip():
        raise ValidationError("Indiquez le motif de la suspension.")
    if (
        to_state == State.ACTIVE
        and accompaniment.kind == Kind.GLOBAL
        and not binome_is_complete(accompaniment)
    ):
        raise ValidationError(
            "Un accompagnement global ne démarre qu'avec son binôme : un conseiller dédié "
            "France Travail et un travailleur social doivent être dans l'équipe."
        )
    from_state = accompaniment.state
    accompaniment.state = to_state
    accompaniment.save(update_fields=["state"])
    Transition.objects.create(
        accompaniment=accompaniment, from_state=from_state, to_state=to_state, by=by, reason=reason
    )
    summary = (
        f"{accompaniment.get_kind_display()} : {labels[from_state].lower()} → "
        f"{labels[to_state].lower()} ({by.get_full_name()})"
    )
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_CHANGED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"from": from_state, "to": to_state},
    )
    return accompaniment


@transaction.atomic
def extend_accompaniment(
    *,
    accompaniment: Accompaniment,
    new_end_on: date,
    justification: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    accompaniment = lock_accompaniment(accompaniment)
    if not accompaniment.is_open:
        raise ValidationError("Un accompagnement terminé ne se prolonge pas.")
    if not justification.strip():
        raise ValidationError("La prolongation doit être justifiée.")
    current = accompaniment.planned_end_on
    if current is not None and new_end_on <= current:
        raise ValidationError(
            f"La nouvelle fin prévue doit être postérieure à la fin actuelle ({current:%d/%m/%Y})."
        )
    if new_end_on > add_months(current or accompaniment.started_on, MAX_EXTENSION_MONTHS):
        raise ValidationError("Une prolongation ne dépasse pas 12 mois à la fois.")
    accompaniment.planned_end_on = new_end_on
    accompaniment.extension_justification = justification
    accompaniment.save(update_fields=["planned_end_on", "extension_justification"])
    Extension.objects.create(
        accompaniment=accompaniment,
        previous_end_on=current,
        new_end_on=new_end_on,
        justification=justification,
        by=by,
    )
    summary = f"{accompaniment.get_kind_display()} prolongé jusqu'au {new_end_on:%d/%m/%Y}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_EXTENDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
    )
    return accompaniment


@transaction.atomic
def end_accompaniment(
    *,
    accompaniment: Accompaniment,
    ended_on: date,
    reason: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The exit: date, reason, situation; the situation is asked again 6 months later."""
    accompaniment = lock_accompaniment(accompaniment)
    if State.ENDED not in accompaniment.allowed_transitions():
        raise ValidationError("Cet accompagnement est déjà terminé.")
    if ended_on < accompaniment.started_on:
        raise ValidationError(
            "La date de sortie ne peut pas précéder le début de l'accompagnement "
            f"({accompaniment.started_on:%d/%m/%Y})."
        )
    if ended_on > timezone.localdate():
        raise ValidationError("La date de sortie ne peut pas être dans le futur.")
    from_state = accompaniment.state
    accompaniment.state = State.ENDED
    accompaniment.ended_on = ended_on
    accompaniment.exit_reason = reason
    accompaniment.exit_situation = situation
    accompaniment.followup_due_on = add_months(ended_on, FOLLOWUP_AFTER_MONTHS)
    accompaniment.save(
        update_fields=["state", "ended_on", "exit_reason", "exit_situation", "followup_due_on"]
    )
    Transition.objects.create(
        accompaniment=accompaniment,
        from_state=from_state,
        to_state=State.ENDED,
        by=by,
        reason=accompaniment.get_exit_reason_display(),
    )
    summary = (
        f"Sortie de l'{accompaniment.get_kind_display().lower()} le {ended_on:%d/%m/%Y} : "
        f"{accompaniment.get_exit_reason_display()}"
    )
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_ENDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"reason": reason},
    )
    return accompaniment


@transaction.atomic
def record_followup(
    *,
    accompaniment: Accompaniment,
    outcome: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The person's situation six months after the exit (FSE+), asked of the team."""
    accompaniment = lock_accompaniment(accompaniment)
    today = timezone.localdate()
    if accompaniment.state != State.ENDED or accompaniment.followup_due_on is None:
        raise ValidationError("La situation à 6 mois se renseigne après la sortie.")
    if accompaniment.followup_recorded_on is not None:
        raise ValidationError(
            "La situation à 6 mois est déjà enregistrée "
            f"(le {accompaniment.followup_recorded_on:%d/%m/%Y})."
        )
    if today < accompaniment.followup_due_on:
        raise ValidationError(
            "La situation à 6 mois se renseigne à partir du "
            f"{accompaniment.followup_due_on:%d/%m/%Y}."
        )
    if outcome not in FollowupOutcome.values:
        raise ValidationError("Choisissez la situation de la personne dans la liste.")
    situation = situation.strip()
    if outcome == FollowupOutcome.OTHER and not situation:
        raise ValidationError("Précisez la situation quand vous choisissez « Autre ».")
    accompaniment.followup_outcome = outcome
    accompaniment.followup_situation = situation
    accompaniment.followup_recorded_on = today
    accompaniment.save(
        update_fields=["followup_outcome", "followup_situation", "followup_recorded_on"]
    )
    summary = f"Situation 6 mois après la sortie : {accompaniment.get_followup_outcome_display()}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_FOLLOWUP,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"outcome": outcome},
    )
    return accompaniment


@transaction.atomic
def join_team(
    *,
    accompaniment: Accompaniment,
    user: User,
    organisation: Organisation,
    role: str,
    reason: str,
    by: User,
    request: HttpRequest | None = None,
) -> TeamMember:
    """A professional joins an existing file: the reason is required and logged."""
    accompaniment = lock_accompaniment(accompaniment)
    person = accompaniment.person
    _check_can_join(user, organisation, person)
    if not reason.strip():
        raise ValidationError("Indiquez pourquoi vous rejoignez ce dossier.")
    if not accompaniment.is_open:
        raise ValidationError("Cet accompagnement est terminé : l'équipe ne change plus.")
    if accompaniment.team.current().filter(user=user).exists():
        raise ValidationError(f"{user.get_full_name()} fait déjà partie de l'équipe.")
    member = TeamMember.objects.create(
        accompaniment=accompaniment,
        person=person,
        user=user,
        organisation=organisation,
        role=role,
        join_reason=reason,
    )
    summary = (
        f"{user.get_full_name()} ({organisation.name}) rejoint l'équipe : "
        f"{member.get_role_display().lower()}"
    )
    trace(
        EventKind.TEAM,
        AuditKind.TEAM_JOINED,
        person=person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=member,
        summary=summary,
        request=request,
        details={"reason": reason[:500]},
    )
    return member


@transaction.atomic
def leave_team(
    *, member: TeamMember, by: User, reason: str = "", request: HttpRequest | None = None
) -> TeamMember:
    """Leave a team: the row stays (history), with the date and reason of the departure."""
    member = (
        TeamMember.objects.select_for_update().select_related("person", "user").get(pk=member.pk)
    )
    if member.left_at is not None:
        raise ValidationError("Ce professionnel a déjà quitté l'équipe.")
    member.left_at = timezone.now()
    member.leave_reason = reason
    member.save(update_fields=["left_at", "leave_reason"])
    summary = f"{member.user.get_full_name()} quitte l'équipe"
    trace(
        EventKind.TEAM,
        AuditKind.TEAM_LEFT,
        person=member.person,
        by=by,
        organisation=member.organisation,
        accompaniment=member.accompaniment,
        target=member,
        summary=summary,
        request=request,
    )
    return member


def _touch_contact(person: Person, day: date) -> None:
    if person.last_contact_on is None or day > person.last_contact_on:
        Person.objects.filter(pk=person.pk).update(last_contact_on=day)
        person.last_contact_on = day


@transaction.atomic
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
