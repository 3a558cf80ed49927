"""Import of data·inclusion v1 files (structures and services) into the directory.

``import_directory(files)`` reads every file, checks every row in Python, then writes the
valid ones in bulk inside ONE transaction, and returns an ``ImportReport``.

Formats, detected from the content (not the file name):

- **HSDS 3.0 JSON** as ``binome directory export --format hsds`` writes it, or as others
  write it (one organization or service with what it nests, a page of the HSDS API; see
  ``binome/directory/hsds.py``): read as data·inclusion rows, then checked alike.
- **JSON** as the national API serves it: a list of rows, or a page, an object whose
  ``items`` is that list; a row with a ``structure_id`` key is a service, otherwise a
  structure, and one file may hold both. Also its other answers: one row alone (as
  ``/services/{id}`` and ``/structures/{id}`` return it), a service with its structure
  nested in ``structure``, a structure with its services nested in ``services``, and a
  page of search results (``items`` of ``{"distance": …, "service": …}``): the nested rows
  are read as rows of their own (a structure nested in several services, once). The line
  of a row in the report is its index in the list + 1 (1 for a row alone); a nested row
  has the line of the row it is nested in. A page without items (the last page of a
  paginated export) is read as no rows, with a warning.
- **CSV** (UTF-8, with or without BOM; separator ``,`` or ``;``, taken from the header):
  one row per line, columns named like the schema's fields (``id``, ``source``, ``nom``,
  ``date_maj``…; unknown columns are ignored). A file with a ``structure_id`` column holds
  services, otherwise structures. In a list field (``thematiques``, ``publics``,
  ``modes_accueil``, ``zone_eligibilite``, ``modes_mobilisation``, ``mobilisable_par``,
  ``reseaux_porteurs``) the values are separated by ``,`` (quote the cell when the
  separator is ``,``); an empty cell is an absent value; decimals take ``.`` or ``,``.
  The line of a row is its line number in the file (the header is line 1).

Rules:

- Upsert by (source, id): a new row is created, a changed row updated, an identical row
  left untouched (a re-run of the same files changes nothing). ``imported_at`` is set on
  the rows created or updated.
- A row whose record was edited in Binôme (``edited_locally_at`` set) is not overwritten:
  it is counted as *kept*.
- Every rejected row is reported with its file, line, field and a French reason, and the
  valid rows are applied. Rejected: what the schema refuses (missing field, unknown
  thématique, description over 10,000 characters, invalid e-mail or date…), an invalid
  SIRET, an id already seen in the import with the same ``date_maj``, a service whose
  structure is neither in the files nor in the directory.
- A row whose only faults are in its optional place fields (coordinates outside France
  or one without the other, an unknown or malformed INSEE code, a malformed postal code)
  is imported without those fields, with a warning naming them (a row rejected for
  another reason lists them with its other faults).
- The same id twice in one import: the row with the newest ``date_maj`` is kept, the
  others are ignored with a warning (the same date: the first is kept, the others are
  rejected as duplicates).
- A row older than the one the directory holds (its ``date_maj`` before the stored one)
  does not overwrite it: it is ignored with a warning.
- A file that cannot be read (empty, malformed JSON, another format, a CSV without a
  required column) stops the whole import before anything is written: the structures and
  services of several files hang together.
- The writing is one transaction: an interruption leaves the directory as it was.

Speed: rows are checked in Python, then loaded with ``COPY`` into a temporary table and
merged with one ``UPDATE`` (the changed rows) and one ``INSERT`` (the new ones) per kind.
The services' search columns are computed in those two statements, as the search trigger
computes them (migrations 0003 and 0009), joined once with the structures, instead of by
the trigger row by row. Their costly parts are computed beforehand: the full text of a new
service's name and description by the staging table itself (generated columns), while
the rows stream in during the checks (PostgreSQL parses the words of one row while Python
checks the next: two processors busy instead of one), and the thématiques' labels once
per distinct list. When an import adds more rows to a table than it holds (a first
national load), the indexes of that table that no constraint needs are dropped before the
writing and built again after it, in the same transaction (building an index once is much
cheaper than maintaining it row by row); that locks the table until the commit.

A re-run is cheap: each row's fingerprint (``content_hash``) is stored with the row it was
imported into; a row whose fingerprint did not change since is neither checked again nor
written. An updated service whose words did not change keeps its full-text vector.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from django.contrib.postgres.fields import ArrayField
from django.db import DatabaseError, connection, models, transaction

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.directory import datainclusion as di
from binome.directory import hsds
from binome.directory.datainclusion import Kind
from binome.directory.models import Service, Structure
from binome.territories.models import Commune

FileInput = str | os.PathLike[str] | tuple[str, bytes]


@dataclass
class Tuning:
    """How the writing goes fast; the benchmark turns these off to measure the plain path."""

    # Compute the services' search columns in the merge statements (else: the row trigger).
    search_columns_in_statement: bool = True
    # Drop and rebuild a table's secondary indexes when the new rows outnumber the
    # existing ones by this ratio (None: never).
    rebuild_indexes_ratio: float | None = 1.0
    # …and only from this many new rows.
    rebuild_indexes_min_rows: int = 20_000


TUNING = Tuning()


class Progress(Protocol):
    """Told where the import is: a French stage name, rows done, rows in all."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


# Arrondissements of Paris, Lyon and Marseille → their commune (the referential holds the
# communes only; data·inclusion rows often carry the arrondissement's code).
_ARRONDISSEMENTS = (
    {f"751{n:02d}": "75056" for n in range(1, 21)}
    | {f"132{n:02d}": "13055" for n in range(1, 17)}
    | {f"6938{n}": "69123" for n in range(1, 10)}
)


@dataclass(frozen=True, slots=True)
class Rejection:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.field} : {self.reason}"


