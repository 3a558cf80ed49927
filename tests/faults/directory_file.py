"""A data·inclusion file big enough for the directory's import to last a few seconds, and what
an uninterrupted import of it leaves."""

from __future__ import annotations

import json
from datetime import date, timedelta

from binome.directory.models import Service, Structure
from binome.territories.models import Commune

SOURCE = "essai-panne"


def rows(services: int) -> list[dict[str, object]]:
    communes = list(
        Commune.objects.filter(department_id="83")
        .order_by("insee_code")
        .values_list("insee_code", "name", "latitude", "longitude")
    )
    structures = services // 2
    out: list[dict[str, object]] = []
    for number in range(structures):
        code, name, latitude, longitude = communes[number % len(communes)]
        out.append(
            {
                "source": SOURCE,
                "id": f"{SOURCE}--s{number}",
                "nom": f"Structure {number}",
                "date_maj": (date(2025, 1, 1) + timedelta(days=number % 300)).isoformat(),
                "description": f"Accueil et accompagnement, structure {number}.",
                "code_insee": code,
                "commune": name,
                "latitude": latitude,
                "longitude": longitude,
            }
        )
    for number in range(services):
        code, name, latitude, longitude = communes[(number // 2) % len(communes)]
        out.append(
            {
                "source": SOURCE,
                "id": f"{SOURCE}--{number}",
                "structure_id": f"{SOURCE}--s{number // 2}",
                "nom": f"Service {number}",
                "description": f"Aide au logement et à la mobilité, service {number}.",
                "date_maj": (date(2025, 1, 1) + timedelta(days=number % 300)).isoformat(),
                "type": "accompagnement",
                "thematiques": [
                    "logement-hebergement--louer-un-logement",
                    "mobilite--preparer-un-permis",
                ],
                "frais": "gratuit",
                "publics": ["demandeurs-emploi"],
                "modes_accueil": ["en-presentiel"],
                "zone_eligibilite": ["83"],
                "modes_mobilisation": ["telephoner"],
                "mobilisable_par": ["professionnels"],
                "telephone": "+33494000000",
                "code_insee": code,
                "commune": name,
                "latitude": latitude,
                "longitude": longitude,
            }
        )
    return out


def file_bytes(content: list[dict[str, object]]) -> bytes:
    return json.dumps({"items": content}, ensure_ascii=False).encode()


def expected(content: list[dict[str, object]]) -> dict[str, object]:
    """The structures and services an uninterrupted import of ``content`` leaves."""
    return {
        "structures": sorted(str(row["id"]) for row in content if "structure_id" not in row),
        "services": sorted(
            (str(row["id"]), str(row["structure_id"]), str(row["nom"]))
            for row in content
            if "structure_id" in row
        ),
    }


def imported() -> dict[str, object]:
    return {
        "structures": sorted(Structure.objects.values_list("source_id", flat=True)),
        "services": sorted(
            Service.objects.values_list("source_id", "structure__source_id", "name")
        ),
    }
