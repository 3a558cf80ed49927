"""A CAF flow big enough for an import to last a few seconds, and what it must leave."""

from __future__ import annotations

import datetime
import io
from collections import Counter

from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow, write_flux
from binome.rsa.models import Beneficiary, Dossier


def dossiers(count: int) -> list[DossierRow]:
    rows = []
    for number in range(count):
        adults = 2 if number % 3 == 0 else 1
        persons = tuple(
            PersonRow(
                Role.APPLICANT if index == 0 else Role.SPOUSE,
                f"Nom{number}",
                f"Prénom{index}",
                datetime.date(1970, 1, 1) + datetime.timedelta(days=number % 9000),
                sex="2" if index == 0 else "1",
            )
            for index in range(adults)
        )
        rows.append(
            DossierRow(
                number=f"F{number:08d}",
                matricule=f"{number:07d}",
                requested_on=datetime.date(2026, 10, 1),
                state=RightState.OPEN if number % 4 else RightState.AWAITING_DECISION,
                persons=persons,
            )
        )
    return rows


def flow_bytes(rows: list[DossierRow]) -> bytes:
    out = io.BytesIO()
    write_flux(out, FluxHeader("CAF", "M", datetime.date(2026, 11, 2), None), rows)
    return out.getvalue()


def expected(rows: list[DossierRow]) -> dict[str, object]:
    """The rows an uninterrupted import of ``rows`` leaves, as ``imported()`` reads them."""
    return {
        "dossiers": sorted((row.number, row.state.value) for row in rows),
        "beneficiaries": Counter(
            {row.number: len([p for p in row.persons if p.subject]) for row in rows}
        ),
    }


def imported() -> dict[str, object]:
    return {
        "dossiers": sorted(Dossier.objects.values_list("number", "state")),
        "beneficiaries": Counter(Beneficiary.objects.values_list("dossier__number", flat=True)),
    }
