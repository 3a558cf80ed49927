"""State-changing operations on the directory: organisations edit their structures and
services, the territory moderates new structures, professionals report errors.

Each function is one transaction with its audit line and its e-mails (as the organisations'
invitations: an e-mail that cannot be sent rolls the change back, nothing is half-done).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.directory.models import (
    PublicationStatus,
    ReportStatus,
    Service,
    ServiceReport,
    Structure,
)
from binome.organisations.models import (
    Membership,
    Organisation,
    Role,
    TerritoryRoleKind,
)

LOCAL_SOURCE = "binome"  # ``source`` of the rows created in Binôme


class PublicationRefused(Exception):
    """A service lacks what a counselor needs: ``missing`` names each gap in French."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("; ".join(missing))
        self.missing = missing


def missing_for_publication(service: Service) -> list[str]:
    """What a counselor needs and the service does not say yet (empty: publishable)."""
    missing = []
    if not (service.phone or service.email or service.mobilisation_link):
        missing.append("un moyen de contact (téléphone, courriel ou lien de mobilisation)")
    if not ((service.commune_id and service.address) or service.is_remote):
        missing.append("un lieu d'accueil (commune et adresse) ou le mode d'accueil « À distance »")
    if not service.eligibility_zone:
        missing.append("une zone d'éligibilité (communes, départements ou France entière)")
    return missing


def _place_from_commune(entry: Structure | Service, *, moved: bool = True) -> None:
    """Département, postal code and coordinates of the chosen commune.

    The coordinates are the commune's centre (there is no geocoding of the address); they
    are only replaced when the commune changes or when there are none, so that the precise
    coordinates of an imported entry survive an edit of its other fields.
    """
    commune = entry.commune
    if commune is None:
        entry.department_id = None
        entry.latitude = entry.longitude = None
        entry.postal_code = ""
        entry.commune_name = ""
        return
    entry.department_id = commune.department_id
    if moved or entry.latitude is None or entry.longitude is None:
        entry.latitude, entry.longitude = commune.latitude, commune.longitude
    entry.commune_name = commune.name
    if entry.postal_code not in commune.postal_codes:
        entry.postal_code = commune.postal_codes[0] if commune.postal_codes else ""


def _mark_edited(entry: Structure | Service, by: User) -> None:
    entry.edited_locally_at = timezone.now()
    entry.edited_by = by
    entry.updated_on = timezone.localdate()


def _mail(*, subject: str, template: str, context: dict[str, Any], to: Iterable[str]) -> None:
    recipients = sorted(set(to))
    if not recipients:
        return
    context = {**context, "base_url": settings.BASE_URL}
    message = render_to_string(template, context)
    send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)


def organisation_admin_emails(organisation: Organisation) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(organisation=organisation, role=Role.ADMIN)
        .values_list("user__email", flat=True)
    )


def territory_admins(department_id: str) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            territory_roles__department_id=department_id,
            territory_roles__role=TerritoryRoleKind.TERRITORY_ADMIN,
        ).distinct()
    )


def editors_of(service: Service) -> list[User]:
    """Who keeps the service up to date: its organisation's active members, else the
    administrators of its département's territory."""
    if service.owner_id is not None:
        return list(
            User.objects.filter(
                is_active=True,
                memberships__organisation_id=service.owner_id,
                memberships__is_active=True,
            ).distinct()
        )
    if service.department_id:
        return territory_admins(service.department_id)
    return []


# --- Structures ---------------------------------------------------------------------------


@transaction.atomic
def declare_structure(
    *,
    organisation: Organisation,
    structure: Structure,
    by: User,
    request: HttpRequest | None = None,
) -> Structure:
    """An organisation declares a structure: it waits for the territory's moderation."""
    structure.source = LOCAL_SOURCE
    structure.source_id = str(uuid.uuid4())
    structure.owner = organisation
    structure.status = PublicationStatus.PENDING
    _place_from_commune(structure)
    _mark_edited(structure, by)
    structure.save()
    record(
        AuditKind.STRUCTURE_DECLARED,
        actor=by,
        organisation=organisation,
        department_id=structure.department_id,
        target=structure,
        what=structure.name,
        request=request,
    )
    admins = territory_admins(structure.department_id) if structure.department_id else []
    _mail(
        subject=f"Binôme : nouvelle structure à valider — {structure.name}",
        template="directory/email/structure_declared.txt",
        context={
            "structure": structure,
            "organisation": organisation,
            "by": by,
            "link": reverse("directory:moderation", args=[structure.department_id]),
        },
        to=[admin.email for admin in admins],
    )
    return structure


