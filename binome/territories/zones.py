"""Zones named by codes (data·inclusion's eligibility zones), told in words."""

from __future__ import annotations

from collections.abc import Sequence

from binome.territories.models import Commune, Department, Epci

FRANCE = "france"


def describe_zone(codes: Sequence[str]) -> list[str]:
    """The zone's places as a counselor reads them, in the zone's order: « Var (83) »,
    « Toulon (83) », the EPCI's name, « toute la France »; a code no referential knows is
    kept as it is. At most one query per kind of code present."""
    digits = [code for code in codes if code != FRANCE]
    communes = {
        c.insee_code: f"{c.name} ({c.department_id})"
        for c in Commune.objects.filter(insee_code__in=[c for c in digits if len(c) == 5])
    }
    departments = {
        d.code: f"{d.name} ({d.code})"
        for d in Department.objects.filter(code__in=[c for c in digits if len(c) in (2, 3)])
    }
    epcis = dict(
        Epci.objects.filter(siren__in=[c for c in digits if len(c) == 9]).values_list(
            "siren", "name"
        )
    )
    labels = []
    for code in codes:
        if code == FRANCE:
            labels.append("toute la France")
        else:
            labels.append(communes.get(code) or departments.get(code) or epcis.get(code) or code)
    return labels