@dataclass(slots=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    structures: Counts = field(default_factory=Counts)
    services: Counts = field(default_factory=Counts)
    rejected: list[Rejection] = field(default_factory=list)
    rejected_rows: int = 0
    # Rows applied without a faulty optional field, rows ignored for a newer one, empty
    # pages (line 0: the whole file).
    warnings: list[Rejection] = field(default_factory=list)
    # A file that could not be read: nothing was written.
    file_errors: list[str] = field(default_factory=list)
    # "structures dora--12": rows edited in Binôme, left as they are.
    kept: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Where the time went: "lecture", "contrôle", "écriture structures"…
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        return not self.file_errors

    def lines(self) -> list[str]:
        """The report as a person reads it, in French."""
        if self.file_errors:
            return [
                *self.file_errors,
                "Import annulé : rien n'a été modifié dans l'annuaire.",
            ]
        out = []
        for label, counts in (("structures", self.structures), ("services", self.services)):
            out.append(
                f"{label} : {counts.created} créé(s), {counts.updated} modifié(s), "
                f"{counts.unchanged} inchangé(s), {counts.kept} conservé(s) "
                "(modifiés dans Binôme)"
            )
        out.append(f"lignes rejetées : {self.rejected_rows}")
        out.extend(str(rejection) for rejection in self.rejected)
        if self.warnings:
            out.append(f"avertissements : {len(self.warnings)}")
            out.extend(f"avertissement : {warning}" for warning in self.warnings)
        out.extend(f"conservé (modifié dans Binôme) : {key}" for key in self.kept)
        out.append(f"durée : {self.seconds:.1f} s")
        return out


class FileError(Exception):
    """A file that cannot be read as data·inclusion rows (the message is for the user)."""


@dataclass(slots=True)
class _Row:
    kind: Kind
    file: str
    line: int
    data: Any
    # Read from inside another row (a service's structure): its copies are not duplicates.
    nested: bool = False


class _EmptyPage(Exception):
    """A page of the national API without items (the last page of an export)."""


# --- reading ----------------------------------------------------------------------------


def _load(source: FileInput) -> tuple[str, bytes]:
    if isinstance(source, tuple):
        return source
    path = Path(source)
    try:
        return str(source), path.read_bytes()
    except FileNotFoundError:
        raise FileError(f"{source} : fichier introuvable.") from None
    except OSError as exc:
        raise FileError(f"{source} : lecture impossible ({exc.strerror}).") from None


def _decode(name: str, content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise FileError(f"{name} : format non reconnu (fichier binaire) ; attendu : JSON ou CSV.")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(
            f"{name} : format non reconnu (octet {exc.start + 1} n'est pas de l'UTF-8) ; "
            "attendu : JSON ou CSV encodé en UTF-8."
        ) from None


def _read_json(name: str, text: str) -> list[_Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(
            f"{name} : JSON mal formé, ligne {exc.lineno}, colonne {exc.colno} ({exc.msg})."
        ) from None
    if hsds.is_hsds(data):
        return _read_hsds(name, data)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        if not data["items"]:
            raise _EmptyPage
        data = data["items"]
    elif isinstance(data, dict) and any(key in data for key in ("source", "id", "nom")):
        data = [data]  # one row, as /services/{id} or /structures/{id} return it
    if not isinstance(data, list):
        raise FileError(
            f"{name} : JSON inattendu : une liste de structures ou de services, ou un objet "
            "avec « items », est attendu."
        )
    rows: list[_Row] = []
    for index, item in enumerate(data):
        if isinstance(item, dict) and "nom" not in item and isinstance(item.get("service"), dict):
            item = item["service"]  # a search result: {"distance": …, "service": …}
        rows.extend(_api_rows(name, index + 1, item))
    return rows


def _api_rows(name: str, line: int, item: Any) -> list[_Row]:
    """The rows of one item of the national API: a structure or a service, and the rows
    nested in it (a service's ``structure``, a structure's ``services``)."""
    if not isinstance(item, dict):
        return [_Row(Kind.STRUCTURES, name, line, item)]
    if "structure_id" in item:
        if "structure" not in item:  # a row of a list or page: as it is (the common case)
            return [_Row(Kind.SERVICES, name, line, item)]
        structure = item["structure"]
        service = {key: value for key, value in item.items() if key != "structure"}
        rows = [_Row(Kind.SERVICES, name, line, service)]
        if isinstance(structure, dict):
            plain = {key: value for key, value in structure.items() if key != "services"}
            rows.insert(0, _Row(Kind.STRUCTURES, name, line, plain, nested=True))
        return rows
    services = item.get("services")
    if not isinstance(services, list):
        return [_Row(Kind.STRUCTURES, name, line, item)]
    structure = {key: value for key, value in item.items() if key != "services"}
    rows = [_Row(Kind.STRUCTURES, name, line, structure)]
    for service in services:
        if isinstance(service, dict):
            service = {key: value for key, value in service.items() if key != "structure"}
            service.setdefault("source", structure.get("source"))
            service.setdefault("structure_id", structure.get("id"))
        rows.append(_Row(Kind.SERVICES, name, line, service, nested=True))
    return rows


def _read_hsds(name: str, document: dict[str, Any]) -> list[_Row]:
    """An HSDS 3.0 document as our export writes it (``binome.directory.hsds``).

    A row's place in the report is its table and its index in that table + 1.
    """
    try:
        rows = hsds.datainclusion_rows(document)
    except hsds.HsdsError as exc:
        raise FileError(f"{name} : HSDS illisible : {exc}") from None
    return [
        _Row(kind, f"{name} ({table})", index + 1, data)
        for kind, table in ((Kind.STRUCTURES, "organizations"), (Kind.SERVICES, "services"))
        for index, data in enumerate(rows[kind])
    ]


def _csv_value(column: str, cell: str) -> Any:
    cell = cell.strip()
    if not cell:
        return None
    if column in di.LIST_FIELDS:
        return [value.strip() for value in cell.split(",") if value.strip()] or None
    if column in di.NUMBER_FIELDS:
        return cell.replace(",", ".")
    return cell


def _read_csv(name: str, text: str) -> list[_Row]:
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip() for column in next(reader)]
    except (StopIteration, csv.Error):
        raise FileError(f"{name} : fichier vide.") from None
    kind = Kind.SERVICES if "structure_id" in header else Kind.STRUCTURES
    missing = [column for column in di.REQUIRED[kind] if column not in header]
    if missing:
        raise FileError(
            f"{name} : ni JSON ni CSV de {kind} data·inclusion : colonne(s) obligatoire(s) "
            f"absente(s) : {', '.join(missing)} (ligne 1)."
        )
    rows: list[_Row] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    too_many = f"{len(cells)} colonnes au lieu de {len(header)}"
                    rows.append(_Row(kind, name, line, too_many))
                else:
                    data = {
                        column: value
                        for column, cell in zip(header, cells, strict=False)
                        if (value := _csv_value(column, cell)) is not None
                    }
                    rows.append(_Row(kind, name, line, data))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FileError(f"{name} : CSV mal formé, ligne {reader.line_num} ({exc}).") from None
    return rows


def read_rows(source: FileInput) -> tuple[str, list[_Row]]:
    """The rows of one file, or FileError with a French message."""
    name, content = _load(source)
    if not content.strip():
        raise FileError(f"{name} : fichier vide.")
    text = _decode(name, content)
    stripped = text.lstrip()
    try:
        rows = _read_json(name, text) if stripped[:1] in {"[", "{"} else _read_csv(name, text)
    except _EmptyPage:
        return name, []
    if not rows:
        raise FileError(f"{name} : le fichier ne contient aucune structure ni aucun service.")
    return name, rows


# --- checking ---------------------------------------------------------------------------


@dataclass
class _Checked:
    records: dict[Kind, list[dict[str, Any]]]
    origin: dict[tuple[Kind, str, str], tuple[str, int]]
    # Rows identical to what the last import of them stored: neither checked nor written.
    unchanged: dict[Kind, int] = field(
        default_factory=lambda: {Kind.STRUCTURES: 0, Kind.SERVICES: 0}
    )


PROGRESS_EVERY = 5000  # rows checked between two progress reports

# Bumped when the reading, the checks or the mapping to our columns change: the rows
# stored by an earlier version are then checked and compared again at the next import.
CONTENT_HASH_VERSION = "2"


def content_hash(kind: Kind, data: dict[str, Any]) -> str:
    """The fingerprint of a row as read from its file (before any check), stored with the
    row it was imported into (``content_hash``).

    ``pickle`` of the parsed row: deterministic for what JSON and CSV give (str, numbers,
    None, lists, dicts in the file's key order), and 2.4 times cheaper than its ``repr``
    (version 1), itself cheaper than ``json.dumps``. The same row with its keys in another
    order, or read with other objects shared (pickle writes a value seen twice in a row
    once), gets another fingerprint: it is then checked and compared as before, which is
    slower but still right. Only ever dumped, never loaded.
    """
    serialized = pickle.dumps((CONTENT_HASH_VERSION, str(kind), data), protocol=5)
    return hashlib.blake2b(serialized, digest_size=16).hexdigest()


def _stored_hashes(rows: list[_Row]) -> dict[tuple[Kind, str, str], str]:
    """(kind, source, source id) → the fingerprint stored by the last import of that row,
    for every row of the directory from the sources of ``rows``. Rows edited in Binôme
    have an empty one: they always take the full path (and are reported as kept)."""
    sources: dict[Kind, set[str]] = {Kind.STRUCTURES: set(), Kind.SERVICES: set()}
    for row in rows:
        if isinstance(row.data, dict) and isinstance(row.data.get("source"), str):
            sources[row.kind].add(row.data["source"])
    stored: dict[tuple[Kind, str, str], str] = {}
    with connection.cursor() as cursor:
        for kind, kind_sources in sources.items():
            if not kind_sources:
                continue
            cursor.execute(
                "SELECT source, source_id, "  # noqa: S608 - the table comes from our models
                "CASE WHEN edited_locally_at IS NULL THEN content_hash ELSE '' END "
                f"FROM {_TABLE[kind]} WHERE source = ANY(%s)",
                [sorted(kind_sources)],
            )
            stored.update(
                ((kind, source, source_id), digest)
                for source, source_id, digest in cursor.fetchall()
            )
    return stored


# Optional fields whose fault does not cost the row: it is imported without them.
_PLACE_FIELDS = frozenset({"latitude", "longitude", "code_insee", "code_postal"})


def _without_faulty_place(data: dict[str, Any], errors: Sequence[di.FieldError]) -> dict[str, Any]:
    dropped = {error.field for error in errors}
    if dropped & {"latitude", "longitude"}:
        dropped |= {"latitude", "longitude"}  # one without the other means nothing
    return {name: value for name, value in data.items() if name not in dropped}


def _place_warning(error: di.FieldError) -> di.FieldError:
    return di.FieldError(error.field, f"{error.reason} ; valeur ignorée, ligne importée sans elle")


def _date_maj(row: _Row) -> date:
    """The row's ``date_maj`` as read (the oldest possible when it is not a date)."""
    value = row.data.get("date_maj") if isinstance(row.data, dict) else None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value[:10])
    return date.min


def _older_duplicates(rows: list[_Row], report: ImportReport) -> set[int]:
    """The rows to leave out because the same id comes again with a newer ``date_maj``
    (each reported as a warning), and the nested copies of a row read elsewhere. Rows of
    the same id and date are left to the checks (the first kept, the others rejected)."""
    kept: dict[tuple[Kind, str, str], int] = {}
    contested: set[tuple[Kind, str, str]] = set()
    for index, row in enumerate(rows):
        key = _row_key(row)
        if key is None:
            continue
        best = kept.setdefault(key, index)
        if best == index:
            continue
        contested.add(key)
        newer = _date_maj(row), not row.nested
        if newer > (_date_maj(rows[best]), not rows[best].nested):
            kept[key] = index
    if not contested:  # the common case: every id once
        return set()
    skipped: set[int] = set()
    for index, row in enumerate(rows):
        key = _row_key(row)
        if key not in contested or kept[key] == index:
            continue
        newest = rows[kept[key]]
        if _date_maj(row) < _date_maj(newest):
            skipped.add(index)
            report.warnings.append(
                Rejection(
                    row.file,
                    row.line,
                    "date_maj",
                    f"identifiant « {key[2]} » en double : la version la plus récente "
                    f"(date_maj {_date_text(newest)}, en {newest.file}:{newest.line}) est "
                    "gardée, "
                    f"celle-ci (date_maj {_date_text(row)}) est ignorée",
                )
            )
        elif row.nested:
            skipped.add(index)  # the same structure nested in another service
    return skipped


def _date_text(row: _Row) -> str:
    day = _date_maj(row)
    return day.isoformat() if day != date.min else "absente ou invalide"


def _row_key(row: _Row) -> tuple[Kind, str, str] | None:
    if not isinstance(row.data, dict):
        return None
    source, source_id = row.data.get("source"), row.data.get("id")
    if isinstance(source, str) and isinstance(source_id, str):
        return (row.kind, source, source_id)
    return None


def _check(rows: list[_Row], report: ImportReport, progress: Progress = _no_progress) -> _Checked:
    communes: dict[str, str] = dict(Commune.objects.values_list("insee_code", "department_id"))
    checked = _Checked({Kind.STRUCTURES: [], Kind.SERVICES: []}, {})
    rejected_lines: set[tuple[str, int]] = set()
    stored = _stored_hashes(rows)
    # Structures left as they are (their rows are the same as at their last import).
    unchanged_structures: set[tuple[str, str]] = set()

    rejected_structures: dict[tuple[str, str], tuple[str, int]] = {}

    def reject(row: _Row, errors: Sequence[di.FieldError]) -> None:
        rejected_lines.add((row.file, row.line))
        if row.kind == Kind.STRUCTURES and isinstance(row.data, dict):
            key = (str(row.data.get("source")), str(row.data.get("id")))
            rejected_structures.setdefault(key, (row.file, row.line))
        report.rejected.extend(Rejection(row.file, row.line, e.field, e.reason) for e in errors)

    def other_errors(row: _Row) -> list[di.FieldError]:
        """Of a row rejected by the schema or our rules, what its commune would be refused
        for too (its structure is checked with the others' below): the report names every
        fault of a row at once, so that the producer mends it in one go."""
        data = row.data
        assert isinstance(data, dict)
        code = data.get("code_insee")
        if isinstance(code, str) and _ARRONDISSEMENTS.get(code, code) not in communes:
            return [di.FieldError("code_insee", f"code INSEE inconnu « {code} »")]
        return []

    # Services rejected before their structure was looked for: (row, (source, structure id)).
    rejected_services: list[tuple[_Row, tuple[str, str]]] = []
    pending_services: list[tuple[_Row, dict[str, Any]]] = []
    # Faults of optional place fields of rows applied without them: warnings, unless the
    # row is rejected later (a service without its structure).
    place_faults: dict[int, list[di.FieldError]] = {}

    def warn(row: _Row, errors: Sequence[di.FieldError]) -> None:
        report.warnings.extend(
            Rejection(row.file, row.line, e.field, _place_warning(e).reason) for e in errors
        )

    skipped = _older_duplicates(rows, report)
    total = len(rows)
    progress("contrôle des lignes", 0, total)
    # The services are loaded into their staging table as they are checked: PostgreSQL
    # parses their words (``_create_staging``) while Python checks the next rows.
    with _staging(Kind.SERVICES) as stage:
        for number, row in enumerate(rows, 1):
            if number % PROGRESS_EVERY == 0:
                progress("contrôle des lignes", number, total)
            if number - 1 in skipped:
                continue
            if not isinstance(row.data, dict):
                what = row.data if isinstance(row.data, str) else type(row.data).__name__
                reject(row, [di.FieldError("ligne", f"ligne illisible ({what})")])
                continue
            digest = content_hash(row.kind, row.data)
            source, source_id = row.data.get("source"), row.data.get("id")
            if (
                stored
                and isinstance(source, str)
                and isinstance(source_id, str)
                and stored.get((row.kind, source, source_id)) == digest  # never "" (edited)
            ):
                # The very row the last import stored (checked then, not edited since): the
                # directory already holds it. Only its place in this import is checked.
                key = (row.kind, source, source_id)
                if key in checked.origin:
                    first_file, first_line = checked.origin[key]
                    duplicate = (
                        f"identifiant « {source_id} » en double (déjà en {first_file}:{first_line})"
                    )
                    reject(row, [di.FieldError("id", duplicate)])
                    continue
                checked.origin[key] = (row.file, row.line)
                checked.unchanged[row.kind] += 1
                if row.kind == Kind.STRUCTURES:
                    unchanged_structures.add((source, source_id))
                continue
            record, errors = di.check_record(row.kind, row.data)
            faults: list[di.FieldError] = []
            lenient = row.data
            # Without a faulty place field, the row may show another (the schema's checks
            # come before ours): until it passes or shows a fault of another field.
            while (
                record is None and errors and all(error.field in _PLACE_FIELDS for error in errors)
            ):
                faults.extend(errors)
                lenient = _without_faulty_place(lenient, errors)
                record, errors = di.check_record(row.kind, lenient)
            if record is None:
                reject(row, [*faults, *errors, *other_errors(row)])
                structure_id = row.data.get("structure_id")
                if row.kind == Kind.SERVICES and isinstance(source, str) and structure_id:
                    rejected_services.append((row, (source, str(structure_id))))
                continue
            record["content_hash"] = digest
            code = record["commune_id"]
            if code is not None:
                code = _ARRONDISSEMENTS.get(code, code)
                if code not in communes:
                    faults.append(di.FieldError("code_insee", f"code INSEE inconnu « {code} »"))
                    code = None
                record["commune_id"] = code
            record["department_id"] = communes[code] if code is not None else None
            key = (row.kind, record["source"], record["source_id"])
            if key in checked.origin:
                first_file, first_line = checked.origin[key]
                reject(
                    row,
                    [
                        di.FieldError(
                            "id",
                            f"identifiant « {record['source_id']} » en double (déjà en "
                            f"{first_file}:{first_line})",
                        )
                    ],
                )
                continue
            checked.origin[key] = (row.file, row.line)
            if row.kind == Kind.SERVICES:
                record["fresh"] = key not in stored
                stage(record)
                pending_services.append((row, record))
                if faults:
                    place_faults[id(row)] = faults
            else:
                checked.records[Kind.STRUCTURES].append(record)
                warn(row, faults)

    # A service needs its structure, from the files or already in the directory.
    wanted = {(r["source"], r["structure_source_id"]) for _row, r in pending_services}
    wanted |= {key for _row, key in rejected_services}
    known = {(r["source"], r["source_id"]) for r in checked.records[Kind.STRUCTURES]}
    known |= unchanged_structures
    sources = sorted({source for source, _id in wanted - known})
    if sources:
        known |= set(
            Structure.objects.filter(source__in=sources).values_list("source", "source_id")
        )

    def missing_structure(source: str, structure_id: str) -> di.FieldError:
        if (source, structure_id) in rejected_structures:
            where = ":".join(map(str, rejected_structures[(source, structure_id)]))
            return di.FieldError(
                "structure_id", f"structure « {structure_id} » rejetée (voir {where})"
            )
        return di.FieldError(
            "structure_id",
            f"structure « {structure_id} » (source « {source} ») absente des fichiers et de "
            "l'annuaire",
        )

    orphans: list[tuple[str, str]] = []
    for row, record in pending_services:
        structure_key = (record["source"], record["structure_source_id"])
        faults = place_faults.get(id(row), [])
        if structure_key in known:
            checked.records[Kind.SERVICES].append(record)
            warn(row, faults)
            continue
        orphans.append((record["source"], record["source_id"]))
        reject(row, [*faults, missing_structure(*structure_key)])
    for row, structure_key in rejected_services:
        if structure_key not in known:
            reject(row, [missing_structure(*structure_key)])
    if orphans:
        # Staged as they were checked: taken out again.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM _import_{Kind.SERVICES} "  # noqa: S608
                "WHERE (source, source_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                [[source for source, _id in orphans], [source_id for _s, source_id in orphans]],
            )
    report.rejected_rows = len(rejected_lines)
    report.rejected.sort(key=lambda r: (r.file, r.line))
    report.warnings.sort(key=lambda r: (r.file, r.line))
    return checked


