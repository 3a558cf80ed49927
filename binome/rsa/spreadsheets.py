"""The départements' own spreadsheets of RSA beneficiaries (XLSX, ODS, CSV), read with a mapping.

Each département sends its own columns: a mapping (``models.SpreadsheetMapping``) says which
column holds which field (``FIELDS``). A row is a person; the rows that share a dossier number
are one household, its adults recognised by their role (« DEM », « demandeur », « CJT »,
« conjoint(e) », « concubin »…). The rows become the same in-memory dossiers (``RsaDossier``)
the CAF/MSA flows give, so that ``actions.import_flux`` applies both the same way.

A file-level fault (unreadable, empty, no header, a mapped column absent) raises
``FluxRefused``: nothing of the file is written. A faulty row (a date of 31/02, a NIR whose key
is wrong…) leaves out its household only, reported with its line, its column and why.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import IO, Final

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from python_calamine import CalamineError, CalamineWorkbook

from binome.core.text import normalize
from binome.rsa.flux import (
    DossierRefused,
    FluxHeader,
    FluxRefused,
    RightState,
    Role,
    RsaDossier,
    RsaPerson,
    parse_date,
    parse_nir,
)

SPREADSHEET_SUFFIXES: Final = {".xlsx", ".ods", ".csv"}


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    required: bool = False
    aliases: tuple[str, ...] = ()  # normalized headers that name it, to guess a mapping


FIELDS: Final = (
    Field("number", "N° de dossier ou n° allocataire", True, ("numero dossier", "n dossier",
          "numero allocataire", "n allocataire", "matricule", "numdemrsa", "dossier")),
    Field("body", "Organisme (CAF ou MSA)", False, ("organisme", "caf msa")),
    Field("role", "Rôle dans le foyer", False, ("role", "rolepers", "role dans le foyer")),
    Field("nir", "NIR", False, ("nir", "numero de securite sociale", "n securite sociale")),
    Field("last_name", "Nom", True, ("nom", "nom d usage", "nom usage")),
    Field("birth_name", "Nom de naissance", False, ("nom de naissance", "nomnai")),
    Field("first_name", "Prénom", True, ("prenom", "prenoms")),
    Field("birth_date", "Date de naissance", True, ("date de naissance", "dtnai", "ne le")),
    Field("sex", "Sexe", False, ("sexe", "genre", "civilite")),
    Field("requested_on", "Date d'ouverture du droit", False, ("date d ouverture du droit",
          "date ouverture droit", "date de demande", "dtdemrsa", "ouverture du droit")),
    Field("state", "État du droit", False, ("etat", "etat du droit", "etatdosrsa",
          "etat du dossier")),
    Field("subject", "Soumis aux droits et devoirs", False, ("soumis aux droits et devoirs",
          "droits et devoirs", "sdd", "toppersdrodevorsa")),
    Field("no_fixed_address", "Sans domicile fixe", False, ("sans domicile fixe", "sdf",
          "topsansdomfixe")),
    Field("france_travail_id", "Identifiant France Travail", False, ("identifiant france travail",
          "id france travail", "identifiant pole emploi", "idassedic")),
    Field("address", "Commune ou adresse", False, ("adresse", "commune", "ville")),
    Field("phone", "Téléphone", False, ("telephone", "tel", "portable")),
    Field("email", "E-mail", False, ("e mail", "email", "courriel", "adresse e mail")),
)  # fmt: skip
FIELDS_BY_KEY: Final = {field.key: field for field in FIELDS}

ROLES: Final = {
    **dict.fromkeys(
        ("dem", "demandeur", "demandeuse", "allocataire", "beneficiaire", "titulaire"),
        Role.APPLICANT,
    ),
    **dict.fromkeys(
        (
            "cjt",
            "conjoint",
            "conjointe",
            "conjoint e",
            "concubin",
            "concubine",
            "concubin e",
            "epoux",
            "epouse",
            "pacse",
            "pacsee",
            "partenaire",
        ),
        Role.SPOUSE,
    ),
    **dict.fromkeys(("enf", "enfant"), Role.CHILD),
    **dict.fromkeys(("aut", "autre", "autre personne"), Role.OTHER),
}
STATES: Final = {
    **{state.value: state for state in RightState},
    **{normalize(state.label): state for state in RightState},
    "nouvelle demande": RightState.AWAITING_DECISION,
    "en attente": RightState.AWAITING_DECISION,
    "refuse": RightState.REFUSED,
    "ouvert": RightState.OPEN,
    "droit ouvert": RightState.OPEN,
    "suspendu": RightState.RIGHT_SUSPENDED,
    "clos": RightState.CLOSED,
}
YES: Final = {"1", "o", "oui", "x", "vrai", "true", "y", "yes"}
NO: Final = {"0", "n", "non", "faux", "false", "no"}
SEXES: Final = {
    **dict.fromkeys(("1", "m", "h", "homme", "masculin", "mr", "m.", "monsieur"), "1"),
    **dict.fromkeys(("2", "f", "femme", "feminin", "mme", "madame", "mlle"), "2"),
}
PREVIEW_ROWS: Final = 10


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """A sheet's header and its rows, each with its line in the file (the header's is 1)."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RowResult:
    """One row as the mapping reads it: its fields, and its fault if any."""

    line: int
    number: str
    values: Mapping[str, str]
    column: str = ""  # where the fault is
    reason: str = ""

    @property
    def error(self) -> str:
        if not self.reason:
            return ""
        column = f", colonne « {self.column} »" if self.column else ""
        return f"ligne {self.line}{column} : {self.reason}"


