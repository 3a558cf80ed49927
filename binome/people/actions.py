"""State-changing operations on persons, their household and their consents.

Each is one transaction with its timeline event and its audit line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

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
    HouseholdMember,
    Person,
)
from binome.support.actions import add_event, open_accompaniment, trace
from binome.support.models import Accompaniment, EventKind, Visibility

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address",
    "commune",
    "france_travail_id",
    "caf_number",
)


@transaction.atomic
def create_person(
    *,
    data: dict[str, Any],
    by: User,
    organisation: Organisation,
    kind: str,
    role: str,
    started_on: date | None = None,
    matches_ignored: list[int] | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """Create the file and open its first accompaniment, with its creator on the team.

    ``matches_ignored``: the existing persons the creator was shown and confirmed to be
    someone else (kept in the audit line).
    """
    person = Person(
        department_id=organisation.department_id,
        organisation=organisation,
        created_by=by,
        **{name: data.get(name) or ("" if name != "commune" else None) for name in PERSON_FIELDS},
    )
    if data.get("birth_date") is None:
        raise ValidationError("La date de naissance est obligatoire.")
    person.birth_date = data["birth_date"]
    person.france_travail_id = (person.france_travail_id or "").strip().upper()
    person.set_nir(data.get("nir") or "")
    person.save()
    add_event(
        person=person,
        kind=EventKind.PERSON,
        actor=by,
        organisation=organisation,
        target=person,
        summary=f"Dossier créé par {by.get_full_name()} ({organisation.name})",
    )
    record(
        AuditKind.PERSON_CREATED,
        actor=by,
        organisation=organisation,
        target=person,
        person_id=person.pk,
        what=f"Dossier de {person.full_name}",
        request=request,
        details={"matches_ignored": matches_ignored or []},
    )
    open_accompaniment(
        person=person,
        kind=kind,
        started_on=started_on or timezone.localdate(),
        by=by,
        organisation=organisation,
        role=role,
        request=request,
    )
    return person


@transaction.atomic
def add_household_member(
    *,
    person: Person,
    relation: str,
    first_name: str,
    birth_date: date | None,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> HouseholdMember:
    member = HouseholdMember.objects.create(
        person=person, relation=relation, first_name=first_name, birth_date=birth_date
    )
    summary = f"Foyer : {member.get_relation_display().lower()} ajouté(e) ({first_name})"
    trace(
        EventKind.PERSON,
        AuditKind.HOUSEHOLD_CHANGED,
        person=person,
        by=by,
        organisation=organisation,
        target=member,
        summary=summary,
        request=request,
    )
    return member


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


# Identity fields a merge copies from the merged file when the kept one leaves them blank.
MERGE_FILLS = (
    "birth_name",
    "sex",
    "phone",
    "email",
    "address",
    "commune",
    "france_travail_id",
    "caf_number",
    "nir_hash",
    "nir_encrypted",
)


def _person_foreign_keys() -> list[tuple[Any, str]]:
    """Every (model, field) that points to a person, except the merge link itself."""
    links: list[tuple[Any, str]] = []
    for relation in Person._meta.get_fields(include_hidden=True):
        if (
            relation.auto_created
            and not relation.concrete
            and (relation.one_to_many or relation.one_to_one)
            and relation.field.name != "merged_into"  # type: ignore[union-attr]
        ):
            links.append((relation.related_model, relation.field.name))  # type: ignore[union-attr]
    return links


def _check_no_second_open_accompaniment(kept: Person, merged: Person) -> None:
    """A person has one open accompaniment of each kind: two files that each have one of
    the same kind cannot be merged until the team of the duplicate ends it."""
    both = (
        Accompaniment.objects.open()
        .filter(person__in=(kept, merged))
        .values_list("kind", flat=True)
        .order_by("kind")
    )
    kinds = list(both)
    doubled = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if doubled:
        labels = dict(Accompaniment._meta.get_field("kind").flatchoices)
        names = ", ".join(str(labels[kind]).lower() for kind in doubled)
        raise ValidationError(
            f"Les deux dossiers ont chacun un {names} en cours : terminez celui du doublon "
            "(sortie « Autre », situation « doublon ») avant de fusionner, pour ne garder "
            "qu'une équipe."
        )


@transaction.atomic
def merge_persons(
    *, kept: Person, merged: Person, by: User, request: HttpRequest | None = None
) -> Person:
    """Merge the duplicate ``merged`` into ``kept``, keeping all history.

    Every row that points to the merged file (accompaniments and their team, consents,
    household, notes, appointments, timeline, diagnostics, plan, and the rows of other
    apps) is re-pointed to the kept one, one UPDATE per table. The audit log is
    append-only: its rows keep the merged id, and the reads of a file list those of the
    files merged into it (``Person.merged_into``). The merged file stays, marked merged:
    its pages redirect to the kept file's for who sees it, and answer 404 to the others.
    """
    kept, merged = (
        Person.objects.select_for_update().get(pk=kept.pk),
        Person.objects.select_for_update().get(pk=merged.pk),
    )
    if kept.pk == merged.pk:
        raise ValidationError("Choisissez deux dossiers différents.")
    if kept.merged_into_id is not None or merged.merged_into_id is not None:
        raise ValidationError("L'un de ces dossiers a déjà été fusionné : rechargez la page.")
    if kept.department_id != merged.department_id:
        raise ValidationError("Seuls deux dossiers du même département peuvent être fusionnés.")
    _check_no_second_open_accompaniment(kept, merged)
    moved: dict[str, int] = {}
    for model, field_name in _person_foreign_keys():
        count = model._default_manager.filter(**{field_name: merged}).update(**{field_name: kept})
        if count:
            moved[model._meta.label_lower] = count
    # Files merged earlier into the merged one now point to the kept one (one level).
    Person.objects.filter(merged_into=merged).update(merged_into=kept)
    filled = [name for name in MERGE_FILLS if not getattr(kept, name) and getattr(merged, name)]
    for name in filled:
        setattr(kept, name, getattr(merged, name))
    if merged.last_contact_on and (
        kept.last_contact_on is None or merged.last_contact_on > kept.last_contact_on
    ):
        kept.last_contact_on = merged.last_contact_on
        filled.append("last_contact_on")
    account = merged.user
    merged.merged_into = kept
    merged.user = None
    merged.save(update_fields=["merged_into", "user"])
    if kept.user_id is None and account is not None:
        kept.user = account
        filled.append("user")
    if filled:
        kept.save(update_fields=filled)
    summary = (
        f"Doublon fusionné : le dossier n° {merged.pk} ({merged.full_name}, né(e) le "
        f"{merged.birth_date:%d/%m/%Y}) est réuni dans celui-ci"
    )
    add_event(
        person=kept,
        kind=EventKind.PERSON,
        actor=by,
        organisation=kept.organisation,
        visibility=Visibility.TEAM,
        target=kept,
        summary=summary,
    )
    details = {"kept": kept.pk, "merged": merged.pk, "moved": moved, "filled": filled}
    for person in (kept, merged):
        record(
            AuditKind.PERSONS_MERGED,
            actor=by,
            department_id=kept.department_id,
            target=person,
            person_id=person.pk,
            what=summary,
            request=request,
            details=details,
        )
    return kept
