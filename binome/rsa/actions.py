"""RSA's state changes: importing a CAF/MSA flow.

An import applies whole or not at all: a file refused (cut, not a flow, wrong encoding…) or a
fault of the database leaves nothing of it written but its refusal, with its French message.
Inside an accepted file, a faulty dossier is reported (number, line, element, why) and the
others are applied. Re-importing the same flow changes nothing; a newer one updates the states
and keeps each dossier's history with the flow it came from.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from django.db import transaction
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.text import normalize
from binome.organisations.models import Organisation, OrganisationKind
from binome.people import crypto
from binome.people.models import Person
from binome.rsa.flux import (
    DossierRefused,
    Flux,
    FluxHeader,
    FluxRefused,
    RightState,
    Role,
    RsaDossier,
    RsaPerson,
    open_flux,
)
from binome.rsa.models import (
    ORIENTATION_DELAY,
    Beneficiary,
    Dossier,
    DossierState,
    FlowImport,
    ImportStatus,
    MatchStatus,
    SpreadsheetMapping,
)
from binome.rsa.spreadsheets import Spreadsheet, is_spreadsheet, open_spreadsheet
from binome.support.actions.timeline import add_event
from binome.support.models import EventKind
from binome.territories.models import Department

CHUNK = 500
ADULT_ROLES = (Role.APPLICANT, Role.SPOUSE)
# States under which the flows tell of a right requested or opened: the clock to orient runs.
RUNNING_STATES = {RightState.AWAITING_DECISION, RightState.OPEN}


@dataclasses.dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    to_reconcile: int = 0
    rejected: int = 0
    rejections: list[str] = dataclasses.field(default_factory=list)


def import_flux(
    source: Path | IO[bytes],
    *,
    department: Department,
    by: User | None,
    file_name: str | None = None,
    flow: FlowImport | None = None,
    mapping: SpreadsheetMapping | None = None,
    progress: Callable[[float], None] | None = None,
) -> FlowImport:
    """Import one flow (or a département's spreadsheet, read with its ``mapping``) for the
    département; return the import's record (applied or refused).

    ``flow`` is the record of an import queued from the territory's page, filled in here
    rather than a new one; ``progress`` is told, after each batch of dossiers, the share of
    the file read so far (0 to 1).
    """
    name = file_name or (source.name if isinstance(source, Path) else "flux.xml")
    stream: IO[bytes] = source.open("rb") if isinstance(source, Path) else source
    file_hash = ""
    try:
        file_hash, size = _sha256(stream)
        holder = _holder(department, name)
        flux = open_source(stream, name, mapping=mapping)
        done = 0
        with transaction.atomic():
            applied = _started(flow, department=department, name=name, by=by)
            applied.file_hash, applied.size = file_hash, size
            applied.mapping = mapping
            applied.sender = flux.header.sender
            applied.flow_kind = flux.header.kind
            applied.flow_created_on = flux.header.created_on
            applied.reference_date = flux.header.reference_date
            counts = _Counts()
            for chunk in _chunks(flux.dossiers(), CHUNK):
                _apply_chunk(chunk, flow=applied, header=flux.header, holder=holder, counts=counts)
                done += len(chunk)
                if progress is not None and isinstance(flux, Spreadsheet):
                    progress(done / max(flux.count, 1))
                elif progress is not None and size:
                    progress(min(stream.tell() / size, 1.0))
            _finish(applied, counts, by=by, what_prefix=name)
        return applied
    except FluxRefused as refusal:
        return _refused(department, name, file_hash, by, refusal, flow=flow)
    finally:
        if isinstance(source, Path):
            stream.close()


def open_source(
    stream: IO[bytes], name: str, *, mapping: SpreadsheetMapping | None
) -> Flux | Spreadsheet:
    """The file read as a CAF/MSA flow, or as a spreadsheet with its mapping."""
    if not is_spreadsheet(name):
        return open_flux(stream, name)
    if mapping is None:
        raise FluxRefused(
            f"{name} : un tableur s'importe avec une correspondance de colonnes (qui dit "
            "quelle colonne contient quel champ) : choisissez-en une ou créez-la."
        )
    return open_spreadsheet(
        stream, name, columns=mapping.columns, mapping_name=mapping.name, today=timezone.localdate()
    )


def planned_changes(
    department: Department, items: Iterable[RsaDossier | DossierRefused], header: FluxHeader
) -> dict[str, str]:
    """What importing the dossiers would do to each (by number): « create », « update » or
    « unchanged » — read only, with one query per batch, as the import itself decides."""
    read = [item for item in items if isinstance(item, RsaDossier)]
    planned: dict[str, str] = {}
    for chunk in _chunks(read, CHUNK):
        existing = {
            (d.body, d.number): d
            for d in Dossier.objects.filter(
                department=department, number__in=[d.number for d in chunk]
            ).prefetch_related("beneficiaries")
        }
        for item in chunk:
            dossier = existing.get((item.body, item.number))
            if dossier is None:
                planned[item.number] = "create"
                continue
            by_role = {b.role: b for b in dossier.beneficiaries.all()}
            persons_change = any(
                (b := by_role.get(p.role)) is None
                or b.subject_to_rights_and_duties != p.subject_to_rights_and_duties
                or _clock_would_start(b, p.subject_to_rights_and_duties, item.state)
                for p in item.persons
                if p.role in ADULT_ROLES
            )
            changed = (
                dossier.state != item.state
                or _dossier_fields_changed(dossier, item)
                or persons_change
            )
            planned[item.number] = "update" if changed else "unchanged"
    return planned


def _clock_would_start(beneficiary: Beneficiary, subject: bool, state: RightState) -> bool:
    return beneficiary.right_opened_on is None and subject and state in RUNNING_STATES


def _started(
    flow: FlowImport | None, *, department: Department, name: str, by: User | None
) -> FlowImport:
    """The import's record, created now or the queued one, saved as applied (in the
    transaction of the import: rolled back with it)."""
    if flow is None:
        return FlowImport.objects.create(
            department=department, file_name=name, by=by, status=ImportStatus.APPLIED
        )
    flow.status = ImportStatus.APPLIED
    return flow


def _finish(flow: FlowImport, counts: _Counts, *, by: User | None, what_prefix: str) -> None:
    for field in ("created", "updated", "unchanged", "to_reconcile", "rejected"):
        setattr(flow, field, getattr(counts, field))
    flow.rejections = counts.rejections
    flow.finished_at = timezone.now()
    flow.message = _summary(counts)
    flow.percent = 100
    flow.save()
    record(
        AuditKind.RSA_IMPORT,
        actor=by,
        actor_label="" if by else "import automatique",
        department_id=flow.department_id,
        target=flow,
        what=f"{what_prefix} : {flow.message}",
    )


def _sha256(stream: IO[bytes]) -> tuple[str, int]:
    """The file's SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    stream.seek(0)
    return digest.hexdigest(), size