def is_spreadsheet(name: str) -> bool:
    return PurePath(name).suffix.lower() in SPREADSHEET_SUFFIXES


def read_table(stream: IO[bytes], name: str) -> Table:
    """The first sheet of an XLSX or ODS file, or a CSV file (UTF-8 or Windows-1252, its
    delimiter sniffed); ``FluxRefused`` when it cannot be read."""
    content = stream.read()
    stream.seek(0)
    if not content.strip():
        raise FluxRefused(f"{name} : le fichier est vide.")
    suffix = PurePath(name).suffix.lower()
    if suffix == ".csv":
        raw_rows = _csv_rows(content, name)
    elif suffix in {".xlsx", ".ods"}:
        raw_rows = _workbook_rows(content, name, suffix)
    else:
        raise FluxRefused(
            f"{name} : format non accepté : un tableur .xlsx, .ods ou .csv est attendu."
        )
    rows = [(line, tuple(_cell(value) for value in row)) for line, row in raw_rows]
    rows = [(line, row) for line, row in rows if any(row)]
    if not rows:
        raise FluxRefused(f"{name} : le fichier ne contient aucune ligne.")
    (_header_line, headers), *data = rows
    if not any(headers):
        raise FluxRefused(f"{name} : la première ligne doit donner le nom des colonnes.")
    return Table(name=name, headers=tuple(h.strip() for h in headers), rows=tuple(data))