# --- writing ----------------------------------------------------------------------------

_TABLE = {Kind.STRUCTURES: Structure._meta.db_table, Kind.SERVICES: Service._meta.db_table}


def _columns(kind: Kind) -> list[tuple[str, str, str]]:
    """(column, COPY type, column type) of the staging table: the mapped fields, the département.

    The staging columns have the directory's own types, so comparing a staged row with the
    stored one needs no cast.
    """
    model = di.DJANGO_MODELS[kind]
    names = [ours for _theirs, ours in di.FIELDS[kind]] + ["department_id", "content_hash"]
    columns: list[tuple[str, str, str]] = []
    for name in names:
        if name == "structure_source_id":
            columns.append((name, "text", "text"))
            continue
        django_field = model._meta.get_field(
            name if name == "source_id" else name.removesuffix("_id")
        )
        db_type = django_field.db_type(connection)
        if isinstance(django_field, ArrayField):
            copy_type = "text[]"
        elif isinstance(django_field, models.FloatField):
            copy_type = "float8"
        elif isinstance(django_field, models.IntegerField):
            copy_type = "int4"
        elif isinstance(django_field, models.DateField):
            copy_type = "date"
        else:
            copy_type = "text"
        columns.append((name, copy_type, str(db_type)))
    return columns


def _create_staging(cursor: Any, kind: Kind) -> None:
    columns = _columns(kind)
    staging = f"_import_{kind}"
    definition = ", ".join(f"{name} {db_type}" for name, _copy, db_type in columns)
    definition += ", present boolean NOT NULL DEFAULT false"
    if kind == Kind.SERVICES and TUNING.search_columns_in_statement:
        # The two costly parts of a new service's search vector (see ``_search_vector``),
        # computed by PostgreSQL as the rows arrive, while Python checks the next ones.
        # ``fresh``: not in the directory when the import began (an updated service whose
        # words did not change keeps its vector: not worth parsing it).
        definition += (
            ", fresh boolean NOT NULL"
            ", name_vector tsvector GENERATED ALWAYS AS (CASE WHEN fresh THEN "
            f"{_NAME_VECTOR.format(src='')} END) STORED"
            ", description_vector tsvector GENERATED ALWAYS AS (CASE WHEN fresh THEN "
            f"{_DESCRIPTION_VECTOR.format(src='')} END) STORED"
        )
    # Dropped at commit; dropped first too when a caller's transaction spans two imports.
    cursor.execute(f"DROP TABLE IF EXISTS {staging}")
    cursor.execute(f"CREATE TEMP TABLE {staging} ({definition}) ON COMMIT DROP")