def _holder(department: Department, name: str) -> Organisation:
    """The département's own service holds the files the flows create."""
    holder = (
        Organisation.objects.filter(department=department, kind=OrganisationKind.DEPARTMENT)
        .order_by("pk")
        .first()
    )
    if holder is None:
        raise FluxRefused(
            f"{name} : aucun service du département n'est déclaré dans Binôme pour le "
            f"{department.code} : les dossiers créés par l'import n'auraient pas d'organisation "
            "détentrice. Déclarez-le d'abord dans les organisations du territoire."
        )
    return holder


def _refused(
    department: Department,
    name: str,
    file_hash: str,
    by: User | None,
    refusal: FluxRefused,
    *,
    flow: FlowImport | None = None,
) -> FlowImport:
    if flow is None:
        flow = FlowImport(department=department, file_name=name, by=by)
    else:  # the queued record: what the rolled-back import set on it is not kept
        flow.refresh_from_db()
    flow.file_hash = file_hash
    flow.status = ImportStatus.REFUSED
    flow.message = str(refusal)
    flow.finished_at = timezone.now()
    flow.percent = 100
    flow.save()
    record(
        AuditKind.RSA_IMPORT,
        actor=by,
        actor_label="" if by else "import automatique",
        department_id=department.pk,
        target=flow,
        what=f"{name} refusé : {refusal}",
    )
    return flow


