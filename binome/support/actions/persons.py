"""The person's file: created (with its first accompaniment), its identity and household
corrected, two files of the same person merged.

Each is one transaction with its timeline event and its audit line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people import crypto
from binome.people.changes import (
    FIELD_LABELS,
    IDENTITY_FIELDS,
    MEMBER_LABELS,
    StalePersonEdit,
    person_version,
    shown,
    summary_of,
)
from binome.people.models import (
    HouseholdMember,
    Person,
    compact_nir,
    validate_nir,
)
from binome.support.actions.accompaniments import open_accompaniment
from binome.support.actions.timeline import add_event, trace
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


def _typed_values(data: dict[str, Any]) -> dict[str, Any]:
    """The values the form sent, cleaned as creation stores them (the NIR only if sent)."""
    typed: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        value = data.get(name)
        if name == "commune" or name == "birth_date":
            typed[name] = value or None
        else:
            typed[name] = " ".join(str(value or "").split())
    typed["france_travail_id"] = typed["france_travail_id"].upper()
    if "nir" in data:
        typed["nir"] = compact_nir(data.get("nir") or "")
    return typed


def _stored_value(person: Person, name: str) -> Any:
    if name == "nir":
        return person.nir
    return getattr(person, name)


def _differs(person: Person, name: str, value: Any) -> bool:
    if name == "nir":  # compared by its keyed hash: the clear value may not be readable
        return (crypto.identifier_hash(value) if value else "") != person.nir_hash
    if name == "commune":
        return (value.pk if value else None) != person.commune_id
    return bool(value != getattr(person, name))


def _check_identity(person: Person, typed: dict[str, Any]) -> None:
    """The values a correction writes, re-validated as creation does (the form did too:
    this guards every other caller). Raises a ``ValidationError`` by field."""
    errors: dict[str, list[str]] = {}
    for name, label in (("first_name", "le prénom"), ("last_name", "le nom")):
        if not typed[name]:
            errors.setdefault(name, []).append(f"Indiquez {label}.")
    if typed["birth_date"] is None:
        errors.setdefault("birth_date", []).append("Indiquez la date de naissance.")
    if typed.get("nir"):
        try:
            validate_nir(typed["nir"])
        except ValidationError as exc:
            errors.setdefault("nir", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    candidate = Person(
        **{name: value for name, value in typed.items() if name != "nir"},
        department_id=person.department_id,
    )
    candidate.clean_fields(
        exclude=[field.name for field in Person._meta.fields if field.name not in PERSON_FIELDS]
    )


def _check_not_a_duplicate(person: Person, typed: dict[str, Any], changed: list[str]) -> None:
    """A new NIR, identifier or identity that another file of the département already has
    is refused: the two files are to be merged, not made into silent duplicates."""
    identity_changed = bool(IDENTITY_FIELDS & set(changed))
    others = list(
        Person.objects.matching(
            department_id=person.department_id,
            first_name=typed["first_name"],
            last_name=typed["last_name"],
            birth_name=typed["birth_name"],
            birth_date=typed["birth_date"] if identity_changed else None,
            nir=typed.get("nir", "") if "nir" in changed else "",
            france_travail_id=typed["france_travail_id"] if "france_travail_id" in changed else "",
            caf_number=typed["caf_number"] if "caf_number" in changed else "",
        )
        .exclude(pk=person.pk)
        .only("pk", "nir_hash", "france_travail_id", "caf_number")[:5]
    )
    if not others:
        return
    reasons = []
    for other in others:
        if (
            "nir" in changed
            and typed.get("nir")
            and other.nir_hash == crypto.identifier_hash(typed["nir"])
        ):
            reasons.append("le même NIR")
        elif (
            "france_travail_id" in changed and other.france_travail_id == typed["france_travail_id"]
        ):
            reasons.append("le même identifiant France Travail")
        elif "caf_number" in changed and other.caf_number == typed["caf_number"]:
            reasons.append("le même numéro allocataire CAF/MSA")
        else:
            reasons.append("une identité proche et la même date de naissance")
    raise ValidationError(
        f"Un autre dossier du département a {' et '.join(sorted(set(reasons)))} : cette "
        "correction en ferait un doublon, elle n'est pas enregistrée. S'il s'agit de la même "
        "personne, signalez-le à l'administrateur du territoire : il réunit les deux dossiers "
        "depuis la page « Doublons de personnes »."
    )


def _stale_changes(current: Person, typed: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The fields whose saved value differs from what the user typed."""
    return [
        (FIELD_LABELS[name], shown(name, _stored_value(current, name)), shown(name, value))
        for name, value in typed.items()
        if _differs(current, name, value)
    ]


