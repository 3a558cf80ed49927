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
from binome.core.bulk import copy_like
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
    « unchanged » — read only, with two queries per batch, as the import itself decides."""
    read = [item for item in items if isinstance(item, RsaDossier)]
    planned: dict[str, str] = {}
    for chunk in _chunks(read, CHUNK):
        known = _known(department.pk, [d.number for d in chunk])
        for item in chunk:
            dossier = known.get((item.body, item.number))
            if dossier is None:
                planned[item.number] = "create"
                continue
            persons_change = any(
                (b := dossier.adults.get(p.role)) is None
                or b.subject != p.subject_to_rights_and_duties
                or b.activity != p.activity
                or _clock_would_start(b, p.subject_to_rights_and_duties, item.state)
                for p in item.persons
                if p.role in ADULT_ROLES
            )
            changed = (
                dossier.state != item.state
                or dossier.fields != _dossier_values(item)
                or persons_change
            )
            planned[item.number] = "update" if changed else "unchanged"
    return planned


@dataclasses.dataclass(slots=True)
class _KnownAdult:
    """What the import compares of a beneficiary already known."""

    pk: int
    subject: bool
    activity: str
    right_opened_on: datetime.date | None
    orientation_due_on: datetime.date | None


@dataclasses.dataclass(slots=True)
class _KnownDossier:
    pk: int
    state: str
    fields: tuple[object, ...]  # the values of ``_DOSSIER_FIELDS``
    adults: dict[str, _KnownAdult]  # by role


def _known(department_id: str, numbers: list[str]) -> dict[tuple[str, str], _KnownDossier]:
    """The dossiers of these numbers already known in the département, with their adults,
    read as rows of values (two queries)."""
    known = {
        (body, number): _KnownDossier(pk, state, tuple(values), {})
        for pk, body, number, state, *values in Dossier.objects.filter(
            department_id=department_id, number__in=numbers
        ).values_list("pk", "body", "number", "state", *_DOSSIER_FIELDS)
    }
    if known:
        by_pk = {dossier.pk: dossier for dossier in known.values()}
        adults = Beneficiary.objects.filter(dossier_id__in=list(by_pk)).values_list(
            "pk",
            "dossier_id",
            "role",
            "subject_to_rights_and_duties",
            "activity",
            "right_opened_on",
            "orientation_due_on",
        )
        for pk, dossier_id, role, subject, activity, opened_on, due_on in adults:
            by_pk[dossier_id].adults[role] = _KnownAdult(pk, subject, activity, opened_on, due_on)
    return known


def _clock_would_start(adult: _KnownAdult, subject: bool, state: RightState) -> bool:
    return adult.right_opened_on is None and subject and state in RUNNING_STATES


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
    read of the dossiers already known (and one of their beneficiaries), one of the files
    that may be the new adults', then bulk writes — the new rows written with ``COPY``
    straight from the parsed dossiers, without a model instance each."""
    department = flow.department
    read: list[RsaDossier] = []
    for item in chunk:
        if isinstance(item, DossierRefused):
            counts.rejected += 1
            counts.rejections.append(str(item))
        else:
            read.append(item)
    known = _known(department.pk, [d.number for d in read])
    known_on = header.reference_date or header.created_on
    adults = _Adults(department_id=department.pk, holder=holder, header=header)
    new: list[tuple[RsaDossier, tuple[object, ...]]] = []
    changed: list[Dossier] = []
    states: list[tuple[int, str]] = []
    for item in read:
        values = _dossier_values(item)
        dossier = known.get((item.body, item.number))
        if dossier is None:
            new.append((item, values))
            counts.created += 1
            continue
        state_changed = dossier.state != item.state
        fields_changed = dossier.fields != values
        persons_changed = adults.add(dossier.pk, item, dossier.adults)
        if not (state_changed or fields_changed or persons_changed):
            counts.unchanged += 1
            continue
        if state_changed:
            states.append((dossier.pk, item.state))
        changed.append(
            Dossier(
                pk=dossier.pk,
                state=item.state,
                last_import=flow,
                **dict(zip(_DOSSIER_FIELDS, values, strict=True)),
            )
        )
        counts.updated += 1
    if new:
        created = copy_like(
            Dossier(department=department, first_import=flow, last_import=flow),
            ("body", "number", "state", *_DOSSIER_FIELDS),
            [(item.body, item.number, item.state, *values) for item, values in new],
        )
        for pk, (item, _values) in zip(created, new, strict=True):
            states.append((pk, item.state))
            adults.add(pk, item, {})
    copy_like(DossierState(flow=flow, known_on=known_on), ("dossier_id", "state"), states)
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