def _chunks[T](items: Iterable[T], size: int) -> Iterable[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _summary(counts: _Counts) -> str:
    return (
        f"{counts.created} dossier(s) créé(s), {counts.updated} mis à jour, "
        f"{counts.unchanged} inchangé(s), {counts.to_reconcile} personne(s) à rapprocher, "
        f"{counts.rejected} dossier(s) rejeté(s)"
    )


def _apply_chunk(
    chunk: list[RsaDossier | DossierRefused],
    *,
    flow: FlowImport,
    header: FluxHeader,
    holder: Organisation,
    counts: _Counts,
) -> None:
    department = flow.department
    read: list[RsaDossier] = []
    for item in chunk:
        if isinstance(item, DossierRefused):
            counts.rejected += 1
            counts.rejections.append(str(item))
        else:
            read.append(item)
    existing = {
        (d.body, d.number): d
        for d in Dossier.objects.filter(
            department=department, number__in=[d.number for d in read]
        ).prefetch_related("beneficiaries")
    }
    known_on = header.reference_date or header.created_on
    for item in read:
        dossier = existing.get((item.body, item.number))
        if dossier is None:
            dossier = _create_dossier(item, flow=flow)
            DossierState.objects.create(
                dossier=dossier, state=item.state, flow=flow, known_on=known_on
            )
            _apply_persons(dossier, item, {}, holder=holder, header=header, counts=counts)
            counts.created += 1
            continue
        state_changed = dossier.state != item.state
        fields_changed = _dossier_fields_changed(dossier, item)
        persons_changed = _apply_persons(
            dossier,
            item,
            {b.role: b for b in dossier.beneficiaries.all()},
            holder=holder,
            header=header,
            counts=counts,
        )
        if not (state_changed or fields_changed or persons_changed):
            counts.unchanged += 1
            continue
        if state_changed:
            dossier.state = item.state
            DossierState.objects.create(
                dossier=dossier, state=item.state, flow=flow, known_on=known_on
            )
        _copy_fields(dossier, item)
        dossier.last_import = flow
        dossier.save()
        counts.updated += 1


def _dossier_fields(item: RsaDossier) -> dict[str, object]:
    return {
        "body_number": item.body_number,
        "matricule": item.matricule,
        "requested_on": item.requested_on,
        "suspension_reason": item.suspension_reason,
        "closure_reason": item.closure_reason,
        "closed_on": item.closed_on,
        "no_fixed_address": item.no_fixed_address,
        "family_situation": item.family_situation,
        "children": sum(1 for p in item.persons if p.role is Role.CHILD),
    }


def _dossier_fields_changed(dossier: Dossier, item: RsaDossier) -> bool:
    return any(getattr(dossier, name) != value for name, value in _dossier_fields(item).items())


def _copy_fields(dossier: Dossier, item: RsaDossier) -> None:
    for name, value in _dossier_fields(item).items():
        setattr(dossier, name, value)


def _create_dossier(item: RsaDossier, *, flow: FlowImport) -> Dossier:
    return Dossier.objects.create(
        department=flow.department,
        body=item.body,
        number=item.number,
        state=item.state,
        first_import=flow,
        last_import=flow,
        **_dossier_fields(item),
    )


def _apply_persons(
    dossier: Dossier,
    item: RsaDossier,
    beneficiaries: dict[str, Beneficiary],
    *,
    holder: Organisation,
    header: FluxHeader,
    counts: _Counts,
) -> bool:
    """Match or create each adult's file; return whether anything of them changed."""
    changed = False
    for person in item.persons:
        if person.role not in ADULT_ROLES:
            continue
        touched = False
        beneficiary = beneficiaries.get(person.role)
        if beneficiary is None:
            beneficiary = _new_beneficiary(dossier, person, holder=holder, header=header)
            if beneficiary.match_status == MatchStatus.TO_RECONCILE:
                counts.to_reconcile += 1
            touched = True
        elif beneficiary.subject_to_rights_and_duties != person.subject_to_rights_and_duties:
            beneficiary.subject_to_rights_and_duties = person.subject_to_rights_and_duties
            touched = True
        if _start_orientation_clock(beneficiary, item.state, header):
            touched = True
        if touched:
            beneficiary.save()
            changed = True
    return changed


def _start_orientation_clock(
    beneficiary: Beneficiary, state: RightState, header: FluxHeader
) -> bool:
    if beneficiary.right_opened_on is not None:
        return False
    if not beneficiary.subject_to_rights_and_duties or state not in RUNNING_STATES:
        return False
    beneficiary.right_opened_on = header.created_on
    beneficiary.orientation_due_on = header.created_on + ORIENTATION_DELAY
    return True


def _full_nir(nir13: str) -> str:
    return nir13 + stdnum_nir.calc_check_digits(nir13) if nir13 else ""


def _new_beneficiary(
    dossier: Dossier, person: RsaPerson, *, holder: Organisation, header: FluxHeader
) -> Beneficiary:
    nir = _full_nir(person.nir)
    beneficiary = Beneficiary(
        dossier=dossier,
        role=person.role,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_name=person.birth_name,
        birth_date=person.birth_date,
        nir_hash=crypto.identifier_hash(nir) if nir else "",
        subject_to_rights_and_duties=person.subject_to_rights_and_duties,
        france_travail_id=person.france_travail_id,
    )
    found, doubtful = _match(dossier.department_id, person, beneficiary.nir_hash)
    if found is not None:
        beneficiary.person = found
        beneficiary.match_status = MatchStatus.MATCHED
    elif doubtful:
        beneficiary.match_status = MatchStatus.TO_RECONCILE
    else:
        beneficiary.person = _create_person(dossier, person, nir, holder=holder, header=header)
        beneficiary.match_status = MatchStatus.CREATED
    beneficiary.save()
    if doubtful:
        beneficiary.candidates.set(doubtful)
    return beneficiary


def _match(
    department_id: str, person: RsaPerson, nir_hash: str
) -> tuple[Person | None, list[Person]]:
    """The one file that is surely this person, else the files that may be (for a human).

    Sure: the same NIR; or, with no NIR on either side that disagrees, the same birth date,
    first name and birth (or used) name, and no other file alike. The CAF number alone never
    decides: a couple shares it.
    """
    if nir_hash:
        same_nir = Person.objects.filter(
            department_id=department_id, nir_hash=nir_hash, merged_into__isnull=True
        ).first()
        if same_nir is not None:
            return same_nir, []
    candidates = list(
        Person.objects.matching(
            department_id=department_id,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_name=person.birth_name,
            birth_date=person.birth_date,
        )
    )
    if nir_hash:
        candidates = [c for c in candidates if not c.nir_hash or c.nir_hash == nir_hash]
    exact = [c for c in candidates if _same_identity(c, person)]
    if len(exact) == 1 and len(candidates) == 1:
        return exact[0], []
    return None, candidates


def _same_identity(candidate: Person, person: RsaPerson) -> bool:
    return (
        candidate.birth_date == person.birth_date
        and normalize(candidate.first_name) == normalize(person.first_name)
        and normalize(candidate.birth_name or candidate.last_name)
        in {normalize(person.birth_name), normalize(person.last_name)}
    )


def _create_person(
    dossier: Dossier, person: RsaPerson, nir: str, *, holder: Organisation, header: FluxHeader
) -> Person:
    created = Person(
        department_id=dossier.department_id,
        organisation=holder,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_name=person.birth_name if person.birth_name != person.last_name else "",
        birth_date=person.birth_date,
        sex={"1": "M", "2": "F"}.get(person.sex, ""),
        france_travail_id=person.france_travail_id.upper(),
        caf_number=dossier.matricule,
        phone=person.phone,
        email=person.email,
        address=person.address,
    )
    created.set_nir(nir)
    created.save()
    record(
        AuditKind.PERSON_CREATED,
        actor_label="import automatique",
        organisation=holder,
        target=created,
        person_id=created.pk,
        what=f"Dossier de {created.full_name}, depuis le {header.description}",
    )
    add_event(
        person=created,
        kind=EventKind.PERSON,
        actor=None,
        organisation=holder,
        target=created,
        summary=f"Dossier créé depuis le {header.description} (RSA n° {dossier.number})",
        at=datetime.datetime.combine(
            header.created_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
        ),
    )
    return created


def save_mapping(
    *, department: Department, name: str, columns: dict[str, str], by: User
) -> SpreadsheetMapping:
    """Save a territory's mapping of spreadsheet columns (a new one, or the one of that name)."""
    with transaction.atomic():
        mapping, created = SpreadsheetMapping.objects.select_for_update().get_or_create(
            department=department, name=name, defaults={"columns": columns, "updated_by": by}
        )
        if not created:
            mapping.columns = columns
            mapping.updated_by = by
            mapping.save(update_fields=["columns", "updated_by", "updated_at"])
        record(
            AuditKind.RSA_IMPORT,
            actor=by,
            department_id=department.pk,
            target=mapping,
            what=(f"Correspondance de colonnes « {name} » {'créée' if created else 'modifiée'}"),
            details={"colonnes": columns},
        )
    return mapping
