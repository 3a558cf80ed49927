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
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.access.predicates import default_team_role, effective_team_role, is_steering
from binome.accounts.models import User
from binome.organisations.models import Membership, Organisation, OrganisationKind
from binome.people.models import Person
from binome.support.models import (
    FOLLOWUP_AFTER_MONTHS,
    GLOBAL_DURATION_MONTHS,
    Accompaniment,
    Appointment,
    AppointmentStatus,
    EventKind,
    Extension,
    FollowupOutcome,
    JoinRequest,
    JoinRequestStatus,
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


def _check_can_join(user: User, organisation: Organisation, person: Person) -> Membership:
    """The membership through which ``user`` joins a team for ``organisation``."""
    if is_steering(user, person.department_id):
        raise ValidationError(
            "Un rôle de pilotage ne peut pas rejoindre l'équipe d'un dossier nominatif."
        )
    membership = user.memberships.filter(organisation=organisation, is_active=True).first()
    if membership is None:
        raise ValidationError(f"{user.get_full_name()} n'est pas membre de {organisation}.")
    return membership


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
    membership = _check_can_join(by, organisation, person)
    role = effective_team_role(role, membership.function)
    # The person's row lock serialises two openings at the same moment.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    current = Accompaniment.objects.current_of(person, kind).first()
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
    membership = _check_can_join(user, organisation, person)
    # The role follows from what the organisation declared the member does.
    role = effective_team_role(role, membership.function)
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


# --- Joining a team: granted, never taken --------------------------------------------


def _notify_join(
    recipients: Any, *, title: str, body: str, by: User | None, dedup_key: str = ""
) -> None:
    from binome.notifications.actions import notify
    from binome.notifications.models import NotificationKind

    notify(
        recipients=recipients,
        kind=NotificationKind.TEAM_JOIN,
        title=title,
        body=body,
        url=reverse("support:join_requests"),
        dedup_key=dedup_key or None,
        actor=by,
    )


def _current_team_users(accompaniment: Accompaniment) -> list[User]:
    return [
        member.user for member in accompaniment.team.current().select_related("user").order_by("id")
    ]


def _check_new_member(accompaniment: Accompaniment, user: User) -> None:
    if not accompaniment.is_open:
        raise ValidationError("Cet accompagnement est terminé : l'équipe ne change plus.")
    if accompaniment.team.current().filter(user=user).exists():
        raise ValidationError(f"{user.get_full_name()} fait déjà partie de l'équipe.")
    if JoinRequest.objects.pending().filter(accompaniment=accompaniment, user=user).exists():
        raise ValidationError(
            f"Une demande pour que {user.get_full_name()} rejoigne cette équipe attend déjà "
            "une réponse."
        )


@transaction.atomic
def request_to_join(
    *,
    accompaniment: Accompaniment,
    user: User,
    organisation: Organisation,
    reason: str,
    request: HttpRequest | None = None,
) -> JoinRequest:
    """Ask the team of an accompaniment to let ``user`` join it. The team is told; its
    referent answers first, any member after 48 hours (``can_decide_join_request``)."""
    accompaniment = lock_accompaniment(accompaniment)
    person = accompaniment.person
    _check_can_join(user, organisation, person)
    if not reason.strip():
        raise ValidationError("Indiquez pourquoi vous rejoignez ce dossier.")
    _check_new_member(accompaniment, user)
    team = _current_team_users(accompaniment)
    if not team:
        raise ValidationError(
            "Personne n'est plus dans l'équipe de cet accompagnement pour répondre à votre "
            "demande : demandez à rejoindre l'équipe d'un autre accompagnement de la personne."
        )
    join_request = JoinRequest.objects.create(
        accompaniment=accompaniment,
        person=person,
        user=user,
        organisation=organisation,
        reason=reason.strip(),
    )
    record(
        AuditKind.JOIN_REQUESTED,
        actor=user,
        organisation=organisation,
        department_id=person.department_id,
        target=join_request,
        person_id=person.pk,
        what=f"Demande pour rejoindre l'équipe ({accompaniment.get_kind_display().lower()})",
        request=request,
        details={"reason": reason[:500]},
    )
    _notify_join(
        team,
        title="Demande pour rejoindre une équipe",
        body=(
            f"{user.get_full_name()} ({organisation.name}) demande à rejoindre l'équipe d'une "
            "personne que vous accompagnez. Le ou la référente répond d'abord ; après 48 heures, "
            "tout membre de l'équipe peut répondre."
        ),
        by=user,
    )
    return join_request


@transaction.atomic
def invite_to_team(
    *,
    accompaniment: Accompaniment,
    invitee: User,
    organisation: Organisation,
    reason: str,
    by: User,
    request: HttpRequest | None = None,
) -> JoinRequest:
    """A team member invites a professional of the territory; the invitee accepts or not."""
    accompaniment = lock_accompaniment(accompaniment)
    person = accompaniment.person
    if not accompaniment.team.current().filter(user=by).exists():
        raise ValidationError("Seule l'équipe de l'accompagnement peut y inviter quelqu'un.")
    if organisation.department_id != person.department_id:
        raise ValidationError(
            f"{organisation.name} n'est pas une organisation du département de la personne."
        )
    _check_can_join(invitee, organisation, person)
    if not reason.strip():
        raise ValidationError("Indiquez pourquoi vous invitez ce professionnel.")
    _check_new_member(accompaniment, invitee)
    join_request = JoinRequest.objects.create(
        accompaniment=accompaniment,
        person=person,
        user=invitee,
        organisation=organisation,
        reason=reason.strip(),
        invited_by=by,
    )
    record(
        AuditKind.JOIN_REQUESTED,
        actor=by,
        organisation=organisation,
        department_id=person.department_id,
        target=join_request,
        person_id=person.pk,
        what=f"Invitation de {invitee.get_full_name()} ({organisation.name}) dans l'équipe",
        request=request,
        details={"reason": reason[:500]},
    )
    _notify_join(
        [invitee],
        title="Invitation à rejoindre une équipe",
        body=(
            f"{by.get_full_name()} vous invite à rejoindre l'équipe d'une personne "
            "accompagnée. Acceptez ou refusez l'invitation dans Binôme."
        ),
        by=by,
    )
    return join_request


def _lock_join_request(join_request: JoinRequest) -> JoinRequest:
    locked = (
        JoinRequest.objects.select_for_update(of=("self",))
        .select_related("accompaniment", "person", "user", "organisation", "invited_by")
        .get(pk=join_request.pk)
    )
    if locked.status != JoinRequestStatus.PENDING:
        raise ValidationError(
            f"Cette demande a déjà reçu une réponse ({locked.get_status_display().lower()})."
        )
    return locked


@transaction.atomic
def accept_join_request(
    *, join_request: JoinRequest, by: User, request: HttpRequest | None = None
) -> TeamMember:
    """Grant a request (a team member) or accept an invitation (the invitee): the
    professional joins the team with the role their declared function gives them."""
    from binome.support.access import can_decide_join_request

    join_request = _lock_join_request(join_request)
    if not can_decide_join_request(by, join_request):
        raise ValidationError(
            "Le ou la référente de l'accompagnement répond d'abord ; les autres membres de "
            "l'équipe peuvent répondre 48 heures après la demande."
        )
    membership = _check_can_join(join_request.user, join_request.organisation, join_request.person)
    member = join_team(
        accompaniment=join_request.accompaniment,
        user=join_request.user,
        organisation=join_request.organisation,
        role=default_team_role(membership.function),
        reason=join_request.reason,
        by=by,
        request=request,
    )
    join_request.status = JoinRequestStatus.ACCEPTED
    join_request.decided_by = by
    join_request.decided_at = timezone.now()
    join_request.save(update_fields=["status", "decided_by", "decided_at"])
    newcomer = join_request.user
    team = [user for user in _current_team_users(join_request.accompaniment) if user != newcomer]
    _notify_join(
        team,
        title="Un professionnel rejoint une équipe",
        body=(
            f"{newcomer.get_full_name()} ({join_request.organisation.name}) rejoint l'équipe "
            "d'une personne que vous accompagnez."
        ),
        by=by,
    )
    if not join_request.is_invitation:
        _notify_join(
            [newcomer],
            title="Demande acceptée",
            body="Votre demande pour rejoindre une équipe est acceptée : le dossier vous est "
            "ouvert.",
            by=by,
        )
    return member


@transaction.atomic
def decline_join_request(
    *, join_request: JoinRequest, by: User, reason: str = "", request: HttpRequest | None = None
) -> JoinRequest:
    """Refuse a request (the team, with a reason), decline an invitation (the invitee) or
    withdraw one's own request."""
    from binome.support.access import can_decide_join_request

    join_request = _lock_join_request(join_request)
    own = by == join_request.user
    if own:
        status = (
            JoinRequestStatus.DECLINED
            if join_request.is_invitation
            else JoinRequestStatus.WITHDRAWN
        )
    else:
        if join_request.is_invitation:
            # The inviting team may withdraw its invitation.
            if not join_request.accompaniment.team.current().filter(user=by).exists():
                raise ValidationError("Seule l'équipe peut retirer son invitation.")
            status = JoinRequestStatus.WITHDRAWN
        else:
            if not can_decide_join_request(by, join_request):
                raise ValidationError(
                    "Le ou la référente de l'accompagnement répond d'abord ; les autres membres "
                    "de l'équipe peuvent répondre 48 heures après la demande."
                )
            if not reason.strip():
                raise ValidationError("Indiquez pourquoi vous refusez cette demande.")
            status = JoinRequestStatus.DECLINED
    join_request.status = status
    join_request.decided_by = by
    join_request.decided_at = timezone.now()
    join_request.decline_reason = reason.strip()
    join_request.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
    record(
        AuditKind.JOIN_DECLINED,
        actor=by,
        organisation=join_request.organisation,
        department_id=join_request.person.department_id,
        target=join_request,
        person_id=join_request.person_id,
        what=f"Demande pour rejoindre l'équipe : {join_request.get_status_display().lower()}",
        request=request,
        details={"reason": reason[:500]} if reason else None,
    )
    if not own and not join_request.is_invitation:
        _notify_join(
            [join_request.user],
            title="Demande refusée",
            body="Votre demande pour rejoindre une équipe est refusée. Motif : "
            + reason.strip()[:300],
            by=by,
        )
    elif own and join_request.is_invitation and join_request.invited_by is not None:
        _notify_join(
            [join_request.invited_by],
            title="Invitation déclinée",
            body=f"{by.get_full_name()} a décliné votre invitation à rejoindre une équipe.",
            by=by,
        )
    return join_request