@transaction.atomic
def update_structure(
    *, structure: Structure, changed: Sequence[str], by: User, request: HttpRequest | None = None
) -> Structure:
    """Its organisation edits a structure; a refused one goes back to moderation."""
    _place_from_commune(structure, moved="commune" in changed)
    _mark_edited(structure, by)
    resubmitted = structure.status == PublicationStatus.REJECTED
    if resubmitted:
        structure.status = PublicationStatus.PENDING
    structure.save()
    record(
        AuditKind.STRUCTURE_UPDATED,
        actor=by,
        organisation=structure.owner,
        department_id=structure.department_id,
        target=structure,
        what=structure.name,
        details={"fields": list(changed), "resubmitted": resubmitted},
        request=request,
    )
    return structure


def _moderate(
    *,
    structure: Structure,
    approve: bool,
    reason: str,
    by: User,
    request: HttpRequest | None,
) -> Structure:
    if structure.status != PublicationStatus.PENDING:
        raise ValueError("Cette structure n'est pas en attente de modération.")
    structure.status = PublicationStatus.PUBLISHED if approve else PublicationStatus.REJECTED
    structure.rejection_reason = "" if approve else reason
    structure.moderated_at = timezone.now()
    structure.moderated_by = by
    structure.save(
        update_fields=["status", "rejection_reason", "moderated_at", "moderated_by", "updated_at"]
    )
    # Services published while the structure waited follow its fate.
    waiting = Service.objects.filter(structure=structure, status=PublicationStatus.PENDING)
    released = list(waiting.values_list("pk", flat=True))
    waiting.update(
        status=PublicationStatus.PUBLISHED if approve else PublicationStatus.DRAFT,
        updated_at=timezone.now(),
    )
    record(
        AuditKind.STRUCTURE_APPROVED if approve else AuditKind.STRUCTURE_REJECTED,
        actor=by,
        organisation=structure.owner,
        department_id=structure.department_id,
        target=structure,
        what=structure.name,
        details={"reason": reason, "services": released} if not approve else {"services": released},
        request=request,
    )
    if structure.owner is not None:
        verdict = "validée" if approve else "refusée"
        _mail(
            subject=f"Binôme : votre structure « {structure.name} » est {verdict}",
            template="directory/email/structure_moderated.txt",
            context={
                "structure": structure,
                "approved": approve,
                "reason": reason,
                "services": len(released),
                "link": reverse("directory:my_services", args=[structure.owner_id]),
            },
            to=organisation_admin_emails(structure.owner),
        )
    return structure


@transaction.atomic
def approve_structure(
    *, structure: Structure, by: User, request: HttpRequest | None = None
) -> Structure:
    """The territory approves a declared structure: it and its waiting services are published."""
    return _moderate(structure=structure, approve=True, reason="", by=by, request=request)


