"""Sending a referral (the sender's side) and withdrawing it before an answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.documents import check_document
from binome.directory.models import Service, Structure
from binome.organisations.models import (
    Organisation,
    OrganisationKind,
    Partnership,
)
from binome.people.models import Consent, ConsentScope, Person
from binome.referrals import links, notices
from binome.referrals.actions.transitions import transition
from binome.referrals.dedicated import check_recipient
from binome.referrals.models import (
    Attachment,
    EventAction,
    Referral,
    ReferralKind,
    SharedItem,
    SharedItemType,
    Status,
    Urgency,
    Via,
    answer_deadlines,
)
from binome.referrals.records import record_event, trace
from binome.support import actions as support_actions
from binome.support.models import (
    Accompaniment,
    Diagnostic,
    Kind,
    Note,
    Objective,
)
from binome.support.referential import theme_choices

MAX_ATTACHMENTS = 5
# Organisations that accompany persons socially (Axe 3): the département and the CCAS.
SOCIAL_KINDS = (OrganisationKind.DEPARTMENT, OrganisationKind.CCAS)
SHARED_MODELS = {
    SharedItemType.DIAGNOSTIC: Diagnostic,
    SharedItemType.NOTE: Note,
    SharedItemType.OBJECTIVE: Objective,
}


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
    transaction.

    The steps, in order: check the request (reason, barriers), find the recipient of the
    kind, check the recipient organisation, the consent (recorded now if given now), that
    no same referral is open, the documents and the shared items; then save, attach,
    trace, and tell the recipient."""
    if idempotency_key is not None:
        existing = Referral.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    _check_request(reason, barriers)
    to_organisation, service, structure, contact_email = _recipient(
        kind,
        person=person,
        to_organisation=to_organisation,
        service=service,
        structure=structure,
        accompaniment=accompaniment,
        requested_kind=requested_kind,
    )
    if to_organisation is not None:
        _check_recipient_organisation(
            to_organisation, kind=kind, by=by, organisation=organisation, person=person
        )
    # An RSA orientation is the département's decision under the law, not a proposal the
    # person consents to.
    if kind not in (ReferralKind.REORIENTATION, ReferralKind.RSA):
        _check_consent(
            person,
            to_organisation=to_organisation,
            structure=structure,
            consent_method=consent_method,
            by=by,
            organisation=organisation,
            request=request,
        )
    _check_not_open(person, kind, to_organisation, structure)
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
    saved = _save(referral, idempotency_key)
    if saved is not referral:  # the same form, sent a moment before
        return saved
    _attach(referral, items=items, attachments=checked_attachments, by=by)
    record_event(referral, action=EventAction.SENT, from_status="", by=by, via=Via.APP, at=now)
    _trace_sent(
        referral,
        by=by,
        organisation=organisation,
        shared_items=len(items),
        attachments=len(attachments),
        request=request,
    )
    if referral.has_account:
        notices.received(referral, actor=by)
    else:  # a structure without an account: its signed link, by e-mail
        links.send_link(referral=referral, by=by, request=request)
    return referral


def _check_request(reason: str, barriers: Sequence[str]) -> None:
    if not reason.strip():
        raise ValidationError("Indiquez le motif de l'orientation.")
    unknown = set(barriers) - {code for code, _ in theme_choices()}
    if unknown:
        raise ValidationError("Frein inconnu : " + ", ".join(sorted(unknown)))


def _recipient(
    kind: str,
    *,
    person: Person,
    to_organisation: Organisation | None,
    service: Service | None,
    structure: Structure | None,
    accompaniment: Accompaniment | None,
    requested_kind: str,
) -> tuple[Organisation | None, Service | None, Structure | None, str]:
    """Who receives a referral of this kind: the organisation, the directory's service and
    its structure, the contact address of a structure without an account."""
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
    elif kind == ReferralKind.RSA:
        structure, service = None, None
        if to_organisation is None:
            raise ValidationError("Choisissez l'organisme référent.")
    else:
        raise ValidationError("Type d'orientation inconnu.")
    return to_organisation, service, structure, contact_email


