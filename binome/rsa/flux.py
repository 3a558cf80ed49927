"""Reading the CNAF/MSA RSA flows: the monthly « bénéficiaires » flow and the daily « instruction ».

A flow is one XML file, usually in Windows-1252:

- a header ``IdentificationFlux`` — who sent it (``APPLIEME``: CRI for the CNAF, AGO for the MSA),
  what kind it is (``TYPEFLUX``: M monthly, I infra-monthly), when it was made (``DTCREAFLUX``)
  and the date its data describe (``DTREF``);
- one ``InfosFoyerRSA`` per dossier: the paying body (``Organisme``, ``NUMORG``, ``MATRICULE``),
  the request (``DTDEMRSA``, ``NUMDEMRSA``), the ``Personne`` blocks of the household and the
  state of the right (``ETATDOSRSA`` and its reasons);
- a trailer ``TransmissionFlux`` with the count of dossiers sent, so a cut file is caught.

The elements are found by name anywhere inside their block, because the bodies nest them a
little differently from one version of the schema to the next (vrsb0801, vrsd0301, virs0901).

The file is read as a stream, one dossier at a time, with memory kept flat: a département's
monthly file holds tens of thousands of dossiers. A file-level fault (not XML, cut short, not
an RSA flow, a DTD or entity declaration — the way XML bombs are built) raises ``FluxRefused``
with a French message; a fault inside one dossier yields a ``DossierRefused`` naming the
dossier, the line, the element and why, and the reading goes on with the next dossier.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from django.db import models
from lxml import etree
from stdnum.fr import nir as stdnum_nir

# What the prolog may hold before the root element: no DTD, no entity — a flow never needs
# them, and they are how « billion laughs » and external-entity attacks are written.
_PROLOG_BYTES: Final = 4096
_FORBIDDEN_IN_PROLOG = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

SENDERS: Final = {"CRI": "CAF", "AGO": "MSA"}
FLOW_KINDS: Final = {"M": "mensuel", "I": "infra-mensuel"}


class FluxRefused(Exception):
    """The whole file is refused: nothing of it may be applied."""


class RightState(models.TextChoices):
    """ETATDOSRSA: where the dossier's right stands."""

    AWAITING_DECISION = "0", "Nouvelle demande en attente de décision du département"
    REFUSED = "1", "Droit refusé"
    OPEN = "2", "Droit ouvert et versable"
    RIGHT_SUSPENDED = "3", "Droit suspendu"
    PAYMENT_SUSPENDED = "4", "Droit ouvert, versement suspendu"
    CLOSED = "5", "Droit clos"
    CLOSED_EARLIER = "6", "Droit clos sur un mois antérieur"

    @property
    def is_open(self) -> bool:
        """Whether the person holds a right today (suspended payments included)."""
        return self in {RightState.OPEN, RightState.RIGHT_SUSPENDED, RightState.PAYMENT_SUSPENDED}


class Role(models.TextChoices):
    """ROLEPERS: the person's place in the household's dossier."""

    APPLICANT = "DEM", "Demandeur"
    SPOUSE = "CJT", "Conjoint"
    CHILD = "ENF", "Enfant"
    OTHER = "AUT", "Autre personne"
    FOREIGN_DEPENDANT = "RDO", "Personne à charge (hors foyer)"


@dataclasses.dataclass(frozen=True, slots=True)
class FluxHeader:
    sender: str  # "CAF" or "MSA"
    kind: str  # "M" or "I" ("" for a département's spreadsheet)
    created_on: datetime.date
    reference_date: datetime.date | None
    label: str = ""  # what the timeline calls a source that is not a flow

    @property
    def description(self) -> str:
        if self.label:
            return self.label
        return f"flux {FLOW_KINDS[self.kind]} {self.sender} du {self.created_on:%d/%m/%Y}"


