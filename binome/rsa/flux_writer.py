"""Writing RSA flows shaped as the CNAF's, for the demo, the tests and the benchmarks.

The writer streams (``lxml.etree.xmlfile``): a flow of 50,000 dossiers never sits whole in
memory. It writes what ``flux.open_flux`` reads, in Windows-1252 as the CNAF does.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import IO

from lxml import etree

from binome.rsa.flux import FluxHeader, RightState, Role

SENDER_CODES = {"CAF": "CRI", "MSA": "AGO"}


@dataclasses.dataclass(frozen=True, slots=True)
class PersonRow:
    role: Role
    last_name: str
    first_name: str
    birth_date: datetime.date
    sex: str = "2"
    birth_name: str = ""
    nir: str = ""
    subject: bool = True
    france_travail_id: str = ""
    activity: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class DossierRow:
    number: str
    matricule: str
    requested_on: datetime.date
    state: RightState
    persons: tuple[PersonRow, ...]
    body_number: str = "831"
    no_fixed_address: bool = False
    family_situation: str = "CEL"


def write_flux(
    out: IO[bytes],
    header: FluxHeader,
    dossiers: Iterable[DossierRow],
    *,
    declared_count: int | None = None,
    encoding: str = "windows-1252",
) -> int:
    """Write the flow to ``out``; return the number of dossiers written.

    ``declared_count`` writes another count in the trailer (for tests of a cut file).
    """
    written = 0
    with etree.xmlfile(out, encoding=encoding) as xml:
        xml.write_declaration()
        with xml.element("FluxBeneficiaires"):
            header_element = etree.Element("IdentificationFlux")
            _sub(header_element, "APPLIEME", SENDER_CODES[header.sender])
            _sub(header_element, "TYPEFLUX", header.kind)
            _sub(header_element, "DTCREAFLUX", header.created_on.isoformat())
            if header.reference_date is not None:
                _sub(header_element, "DTREF", header.reference_date.isoformat())
            xml.write(header_element)
            for dossier in dossiers:
                xml.write(_dossier_element(header.sender, dossier))
                written += 1
            trailer = etree.Element("TransmissionFlux")
            _sub(
                trailer,
                "NBDOSRSATRANSM",
                str(written if declared_count is None else declared_count),
            )
            xml.write(trailer)
    return written


def _dossier_element(sender: str, dossier: DossierRow) -> etree._Element:
    root = etree.Element("InfosFoyerRSA")
    identification = _sub(root, "IdentificationRSA")
    _sub(identification, "Organisme", sender)
    _sub(identification, "NUMORG", dossier.body_number)
    _sub(identification, "MATRICULE", dossier.matricule)
    request = _sub(root, "DemandeRSA")
    _sub(request, "DTDEMRSA", dossier.requested_on.isoformat())
    _sub(request, "NUMDEMRSA", dossier.number)
    for person in dossier.persons:
        block = _sub(root, "Personne")
        identity = _sub(block, "Identification")
        _sub(identity, "QUAL", "MME" if person.sex == "2" else "MR")
        _sub(identity, "NOM", person.last_name)
        _sub(identity, "NOMNAI", person.birth_name or person.last_name)
        _sub(identity, "PRENOM", person.first_name)
        _sub(identity, "DTNAI", person.birth_date.isoformat())
        _sub(identity, "SEXE", person.sex)
        if person.nir:
            _sub(identity, "NIR", person.nir)
        benefit = _sub(block, "Prestations")
        _sub(benefit, "NATPREST", "RSA")
        _sub(benefit, "ROLEPERS", person.role.value)
        rights = _sub(block, "Calculdroitrsa")
        _sub(rights, "TOPPERSDRODEVORSA", "1" if person.subject else "0")
        if person.france_travail_id or person.activity:
            activity = _sub(block, "Activite")
            if person.activity:
                _sub(activity, "ACT", person.activity)
            if person.france_travail_id:
                _sub(activity, "IDASSEDIC", person.france_travail_id)
    situation = _sub(_sub(root, "PrestationRSA"), "SituationDossierRSA")
    _sub(situation, "ETATDOSRSA", dossier.state.value)
    _sub(situation, "TOPSANSDOMFIXE", "1" if dossier.no_fixed_address else "0")
    _sub(situation, "SITFAM", dossier.family_situation)
    return root


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element