def _check_recipient_organisation(
    to_organisation: Organisation,
    *,
    kind: str,
    by: User,
    organisation: Organisation,
    person: Person,
) -> None:
    """Another organisation (or one's own agency's dedicated counselors), active, of the
    person's département or a declared partner."""
    check_recipient(kind=kind, by=by, organisation=organisation, to_organisation=to_organisation)
    if not to_organisation.is_active:
        raise ValidationError(f"« {to_organisation.name} » n'est plus active dans Binôme.")
    if not is_partner(to_organisation, person.department_id):
        raise ValidationError(
            f"« {to_organisation.name} » est une organisation d'un autre département "
            f"({to_organisation.department_id}) qui n'est pas déclarée partenaire de votre "
            "territoire : l'administrateur du territoire peut la déclarer partenaire."
        )


def _check_consent(
    person: Person,
    *,
    to_organisation: Organisation | None,
    structure: Structure | None,
    consent_method: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None,
) -> None:
    """The person's consent to be referred to this recipient: recorded now when she gives
    it now (``consent_method``), else already recorded and not withdrawn."""
    if consent_method and not has_referral_consent(
        person, organisation=to_organisation, structure=structure
    ):
        support_actions.record_consent(
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
    if not has_referral_consent(person, organisation=to_organisation, structure=structure):
        named = to_organisation.name if to_organisation is not None else structure.name  # type: ignore[union-attr]
        raise ValidationError(
            f"La personne n'a pas donné (ou a retiré) son consentement à être orientée vers "
            f"« {named} » : enregistrez ce consentement dans son dossier avant d'orienter."
        )


def _check_not_open(
    person: Person, kind: str, to_organisation: Organisation | None, structure: Structure | None
) -> None:
    duplicate = _open_duplicate(person, kind, to_organisation, structure)
    if duplicate is not None:
        raise ValidationError(
            f"Une orientation de cette personne vers « {duplicate.target_label} » est déjà en "
            f"cours (envoyée le {timezone.localtime(duplicate.sent_at):%d/%m/%Y}, "
            f"{duplicate.get_status_display().lower()})."
        )


def _save(referral: Referral, idempotency_key: uuid.UUID | None) -> Referral:
    """Save the new referral; the one a concurrent submission of the same form (its key)
    saved first, if it won."""
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
    return referral


def _attach(
    referral: Referral,
    *,
    items: Sequence[tuple[str, int]],
    attachments: Sequence[tuple[UploadedFile, str]],
    by: User,
) -> None:
    """The shared items of the file and the documents, checked before."""
    SharedItem.objects.bulk_create(
        SharedItem(referral=referral, item_type=item_type, item_id=item_id)
        for item_type, item_id in items
    )
    for upload, file_type in attachments:
        attachment = Attachment(
            referral=referral,
            name=(upload.name or "document")[:200],
            file_type=file_type,
            size=upload.size or 0,
            uploaded_by=by,
        )
        attachment.file.save(upload.name or "document", upload, save=False)
        attachment.save()


def _trace_sent(
    referral: Referral,
    *,
    by: User,
    organisation: Organisation,
    shared_items: int,
    attachments: int,
    request: HttpRequest | None,
) -> None:
    kind = referral.kind
    if kind == ReferralKind.REORIENTATION:
        summary = (
            f"Demande de réorientation vers l'{Kind(referral.requested_kind).label.lower()} "
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
        details={"kind": kind, "shared_items": shared_items, "attachments": attachments},
    )


@transaction.atomic
def withdraw(
    *, referral: Referral, by: User, message: str = "", request: HttpRequest | None = None
) -> Referral:
    """The sender withdraws the referral, at any time before an answer."""
    now = timezone.now()
    locked, _ = transition(
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