@dataclasses.dataclass(frozen=True, slots=True)
class RsaPerson:
    role: Role
    last_name: str
    first_name: str
    birth_name: str
    birth_date: datetime.date
    sex: str  # "1" man, "2" woman, "" unknown
    title: str  # QUAL: MR, MME…
    nir: str  # the 13 characters of the NIR without its key ("" when the flow has none)
    subject_to_rights_and_duties: bool
    france_travail_id: str  # IDASSEDIC
    line: int
    # What a département's spreadsheet may add (the flows carry none of it).
    phone: str = ""
    email: str = ""
    address: str = ""
    # The flow's activity code (``Activite/ACT``: SAL, CHO, ETU…), « » when not given.
    activity: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class RsaDossier:
    number: str  # NUMDEMRSA
    body: str  # "CAF" or "MSA"
    body_number: str  # NUMORG
    matricule: str  # the CAF/MSA number, shared by the whole household
    requested_on: datetime.date | None
    state: RightState
    suspension_reason: str
    closure_reason: str
    closed_on: datetime.date | None
    no_fixed_address: bool
    family_situation: str
    persons: tuple[RsaPerson, ...]
    line: int

    @property
    def subject_persons(self) -> tuple[RsaPerson, ...]:
        """The applicant and spouse bound by the rights and duties of the RSA."""
        return tuple(p for p in self.persons if p.subject_to_rights_and_duties)


@dataclasses.dataclass(frozen=True, slots=True)
class DossierRefused:
    """One dossier left out, with where and why, in French."""

    number: str
    line: int
    element: str
    reason: str
    element_kind: str = "élément"  # "colonne" in a spreadsheet
    lines: tuple[int, ...] = ()  # a spreadsheet's rows of the dossier

    def __str__(self) -> str:
        where = f"dossier n° {self.number}" if self.number else "dossier sans numéro"
        element = f", {self.element_kind} {self.element}" if self.element else ""
        return f"{where} (ligne {self.line}{element}) : {self.reason}"


@dataclasses.dataclass(slots=True)
class Flux:
    """An open flow: its header, then its dossiers one at a time (``dossiers()``, once)."""

    header: FluxHeader
    _events: Iterator[tuple[str, etree._Element]]
    _name: str
    declared_count: int | None = None
    read_count: int = 0

    def dossiers(self) -> Iterator[RsaDossier | DossierRefused]:
        nirs_seen: dict[str, str] = {}
        for _event, element in self._events:
            if element.tag == "InfosFoyerRSA":
                self.read_count += 1
                yield _dossier(element, nirs_seen)
                _release(element)
            elif element.tag == "TransmissionFlux":
                self.declared_count = _declared_count(element, self._name)
                _release(element)
        if self.declared_count is None:
            raise FluxRefused(
                f"{self._name} : le fichier s'arrête avant sa fin (bloc TransmissionFlux "
                "absent) : il a sans doute été coupé pendant son envoi. Demandez-le à nouveau."
            )
        if self.declared_count != self.read_count:
            raise FluxRefused(
                f"{self._name} : le fichier annonce {self.declared_count} dossiers transmis mais "
                f"en contient {self.read_count} : il est incomplet. Demandez-le à nouveau."
            )


def open_flux(source: Path | IO[bytes], name: str | None = None) -> Flux:
    """Open a flow and read its header; ``FluxRefused`` if it is not a readable RSA flow."""
    if isinstance(source, Path):
        name = name or source.name
        stream: IO[bytes] = source.open("rb")
    else:
        name = name or "le fichier"
        stream = source
    _refuse_declarations(stream, name)
    events = _events(stream, name, cut=_looks_cut(stream))
    header = _header(events, name)
    return Flux(header=header, _events=events, _name=name)


def _refuse_declarations(stream: IO[bytes], name: str) -> None:
    start = stream.read(_PROLOG_BYTES)
    stream.seek(0)
    if not start.strip():
        raise FluxRefused(f"{name} : le fichier est vide.")
    if _FORBIDDEN_IN_PROLOG.search(start):
        raise FluxRefused(
            f"{name} : le fichier déclare une DTD ou des entités XML, ce qu'un flux de la "
            "CNAF ou de la MSA ne fait jamais : il est refusé sans être lu."
        )


