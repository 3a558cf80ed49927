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

from django.db import connection, transaction
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.access.audit import audit_row, record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.bulk import copy_insert
from binome.core.text import normalize
from binome.organisations.models import Organisation, OrganisationKind
from binome.people import crypto
from binome.people.models import NAME_SIMILARITY, Person
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
from binome.support.actions.timeline import timeline_row
from binome.support.models import EventKind
from binome.territories.models import Department

CHUNK = 1000
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
                or b.activity != p.activity
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
    """Apply a batch of dossiers with a fixed number of statements, whatever its size: one
    read of the dossiers already known (and their beneficiaries), one of the files that may
    be the new adults', then bulk writes."""
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
    adults = _Adults(department_id=department.pk, holder=holder, header=header)
    new: list[tuple[Dossier, RsaDossier]] = []
    changed: list[Dossier] = []
    states: list[DossierState] = []
    for item in read:
        dossier = existing.get((item.body, item.number))
        if dossier is None:
            dossier = Dossier(
                department=department,
                body=item.body,
                number=item.number,
                state=item.state,
                first_import=flow,
                last_import=flow,
                **_dossier_fields(item),
            )
            new.append((dossier, item))
            counts.created += 1
            continue
        state_changed = dossier.state != item.state
        fields_changed = _dossier_fields_changed(dossier, item)
        persons_changed = adults.add(
            dossier, item, {b.role: b for b in dossier.beneficiaries.all()}
        )
        if not (state_changed or fields_changed or persons_changed):
            counts.unchanged += 1
            continue
        if state_changed:
            dossier.state = item.state
            states.append(
                DossierState(dossier=dossier, state=item.state, flow=flow, known_on=known_on)
            )
        _copy_fields(dossier, item)
        dossier.last_import = flow
        changed.append(dossier)
        counts.updated += 1
    if new:
        copy_insert([dossier for dossier, _item in new])
    for dossier, item in new:
        states.append(DossierState(dossier=dossier, state=item.state, flow=flow, known_on=known_on))
        adults.add(dossier, item, {})
    if states:
        copy_insert(states)
    if changed:
        Dossier.objects.bulk_update(
            changed, ["state", "last_import", *_DOSSIER_FIELDS], batch_size=CHUNK
        )
    adults.save(counts)


_DOSSIER_FIELDS = (
    "body_number",
    "matricule",
    "requested_on",
    "suspension_reason",
    "closure_reason",
    "closed_on",
    "no_fixed_address",
    "family_situation",
    "children",
)


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


