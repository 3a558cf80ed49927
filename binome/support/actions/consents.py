"""Consents: recorded for the person, withdrawn by a professional or by the person in
her own space. Each with its timeline line and its audit row."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.documents import check_document
from binome.directory.models import Structure
from binome.organisations.models import Organisation
from binome.people.models import (
    Consent,
    ConsentMethod,
    ConsentScope,
    Person,
)
from binome.support.actions.timeline import add_event, trace
from binome.support.models import EventKind, Visibility


@transaction.atomic
def record_consent(
    *,
    person: Person,
    scope: str,
    method: str,
    given_on: date,
    by: User,
    organisation: Organisation,
    recipient: Organisation | None = None,
    structure: Structure | None = None,
    document: UploadedFile | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    if scope == ConsentScope.REFER and recipient is None and structure is None:
        raise ValidationError(
            "Nommez l'organisation vers laquelle la personne accepte d'être orientée."
        )
    if recipient is not None and structure is not None:
        raise ValidationError(
            "Un consentement nomme une organisation ou une structure, pas les deux."
        )
    if method == ConsentMethod.SIGNED_DOCUMENT and document is None:
        raise ValidationError("Joignez le document signé (PDF ou image).")
    if given_on > timezone.localdate():
        raise ValidationError("La date du consentement ne peut pas être dans le futur.")
    consent = Consent(
        person=person,
        scope=scope,
        method=method,
        given_on=given_on,
        recorded_by=by,
        organisation=recipient if scope == ConsentScope.REFER else None,
        structure=structure if scope == ConsentScope.REFER else None,
    )
    if document is not None:
        consent.document_type = check_document(
            document, limit=settings.CONSENT_DOCUMENT_MAX_BYTES, label="Le document signé"
        )
        consent.document.save(f"document.{consent.document_type}", document, save=False)
    consent.save()
    summary = f"Consentement recueilli : {consent.get_scope_display().lower()}"
    if consent.organisation is not None:
        summary += f" ({consent.organisation.name})"
    elif consent.structure is not None:
        summary += f" ({consent.structure.name})"
    trace(
        EventKind.CONSENT,
        AuditKind.CONSENT_RECORDED,
        person=person,
        by=by,
        organisation=organisation,
        visibility=Visibility.TEAM_AND_PERSON,
        target=consent,
        summary=summary,
        request=request,
    )
    return consent


@transaction.atomic
def withdraw_consent(
    *,
    consent: Consent,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Consent:
    """Withdraw a consent: effective at once (the access rules read it on every request)."""
    consent = Consent.objects.select_for_update().select_related("person").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise ValidationError(
            "Ce consentement a déjà été retiré le "
            f"{timezone.localtime(consent.withdrawn_at):%d/%m/%Y à %H:%M} : rien n'a changé."
        )
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = by
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    summary = f"Consentement retiré : {consent.get_scope_display().lower()}"
    trace(
        EventKind.CONSENT,
        AuditKind.CONSENT_WITHDRAWN,
        person=consent.person,
        by=by,
        organisation=organisation,
        visibility=Visibility.TEAM_AND_PERSON,
        target=consent,
        summary=summary,
        request=request,
    )
    return consent


@transaction.atomic
def withdraw_own_consent(
    *,
    consent: Consent,
    person: Person,
    request: HttpRequest | None = None,
) -> Consent:
    """The person withdraws one of their consents from their space: effective at once.

    The timeline event is filed under the organisation that holds the file (a person has
    no organisation); the audit line names the person as the actor.
    """
    consent = Consent.objects.select_for_update().get(pk=consent.pk, person=person)
    if consent.withdrawn_at is not None:
        raise ValidationError(
            "Ce consentement a déjà été retiré le "
            f"{timezone.localtime(consent.withdrawn_at):%d/%m/%Y à %H:%M} : rien n'a changé."
        )
    assert person.user is not None
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = person.user
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    summary = f"Consentement retiré par la personne : {consent.get_scope_display().lower()}"
    add_event(
        person=person,
        kind=EventKind.CONSENT,
        actor=person.user,
        organisation=person.organisation,
        visibility=Visibility.TEAM_AND_PERSON,
        target=consent,
        summary=summary,
    )
    record(
        AuditKind.CONSENT_WITHDRAWN,
        actor=person.user,
        department_id=person.department_id,
        target=consent,
        person_id=person.pk,
        what=summary,
        request=request,
    )
    return consent
