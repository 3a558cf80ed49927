"""Who is on a team: joining (granted, never taken: requests and invitations) and leaving."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.access.predicates import default_team_role, effective_team_role
from binome.accounts.models import User
from binome.notifications.actions import notify
from binome.notifications.models import NotificationKind
from binome.organisations.models import Organisation
from binome.support.access import can_decide_join_request
from binome.support.actions.locks import check_can_join, lock_accompaniment
from binome.support.actions.referent import may_be_referent, pass_on_referent
from binome.support.actions.timeline import trace
from binome.support.models import (
    Accompaniment,
    EventKind,
    JoinRequest,
    JoinRequestStatus,
    TeamMember,
)


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
    membership = check_can_join(user, organisation, person)
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
    if accompaniment.referent_id is None and may_be_referent(membership.function):
        # A team without a referent (everyone left) gets the newcomer as its referent.
        accompaniment.referent = member
        accompaniment.save(update_fields=["referent"])
        summary += ", référent(e) désigné(e)"
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
    """Leave a team: the row stays (history), with the date and reason of the departure. A
    leaving referent passes the designation on to the earliest remaining member."""
    accompaniment = lock_accompaniment(member.accompaniment)
    member = (
        TeamMember.objects.select_for_update().select_related("person", "user").get(pk=member.pk)
    )
    if member.left_at is not None:
        raise ValidationError("Ce professionnel a déjà quitté l'équipe.")
    member.left_at = timezone.now()
    member.leave_reason = reason
    member.save(update_fields=["left_at", "leave_reason"])
    summary = f"{member.user.get_full_name()} quitte l'équipe"
    successor = pass_on_referent(accompaniment, member)
    if successor is not None:
        summary += f" ; {successor.user.get_full_name()} devient référent(e)"
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


def _notify_join(
    recipients: Any, *, title: str, body: str, by: User | None, dedup_key: str = ""
) -> None:
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
    if organisation.department_id != person.department_id:
        raise ValidationError(
            f"{organisation.name} n'est pas une organisation du département de la personne."
        )
    check_can_join(user, organisation, person)
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
    check_can_join(invitee, organisation, person)
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


def _check_may_answer(join_request: JoinRequest, by: User) -> None:
    if can_decide_join_request(by, join_request):
        return
    if join_request.is_invitation:
        raise ValidationError("Seule la personne invitée accepte ou décline une invitation.")
    raise ValidationError(
        "Le ou la référente de l'accompagnement répond d'abord ; les autres membres de "
        "l'équipe peuvent répondre 48 heures après la demande."
    )


@transaction.atomic
def accept_join_request(
    *, join_request: JoinRequest, by: User, request: HttpRequest | None = None
) -> TeamMember:
    """Grant a request (a team member) or accept an invitation (the invitee): the
    professional joins the team with the role their declared function gives them."""
    join_request = _lock_join_request(join_request)
    _check_may_answer(join_request, by)
    membership = check_can_join(join_request.user, join_request.organisation, join_request.person)
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
            _check_may_answer(join_request, by)
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
