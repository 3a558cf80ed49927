"""Services and structures as the API answers them (see ``binome.api.schemas``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse

from binome.directory import datainclusion as di
from binome.directory.datainclusion import Kind
from binome.directory.models import Service, Structure


def _record(obj: Service | Structure, kind: Kind) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for _theirs, ours in di.FIELDS[kind]:
        if ours == "structure_source_id":
            record[ours] = obj.structure.source_id  # type: ignore[union-attr]
        else:
            record[ours] = getattr(obj, ours)
    return record


def service_json(service: Service, *, today: date) -> dict[str, Any]:
    """One service: data·inclusion v1 fields, Binôme's id, its structure, distance, freshness.

    ``service.structure`` must be loaded (``select_related``) and, after a search,
    ``service.distance_km`` annotated.
    """
    row = di.to_datainclusion(Kind.SERVICES, _record(service, Kind.SERVICES))
    structure_source_id = row.pop("structure_id")
    due = service.updated_on + timedelta(days=service.update_frequency_days)
    distance = getattr(service, "distance_km", None)
    return {
        "id": service.pk,
        "id_source": row.pop("id"),
        **row,
        "structure": {
            "id": service.structure_id,
            "id_source": structure_source_id,
            "nom": service.structure.name,
        },
        "distance_km": round(distance, 2) if distance is not None else None,
        "a_verifier": service.needs_checking(today),
        "date_verification": due.isoformat(),
        "lien_binome": settings.BASE_URL + reverse("directory:service_detail", args=[service.pk]),
    }


def structure_json(structure: Structure) -> dict[str, Any]:
    """One structure: data·inclusion v1 fields and Binôme's id."""
    row = di.to_datainclusion(Kind.STRUCTURES, _record(structure, Kind.STRUCTURES))
    return {"id": structure.pk, "id_source": row.pop("id"), **row}
