"""State-changing operations on referrals.

Each is one transaction: the change under a row lock, its :class:`ReferralEvent`, the
line in the person's timeline with its audit row (``support.actions.trace``), and the
notifications. Refusals are ``ValidationError`` with a French message, shown as is.

``by`` is None for an answer given through a signed link (``via="link"``) or by the
periodic job (``via="job"``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.documents import check_document
from binome.directory.models import Service, Structure
from binome.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Partnership,
)
from binome.people import actions as people_actions
from binome.people.models import Consent, ConsentScope, Person
from binome.referrals import links, notices
from binome.referrals.deadlines import expiry_summary, reminder_summary
from binome.referrals.deadlines import run_deadlines as run_deadlines
from binome.referrals.dedicated import check_recipient
from binome.referrals.models import (
    AWAITING,
    DEFAULT_URGENT_HOURS,
    NUDGE_INTERVAL,
    OPEN,
    OUTCOME_STATES,
    URGENT_HOURS_MAX,
    URGENT_HOURS_MIN,
    Attachment,
    DeclineReason,
    EventAction,
    Referral,
    ReferralEvent,
    ReferralKind,
    ReferralSettings,
    SharedItem,
    SharedItemType,
    Status,
    Urgency,
    Via,
    answer_deadlines,
)
from binome.referrals.records import lock, record_event, trace
from binome.support import actions as support_actions
from binome.support.models import (
    Accompaniment,
    Diagnostic,
    EventKind,
    ExitReason,
    Kind,
    Note,
    Objective,
    TeamMember,
    TeamRole,
)
from binome.support.referential import theme_choices

MAX_ATTACHMENTS = 5
# A form filled a minute before the appointment's time is not refused.
_TOLERANCE = timedelta(minutes=5)
# Organisations that accompany persons socially (Axe 3): the département and the CCAS.
SOCIAL_KINDS = (OrganisationKind.DEPARTMENT, OrganisationKind.CCAS)
SHARED_MODELS = {
    SharedItemType.DIAGNOSTIC: Diagnostic,
    SharedItemType.NOTE: Note,
    SharedItemType.OBJECTIVE: Objective,
}
ACCOMPANIMENT_OF = {ReferralKind.GLOBAL: Kind.GLOBAL, ReferralKind.SOCIAL: Kind.SOCIAL}


def has_referral_consent(
    person: Person, *, organisation: Organisation | None, structure: Structure | None
) -> bool:
    """A recorded, unwithdrawn consent to be referred to this organisation or structure."""
    consents = Consent.objects.active().filter(person=person, scope=ConsentScope.REFER)
    names = []
    if organisation is not None:
        names.append(consents.filter(organisation=organisation))
    if structure is not None:
        names.append(consents.filter(structure=structure))
    return any(qs.exists() for qs in names)


def is_partner(organisation: Organisation, department_id: str) -> bool:
    """An organisation of the département, or one declared a partner of its territory."""
    return (
        organisation.department_id == department_id
        or Partnership.objects.filter(
            department_id=department_id, organisation=organisation
        ).exists()
    )


def _check_attachments(attachments: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError(f"Joignez {MAX_ATTACHMENTS} documents au plus.")
    checked = []
    for upload in attachments:
        kind = check_document(
            upload,
            limit=settings.REFERRAL_ATTACHMENT_MAX_BYTES,
            label=f"Le document « {upload.name} »",
        )
        checked.append((upload, kind))
    return checked


def _check_shared_items(person: Person, items: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """The chosen items exist in this person's file (the form offered only those the
    sender sees)."""
    chosen = sorted(set(items))
    for item_type, item_id in chosen:
        model = SHARED_MODELS.get(item_type)  # type: ignore[call-overload]
        if model is None or not model.objects.filter(pk=item_id, person=person).exists():
            raise ValidationError("Un des éléments du dossier choisis n'existe plus : rechargez.")
    return chosen


def _open_duplicate(
    person: Person, kind: str, to_organisation: Organisation | None, structure: Structure | None
) -> Referral | None:
    return (
        Referral.objects.open()
        .filter(person=person, kind=kind, to_organisation=to_organisation, structure=structure)
        .first()
    )


@transaction.atomic
def send_referral(
    *,
    person: Person,
    kind: str,
    by: User,
    organisation: Organisation,
    reason: str,
    to_organisation: Organisation | None = None,
    service: Service | None = None,
    structure: Structure | None = None,
    barriers: Sequence[str] = (),
    urgency: str = Urgency.NORMAL,
    shared_items: Iterable[tuple[str, int]] = (),
    attachments: Sequence[UploadedFile] = (),
    accompaniment: Accompaniment | None = None,
    requested_kind: str = "",
    consent_method: str = "",
    idempotency_key: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Send a referral. The same form posted twice (same ``idempotency_key``) returns the
    referral created the first time. ``consent_method``: the person consents now (orally
    or in writing): the consent naming the recipient is recorded first, in the same
    transaction."""
    if idempotency_key is not None:
        existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if not reason.strip():
        raise ValidationError("Indiquez le motif de l'orientation.")
    unknown = set(barriers) - {code for code, _ in theme_choices()}
    if unknown:
        raise ValidationError("Frein inconnu : " + ", ".join(sorted(unknown)))
    contact_email = ""
    if kind == ReferralKind.REORIENTATION:
        to_organisation, service, structure = None, None, None
        if accompaniment is None or accompaniment.person_id != person.pk:
            raise ValidationError("Choisissez l'accompagnement à réorienter.")
        if not accompaniment.is_open:
            raise ValidationError("Cet accompagnement est terminé : il ne se réoriente plus.")
        if requested_kind not in Kind.values or requested_kind == accompaniment.kind:
            raise ValidationError(
                "Choisissez un autre type d'accompagnement que l'actuel "
                f"({accompaniment.get_kind_display().lower()})."
            )
    elif kind == ReferralKind.SERVICE:
        if service is not None:
            structure = service.structure
        if structure is None:
            raise ValidationError("Choisissez le service de l'annuaire vers lequel orienter.")
        owner = structure.owner
        to_organisation = owner if owner is not None and owner.is_active else None
        contact_email = (service.email if service is not None else "") or structure.email
        if to_organisation is None and not contact_email:
            raise ValidationError(
                f"« {structure.name} » n'a ni compte dans Binôme ni adresse e-mail dans "
                "l'annuaire : contactez la structure directement."
            )
    elif kind in (ReferralKind.GLOBAL, ReferralKind.SOCIAL):
        structure, service = None, None
        if to_organisation is None:
            raise ValidationError("Choisissez l'organisation destinataire.")
        if kind == ReferralKind.SOCIAL and to_organisation.kind not in SOCIAL_KINDS:
            raise ValidationError(
                "L'accompagnement social est assuré par le service social du département ou "
                f"par un CCAS : « {to_organisation.name} » n'en est pas un."
            )
        if kind == ReferralKind.GLOBAL and to_organisation.kind == OrganisationKind.CHILDCARE:
            raise ValidationError(
                f"« {to_organisation.name} » n'assure pas l'accompagnement global."
            )
    else:
        raise ValidationError("Type d'orientation inconnu.")
    if to_organisation is not None:
        check_recipient(
            kind=kind, by=by, organisation=organisation, to_organisation=to_organisation
        )
        if not to_organisation.is_active:
            raise ValidationError(f"« {to_organisation.name} » n'est plus active dans Binôme.")
        if not is_partner(to_organisation, person.department_id):
            raise ValidationError(
                f"« {to_organisation.name} » est une organisation d'un autre département "
                f"({to_organisation.department_id}) qui n'est pas déclarée partenaire de votre "
                "territoire : l'administrateur du territoire peut la déclarer partenaire."
            )
    if (
        kind != ReferralKind.REORIENTATION
        and consent_method
        and not has_referral_consent(person, organisation=to_organisation, structure=structure)
    ):
        people_actions.record_consent(
            person=person,
            scope=ConsentScope.REFER,
            method=consent_method,
            given_on=timezone.localdate(),
            by=by,
            organisation=organisation,
            recipient=to_organisation if structure is None else None,
            structure=structure,
            request=request,
        )
    if kind != ReferralKind.REORIENTATION and not has_referral_consent(
        person, organisation=to_organisation, structure=structure
    ):
        named = to_organisation.name if to_organisation is not None else structure.name  # type: ignore[union-attr]
        raise ValidationError(
            f"La personne n'a pas donné (ou a retiré) son consentement à être orientée vers "
            f"« {named} » : enregistrez ce consentement dans son dossier avant d'orienter."
        )
    duplicate = _open_duplicate(person, kind, to_organisation, structure)
    if duplicate is not None:
        raise ValidationError(
            f"Une orientation de cette personne vers « {duplicate.target_label} » est déjà en "
            f"cours (envoyée le {timezone.localtime(duplicate.sent_at):%d/%m/%Y}, "
            f"{duplicate.get_status_display().lower()})."
        )
    checked_attachments = _check_attachments(attachments)
    items = _check_shared_items(person, shared_items)
    now = timezone.now()
    if urgency not in Urgency.values:
        raise ValidationError("Urgence inconnue.")
    due_at, due_on, expires_on = answer_deadlines(
        now, person.department_id, urgent=urgency == Urgency.URGENT
    )
    referral = Referral(
        kind=kind,
        person=person,
        department_id=person.department_id,
        sender=by,
        sender_organisation=organisation,
        to_organisation=to_organisation,
        structure=structure,
        service=service,
        contact_email=contact_email,
        reason=reason.strip(),
        barriers=list(dict.fromkeys(barriers)),
        urgency=urgency,
        accompaniment=accompaniment,
        requested_kind=requested_kind if kind == ReferralKind.REORIENTATION else "",
        sent_at=now,
        due_at=due_at,
        due_on=due_on,
        expires_on=expires_on,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError:
        # A concurrent submission won: the same form (its key), or the same referral.
        if idempotency_key is not None:
            existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise ValidationError(
            "Une orientation de cette personne vers ce destinataire vient d'être envoyée."
        ) from None
    SharedItem.objects.bulk_create(
        SharedItem(referral=referral, item_type=item_type, item_id=item_id)
        for item_type, item_id in items
    )
    for upload, file_type in checked_attachments:
        attachment = Attachment(
            referral=referral,
            name=(upload.name or "document")[:200],
            file_type=file_type,
            size=upload.size or 0,
            uploaded_by=by,
        )
        attachment.file.save(upload.name or "document", upload, save=False)
        attachment.save()
    record_event(referral, action=EventAction.SENT, from_status="", by=by, via=Via.APP, at=now)
    if kind == ReferralKind.REORIENTATION:
        summary = (
            f"Demande de réorientation vers l'{Kind(requested_kind).label.lower()} "
            f"par {by.get_full_name()} ({organisation.name})"
        )
    else:
        summary = (
            f"Orientation envoyée vers {referral.target_label} par {by.get_full_name()} "
            f"({organisation.name})"
        )
    trace(
        referral,
        by=by,
        via=Via.APP,
        summary=summary,
        audit_kind=AuditKind.REFERRAL_SENT,
        request=request,
        details={"kind": kind, "shared_items": len(items), "attachments": len(attachments)},
    )
    if referral.has_account:
        notices.received(referral, actor=by)
    else:  # a structure without an account: its signed link, by e-mail
        links.send_link(referral=referral, by=by, request=request)
    return referral


def _refusal(referral: Referral, to_status: str) -> ValidationError:
    """Why the referral cannot go to that state, for the one who tried."""
    label = dict(Status.choices)
    last = referral.events.exclude(action__in=[EventAction.REMINDED, EventAction.ASSIGNED]).last()
    if last is not None and referral.status != Status.SENT:
        when = timezone.localtime(last.at)
        return ValidationError(
            f"Cette orientation est déjà « {label[referral.status].lower()} » (le "
            f"{when:%d/%m/%Y à %H:%M}, par {last.actor_label}) : votre action n'a pas été "
            "enregistrée."
        )
    return ValidationError(
        f"Une orientation « {label[referral.status].lower()} » ne peut pas passer à "
        f"« {label.get(to_status, to_status).lower()} »."
    )


def _transition(
    referral: Referral,
    *,
    to_status: str,
    action: str,
    by: User | None,
    via: str,
    message: str = "",
    fields: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Referral, str]:
    """Lock, check the state machine, apply; returns the locked referral and its former
    status. The caller writes the trace and the notifications."""
    locked = lock(referral)
    if not locked.can_go_to(to_status):
        raise _refusal(locked, to_status)
    from_status = locked.status
    locked.status = to_status
    update = ["status"]
    for name, value in (fields or {}).items():
        setattr(locked, name, value)
        update.append(name)
    locked.save(update_fields=update)
    record_event(
        locked,
        action=action,
        from_status=from_status,
        by=by,
        via=via,
        message=message,
        details=details,
    )
    return locked, from_status


def _who(by: User | None, via: str, referral: Referral) -> str:
    if by is not None:
        return by.get_full_name()
    if via == Via.LINK:
        return f"{referral.target_label} (lien sécurisé)"
    return "Binôme (traitement automatique)"


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
    locked, _ = _transition(
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
        summary=f"Orientation vers {locked.target_label} vue par {_who(by, via, locked)}",
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
    locked, _ = _transition(
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
        summary=f"Orientation acceptée par {_who(by, via, locked)} ({step})",
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
    if reason not in DeclineReason.values:
        raise ValidationError("Choisissez le motif du refus dans la liste.")
    if reason == DeclineReason.MAINTAINED and referral.kind != ReferralKind.REORIENTATION:
        raise ValidationError("Ce motif ne concerne que les demandes de réorientation.")
    if reason == DeclineReason.OTHER and not message.strip():
        raise ValidationError("Précisez le motif du refus dans le message.")
    now = timezone.now()
    locked, _ = _transition(
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
        summary=f"{verb} par {_who(by, via, locked)} : {locked.get_decline_reason_display()}",
        request=request,
        details={"reason": reason},
    )
    notices.answered(locked, actor=by)
    return locked


@transaction.atomic
def withdraw(
    *, referral: Referral, by: User, message: str = "", request: HttpRequest | None = None
) -> Referral:
    """The sender withdraws the referral, at any time before an answer."""
    now = timezone.now()
    locked, _ = _transition(
        referral,
        to_status=Status.WITHDRAWN,
        action=EventAction.WITHDRAWN,
        by=by,
        via=Via.APP,
        message=message,
        fields={"closed_at": now},
    )
    trace(
        locked,
        by=by,
        via=Via.APP,
        summary=f"Orientation vers {locked.target_label} retirée par {by.get_full_name()}",
        request=request,
    )
    if locked.has_account:
        notices.withdrawn(locked, actor=by)
    return locked


def _check_outcome_date(on: date | None, referral: Referral) -> None:
    if on is None:
        return
    if on > timezone.localdate():
        raise ValidationError("La date ne peut pas être dans le futur.")
    if on < timezone.localdate(referral.sent_at):
        raise ValidationError(
            "La date ne peut pas précéder l'envoi de l'orientation "
            f"({timezone.localtime(referral.sent_at):%d/%m/%Y})."
        )


# The outcomes of a referral to a service: the step each records and the date it sets.
# From which states each may come is the state machine's (``TRANSITIONS``).
OUTCOMES: dict[str, tuple[str, str]] = {
    Status.STARTED: (EventAction.STARTED, "started_at"),
    Status.COMPLETED: (EventAction.COMPLETED, "closed_at"),
    Status.ABANDONED: (EventAction.ABANDONED, "closed_at"),
    Status.NO_SHOW: (EventAction.NO_SHOW, "closed_at"),
}
assert set(OUTCOMES) == set(OUTCOME_STATES)


@transaction.atomic
def record_outcome(
    *,
    referral: Referral,
    outcome: str,
    by: User | None,
    via: str = Via.APP,
    on: date | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The outcome of a referral to a service, ``on`` the day it happened (not in the
    future, not before the sending): its step, its timeline line, the sender notified."""
    action, date_field = OUTCOMES[outcome]
    _check_outcome_date(on, referral)
    locked, _ = _transition(
        referral,
        to_status=outcome,
        action=action,
        by=by,
        via=via,
        message=message,
        fields={date_field: timezone.now(), "outcome_message": message},
        details={"on": on.isoformat()} if on else None,
    )
    label = locked.get_status_display().lower()
    when = f" le {on:%d/%m/%Y}" if on else ""
    trace(
        locked,
        by=by,
        via=via,
        summary=f"Orientation vers {locked.target_label} : {label}{when} "
        f"(indiqué par {_who(by, via, locked)})",
        request=request,
    )
    notices.outcome(locked, actor=by)
    return locked


def start(
    *,
    referral: Referral,
    by: User | None,
    via: str = Via.APP,
    on: date | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The person started with the service."""
    return record_outcome(
        referral=referral,
        outcome=Status.STARTED,
        by=by,
        via=via,
        on=on,
        message=message,
        request=request,
    )


def complete(
    *,
    referral: Referral,
    by: User | None,
    via: str = Via.APP,
    on: date | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The person went through the service to its end."""
    return record_outcome(
        referral=referral,
        outcome=Status.COMPLETED,
        by=by,
        via=via,
        on=on,
        message=message,
        request=request,
    )


def abandon(
    *,
    referral: Referral,
    by: User | None,
    via: str = Via.APP,
    on: date | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The person left the service before its end."""
    return record_outcome(
        referral=referral,
        outcome=Status.ABANDONED,
        by=by,
        via=via,
        on=on,
        message=message,
        request=request,
    )


def no_show(
    *,
    referral: Referral,
    by: User | None,
    via: str = Via.APP,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The person never came."""
    return record_outcome(
        referral=referral,
        outcome=Status.NO_SHOW,
        by=by,
        via=via,
        message=message,
        request=request,
    )


@transaction.atomic
def remind(*, referral: Referral, today: date | None = None) -> bool:
    """Remind the receiving side of an unanswered referral past its due date. Once:
    returns False (and changes nothing) when already reminded, answered or expired.

    One referral, locked and re-checked. The daily job does the same for many at once
    (:func:`binome.referrals.deadlines.remind_many`); a test keeps both writing the same
    rows."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    locked = lock(referral)
    if (
        locked.status not in AWAITING
        or locked.reminded_at is not None
        or locked.due_on > today
        or locked.expires_on <= today
        # An urgent referral is reminded on its clock, once its due time has passed.
        or (locked.is_urgent and locked.due_at is not None and locked.due_at > now)
    ):
        return False
    locked.reminded_at = now
    locked.save(update_fields=["reminded_at"])
    record_event(
        locked, action=EventAction.REMINDED, from_status=locked.status, by=None, via=Via.JOB
    )
    trace(
        locked,
        by=None,
        via=Via.JOB,
        summary=reminder_summary(locked),
    )
    if locked.has_account:
        notices.reminded(locked)
    else:
        links.send_reminder(locked)
    return True


def last_nudge(referral: Referral) -> ReferralEvent | None:
    """The referral's latest « Relancer », whoever made it."""
    return referral.events.filter(action=EventAction.NUDGED).order_by("-at", "-id").first()


def can_nudge_now(referral: Referral, now: datetime | None = None) -> bool:
    """Unanswered, and not nudged in the last 24 hours."""
    if not referral.is_awaiting:
        return False
    last = last_nudge(referral)
    return last is None or last.at <= (now or timezone.now()) - NUDGE_INTERVAL


@transaction.atomic
def nudge(*, referral: Referral, by: User, request: HttpRequest | None = None) -> Referral:
    """« Relancer »: the sender's side reminds the receiver of an unanswered referral
    (e-mail and in-app), once a day at most whoever nudged."""
    now = timezone.now()
    locked = lock(referral)
    if not locked.is_awaiting:
        raise ValidationError(
            f"Cette orientation est « {locked.get_status_display().lower()} » : elle ne se "
            "relance plus."
        )
    last = last_nudge(locked)
    if last is not None and last.at > now - NUDGE_INTERVAL:
        raise ValidationError(
            f"Cette orientation a déjà été relancée le "
            f"{timezone.localtime(last.at):%d/%m/%Y à %H:%M} par {last.actor_label} : "
            "une relance par jour au plus."
        )
    event = record_event(
        locked,
        action=EventAction.NUDGED,
        from_status=locked.status,
        by=by,
        via=Via.APP,
        at=now,
    )
    trace(
        locked,
        by=by,
        via=Via.APP,
        summary=f"Orientation vers {locked.target_label} relancée par {by.get_full_name()}",
        audit_kind=AuditKind.REFERRAL_CHANGED,
        request=request,
        details={"nudge": event.pk},
    )
    if locked.has_account:
        notices.nudged(locked, actor=by, key=str(event.pk))
    else:
        links.send_reminder(locked)
    return locked


@transaction.atomic
def expire(*, referral: Referral, today: date | None = None) -> bool:
    """Close an unanswered referral past its expiry date. Returns False when it was
    answered, withdrawn or expired meanwhile. One referral; the daily job expires many at
    once (:func:`binome.referrals.deadlines.expire_many`), with the same rows."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    locked = lock(referral)
    if locked.status not in AWAITING or locked.expires_on > today:
        return False
    locked, _ = _transition(
        locked,
        to_status=Status.EXPIRED,
        action=EventAction.EXPIRED,
        by=None,
        via=Via.JOB,
        fields={"closed_at": now},
    )
    trace(
        locked,
        by=None,
        via=Via.JOB,
        summary=expiry_summary(locked),
    )
    notices.expired(locked)
    return True


@transaction.atomic
def assign(
    *,
    referrals: Sequence[Referral],
    to_user: User | None,
    organisation: Organisation,
    by: User,
    request: HttpRequest | None = None,
) -> int:
    """Assign open referrals received by ``organisation`` to one of its active members (or
    to nobody). Returns the number changed."""
    if (
        to_user is not None
        and not Membership.objects.active().filter(user=to_user, organisation=organisation).exists()
    ):
        raise ValidationError(f"{to_user.get_full_name()} n'est pas membre de {organisation}.")
    ids = sorted({r.pk for r in referrals})
    locked = list(
        Referral.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, to_organisation=organisation, status__in=OPEN)
        .select_related("person", "sender", "sender_organisation", "to_organisation")
        .order_by("pk")
    )
    changed = 0
    for referral in locked:
        if referral.assigned_to_id == (to_user.pk if to_user else None):
            continue
        referral.assigned_to = to_user
        referral.save(update_fields=["assigned_to"])
        record_event(
            referral,
            action=EventAction.ASSIGNED,
            from_status=referral.status,
            by=by,
            via=Via.APP,
            details={"to": to_user.pk if to_user else None},
        )
        support_actions.trace(
            EventKind.REFERRAL,
            AuditKind.REFERRAL_ASSIGNED,
            person=referral.person,
            by=by,
            organisation=referral.sender_organisation,
            target=referral,
            summary=(
                f"Orientation attribuée à {to_user.get_full_name()} ({organisation.name})"
                if to_user
                else f"Orientation remise à toute l'équipe de {organisation.name}"
            ),
            request=request,
        )
        if to_user is not None:
            notices.assigned(referral, actor=by)
        changed += 1
    return changed


@transaction.atomic
def set_delays(
    *,
    department_id: str,
    reminder_days: int,
    expiry_days: int,
    urgent_hours: int = DEFAULT_URGENT_HOURS,
    by: User,
    request: HttpRequest | None = None,
) -> ReferralSettings:
    """The territory's delays; they apply to the referrals sent from now on."""
    if not (1 <= reminder_days <= 90 and 1 <= expiry_days <= 180):
        raise ValidationError("Relance entre 1 et 90 jours, expiration entre 1 et 180 jours.")
    if not URGENT_HOURS_MIN <= urgent_hours <= URGENT_HOURS_MAX:
        raise ValidationError(
            f"Le délai de réponse d'une orientation urgente est entre {URGENT_HOURS_MIN} et "
            f"{URGENT_HOURS_MAX} heures."
        )
    found, _ = ReferralSettings.objects.update_or_create(
        department_id=department_id,
        defaults={
            "reminder_days": reminder_days,
            "expiry_days": expiry_days,
            "urgent_hours": urgent_hours,
        },
    )
    record(
        AuditKind.REFERRAL_SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what=f"Délais des orientations : relance après {reminder_days} jours, expiration "
        f"{expiry_days} jours plus tard, réponse à une orientation urgente en "
        f"{urgent_hours} heures",
        request=request,
    )
    return found


@transaction.atomic
def declare_partner(
    *,
    department_id: str,
    organisation: Organisation,
    by: User,
    request: HttpRequest | None = None,
) -> Partnership:
    """Declare an organisation of another département a partner of the territory."""
    if organisation.department_id == department_id:
        raise ValidationError(f"« {organisation.name} » fait déjà partie du territoire.")
    partnership, created = Partnership.objects.get_or_create(
        department_id=department_id, organisation=organisation, defaults={"declared_by": by}
    )
    if created:
        record(
            AuditKind.REFERRAL_SETTINGS_CHANGED,
            actor=by,
            department_id=department_id,
            target=partnership,
            what=f"Partenaire déclaré : {organisation.name} ({organisation.department_id})",
            request=request,
        )
    return partnership


@transaction.atomic
def remove_partner(
    *, partnership: Partnership, by: User, request: HttpRequest | None = None
) -> None:
    """The referrals already sent stay; new ones to that organisation are refused."""
    record(
        AuditKind.REFERRAL_SETTINGS_CHANGED,
        actor=by,
        department_id=partnership.department_id,
        target=partnership,
        what=f"Partenaire retiré : {partnership.organisation.name}",
        request=request,
    )
    partnership.delete()


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
    locked, _ = _transition(
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