@contextlib.contextmanager
def _staging(kind: Kind) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A new staging table of ``kind``, and a function that loads one record into it
    (``COPY``, streamed: PostgreSQL reads the rows while the caller goes on)."""
    columns = _columns(kind)
    names = [name for name, _copy, _db in columns]
    types = [copy_type for _name, copy_type, _db in columns]
    if kind == Kind.SERVICES and TUNING.search_columns_in_statement:
        names.append("fresh")
        types.append("bool")
    # Lists go as array literals: psycopg's list dumper (in Python, a regular expression
    # per value) cost more than the rest of the row.
    arrays = [index for index, copy_type in enumerate(types) if copy_type == "text[]"]
    types = ["text" if copy_type == "text[]" else copy_type for copy_type in types]
    with connection.cursor() as cursor:
        _create_staging(cursor, kind)
        with cursor.cursor.copy(f"COPY _import_{kind} ({', '.join(names)}) FROM STDIN") as copy:
            copy.set_types(types)
            write_row = copy.write_row

            def stage(record: dict[str, Any]) -> None:
                row = [record[name] for name in names]
                for index in arrays:
                    row[index] = _array_literal(row[index])
                write_row(row)

            yield stage


def _array_literal(values: list[str]) -> str:
    """The array literal of ``values``: every element quoted, ``\\`` and ``"`` escaped."""
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def _stage(kind: Kind, records: list[dict[str, Any]]) -> None:
    with _staging(kind) as stage:
        for record in records:
            stage(record)