@transaction.atomic
def reject_structure(
    *, structure: Structure, reason: str, by: User, request: HttpRequest | None = None
) -> Structure:
    """The territory refuses a declared structure, saying why; its services stay unpublished."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Indiquez le motif du refus : il est envoyé à l'organisation.")
    return _moderate(structure=structure, approve=False, reason=reason, by=by, request=request)


# --- Services -----------------------------------------------------------------------------


@transaction.atomic
def save_service(
    *,
    service: Service,
    changed: Sequence[str],
    publish: bool = False,
    by: User,
    request: HttpRequest | None = None,
) -> Service:
    """Create or edit a service of one's organisation, as a draft or published.

    Publishing (or keeping published) a service that lacks a contact, a place or an
    eligibility zone raises ``PublicationRefused`` and writes nothing. A service of a
    structure that waits for moderation waits with it ("en attente de modération").
    """
    created = service.pk is None
    was_public = service.status in (PublicationStatus.PUBLISHED, PublicationStatus.PENDING)
    _place_from_commune(service, moved=created or "commune" in changed)
    if publish or was_public:
        missing = missing_for_publication(service)
        if missing:
            raise PublicationRefused(missing)
        structure_published = service.structure.status == PublicationStatus.PUBLISHED
        service.status = (
            PublicationStatus.PUBLISHED if structure_published else PublicationStatus.PENDING
        )
    else:
        service.status = PublicationStatus.DRAFT
    if created:
        service.source = LOCAL_SOURCE
        service.source_id = str(uuid.uuid4())
        service.owner = service.structure.owner
    _mark_edited(service, by)
    service.save()
    audit = {"fields": list(changed), "status": service.status}
    record(
        AuditKind.SERVICE_CREATED if created else AuditKind.SERVICE_UPDATED,
        actor=by,
        organisation=service.owner,
        department_id=service.department_id or service.structure.department_id,
        target=service,
        what=service.name,
        details=audit,
        request=request,
    )
    if publish and not was_public:
        record(
            AuditKind.SERVICE_PUBLISHED,
            actor=by,
            organisation=service.owner,
            department_id=service.department_id or service.structure.department_id,
            target=service,
            what=service.name,
            details={"status": service.status},
            request=request,
        )
    return service


@transaction.atomic
def unpublish_service(*, service: Service, by: User, request: HttpRequest | None = None) -> Service:
    """Withdraw a service from the directory (it becomes a draft again)."""
    service.status = PublicationStatus.DRAFT
    _mark_edited(service, by)
    service.save(
        update_fields=["status", "edited_locally_at", "edited_by", "updated_on", "updated_at"]
    )
    record(
        AuditKind.SERVICE_UNPUBLISHED,
        actor=by,
        organisation=service.owner,
        department_id=service.department_id,
        target=service,
        what=service.name,
        request=request,
    )
    return service


@transaction.atomic
def confirm_service(*, service: Service, by: User, request: HttpRequest | None = None) -> Service:
    """ "Les informations sont à jour": the service is checked today, nothing else changes."""
    _mark_edited(service, by)
    service.save(update_fields=["edited_locally_at", "edited_by", "updated_on", "updated_at"])
    record(
        AuditKind.SERVICE_CONFIRMED,
        actor=by,
        organisation=service.owner,
        department_id=service.department_id,
        target=service,
        what=service.name,
        request=request,
    )
    return service


# --- Error reports ------------------------------------------------------------------------


@transaction.atomic
def report_service(
    *,
    service: Service,
    reasons: Sequence[str],
    details: str,
    by: User,
    organisation: Organisation | None,
    request: HttpRequest | None = None,
) -> ServiceReport:
    """A professional reports an error; the service's editors are told by e-mail."""
    report = ServiceReport.objects.create(
        service=service,
        reasons=list(reasons),
        details=details.strip(),
        reporter=by,
        reporter_organisation=organisation,
    )
    record(
        AuditKind.SERVICE_REPORTED,
        actor=by,
        organisation=organisation,
        department_id=service.department_id,
        target=service,
        what=service.name,
        details={"report": report.pk, "reasons": list(reasons)},
        request=request,
    )
    if service.owner_id is not None:
        link = reverse("directory:my_services", args=[service.owner_id])
    elif service.department_id:
        link = reverse("directory:moderation", args=[service.department_id])
    else:
        link = reverse("directory:service_detail", args=[service.pk])
    _mail(
        subject=f"Binôme : une erreur est signalée sur « {service.name} »",
        template="directory/email/service_reported.txt",
        context={
            "service": service,
            "report": report,
            "by": by,
            "organisation": organisation,
            "link": link,
        },
        to=[editor.email for editor in editors_of(service) if editor.pk != by.pk],
    )
    return report


@transaction.atomic
def resolve_report(
    *, report: ServiceReport, by: User, request: HttpRequest | None = None
) -> ServiceReport:
    """The service's editors mark a report as dealt with."""
    if report.status == ReportStatus.RESOLVED:
        return report
    report.status = ReportStatus.RESOLVED
    report.resolved_at = timezone.now()
    report.resolved_by = by
    report.save(update_fields=["status", "resolved_at", "resolved_by"])
    record(
        AuditKind.SERVICE_REPORT_RESOLVED,
        actor=by,
        organisation=report.service.owner,
        department_id=report.service.department_id,
        target=report.service,
        what=report.service.name,
        details={"report": report.pk},
        request=request,
    )
    return report