def _looks_cut(stream: IO[bytes]) -> bool:
    """Whether the file stops before a closing tag: sent or saved only in part."""
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(max(0, size - 64))
    end = stream.read().rstrip()
    stream.seek(0)
    return not end.endswith(b">")


def _events(stream: IO[bytes], name: str, *, cut: bool) -> Iterator[tuple[str, etree._Element]]:
    parser_events = etree.iterparse(
        stream,
        events=("end",),
        tag=("IdentificationFlux", "InfosFoyerRSA", "TransmissionFlux"),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        yield from parser_events
    except etree.XMLSyntaxError as exc:
        line = f" (ligne {exc.lineno})" if exc.lineno else ""
        reason = _syntax_reason(str(exc.msg), cut=cut)
        raise FluxRefused(f"{name}{line} : ce n'est pas un XML lisible : {reason}.") from exc
    except LookupError as exc:  # an encoding name lxml does not know
        raise FluxRefused(f"{name} : l'encodage déclaré est inconnu ({exc}).") from exc


def _syntax_reason(message: str, *, cut: bool) -> str:
    if cut or "Premature end of data" in message:
        return "le fichier s'arrête au milieu d'un élément (il a sans doute été coupé)"
    if "encoding" in message.lower() or "not proper UTF-8" in message or "Input is not" in message:
        return (
            "les caractères ne sont pas dans l'encodage déclaré par le fichier "
            "(les flux de la CNAF sont en Windows-1252)"
        )
    if "Start tag expected" in message or "Document is empty" in message:
        return "le fichier ne contient pas de balises XML"
    return f"une balise est mal formée (détail de l'analyseur XML : {message})"


def _header(events: Iterator[tuple[str, etree._Element]], name: str) -> FluxHeader:
    try:
        _event, element = next(events)
    except StopIteration:
        raise FluxRefused(
            f"{name} : aucun bloc IdentificationFlux : ce n'est pas un flux RSA de la CNAF ou "
            "de la MSA."
        ) from None
    if element.tag != "IdentificationFlux":
        raise FluxRefused(
            f"{name} (ligne {element.sourceline}) : le flux doit commencer par son bloc "
            "IdentificationFlux : ce n'est pas un flux RSA de la CNAF ou de la MSA."
        )
    application = _text(element, "APPLIEME")
    if application not in SENDERS:
        raise FluxRefused(
            f"{name} (ligne {element.sourceline}, élément APPLIEME) : « {application} » n'est "
            "ni un flux de la CNAF (CRI) ni un flux de la MSA (AGO)."
        )
    kind = _text(element, "TYPEFLUX")
    if kind not in FLOW_KINDS:
        raise FluxRefused(
            f"{name} (ligne {element.sourceline}, élément TYPEFLUX) : « {kind} » n'est pas un "
            "type de flux connu (M pour mensuel, I pour infra-mensuel)."
        )
    try:
        created_on = _date(_text(element, "DTCREAFLUX"))
        reference_date = _date(_text(element, "DTREF")) if _text(element, "DTREF") else None
    except ValueError as exc:
        raise FluxRefused(f"{name} (ligne {element.sourceline}) : {exc}") from None
    if created_on is None:
        raise FluxRefused(
            f"{name} (ligne {element.sourceline}, élément DTCREAFLUX) : la date de création du "
            "flux manque."
        )
    _release(element)
    return FluxHeader(
        sender=SENDERS[application], kind=kind, created_on=created_on, reference_date=reference_date
    )


def _declared_count(element: etree._Element, name: str) -> int:
    for child in element.iter():
        if isinstance(child.tag, str) and child.tag.startswith("NBDOS"):
            value = (child.text or "").strip()
            if value.isdigit():
                return int(value)
            raise FluxRefused(
                f"{name} (ligne {child.sourceline}, élément {child.tag}) : « {value} » n'est pas "
                "un nombre de dossiers."
            )
    raise FluxRefused(
        f"{name} (ligne {element.sourceline}, bloc TransmissionFlux) : le nombre de dossiers "
        "transmis manque : impossible de vérifier que le fichier est complet."
    )


class _Fault(Exception):
    def __init__(self, element: str, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.element = element
        self.reason = reason
        self.line = line


def _dossier(element: etree._Element, nirs_seen: dict[str, str]) -> RsaDossier | DossierRefused:
    texts, persons_texts = _dossier_texts(element)
    number = texts.get("NUMDEMRSA", "")
    line = element.sourceline or 0
    try:
        if not number:
            raise _Fault("NUMDEMRSA", "le numéro de demande RSA manque.")
        state_code = texts.get("ETATDOSRSA", "")
        try:
            state = RightState(state_code)
        except ValueError:
            raise _Fault(
                "ETATDOSRSA",
                f"« {state_code} » n'est pas un état de dossier RSA connu (0 à 6).",
            ) from None
        persons = tuple(
            _person(person, persons_texts.get(person))
            for person in element.iter("Personne")
            if isinstance(person.tag, str)
        )
        if not persons:
            raise _Fault("Personne", "le dossier ne contient aucune personne.")
        if not any(p.role is Role.APPLICANT for p in persons):
            raise _Fault("ROLEPERS", "le dossier n'a pas de demandeur (rôle DEM).")
        for person in persons:
            if not person.nir:
                continue
            other = nirs_seen.get(person.nir)
            if other is not None and other != number:
                raise _Fault(
                    "NIR",
                    f"le NIR de {person.first_name} {person.last_name} figure déjà dans le "
                    f"dossier n° {other} de ce fichier : une même personne ne peut pas être "
                    "dans deux dossiers.",
                    person.line,
                )
        for person in persons:
            if person.nir:
                nirs_seen[person.nir] = number
        body = texts.get("Organisme", "").upper() or "CAF"
        return RsaDossier(
            number=number,
            body=body if body in {"CAF", "MSA"} else "CAF",
            body_number=texts.get("NUMORG", ""),
            matricule=texts.get("MATRICULE", ""),
            requested_on=_field_date(element, "DTDEMRSA", texts),
            state=state,
            suspension_reason=texts.get("MOTISUSVERSRSA", ""),
            closure_reason=texts.get("MOTICLORSA", ""),
            closed_on=_field_date(element, "DTCLORSA", texts),
            no_fixed_address=texts.get("TOPSANSDOMFIXE", "") in {"1", "O"},
            family_situation=texts.get("SITFAM", ""),
            persons=persons,
            line=line,
        )
    except _Fault as fault:
        return DossierRefused(
            number=number, line=fault.line or line, element=fault.element, reason=fault.reason
        )


def _person(element: etree._Element, texts: dict[str, str] | None = None) -> RsaPerson:
    line = element.sourceline or 0
    texts = _texts(element) if texts is None else texts
    try:
        role_code = texts.get("ROLEPERS", "")
        try:
            role = Role(role_code)
        except ValueError:
            raise _Fault(
                "ROLEPERS",
                f"« {role_code} » n'est pas un rôle connu (DEM, CJT, ENF, AUT ou RDO).",
            ) from None
        last_name = texts.get("NOM", "")
        first_name = texts.get("PRENOM", "")
        if not last_name or not first_name:
            raise _Fault("NOM" if not last_name else "PRENOM", "le nom ou le prénom manque.")
        birth_date = _field_date(element, "DTNAI", texts)
        if birth_date is None:
            raise _Fault("DTNAI", f"la date de naissance de {first_name} {last_name} manque.")
        return RsaPerson(
            role=role,
            last_name=last_name,
            first_name=first_name,
            birth_name=texts.get("NOMNAI", "") or last_name,
            birth_date=birth_date,
            sex=texts.get("SEXE", ""),
            title=texts.get("QUAL", ""),
            nir=_nir(texts.get("NIR", ""), f"{first_name} {last_name}"),
            subject_to_rights_and_duties=texts.get("TOPPERSDRODEVORSA", "") in {"1", "O"},
            france_travail_id=texts.get("IDASSEDIC", ""),
            activity=texts.get("ACT", "")[:3].upper(),
            line=line,
        )
    except _Fault as fault:
        fault.line = fault.line or line
        raise


def _nir(value: str, who: str) -> str:
    try:
        return parse_nir(value, who)
    except ValueError as exc:
        raise _Fault("NIR", str(exc)) from None


def parse_nir(value: str, who: str) -> str:
    """The 13 characters of a NIR, its key checked when given; ``ValueError`` with a French
    message naming ``who`` when it is not a NIR."""
    # A NIR as the flows write it (digits, 2A/2B) is already in its compact form.
    compact = value if _COMPACT.fullmatch(value) else stdnum_nir.compact(value)
    if not compact:
        return ""
    body = compact[:13]
    if len(compact) not in {13, 15} or not _NIR_BODY.fullmatch(body):
        raise ValueError(f"le NIR de {who} (« {value} ») n'a pas la forme d'un NIR.")
    # The key, when given, checked as ``stdnum_nir.validate`` does (two ASCII digits).
    if len(compact) == 15 and (
        not compact.isascii() or stdnum_nir.calc_check_digits(body) != compact[13:]
    ):
        raise ValueError(
            f"la clé du NIR de {who} ne correspond pas à ses 13 premiers caractères : "
            "le numéro a sans doute été mal saisi."
        )
    return body


_COMPACT: Final = re.compile(r"[0-9A-Z]+")
_NIR_BODY: Final = re.compile(r"[12378]\d{4}(\d{2}|2A|2B)\d{6}")


def _text(element: etree._Element, tag: str) -> str:
    if element.tag == tag:
        return (element.text or "").strip()
    found = element.find(f".//{tag}")
    return (found.text or "").strip() if found is not None else ""


def _dossier_texts(
    element: etree._Element,
) -> tuple[dict[str, str], dict[etree._Element, dict[str, str]]]:
    """The dossier's ``_texts``, and those of the ``Personne`` blocks among its children, read
    in one pass: a person's elements are not read twice."""
    texts = {element.tag: (element.text or "").strip()}
    persons: dict[etree._Element, dict[str, str]] = {}
    for child in element.iterchildren(etree.Element):
        child_texts = _texts(child)
        if child.tag == "Personne":
            persons[child] = child_texts
        texts = child_texts | texts  # the first of a tag in the document's order
    return texts, persons


def _texts(element: etree._Element) -> dict[str, str]:
    """Each tag's text inside the element (the first of a tag, as ``find(".//tag")`` gives it),
    read in one pass."""
    texts: dict[str, str] = {}
    for child in element.iter():
        tag = child.tag
        if isinstance(tag, str) and tag not in texts:
            texts[tag] = (child.text or "").strip()
    return texts


def _field_date(
    element: etree._Element, tag: str, texts: dict[str, str] | None = None
) -> datetime.date | None:
    try:
        return _date(texts.get(tag, "") if texts is not None else _text(element, tag))
    except ValueError as exc:
        found = element.find(f".//{tag}")
        line = found.sourceline if found is not None else None
        raise _Fault(tag, str(exc), line) from None


def parse_date(value: str) -> datetime.date | None:
    """A date as the flows or the spreadsheets write it; ``ValueError`` in French if not one."""
    return _date(value)


def _date(value: str) -> datetime.date | None:
    """The flows write dates as YYYY-MM-DD (some tools as DD/MM/YYYY or YYYYMMDD)."""
    if not value:
        return None
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:  # the common case, read without ``strptime``: YYYY-MM-DD
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass  # 31/02 and the like: the message below
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"« {value} » n'est pas une date valide.")


def _release(element: etree._Element) -> None:
    """Free what was read, so the memory stays flat however long the file."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
