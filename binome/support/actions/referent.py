"""The team's designated referent and the roles of its members: changed by the team, with
a reason, without anyone leaving and re-joining."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from binome.access.models import AuditKind
from binome.access.predicates import effective_team_role
from binome.accounts.models import User
from binome.notifications.actions import notify
from binome.notifications.models import NotificationKind
from binome.organisations.models import MemberFunction, Membership
from binome.support.access import member_function_of
from binome.support.actions.locks import lock_accompaniment
from binome.support.actions.timeline import trace
from binome.support.models import Accompaniment, EventKind, TeamMember, TeamRole

REASON_MAX_LENGTH = 500


def _current_member(accompaniment: Accompaniment, member: TeamMember) -> TeamMember:
    """The member, re-read, when they are on the accompaniment's current team."""
    found = (
        accompaniment.team.current()
        .select_related("user", "organisation")
        .filter(pk=member.pk)
        .first()
    )
    if found is None:
        raise ValidationError("Ce professionnel ne fait plus partie de l'équipe.")
    return found


def declared_function(member: TeamMember) -> str:
    """What the member's organisation declared they do ("" when nothing is declared)."""
    return (
        Membership.objects.filter(
            user_id=member.user_id, organisation_id=member.organisation_id, is_active=True
        )
        .values_list("function", flat=True)
        .first()
        or ""
    )


def may_be_referent(function: str | None) -> bool:
    """Only a declared social worker or counselor may be a team's referent."""
    return effective_team_role(TeamRole.REFERENT, function) == TeamRole.REFERENT


def _check_team_change(accompaniment: Accompaniment, by: User, reason: str) -> str:
    if not accompaniment.is_open:
        raise ValidationError("Cet accompagnement est terminé : l'équipe ne change plus.")
    if not accompaniment.team.current().filter(user=by).exists():
        raise ValidationError("Seule l'équipe de l'accompagnement modifie son équipe.")
    reason = reason.strip()
    if not reason:
        raise ValidationError("Indiquez le motif du changement.")
    return reason[:REASON_MAX_LENGTH]


@transaction.atomic
def designate_referent(
    *,
    accompaniment: Accompaniment,
    member: TeamMember,
    reason: str,
    by: User,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The team designates its referent (one per accompaniment) among its current members;
    the new referent is told."""
    accompaniment = lock_accompaniment(accompaniment)
    reason = _check_team_change(accompaniment, by, reason)
    member = _current_member(accompaniment, member)
    if not may_be_referent(declared_function(member)):
        raise ValidationError(
            f"{member.user.get_full_name()} ne peut pas être référent(e) : seul un "
            "professionnel déclaré travailleur social ou conseiller par son organisation peut "
            "l'être."
        )
    if accompaniment.referent_id == member.pk:
        raise ValidationError(
            f"{member.user.get_full_name()} est déjà le ou la référente de cet accompagnement."
        )
    previous = accompaniment.referent
    accompaniment.referent = member
    accompaniment.save(update_fields=["referent"])
    summary = (
        f"{member.user.get_full_name()} ({member.organisation.name}) est désigné(e) "
        f"référent(e) de l'{accompaniment.get_kind_display().lower()} par "
        f"{by.get_full_name()} : {reason}"
    )[:300]
    trace(
        EventKind.TEAM,
        AuditKind.TEAM_CHANGED,
        person=accompaniment.person,
        by=by,
        organisation=member.organisation,
        accompaniment=accompaniment,
        target=member,
        summary=summary,
        request=request,
        details={
            "referent": member.pk,
            "previous": previous.pk if previous is not None else None,
            "reason": reason,
        },
    )
    notify(
        recipients=[member.user],
        kind=NotificationKind.TEAM_JOIN,
        title="Vous êtes désigné(e) référent(e)",
        body=(
            f"{by.get_full_name()} vous désigne référent ou référente de l'accompagnement "
            "d'une personne dont vous êtes dans l'équipe."
        ),
        url=reverse("people:detail", args=[accompaniment.person_id]),
        actor=by,
    )
    return accompaniment


@transaction.atomic
def change_team_role(
    *,
    member: TeamMember,
    role: str,
    reason: str,
    by: User,
    request: HttpRequest | None = None,
) -> TeamMember:
    """Change a member's role on the team, within what their declared function allows."""
    accompaniment = lock_accompaniment(member.accompaniment)
    reason = _check_team_change(accompaniment, by, reason)
    member = _current_member(accompaniment, member)
    if role not in TeamRole.values:
        raise ValidationError("Choisissez un rôle de la liste.")
    function = declared_function(member)
    if effective_team_role(role, function) != role:
        declared = dict(MemberFunction.choices).get(function or "", "non déclarée").lower()
        raise ValidationError(
            f"Le rôle « {TeamRole(role).label.lower()} » ne correspond pas à la fonction que "
            f"{member.organisation.name} a déclarée pour {member.user.get_full_name()} "
            f"({declared}) : son administrateur peut la modifier."
        )
    if member.role == role:
        raise ValidationError(
            f"{member.user.get_full_name()} a déjà le rôle « {TeamRole(role).label.lower()} »."
        )
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    summary = (
        f"{member.user.get_full_name()} ({member.organisation.name}) : rôle "
        f"« {TeamRole(previous).label.lower()} » → « {TeamRole(role).label.lower()} » "
        f"({by.get_full_name()}) : {reason}"
    )[:300]
    trace(
        EventKind.TEAM,
        AuditKind.TEAM_CHANGED,
        person=accompaniment.person,
        by=by,
        organisation=member.organisation,
        accompaniment=accompaniment,
        target=member,
        summary=summary,
        request=request,
        details={"from": previous, "to": role, "reason": reason},
    )
    return member


def pass_on_referent(accompaniment: Accompaniment, leaving: TeamMember) -> TeamMember | None:
    """When the referent leaves, the earliest remaining member who may be the referent
    becomes it (the team may designate another); the caller holds the accompaniment's lock
    and traces it."""
    if accompaniment.referent_id != leaving.pk:
        return None
    remaining = (
        accompaniment.team.current()
        .exclude(pk=leaving.pk)
        .annotate(function=member_function_of())
        .select_related("user", "organisation")
        .order_by("joined_at", "id")
    )
    successor = next((m for m in remaining if may_be_referent(getattr(m, "function", None))), None)
    accompaniment.referent = successor
    accompaniment.save(update_fields=["referent"])
    return successor