def _csv_rows(content: bytes, name: str) -> list[tuple[int, list[object]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError:
            raise FluxRefused(
                f"{name} : les caractères ne sont ni en UTF-8 ni en Windows-1252 : enregistrez "
                "le fichier en « CSV UTF-8 » depuis votre tableur."
            ) from None
    if "\x00" in text:
        raise FluxRefused(f"{name} : ce n'est pas un fichier CSV (il contient des octets nuls).")
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(";,\t|", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, list(row)) for row in reader]
    except csv.Error as exc:
        raise FluxRefused(
            f"{name} (ligne {reader.line_num}) : le fichier CSV est mal formé ({exc})."
        ) from None


def _workbook_rows(content: bytes, name: str, suffix: str) -> list[tuple[int, list[object]]]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = workbook.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as exc:
        kind = "XLSX" if suffix == ".xlsx" else "ODS"
        raise FluxRefused(
            f"{name} : ce n'est pas un classeur {kind} lisible ({exc}) : enregistrez-le de "
            "nouveau depuis votre tableur."
        ) from None
    return [(index + 1, list(row)) for index, row in enumerate(values)]


def _cell(value: object) -> str:
    """A cell as text: dates as DD/MM/YYYY, whole numbers without their « .0 »."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{value.date():%d/%m/%Y}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def guess_mapping(headers: tuple[str, ...]) -> dict[str, str]:
    """The field each header seems to hold, by its name."""
    guessed: dict[str, str] = {}
    taken: set[str] = set()
    for field in FIELDS:
        for header in headers:
            if header and header not in taken and normalize(header) in field.aliases:
                guessed[field.key] = header
                taken.add(header)
                break
    return guessed


def check_mapping(table: Table, columns: Mapping[str, str], mapping_name: str) -> None:
    """``FluxRefused`` when a required field is not mapped or a mapped column is absent."""
    for field in FIELDS:
        header = columns.get(field.key, "")
        if not header:
            if field.required:
                raise FluxRefused(
                    f"{table.name} : la correspondance « {mapping_name} » n'indique pas la "
                    f"colonne du champ obligatoire « {field.label} »."
                )
            continue
        if header not in table.headers:
            raise FluxRefused(
                f"{table.name} : la colonne « {header} » ({field.label}) de la correspondance "
                f"« {mapping_name} » est absente du fichier : aucune ligne n'a été lue. "
                "Corrigez la correspondance ou le fichier."
            )


class _RowFault(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclasses.dataclass(slots=True)
class Spreadsheet:
    """A spreadsheet read with its mapping: the same shape as an open flow (``header``,
    ``dossiers()``), and each row's reading for the preview (``rows``)."""

    header: FluxHeader
    table: Table
    columns: Mapping[str, str]
    rows: list[RowResult] = dataclasses.field(default_factory=list)
    _dossiers: list[RsaDossier | DossierRefused] = dataclasses.field(default_factory=list)

    def dossiers(self) -> Iterator[RsaDossier | DossierRefused]:
        yield from self._dossiers

    @property
    def count(self) -> int:
        return len(self._dossiers)

    def preview(self) -> list[RowResult]:
        return self.rows[:PREVIEW_ROWS]


def open_spreadsheet(
    stream: IO[bytes],
    name: str,
    *,
    columns: Mapping[str, str],
    mapping_name: str,
    today: datetime.date,
) -> Spreadsheet:
    """Read a spreadsheet with a mapping; ``FluxRefused`` if the file cannot be used at all."""
    table = read_table(stream, name)
    check_mapping(table, columns, mapping_name)
    header = FluxHeader(
        sender="",
        kind="",
        created_on=today,
        reference_date=None,
        label=f"tableur « {name} » importé le {today:%d/%m/%Y}",
    )
    sheet = Spreadsheet(header=header, table=table, columns=columns)
    index = {key: table.headers.index(header) for key, header in columns.items() if header}
    households: dict[str, list[tuple[RowResult, RsaPerson | None, dict[str, str]]]] = {}
    for line, row in table.rows:
        values = {key: (row[i] if i < len(row) else "").strip() for key, i in index.items()}
        number = values.get("number", "")
        try:
            if not number:
                raise _RowFault("number", "le numéro de dossier manque.")
            person = _person(values, line)
            result = RowResult(line=line, number=number, values=values)
        except _RowFault as fault:
            person = None
            result = RowResult(
                line=line,
                number=number,
                values=values,
                column=columns.get(fault.field, ""),
                reason=fault.reason,
            )
        sheet.rows.append(result)
        households.setdefault(number, []).append((result, person, values))
    nirs_seen: dict[str, str] = {}
    faulty: dict[int, RowResult] = {}
    for number, members in households.items():
        item = _household(number, members, columns, nirs_seen)
        if isinstance(item, DossierRefused):
            for result, _person_read, _values in members:
                if not result.reason:
                    faulty[result.line] = dataclasses.replace(
                        result,
                        reason=(
                            f"le dossier n° {number} est rejeté à cause de la ligne {item.line}"
                            if item.line != result.line
                            else item.reason
                        ),
                        column=item.element.strip("« »") if item.line == result.line else "",
                    )
        sheet._dossiers.append(item)
    sheet.rows = [faulty.get(row.line, row) for row in sheet.rows]
    return sheet


def _household(
    number: str,
    members: list[tuple[RowResult, RsaPerson | None, dict[str, str]]],
    columns: Mapping[str, str],
    nirs_seen: dict[str, str],
) -> RsaDossier | DossierRefused:
    lines = tuple(result.line for result, _p, _v in members)

    def refused(line: int, field: str, reason: str) -> DossierRefused:
        column = columns.get(field, "")
        return DossierRefused(
            number=number,
            line=line,
            element=f"« {column} »" if column else "",
            reason=reason,
            element_kind="colonne",
            lines=lines,
        )

    for result, _person_read, _values in members:
        if result.reason:
            return refused(result.line, _field_of(result, columns), result.reason)
    persons: list[RsaPerson] = []
    unassigned = "role" not in columns
    for result, person, _values in members:
        assert person is not None
        if unassigned:  # no role column: the first row is the applicant, the second the spouse
            if len(persons) >= 2:
                return refused(
                    result.line,
                    "number",
                    f"le dossier n° {number} a plus de deux personnes et le fichier n'a pas de "
                    "colonne de rôle pour dire qui est le demandeur et le conjoint.",
                )
            person = dataclasses.replace(
                person, role=Role.APPLICANT if not persons else Role.SPOUSE
            )
        if person.role in {Role.APPLICANT, Role.SPOUSE} and any(
            p.role == person.role for p in persons
        ):
            return refused(
                result.line,
                "role",
                f"le dossier n° {number} a déjà un {person.role.label.lower()} (ligne "
                f"{next(p.line for p in persons if p.role == person.role)}).",
            )
        persons.append(person)
    if not any(p.role is Role.APPLICANT for p in persons):
        return refused(lines[0], "role", f"le dossier n° {number} n'a pas de demandeur.")
    for person in persons:
        other = nirs_seen.get(person.nir) if person.nir else None
        if other is not None and other != number:
            return refused(
                person.line,
                "nir",
                f"le NIR de {person.first_name} {person.last_name} figure déjà dans le dossier "
                f"n° {other} de ce fichier : une même personne ne peut pas être dans deux "
                "dossiers.",
            )
    for person in persons:
        if person.nir:
            nirs_seen[person.nir] = number
    first = members[0][2]
    try:
        state = _state(first.get("state", ""))
        requested_on = _date(first, "requested_on")
        no_fixed_address = _flag(first, "no_fixed_address", default=False)
    except _RowFault as fault:
        return refused(lines[0], fault.field, fault.reason)
    body = first.get("body", "").upper()
    return RsaDossier(
        number=number,
        body=body if body in {"CAF", "MSA"} else "CAF",
        body_number="",
        matricule=number,
        requested_on=requested_on,
        state=state,
        suspension_reason="",
        closure_reason="",
        closed_on=None,
        no_fixed_address=no_fixed_address,
        family_situation="",
        persons=tuple(persons),
        line=lines[0],
    )


def _field_of(result: RowResult, columns: Mapping[str, str]) -> str:
    return next((key for key, header in columns.items() if header == result.column), "")


def _person(values: Mapping[str, str], line: int) -> RsaPerson:
    last_name = values.get("last_name", "")
    first_name = values.get("first_name", "")
    if not last_name:
        raise _RowFault("last_name", "le nom manque.")
    if not first_name:
        raise _RowFault("first_name", "le prénom manque.")
    who = f"{first_name} {last_name}"
    birth_date = _date(values, "birth_date")
    if birth_date is None:
        raise _RowFault("birth_date", f"la date de naissance de {who} manque.")
    role_text = values.get("role", "")
    role = ROLES.get(normalize(role_text)) if role_text else Role.APPLICANT
    if role is None:
        raise _RowFault(
            "role",
            f"« {role_text} » n'est pas un rôle reconnu (demandeur, conjoint, concubin, enfant, "
            "DEM, CJT, ENF…).",
        )
    try:
        nir = parse_nir(values.get("nir", ""), who)
    except ValueError as exc:
        raise _RowFault("nir", str(exc)) from None
    sex_text = values.get("sex", "")
    sex = SEXES.get(normalize(sex_text) or sex_text.lower(), None) if sex_text else ""
    if sex is None:
        raise _RowFault("sex", f"« {sex_text} » n'est pas un sexe reconnu (F, M, 1 ou 2).")
    email = values.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _RowFault("email", f"« {email} » n'est pas une adresse e-mail.") from None
    phone = values.get("phone", "")
    if phone and not re.fullmatch(r"\+?[\d .\-()]{6,20}", phone):
        raise _RowFault("phone", f"« {phone} » n'est pas un numéro de téléphone.")
    return RsaPerson(
        role=role,
        last_name=last_name,
        first_name=first_name,
        birth_name=values.get("birth_name", "") or last_name,
        birth_date=birth_date,
        sex=sex,
        title="",
        nir=nir,
        subject_to_rights_and_duties=_flag(values, "subject", default=True),
        france_travail_id=values.get("france_travail_id", ""),
        line=line,
        phone=phone,
        email=email,
        address=values.get("address", ""),
    )


def _date(values: Mapping[str, str], key: str) -> datetime.date | None:
    try:
        return parse_date(values.get(key, ""))
    except ValueError:
        raise _RowFault(
            key, f"« {values.get(key, '')} » n'est pas une date valide (attendu : JJ/MM/AAAA)."
        ) from None


def _flag(values: Mapping[str, str], key: str, *, default: bool) -> bool:
    text = normalize(values.get(key, ""))
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    raise _RowFault(key, f"« {values.get(key, '')} » n'est pas une réponse reconnue (oui ou non).")


def _state(text: str) -> RightState:
    if not text:
        return RightState.OPEN
    state = STATES.get(text.strip()) or STATES.get(normalize(text))
    if state is None:
        raise _RowFault(
            "state",
            f"« {text} » n'est pas un état du droit reconnu (0 à 6, ou « ouvert », « suspendu », "
            "« clos »…).",
        )
    return state