def _prepare_staging(kind: Kind) -> None:
    """Index and statistics of a filled staging table, and which rows already exist."""
    staging = f"_import_{kind}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNIQUE INDEX ON {staging} (source, source_id)")
        # Statistics of the join columns only: those of every column (the descriptions…)
        # cost as much as a tenth of a first national load, for plans that never read them.
        joined = "source, source_id" + (
            ", structure_source_id, thematiques" if kind == Kind.SERVICES else ""
        )
        cursor.execute(f"ANALYZE {staging} ({joined})")
        # Which staged rows already exist, marked once here: the merge's INSERT then never
        # reads the table it writes (an anti-join on a table growing under a nested loop
        # is quadratic).
        cursor.execute(
            f"UPDATE {staging} s SET present = true FROM {_TABLE[kind]} t "  # noqa: S608
            "WHERE t.source = s.source AND t.source_id = s.source_id"
        )


def _kept(kind: Kind) -> list[str]:
    """Source ids of the staged rows whose record was edited in Binôme."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.source_id FROM _import_{kind} s JOIN {_TABLE[kind]} t "  # noqa: S608
            "ON t.source = s.source AND t.source_id = s.source_id "
            "WHERE t.edited_locally_at IS NOT NULL ORDER BY s.source_id"
        )
        return [source_id for (source_id,) in cursor.fetchall()]


# A staged row is not older than the stored one (``date_maj``, ``updated_on`` here).
_NOT_OLDER = (
    "({new}.updated_on IS NULL OR t.updated_on IS NULL OR {new}.updated_on >= t.updated_on)"
)


def _outdated(kind: Kind) -> list[tuple[str, str, date, date]]:
    """(source, source id, its date_maj, the stored one) of the staged rows older than the
    row the directory holds (not edited in Binôme: those are kept anyway)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.source, s.source_id, s.updated_on, t.updated_on "  # noqa: S608
            f"FROM _import_{kind} s JOIN {_TABLE[kind]} t "
            "ON t.source = s.source AND t.source_id = s.source_id "
            "WHERE s.present AND t.edited_locally_at IS NULL AND s.updated_on < t.updated_on "
            "ORDER BY s.source, s.source_id"
        )
        return list(cursor.fetchall())