def _dossier_values(item: RsaDossier) -> tuple[object, ...]:
    """The dossier's fields (``_DOSSIER_FIELDS``, in that order) as the flow gives them."""
    return (
        item.body_number,
        item.matricule,
        item.requested_on,
        item.suspension_reason,
        item.closure_reason,
        item.closed_on,
        item.no_fixed_address,
        item.family_situation,
        sum(1 for p in item.persons if p.role is Role.CHILD),
    )


def _full_nir(nir13: str) -> str:
    return nir13 + stdnum_nir.calc_check_digits(nir13) if nir13 else ""


@dataclasses.dataclass(slots=True)
class _NewAdult:
    """An adult of the flow without a beneficiary yet in her dossier."""

    dossier_id: int
    number: str  # the dossier's
    matricule: str  # the dossier's
    person: RsaPerson
    nir: str  # the 15 characters, "" when the flow has none
    nir_hash: str
    right_opened_on: datetime.date | None
    orientation_due_on: datetime.date | None


class _Adults:
    """The adults of a batch of dossiers: the beneficiaries to create (each matched to a file,
    left « à rapprocher » or given a new file) and those to update, written together."""

    def __init__(self, *, department_id: str, holder: Organisation, header: FluxHeader) -> None:
        self.department_id = department_id
        self.holder = holder
        self.header = header
        self.new: list[_NewAdult] = []
        self.updated: list[Beneficiary] = []

    def _clock(
        self, opened_on: datetime.date | None, subject: bool, state: RightState
    ) -> datetime.date | None:
        """The date the orientation's clock starts now, if it does: the flow tells of a
        right requested or opened for a person bound by the rights and duties."""
        if opened_on is not None or not subject or state not in RUNNING_STATES:
            return None
        return self.header.created_on

    def add(self, dossier_id: int, item: RsaDossier, known: dict[str, _KnownAdult]) -> bool:
        """Take the dossier's adults; return whether anything of them changes."""
        changed = False
        for person in item.persons:
            if person.role not in ADULT_ROLES:
                continue
            subject = person.subject_to_rights_and_duties
            adult = known.get(person.role)
            if adult is None:
                nir = _full_nir(person.nir)
                opened_on = self._clock(None, subject, item.state)
                self.new.append(
                    _NewAdult(
                        dossier_id=dossier_id,
                        number=item.number,
                        matricule=item.matricule,
                        person=person,
                        nir=nir,
                        nir_hash=crypto.identifier_hash(nir) if nir else "",
                        right_opened_on=opened_on,
                        orientation_due_on=opened_on + ORIENTATION_DELAY if opened_on else None,
                    )
                )
                changed = True
                continue
            touched = adult.subject != subject or adult.activity != person.activity
            opened_on, due_on = adult.right_opened_on, adult.orientation_due_on
            if (started := self._clock(opened_on, subject, item.state)) is not None:
                opened_on, due_on = started, started + ORIENTATION_DELAY
                touched = True
            if touched:
                self.updated.append(
                    Beneficiary(
                        pk=adult.pk,
                        subject_to_rights_and_duties=subject,
                        activity=person.activity,
                        right_opened_on=opened_on,
                        orientation_due_on=due_on,
                    )
                )
                changed = True
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
                (index, adult.person)
                for index, adult in enumerate(self.new)
                if not adult.nir_hash or adult.nir_hash not in same_nir
            ]
        )
        fernet = crypto.fernet()
        decided: list[tuple[_NewAdult, str, int | None, str]] = []
        created: list[_NewAdult] = []
        doubtful: list[tuple[int, list[Person]]] = []
        for index, adult in enumerate(self.new):
            found, candidates = _decide(
                adult.nir_hash, adult.person, same_nir, similar.get(index, [])
            )
            if found is not None:
                decided.append((adult, MatchStatus.MATCHED, found.pk, ""))
            elif candidates:
                # Kept for the file the human's decision links or creates.
                encrypted = fernet.encrypt(adult.nir.encode()).decode() if adult.nir else ""
                decided.append((adult, MatchStatus.TO_RECONCILE, None, encrypted))
                doubtful.append((index, candidates))
                counts.to_reconcile += 1
            else:
                decided.append((adult, MatchStatus.CREATED, None, ""))
                created.append(adult)
        files = iter(self._new_files(created))
        beneficiaries = copy_like(
            Beneficiary(),
            _BENEFICIARY_COLUMNS,
            [
                (
                    adult.dossier_id,
                    adult.person.role,
                    next(files) if status == MatchStatus.CREATED else person_id,
                    status,
                    adult.person.first_name,
                    adult.person.last_name,
                    adult.person.birth_name,
                    adult.person.birth_date,
                    adult.nir_hash,
                    encrypted,
                    adult.person.subject_to_rights_and_duties,
                    adult.person.france_travail_id,
                    adult.person.activity,
                    adult.right_opened_on,
                    adult.orientation_due_on,
                )
                for adult, status, person_id, encrypted in decided
            ],
        )
        if doubtful:
            copy_like(
                Beneficiary.candidates.through(),
                ("beneficiary_id", "person_id"),
                [
                    (beneficiaries[index], candidate.pk)
                    for index, candidates in doubtful
                    for candidate in candidates
                ],
            )

    def _same_nir(self) -> dict[str, Person]:
        hashes = sorted({adult.nir_hash for adult in self.new if adult.nir_hash})
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

    def _new_files(self, adults: list[_NewAdult]) -> list[int]:
        """Write a file for each adult (with its audit line and the first line of its
        timeline, each as ``record`` and ``add_event`` write them); return their ids."""
        if not adults:
            return []
        fernet = crypto.fernet()
        rows = []
        for adult in adults:
            person = adult.person
            birth_name = person.birth_name if person.birth_name != person.last_name else ""
            rows.append(
                (
                    person.first_name,
                    person.last_name,
                    birth_name,
                    person.birth_date,
                    _SEXES.get(person.sex, ""),
                    person.france_travail_id.upper(),
                    adult.matricule,
                    person.phone,
                    person.email,
                    person.address,
                    # What ``Person.set_nir`` keeps of the NIR: never in clear.
                    adult.nir_hash,
                    fernet.encrypt(adult.nir.encode()).decode() if adult.nir else "",
                    # What ``Person.save`` computes, since the files are written in bulk.
                    normalize(f"{person.first_name} {person.last_name} {birth_name}"),
                )
            )
        template = Person(department_id=self.department_id, organisation=self.holder)
        ids = copy_like(template, _PERSON_COLUMNS, rows)
        header = self.header
        at = datetime.datetime.combine(
            header.created_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
        )
        # New lines of the audit log, each as ``record`` writes it, loaded together.
        audit = audit_row(
            AuditKind.PERSON_CREATED,
            actor_label="import automatique",
            organisation=self.holder,
            target=template,
        )
        copy_like(
            audit,
            ("target_id", "person_id", "what"),
            [
                (
                    str(pk),
                    pk,
                    f"Dossier de {adult.person.first_name} {adult.person.last_name.upper()}, "
                    f"depuis le {header.description}"[:300],
                )
                for pk, adult in zip(ids, adults, strict=True)
            ],
        )
        line = timeline_row(
            person=template,
            kind=EventKind.PERSON,
            actor=None,
            organisation=self.holder,
            target=template,
            summary="",
            at=at,
        )
        copy_like(
            line,
            ("person_id", "target_id", "summary"),
            [
                (
                    pk,
                    pk,
                    f"Dossier créé depuis le {header.description} (RSA n° {adult.number})"[:300],
                )
                for pk, adult in zip(ids, adults, strict=True)
            ],
        )
        return ids


_SEXES = {"1": "M", "2": "F"}
_PERSON_COLUMNS = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "sex",
    "france_travail_id",
    "caf_number",
    "phone",
    "email",
    "address",
    "nir_hash",
    "nir_encrypted",
    "search_name",
)
_BENEFICIARY_COLUMNS = (
    "dossier_id",
    "role",
    "person_id",
    "match_status",
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "nir_hash",
    "nir_encrypted",
    "subject_to_rights_and_duties",
    "france_travail_id",
    "activity",
    "right_opened_on",
    "orientation_due_on",
)


def _decide(
    nir_hash: str,
    person: RsaPerson,
    same_nir: dict[str, Person],
    similar: list[Person],
) -> tuple[Person | None, list[Person]]:
    """The one file that is surely this person, else the files that may be (for a human).

    Sure: the same NIR; or, with no NIR on either side that disagrees, the same birth date,
    first name and birth (or used) name, and no other file alike. The CAF number alone never
    decides: a couple shares it.
    """
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
