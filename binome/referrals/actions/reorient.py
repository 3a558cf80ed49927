"""Deciding a request to reorient: the accompaniment ends, a new one opens elsewhere."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import (
    Membership,
    Organisation,
)
from binome.people.models import Person
from binome.referrals import notices
from binome.referrals.actions.transitions import transition
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralKind,
    Status,
    Via,
)
from binome.referrals.records import trace
from binome.support import actions as support_actions
from binome.support.models import (
    ExitReason,
    Kind,
    TeamMember,
    TeamRole,
)


@transaction.atomic
def reorient(
    *,
    referral: Referral,
    by: User,
    organisation: Organisation,
    new_organisation: Organisation,
    referent: User,
    message: str,
    request: HttpRequest | None = None,
) -> Referral:
    """The orientation manager reorients: the current accompaniment ends (its history
    stays), a new one of the requested kind opens with the chosen referent of the new
    organisation, who now holds the file; the former team leaves it."""
    if referral.kind != ReferralKind.REORIENTATION:
        raise ValidationError("Seule une demande de réorientation se décide ici.")
    if not message.strip():
        raise ValidationError("Indiquez le motif de la réorientation.")
    if new_organisation.department_id != referral.department_id:
        raise ValidationError("Choisissez une organisation du territoire.")
    if (
        not Membership.objects.active()
        .filter(user=referent, organisation=new_organisation)
        .exists()
    ):
        raise ValidationError(
            f"{referent.get_full_name()} n'est pas membre de {new_organisation.name}."
        )
    now = timezone.now()
    locked, _ = transition(
        referral,
        to_status=Status.ACCEPTED,
        action=EventAction.ACCEPTED,
        by=by,
        via=Via.APP,
        message=message,
        fields={"answer_message": message, "answered_at": now, "seen_at": referral.seen_at or now},
        details={"organisation": new_organisation.pk, "referent": referent.pk},
    )
    person = locked.person
    old = locked.accompaniment
    if old is not None and old.is_open:
        support_actions.end_accompaniment(
            accompaniment=old,
            ended_on=timezone.localdate(),
            reason=ExitReason.SOCIAL if locked.requested_kind == Kind.SOCIAL else ExitReason.OTHER,
            situation=f"Réorientation décidée par {by.get_full_name()} : {message}"[:4000],
            by=by,
            organisation=organisation,
            request=request,
        )
        for member in TeamMember.objects.current().filter(accompaniment=old):
            if member.user_id != referent.pk:
                support_actions.leave_team(
                    member=member, by=by, reason="Réorientation", request=request
                )
    new = support_actions.open_accompaniment(
        person=person,
        kind=locked.requested_kind,
        started_on=timezone.localdate(),
        by=referent,
        organisation=new_organisation,
        role=TeamRole.REFERENT,
        join_reason=f"Réorientation décidée par {by.get_full_name()}",
        request=request,
    )
    if person.organisation_id != new_organisation.pk:
        Person.objects.filter(pk=person.pk).update(organisation=new_organisation)
        person.organisation = new_organisation
    locked.new_accompaniment = new
    locked.save(update_fields=["new_accompaniment"])
    trace(
        locked,
        by=by,
        via=Via.APP,
        summary=(
            f"Réorientation décidée par {by.get_full_name()} : {new.get_kind_display().lower()}"
            f" avec {referent.get_full_name()} ({new_organisation.name})"
        ),
        request=request,
    )
    notices.answered(locked, actor=by)
    return locked