def _upsert(kind: Kind) -> tuple[int, int]:
    """Merge the staging table into the directory: (created, updated).

    Two statements rather than one ``INSERT … ON CONFLICT DO UPDATE``: an INSERT fires the
    BEFORE INSERT trigger of the search columns (migration 0002) on every proposed row,
    conflicting or not, which made a re-run pay the full-text indexing of every service.
    Here the UPDATE touches only the rows that changed, and the INSERT only the new ones.
    """
    table = _TABLE[kind]
    columns = [name for name, _copy, _db in _columns(kind) if name != "structure_source_id"]
    select = [f"s.{name}" for name in columns]
    join = ""
    if kind == Kind.SERVICES:
        columns.append("structure_id")
        select.append("st.id AS structure_id")
        join = (
            f"JOIN {_TABLE[Kind.STRUCTURES]} st "
            "ON st.source = s.source AND st.source_id = s.structure_source_id"
        )
    # What a row says; its fingerprint is not compared (the same data from another file,
    # an export, is unchanged) but written, by the UPDATE or by ``fingerprint`` below.
    compared = [name for name in columns if name not in {"source", "source_id", "content_hash"}]
    search = kind == Kind.SERVICES and TUNING.search_columns_in_statement
    # column → the expression written (evaluated for the written rows only).
    written = {name: f"src.{name}" for name in columns}
    # The UPDATE's assignments, where they differ from the INSERT's values.
    updated_values: dict[str, str] = {}
    if search:
        # The same SQL functions as the row trigger (migration 0003): one definition, but
        # for the vector of the thématiques' labels, taken from ``_import_labels`` (see
        # ``_search_vector``).
        select.extend(
            [
                "st.name AS structure_name",
                "lab.vector AS labels_vector",
                "s.name_vector",
                "s.description_vector",
            ]
        )
        join += " LEFT JOIN _import_labels lab ON lab.thematiques = s.thematiques"
        written["search_name"] = "directory_search_name(src.name)"
        written["search_vector"] = _search_vector("src")
        # The French full text is most of the cost of writing a service (parsing and
        # stemming its description): an updated service whose words did not change keeps
        # its vector. (A renamed structure re-touches its services through its own
        # trigger, when the structures are written, before this statement.)
        same_text = (
            "(t.name, t.description, t.thematiques, t.structure_id) IS NOT DISTINCT FROM "
            "(src.name, src.description, src.thematiques, src.structure_id)"
        )
        updated_values["search_name"] = (
            f"CASE WHEN {same_text} THEN t.search_name ELSE {written['search_name']} END"
        )
        updated_values["search_vector"] = (
            f"CASE WHEN {same_text} THEN t.search_vector ELSE {written['search_vector']} END"
        )
    staged = f"(SELECT {', '.join(select)}, s.present FROM _import_{kind} s {join}) AS src"  # noqa: S608
    assignments = ", ".join(
        f"{name} = {updated_values.get(name, value)}"
        for name, value in written.items()
        if name not in {"source", "source_id"}
    )
    same_key = "t.source = src.source AND t.source_id = src.source_id"
    update = f"""
        UPDATE {table} AS t SET {assignments},
            imported_at = now(), updated_at = now()
        FROM {staged}
        WHERE src.present AND {same_key} AND t.edited_locally_at IS NULL
          AND {_NOT_OLDER.format(new="src")}
          AND ({", ".join(f"t.{name}" for name in compared)})
              IS DISTINCT FROM ({", ".join(f"src.{name}" for name in compared)})
    """  # noqa: S608 - table and column names come from our models
    insert_columns = [*written, "imported_at", "created_at", "updated_at", "status"]
    values = [*written.values(), "now()", "now()", "now()", "%s"]
    params: list[Any] = [Structure._meta.get_field("status").get_default()]
    if kind == Kind.SERVICES:
        insert_columns.append("update_frequency_days")
        values.append("%s")
        params.append(Service._meta.get_field("update_frequency_days").get_default())
    insert = f"""
        INSERT INTO {table} ({", ".join(insert_columns)})
        SELECT {", ".join(values)} FROM {staged}
        WHERE NOT src.present
        ON CONFLICT (source, source_id) DO NOTHING
    """  # noqa: S608 - table and column names come from our models, values are parameters
    fingerprint = f"""
        UPDATE {table} AS t SET content_hash = s.content_hash
        FROM _import_{kind} s
        WHERE s.present AND t.source = s.source AND t.source_id = s.source_id
          AND t.edited_locally_at IS NULL AND t.content_hash <> s.content_hash
          AND {_NOT_OLDER.format(new="s")}
    """  # noqa: S608 - table names come from our models
    with connection.cursor() as cursor:
        if search:
            _stage_labels(cursor)
            # Transaction-local, and switched off again right after: the trigger steps
            # aside for these two statements only.
            cursor.execute("SELECT set_config('binome.search_columns_by_statement', 'on', true)")
        try:
            cursor.execute(update)
            updated = cursor.rowcount
            cursor.execute(insert, params)
            created = cursor.rowcount
        finally:
            if search:
                cursor.execute(
                    "SELECT set_config('binome.search_columns_by_statement', 'off', true)"
                )
        # Rows with the same data as stored, from a file written otherwise (an export…):
        # their new fingerprint lets the next run of this file skip them.
        cursor.execute(fingerprint)
    return created, updated