def _last_correction(person: Person) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(kind=AuditKind.PERSON_UPDATED, person_id=person.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def update_person(
    *,
    person: Person,
    data: dict[str, Any],
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
    version: str | None = None,
) -> list[str]:
    """Correct the file's identity, contact details and identifiers; returns the names of
    the fields that changed (only those are written).

    ``data`` holds the edit form's values; the NIR is changed only when ``data`` has it (the
    form offers it to who may see it). ``version`` is the :func:`person_version` the form
    was opened on: if the file changed since, :class:`StalePersonEdit` says what differs
    and nothing is written. A new identity or identifier that another file of the
    département has is refused (``ValidationError``): a duplicate is merged, not made.
    The timeline line (seen by the team and the person) and the audit line say what
    changed, never the NIR's value."""
    current = (
        Person.objects.select_for_update(of=("self",)).select_related("commune").get(pk=person.pk)
    )
    typed = _typed_values(data)
    if version is not None and version != person_version(current):
        last = _last_correction(current)
        raise StalePersonEdit(
            _stale_changes(current, typed),
            version=person_version(current),
            who=last.actor.get_full_name() if last and last.actor else "",
            at=last.created_at if last else None,
        )
    _check_identity(current, typed)
    changed = [name for name, value in typed.items() if _differs(current, name, value)]
    if not changed:
        return []
    _check_not_a_duplicate(current, typed, changed)
    changes = [(name, _stored_value(current, name), typed[name]) for name in changed]
    for name in changed:
        if name == "nir":
            current.set_nir(typed["nir"])
        else:
            setattr(current, name, typed[name])
    written = [name for name in changed if name != "nir"]
    if "nir" in changed:
        written += ["nir_hash", "nir_encrypted"]
    current.save(update_fields=written)
    summary = summary_of(changes, FIELD_LABELS, prefix="Dossier corrigé : ")
    trace(
        EventKind.PERSON,
        AuditKind.PERSON_UPDATED,
        person=current,
        by=by,
        organisation=organisation,
        visibility=Visibility.TEAM_AND_PERSON,
        target=current,
        summary=summary,
        request=request,
        details={"fields": changed},
    )
    return changed


@transaction.atomic
def update_household_member(
    *,
    member: HouseholdMember,
    relation: str,
    first_name: str,
    birth_date: date | None,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> list[str]:
    """Correct a member of the household; returns the names of the fields that changed."""
    current = (
        HouseholdMember.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=member.pk)
    )
    first_name = " ".join((first_name or "").split())
    if not first_name:
        raise ValidationError({"first_name": "Indiquez le prénom."})
    typed = {"relation": relation, "first_name": first_name, "birth_date": birth_date}
    changes = [
        (name, getattr(current, name), value)
        for name, value in typed.items()
        if getattr(current, name) != value
    ]
    if not changes:
        return []
    for name, _before, value in changes:
        setattr(current, name, value)
    current.full_clean(exclude=["person"])
    current.save(update_fields=[name for name, _before, _after in changes])
    relation = current.get_relation_display().lower()
    summary = summary_of(
        changes, MEMBER_LABELS, prefix=f"Foyer : {relation} corrigé(e) ({current.first_name}) — "
    )
    trace(
        EventKind.PERSON,
        AuditKind.HOUSEHOLD_CHANGED,
        person=current.person,
        by=by,
        organisation=organisation,
        target=current,
        summary=summary,
        request=request,
        details={"fields": [name for name, _before, _after in changes]},
    )
    return [name for name, _before, _after in changes]


@transaction.atomic
def remove_household_member(
    *,
    member: HouseholdMember,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> None:
    """Remove a member of the household (an error of entry, or someone who left)."""
    current = (
        HouseholdMember.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk=member.pk)
        .first()
    )
    if current is None:
        raise ValidationError("Ce membre du foyer a déjà été retiré : rien n'a changé.")
    summary = f"Foyer : {current.get_relation_display().lower()} retiré(e) ({current.first_name})"
    trace(
        EventKind.PERSON,
        AuditKind.HOUSEHOLD_CHANGED,
        person=current.person,
        by=by,
        organisation=organisation,
        target=current,
        summary=summary,
        request=request,
        details={"removed": current.pk},
    )
    current.delete()


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
