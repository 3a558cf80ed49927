"""The receiving side's answer: seen, accepted (joining the person's team), declined."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import (
    Organisation,
    OrganisationKind,
)
from binome.referrals import notices
from binome.referrals.actions.transitions import actor_name, transition
from binome.referrals.models import (
    DeclineReason,
    EventAction,
    Referral,
    ReferralKind,
    Status,
    Via,
)
from binome.referrals.records import lock, trace
from binome.support import actions as support_actions
from binome.support.models import (
    Accompaniment,
    Kind,
    TeamRole,
)

# A form filled a minute before the appointment's time is not refused.
_TOLERANCE = timedelta(minutes=5)


ACCOMPANIMENT_OF = {ReferralKind.GLOBAL: Kind.GLOBAL, ReferralKind.SOCIAL: Kind.SOCIAL}


@transaction.atomic
def mark_seen(
    *, referral: Referral, by: User | None, via: str = Via.APP, request: HttpRequest | None = None
) -> Referral:
    """The receiving side opened the referral for the first time."""
    if referral.status != Status.SENT:
        return referral
    locked = lock(referral)
    if locked.status != Status.SENT:
        return locked
    now = timezone.now()
    locked, _ = transition(
        locked,
        to_status=Status.SEEN,
        action=EventAction.SEEN,
        by=by,
        via=via,
        fields={"seen_at": now},
    )
    trace(
        locked,
        by=by,
        via=via,
        summary=f"Orientation vers {locked.target_label} vue par {actor_name(by, via, locked)}",
        request=request,
    )
    return locked


def _receiver_role(organisation: Organisation) -> str:
    if organisation.kind == OrganisationKind.FRANCE_TRAVAIL:
        return TeamRole.DEDICATED_COUNSELOR
    return TeamRole.SOCIAL_WORKER


def _join_support(referral: Referral, *, by: User, request: HttpRequest | None) -> Accompaniment:
    """The receiver of a referral to the binôme or to social support joins the person's open
    accompaniment of that kind (or opens it): they now see the shared file."""
    kind = ACCOMPANIMENT_OF[referral.kind]  # type: ignore[index]
    organisation = referral.to_organisation
    assert organisation is not None
    accompaniment = Accompaniment.objects.current_of(referral.person, kind).first()
    reason = f"Orientation de {referral.sender_organisation.name} acceptée"
    if accompaniment is None:
        return support_actions.open_accompaniment(
            person=referral.person,
            kind=kind,
            started_on=timezone.localdate(),
            by=by,
            organisation=organisation,
            role=_receiver_role(organisation),
            join_reason=reason,
            request=request,
        )
    if not accompaniment.team.current().filter(user=by).exists():
        support_actions.join_team(
            accompaniment=accompaniment,
            user=by,
            organisation=organisation,
            role=_receiver_role(organisation),
            reason=reason,
            by=by,
            request=request,
        )
    return accompaniment


@transaction.atomic
def accept(
    *,
    referral: Referral,
    by: User | None,
    via: str = Via.APP,
    appointment_at: datetime | None = None,
    place: str = "",
    first_step: str = "",
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """Accept, with an appointment date or a first step. For the binôme (global) and social
    support the member who accepts joins the person's team; for the binôme the appointment
    is the shared diagnostic's, recorded in the file."""
    if referral.kind == ReferralKind.REORIENTATION:
        raise ValidationError("Une demande de réorientation se décide : réorienter ou maintenir.")
    if appointment_at is None and not first_step.strip():
        raise ValidationError("Indiquez la date du rendez-vous ou la première étape prévue.")
    if appointment_at is not None and appointment_at < timezone.now() - _TOLERANCE:
        raise ValidationError("La date du rendez-vous est passée : indiquez une date à venir.")
    now = timezone.now()
    locked, _ = transition(
        referral,
        to_status=Status.ACCEPTED,
        action=EventAction.ACCEPTED,
        by=by,
        via=via,
        message=message,
        fields={
            "appointment_at": appointment_at,
            "first_step": first_step.strip(),
            "answer_message": message,
            "answered_at": now,
            "seen_at": referral.seen_at or now,
        },
    )
    accompaniment = None
    if locked.kind in ACCOMPANIMENT_OF and by is not None:
        accompaniment = _join_support(locked, by=by, request=request)
    if (
        locked.kind == ReferralKind.GLOBAL
        and appointment_at is not None
        and by is not None
        and locked.to_organisation is not None
    ):
        organisation = locked.to_organisation
        appointment = support_actions.record_appointment(
            person=locked.person,
            by=by,
            organisation=organisation,
            at=appointment_at,
            place=(place.strip() or organisation.address or organisation.name)[:200],
            with_whom=f"{by.get_full_name()} ({organisation.name}) — diagnostic partagé"[:200],
            accompaniment=accompaniment,
            request=request,
        )
        locked.appointment = appointment
        locked.save(update_fields=["appointment"])
    step = (
        f"rendez-vous le {timezone.localtime(appointment_at):%d/%m/%Y à %H:%M}"
        if appointment_at is not None
        else f"première étape : {first_step.strip()}"
    )
    trace(
        locked,
        by=by,
        via=via,
        summary=f"Orientation acceptée par {actor_name(by, via, locked)} ({step})",
        request=request,
    )
    notices.answered(locked, actor=by)
    return locked


@transaction.atomic
def decline(
    *,
    referral: Referral,
    by: User | None,
    reason: str,
    message: str = "",
    via: str = Via.APP,
    request: HttpRequest | None = None,
) -> Referral:
    """Decline with a reason from the list (and a message, required for « autre »)."""
    if referral.kind == ReferralKind.RSA:
        raise ValidationError(
            "Une orientation RSA décidée par le département ne se refuse pas : l'organisme "
            "référent peut demander une réorientation, motivée, depuis la page de l'orientation."
        )
    if reason not in DeclineReason.values:
        raise ValidationError("Choisissez le motif du refus dans la liste.")
    if reason == DeclineReason.MAINTAINED and referral.kind != ReferralKind.REORIENTATION:
        raise ValidationError("Ce motif ne concerne que les demandes de réorientation.")
    if reason == DeclineReason.OTHER and not message.strip():
        raise ValidationError("Précisez le motif du refus dans le message.")
    now = timezone.now()
    locked, _ = transition(
        referral,
        to_status=Status.DECLINED,
        action=EventAction.DECLINED,
        by=by,
        via=via,
        message=message,
        fields={
            "decline_reason": reason,
            "answer_message": message,
            "answered_at": now,
            "closed_at": now,
            "seen_at": referral.seen_at or now,
        },
        details={"reason": reason},
    )
    verb = (
        "Réorientation non retenue, accompagnement maintenu"
        if locked.kind == ReferralKind.REORIENTATION
        else "Orientation refusée"
    )
    trace(
        locked,
        by=by,
        via=via,
        summary=f"{verb} par {actor_name(by, via, locked)} : {locked.get_decline_reason_display()}",
        request=request,
        details={"reason": reason},
    )
    notices.answered(locked, actor=by)
    return locked