# The text search configuration of the services' vectors (migration 0002).
_CONFIG = "'french_unaccent'::regconfig"
# Parts of ``directory_search_vector`` (migration 0009), ``{src}`` the row's alias and dot.
_NAME_VECTOR = f"setweight(to_tsvector({_CONFIG}, coalesce({{src}}name, '')), 'A')"
_DESCRIPTION_VECTOR = (
    f"setweight(to_tsvector({_CONFIG}, left(coalesce({{src}}description, ''), 20000)), 'C')"
)


def _search_vector(src: str) -> str:
    """The SQL of a staged service's search vector: ``directory_search_vector`` (migration
    0009) written out, its parts in its order, so that the costly ones can be read from
    where they were computed beforehand: the name's and the description's from the
    staging table (computed while the rows were loaded, for the new services), the
    thématiques' labels' from ``_import_labels`` (once per distinct list). Same parts,
    same order, same vector: ``tests/directory/test_import_fast_paths.py`` compares them.
    """
    labels = f"directory_thematique_labels({src}.thematiques)"
    return (
        f"coalesce({src}.name_vector, {_NAME_VECTOR.format(src=src + '.')}) "
        f"|| setweight(to_tsvector({_CONFIG}, coalesce({src}.structure_name, '')), 'B') "
        f"|| coalesce({src}.labels_vector, setweight(to_tsvector({_CONFIG}, {labels}), 'B')) "
        f"|| coalesce({src}.description_vector, {_DESCRIPTION_VECTOR.format(src=src + '.')})"
    )


def _stage_labels(cursor: Any) -> None:
    """The vectors of the thématiques' labels of the staged services, one per distinct list.

    Parsing the labels ("Famille Garde d'enfants Mobilité Aide à la mobilité…") cost as
    much as parsing the descriptions, for lists that repeat (the benchmark's synthetic
    national file, drawn at random: 34,619 distinct lists for 150,000 services).
    """
    cursor.execute("DROP TABLE IF EXISTS _import_labels")
    labels = f"setweight(to_tsvector({_CONFIG}, directory_thematique_labels(thematiques)), 'B')"
    cursor.execute(
        f"CREATE TEMP TABLE _import_labels ON COMMIT DROP AS SELECT thematiques, {labels} "  # noqa: S608
        f"AS vector FROM (SELECT DISTINCT thematiques FROM _import_{Kind.SERVICES}) AS lists"
    )
    cursor.execute("ANALYZE _import_labels (thematiques)")


def _rebuilt_indexes(kind: Kind) -> list[str]:
    """Drop the table's secondary indexes before a load that outgrows it.

    Returns their definitions, to build them again after the writing (``_rebuild``): every
    index that no constraint needs. For the services, those the model declares in
    ``Meta.indexes`` (search, arrays, place); for both tables, the btree indexes Django
    adds to each foreign key (commune, département, structure, owner, editor…: two for a
    text key, ``_like`` for ``LIKE`` prefixes), a dozen per row written between the two
    tables. The primary key and the (source, source_id) constraint stay: the merge and the
    foreign keys' checks read them. The table is locked until the commit.
    """
    if TUNING.rebuild_indexes_ratio is None:
        return []
    table = _TABLE[kind]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM _import_{kind} WHERE NOT present")  # noqa: S608
        (new,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        (existing,) = cursor.fetchone()
        if new < TUNING.rebuild_indexes_min_rows or new < existing * TUNING.rebuild_indexes_ratio:
            return []
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY i.relname",
            [table],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in definitions]


def _rebuild(definitions: list[str]) -> None:
    if not definitions:
        return
    with connection.cursor() as cursor:
        # CREATE INDEX refuses a table with pending trigger events: check the deferred
        # foreign keys of the rows just written now rather than at the commit.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in definitions:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _write(
    kind: Kind,
    records: list[dict[str, Any]],
    unchanged: int,
    report: ImportReport,
    origin: dict[tuple[Kind, str, str], tuple[str, int]],
) -> None:
    counts = report.structures if kind == Kind.STRUCTURES else report.services
    counts.unchanged = unchanged
    if not records:
        return
    if kind == Kind.STRUCTURES:
        _stage(kind, records)  # the services were staged as they were checked
    _prepare_staging(kind)
    kept = _kept(kind)
    outdated = _outdated(kind)
    for source, source_id, theirs, ours in outdated:
        file, line = origin[(kind, source, source_id)]
        report.warnings.append(
            Rejection(
                file,
                line,
                "date_maj",
                f"date_maj {theirs.isoformat()} antérieure à celle de l'annuaire "
                f"({ours.isoformat()}) : ligne ignorée, la version plus récente est gardée",
            )
        )
    dropped = _rebuilt_indexes(kind)
    counts.created, counts.updated = _upsert(kind)
    if dropped:
        step = time.perf_counter()
        _rebuild(dropped)
        report.timings["index reconstruits"] = (
            report.timings.get("index reconstruits", 0.0) + time.perf_counter() - step
        )
    if kind == Kind.STRUCTURES and (counts.created or counts.updated):
        # The services' merge joins the structures: fresh statistics after a big write
        # (the table may have been empty at the last ANALYZE) keep that join a hash join.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_TABLE[kind]} (id, source, source_id)")
    counts.kept = len(kept)
    counts.unchanged += len(records) - counts.created - counts.updated - counts.kept - len(outdated)
    report.kept.extend(f"{kind} {source_id}" for source_id in kept)


