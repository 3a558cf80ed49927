"""The demo's RSA households in the Var: two monthly CAF flows shipped under ``demo/`` (the
October one, whose households are to orient before mid-December, and the November one, which
brings new households and repeats October's unchanged), imported by ``binome demo``; then a
few orientations: Karim Rossi oriented to France Travail Toulon, where Inès is his référent
de parcours and his contrat d'engagement is signed; Leïla Rossi oriented to the département;
Julie Garnier to the CCAS of Toulon. The others are still to orient, but Nadya Belkacem,
whom the November flow brings with no NIR and a first name close to Nadia Belkacem's (born
the same day): she is « à rapprocher ».

The flows are written by :func:`write_demo_flows` (``binome manage rsa_demo_flows`` writes
them again, the same bytes for the same code).
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.rsa import rollup
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow, write_flux
from binome.rsa.models import (
    Beneficiary,
    EmploymentSituation,
    FlowImport,
    ImportStatus,
    Obstacle,
    Orientation,
    OrientationKind,
    Qualification,
)
from binome.rsa.orientations import Decision, designate_referent, orient, record_contract_signature
from binome.territories.models import Department

DEMO_DIR = Path(__file__).parent / "demo"
OCTOBER = FluxHeader("CAF", "M", datetime.date(2026, 10, 31), datetime.date(2026, 10, 1))
NOVEMBER = FluxHeader("CAF", "M", datetime.date(2026, 11, 30), datetime.date(2026, 11, 1))
FLOWS = (("flux_caf_var_2026-10.xml", OCTOBER), ("flux_caf_var_2026-11.xml", NOVEMBER))

D = datetime.date


def _october_households() -> list[DossierRow]:
    return [
        DossierRow(
            number="83000101",
            matricule="8301011",
            requested_on=D(2026, 10, 6),
            state=RightState.OPEN,
            family_situation="CEL",
            persons=(
                PersonRow(Role.APPLICANT, "Martin", "Sandrine", D(1988, 4, 12), activity="CHO"),
                PersonRow(Role.CHILD, "Martin", "Lou", D(2016, 9, 3), subject=False),
                PersonRow(Role.CHILD, "Martin", "Théo", D(2019, 2, 21), subject=False, sex="1"),
            ),
        ),
        DossierRow(
            number="83000102",
            matricule="8301022",
            requested_on=D(2026, 10, 2),
            state=RightState.OPEN,
            family_situation="MAR",
            persons=(
                PersonRow(
                    Role.APPLICANT,
                    "Rossi",
                    "Karim",
                    D(1984, 11, 5),
                    sex="1",
                    france_travail_id="4455667K",
                    activity="CHO",
                ),
                PersonRow(
                    Role.SPOUSE,
                    "Rossi",
                    "Leïla",
                    D(1987, 6, 30),
                    birth_name="Haddad",
                    activity="SSA",
                ),
                PersonRow(Role.CHILD, "Rossi", "Inaya", D(2021, 1, 14), subject=False),
            ),
        ),
        DossierRow(
            number="83000103",
            matricule="8301033",
            requested_on=D(2026, 10, 20),
            state=RightState.AWAITING_DECISION,
            no_fixed_address=True,
            family_situation="ISO",
            persons=(PersonRow(Role.APPLICANT, "Lambert", "Yves", D(1969, 8, 8), sex="1"),),
        ),
        DossierRow(
            number="83000104",
            matricule="8301044",
            requested_on=D(2026, 10, 9),
            state=RightState.OPEN,
            family_situation="SEP",
            persons=(
                PersonRow(
                    Role.APPLICANT, "Garnier", "Julie", D(1992, 3, 17), france_travail_id="7788990J"
                ),
                PersonRow(Role.CHILD, "Garnier", "Noa", D(2023, 5, 2), subject=False, sex="1"),
            ),
        ),
    ]


def _november_households() -> list[DossierRow]:
    return [
        *_october_households(),
        DossierRow(
            number="83000105",
            matricule="8301055",
            requested_on=D(2026, 11, 12),
            state=RightState.AWAITING_DECISION,
            persons=(PersonRow(Role.APPLICANT, "Petit", "Manon", D(1999, 12, 1)),),
        ),
        DossierRow(
            number="83000106",
            matricule="8301066",
            requested_on=D(2026, 11, 4),
            state=RightState.OPEN,
            family_situation="VIM",
            persons=(
                PersonRow(Role.APPLICANT, "Moreau", "Thomas", D(1979, 7, 23), sex="1"),
                PersonRow(Role.SPOUSE, "Moreau", "Élodie", D(1981, 10, 10)),
            ),
        ),
        DossierRow(
            number="83000107",
            matricule="8301077",
            requested_on=D(2026, 11, 18),
            state=RightState.OPEN,
            persons=(
                # Works enough: not subject to rights and duties, never to orient.
                PersonRow(Role.APPLICANT, "Fabre", "Sylvie", D(1975, 1, 9), subject=False),
            ),
        ),
        DossierRow(
            number="83000108",
            matricule="8301088",
            requested_on=D(2026, 11, 16),
            state=RightState.OPEN,
            persons=(
                # Born the day Nadia Belkacem was, her first name spelt otherwise, no NIR:
                # maybe her file, maybe not. Left « à rapprocher » for a human.
                PersonRow(Role.APPLICANT, "Belkacem", "Nadya", D(1988, 4, 12)),
            ),
        ),
    ]


def write_demo_flows(directory: Path = DEMO_DIR) -> list[Path]:
    """Write the demo's flows into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    households = {OCTOBER: _october_households, NOVEMBER: _november_households}
    paths = []
    for name, header in FLOWS:
        path = directory / name
        with path.open("wb") as out:
            write_flux(out, header, households[header]())
        paths.append(path)
    return paths