class _Adults:
    """The adults of a batch of dossiers: the beneficiaries to create (each matched to a file,
    left « à rapprocher » or given a new file) and those to update, written together."""

    def __init__(self, *, department_id: str, holder: Organisation, header: FluxHeader) -> None:
        self.department_id = department_id
        self.holder = holder
        self.header = header
        self.new: list[tuple[Beneficiary, RsaPerson, str]] = []
        self.updated: list[Beneficiary] = []

    def add(
        self, dossier: Dossier, item: RsaDossier, beneficiaries: dict[str, Beneficiary]
    ) -> bool:
        """Take the dossier's adults; return whether anything of them changes."""
        changed = False
        for person in item.persons:
            if person.role not in ADULT_ROLES:
                continue
            touched = False
            beneficiary = beneficiaries.get(person.role)
            if beneficiary is None:
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
                    activity=person.activity,
                )
                self.new.append((beneficiary, person, nir))
                touched = True
            else:
                if beneficiary.subject_to_rights_and_duties != person.subject_to_rights_and_duties:
                    beneficiary.subject_to_rights_and_duties = person.subject_to_rights_and_duties
                    touched = True
                if beneficiary.activity != person.activity:
                    beneficiary.activity = person.activity
                    touched = True
            if _start_orientation_clock(beneficiary, item.state, self.header):
                touched = True
            if touched and beneficiary.pk is not None:
                self.updated.append(beneficiary)
            changed = changed or touched
        return changed

    def save(self, counts: _Counts) -> None:
        if self.updated:
            Beneficiary.objects.bulk_update(
                self.updated,
                [
                    "subject_to_rights_and_duties",
                    "activity",
                    "right_opened_on",
                    "orientation_due_on",
                ],
                batch_size=CHUNK,
            )
        if not self.new:
            return
        same_nir = self._same_nir()
        similar = self._similar(
            [
                (index, person)
                for index, (beneficiary, person, _nir) in enumerate(self.new)
                if not beneficiary.nir_hash or beneficiary.nir_hash not in same_nir
            ]
        )
        created: list[tuple[Person, Beneficiary, RsaPerson]] = []
        doubtful: list[tuple[Beneficiary, list[Person]]] = []
        for index, (beneficiary, person, nir) in enumerate(self.new):
            found, candidates = _decide(beneficiary, person, same_nir, similar.get(index, []))
            if found is not None:
                beneficiary.person = found
                beneficiary.match_status = MatchStatus.MATCHED
            elif candidates:
                beneficiary.match_status = MatchStatus.TO_RECONCILE
                # Kept for the file the human's decision links or creates.
                beneficiary.nir_encrypted = crypto.encrypt(nir) if nir else ""
                doubtful.append((beneficiary, candidates))
                counts.to_reconcile += 1
            else:
                file = self._new_person(beneficiary.dossier, person, nir)
                created.append((file, beneficiary, person))
                beneficiary.match_status = MatchStatus.CREATED
        if created:
            copy_insert([file for file, _b, _p in created])
            for file, beneficiary, _person in created:
                beneficiary.person = file
            self._trace(created)
        copy_insert([beneficiary for beneficiary, _p, _n in self.new])
        if doubtful:
            through = Beneficiary.candidates.through
            copy_insert(
                [
                    through(beneficiary_id=beneficiary.pk, person_id=candidate.pk)
                    for beneficiary, candidates in doubtful
                    for candidate in candidates
                ]
            )

    def _same_nir(self) -> dict[str, Person]:
        hashes = sorted({b.nir_hash for b, _p, _n in self.new if b.nir_hash})
        if not hashes:
            return {}
        found: dict[str, Person] = {}
        for person in Person.objects.filter(
            department_id=self.department_id,
            nir_hash__in=hashes,
            merged_into__isnull=True,
            # A file in the intermediate archive is out of reach: a new flow opens a new one.
            archived_until__isnull=True,
        ):
            found.setdefault(person.nir_hash, person)
        return found

    def _similar(self, wanted: list[tuple[int, RsaPerson]]) -> dict[int, list[Person]]:
        """The files of the same birth date and similar names (as ``Person.objects.matching``
        finds them), for every adult of the batch in one statement."""
        if not wanted:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.i, p.id FROM unnest(%s::int[], %s::date[], %s::text[]) "
                "AS t(i, birth_date, names) "
                "JOIN people_person p ON p.birth_date = t.birth_date "
                "WHERE p.department_id = %s AND p.merged_into_id IS NULL "
                "AND p.archived_until IS NULL "
                "AND similarity(p.search_name, t.names) >= %s ORDER BY t.i, p.id",
                [
                    [index for index, _p in wanted],
                    [person.birth_date for _i, person in wanted],
                    [normalize(f"{p.first_name} {p.last_name} {p.birth_name}") for _i, p in wanted],
                    self.department_id,
                    NAME_SIMILARITY,
                ],
            )
            pairs = cursor.fetchall()
        persons = Person.objects.in_bulk({person_id for _i, person_id in pairs})
        similar: dict[int, list[Person]] = {}
        for index, person_id in pairs:
            similar.setdefault(index, []).append(persons[person_id])
        return similar

    def _new_person(self, dossier: Dossier, person: RsaPerson, nir: str) -> Person:
        file = Person(
            department_id=self.department_id,
            organisation=self.holder,
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
        file.set_nir(nir)
        # What ``Person.save`` computes, since the files are written in bulk.
        file.search_name = normalize(f"{file.first_name} {file.last_name} {file.birth_name}")
        return file

    def _trace(self, created: list[tuple[Person, Beneficiary, RsaPerson]]) -> None:
        """Each new file's audit line and the first line of its timeline."""
        header = self.header
        at = datetime.datetime.combine(
            header.created_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
        )
        # New lines of the audit log, each as ``record`` writes it, loaded together.
        copy_insert(
            [
                audit_row(
                    AuditKind.PERSON_CREATED,
                    actor_label="import automatique",
                    organisation=self.holder,
                    target=file,
                    person_id=file.pk,
                    what=f"Dossier de {file.full_name}, depuis le {header.description}",
                )
                for file, _b, _p in created
            ]
        )
        copy_insert(
            [
                timeline_row(
                    person=file,
                    kind=EventKind.PERSON,
                    actor=None,
                    organisation=self.holder,
                    target=file,
                    summary=(
                        f"Dossier créé depuis le {header.description} "
                        f"(RSA n° {beneficiary.dossier.number})"
                    ),
                    at=at,
                )
                for file, beneficiary, _p in created
            ]
        )


def _decide(
    beneficiary: Beneficiary,
    person: RsaPerson,
    same_nir: dict[str, Person],
    similar: list[Person],
) -> tuple[Person | None, list[Person]]:
    """The one file that is surely this person, else the files that may be (for a human).

    Sure: the same NIR; or, with no NIR on either side that disagrees, the same birth date,
    first name and birth (or used) name, and no other file alike. The CAF number alone never
    decides: a couple shares it.
    """
    nir_hash = beneficiary.nir_hash
    if nir_hash and nir_hash in same_nir:
        return same_nir[nir_hash], []
    candidates = similar
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