def import_directory(
    files: Iterable[FileInput],
    *,
    by: Any = None,
    department_id: str | None = None,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Import data·inclusion v1 files into the directory (see the module's docstring).

    ``by`` is the user who runs the import (None from the command line), ``department_id``
    the territory it was started for (None: the whole directory). Every import, applied or
    refused, leaves one line in the audit log: who, the files, the counts.
    ``progress`` is called at each stage and every few thousand rows checked.
    """
    started = time.perf_counter()
    report = ImportReport()
    gc_was_enabled = gc.isenabled()
    # Hundreds of thousands of small dicts live until the end: the cyclic garbage
    # collector would walk them again and again for nothing (they hold no cycles).
    gc.disable()
    try:
        progress("lecture des fichiers", 0, 0)
        rows = _read_all(files, report)
        if report.file_errors:
            with transaction.atomic():
                _audit(report, by=by, department_id=department_id)
        else:
            _check_and_write(rows, report, by=by, department_id=department_id, progress=progress)
    finally:
        if gc_was_enabled:
            gc.enable()
    report.seconds = time.perf_counter() - started
    return report


def _audit(report: ImportReport, *, by: Any, department_id: str | None) -> None:
    details: dict[str, Any] = {
        "fichiers": report.files,
        "structures": asdict(report.structures),
        "services": asdict(report.services),
        "lignes_rejetees": report.rejected_rows,
        "avertissements": len(report.warnings),
    }
    if report.file_errors:
        details["erreurs"] = report.file_errors
    if report.file_errors:
        what = "Import refusé : " + " ".join(report.file_errors)
    else:
        s, v = report.structures, report.services
        what = (
            f"Import de {len(report.files)} fichier(s) : structures {s.created} créée(s), "
            f"{s.updated} modifiée(s), {s.unchanged} inchangée(s) ; services {v.created} "
            f"créé(s), {v.updated} modifié(s), {v.unchanged} inchangé(s) ; "
            f"{report.rejected_rows} ligne(s) rejetée(s)"
        )
    record(
        AuditKind.DIRECTORY_IMPORT,
        actor=by,
        actor_label="" if by is not None else "ligne de commande",
        department_id=department_id,
        what=what,
        details=details,
    )


def _read_all(files: Iterable[FileInput], report: ImportReport) -> list[_Row]:
    started = time.perf_counter()
    rows: list[_Row] = []
    for source in files:
        try:
            name, file_rows = read_rows(source)
        except FileError as exc:
            report.files.append(str(source[0] if isinstance(source, tuple) else source))
            report.file_errors.append(str(exc))
            continue
        report.files.append(name)
        if not file_rows:
            report.warnings.append(
                Rejection(name, 0, "items", "page vide : aucune structure ni aucun service")
            )
        rows.extend(file_rows)
    if not report.files:
        report.file_errors.append("Aucun fichier à importer.")
    report.timings["lecture"] = time.perf_counter() - started
    return rows


def _check_and_write(
    rows: list[_Row],
    report: ImportReport,
    *,
    by: Any,
    department_id: str | None,
    progress: Progress,
) -> None:
    with transaction.atomic():
        # One import at a time: two concurrent ones would each miss the other's rows.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('binome.directory.import'))")
        step = time.perf_counter()
        checked = _check(rows, report, progress)
        rows.clear()
        report.timings["contrôle"] = time.perf_counter() - step
        for kind in (Kind.STRUCTURES, Kind.SERVICES):
            step = time.perf_counter()
            progress(f"écriture des {kind}", 0, len(checked.records[kind]))
            _write(kind, checked.records[kind], checked.unchanged[kind], report, checked.origin)
            report.timings[f"écriture {kind}"] = time.perf_counter() - step
        _audit(report, by=by, department_id=department_id)
        progress("validation", 0, 0)
        step = time.perf_counter()
    report.timings["validation (COMMIT)"] = time.perf_counter() - step
    if report.services.created or report.services.updated:
        step = time.perf_counter()
        _merge_pending_index_entries()
        report.timings["index des services à jour"] = time.perf_counter() - step


def _merge_pending_index_entries() -> None:
    """Merge the entries the import left in the pending lists of the services' GIN indexes
    (the words, the thématiques, the publics, the modes) into the indexes themselves.

    PostgreSQL writes a GIN index's new entries to a pending list (``fastupdate``) that
    every scan of the index reads whole until a vacuum, or the list's 4 MB, merges it. After
    an import that changed 3,000 of the national data set's 150,000 services (a 244-page
    pending list), a search with words across France took 12 % more at p50, and one near a
    commune 2.7 times more on average (the Paris region's searches read the words' index);
    merged, both were back to their time before. The merge of a 120-page list took 0.16 s."""
    # Only the index's owner may merge: elsewhere, autovacuum merges the list later.
    with contextlib.suppress(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(index.indexrelid)"
            " FROM pg_index AS index"
            " JOIN pg_class AS relation ON relation.oid = index.indexrelid"
            " JOIN pg_am AS method ON method.oid = relation.relam"
            " WHERE index.indrelid = %s::regclass AND method.amname = 'gin'",
            [Service._meta.db_table],
        )