def _import_once(path: Path, department: Department) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if FlowImport.objects.filter(
        department=department, file_hash=digest, status=ImportStatus.APPLIED
    ).exists():
        return
    import_flux(path, department=department, by=None)


def _beneficiary(first_name: str, last_name: str) -> Beneficiary:
    return Beneficiary.objects.select_related("dossier").get(
        dossier__department_id="83", first_name=first_name, last_name=last_name
    )


def load_demo_rsa(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    """Import the Var's demo flows and orient a few of their persons (idempotent)."""
    department = Department.objects.get(code="83")
    for name, _ in FLOWS:
        _import_once(DEMO_DIR / name, department)
    claire, ines = users["claire"], users["ines"]
    dep83, ft_toulon = organisations["dep83"], organisations["ft_toulon"]
    decisions = (
        (
            ("Karim", "Rossi"),
            Decision(
                referent_body=ft_toulon,
                kind=OrientationKind.EMPLOYMENT,
                employment_situation=EmploymentSituation.SEEKING,
                qualification=Qualification.CAP_BEP,
                aspirations="Reprendre un emploi de cariste, permis CACES à renouveler.",
            ),
        ),
        (
            ("Leïla", "Rossi"),
            Decision(
                referent_body=dep83,
                kind=OrientationKind.SOCIO_PROFESSIONAL,
                employment_situation=EmploymentSituation.LONG_TERM,
                qualification=Qualification.BAC,
                obstacles=(Obstacle.CHILDCARE, Obstacle.MOBILITY),
            ),
        ),
        (
            ("Julie", "Garnier"),
            Decision(
                referent_body=organisations["ccas_toulon"],
                kind=OrientationKind.SOCIAL,
                employment_situation=EmploymentSituation.NEVER,
                qualification=Qualification.NONE,
                obstacles=(Obstacle.HOUSING, Obstacle.HEALTH),
            ),
        ),
    )
    with transaction.atomic():
        for (first_name, last_name), decision in decisions:
            beneficiary = _beneficiary(first_name, last_name)
            if Orientation.objects.filter(beneficiary=beneficiary).exists():
                continue
            orientation = orient(
                beneficiary=beneficiary, decision=decision, by=claire, organisation=dep83
            )
            if first_name == "Karim":
                orientation = designate_referent(orientation=orientation, referent=ines, by=ines)
                record_contract_signature(
                    orientation=orientation, signed_on=timezone.localdate(), by=ines
                )
    # The steering's RSA figures per month, as the nightly job would have them.
    rollup.refresh()
