"""Relevance of the directory's search: real counselor queries on a small directory of
realistic services (``data/relevance/``, written for these tests), each with the services
it must find on its first page, rank first, not rank first, or not find."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db.models import F
from django.utils import timezone

from binome.directory.importer import import_directory
from binome.directory.models import Service, Structure
from binome.directory.search import search_services
from binome.territories.models import Commune
from tests.directory.test_import import SERVICES, STRUCTURES

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "relevance"
QUERIES = yaml.safe_load((DATA / "queries.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def directory() -> set[str]:
    """The directory of ``directory.yaml`` written with the ORM; the names of its services."""
    data = yaml.safe_load((DATA / "directory.yaml").read_text(encoding="utf-8"))
    today = timezone.localdate()
    names: set[str] = set()
    for s_index, entry in enumerate(data["structures"]):
        place = Commune.objects.get(insee_code=entry["commune"])
        located: dict[str, Any] = {
            "source": "relevance",
            "updated_on": today,
            "commune": place,
            "department_id": place.department_id,
            "latitude": place.latitude,
            "longitude": place.longitude,
        }
        structure = Structure.objects.create(
            name=entry["name"],
            description=entry["description"],
            source_id=f"st{s_index}",
            **located,
        )
        for v_index, service in enumerate(entry["services"]):
            Service.objects.create(
                structure=structure,
                name=service["name"],
                description=service["description"],
                thematiques=service["thematiques"],
                publics=service["publics"],
                source_id=f"sv{s_index}-{v_index}",
                reception_modes=["en-presentiel"],
                phone="04 94 00 00 00",
                **located,
            )
            names.add(service["name"])
    return names


def test_the_queries_name_services_of_the_directory(directory: set[str]) -> None:
    for case in QUERIES:
        named = {case.get("first"), *case.get("page", ()), *case.get("not_first", ())}
        named |= set(case.get("absent", ()))
        assert named - {None} <= directory, case["query"]


@pytest.mark.parametrize("case", QUERIES, ids=[case["query"] for case in QUERIES])
def test_a_counselor_query_finds_what_she_means(directory: set[str], case: dict[str, Any]) -> None:
    found = [service.name for service in search_services(text=case["query"]).services]

    assert found, "nothing found"
    if "first" in case:
        assert found[0] == case["first"], found
    assert set(case.get("page", ())) <= set(found), found
    assert found[0] not in case.get("not_first", ()), found
    assert not set(case.get("absent", ())) & set(found), found


def test_the_services_holding_the_words_come_before_those_whose_words_are_spread(
    directory: set[str],
) -> None:
    found = [service.name for service in search_services(text="logement d'urgence").services]
    spread = found.index("Accompagnement vers et dans le logement")
    assert found.index("Écoute et orientation 115") < spread
    assert found.index("Centre d'hébergement d'urgence Les Lauriers") < spread


def test_a_structure_s_new_description_is_searched(directory: set[str]) -> None:
    structure = Structure.objects.get(name="Mobilité Solidaire Var")
    assert search_services(text="garage solidaire").total == 0

    structure.description = "Garage solidaire : réparations à prix coûtant."
    structure.save(update_fields=["description"])

    found = {service.name for service in search_services(text="garage solidaire").services}
    assert found == {s.name for s in structure.services.all()}


def test_the_import_writes_the_same_match_vector_as_the_trigger() -> None:
    """The importer writes ``search_vector`` in its own statements: ``match_vector`` follows
    it, as it follows any writer's."""
    import_directory([STRUCTURES, SERVICES])

    def match_vectors() -> dict[str, str]:
        return {
            source_id: str(vector)
            for source_id, vector in Service.objects.values_list("source_id", "match_vector")
        }

    imported = match_vectors()
    assert all(imported.values())
    Service.objects.update(name=F("name"))  # both row triggers compute every column again
    assert match_vectors() == imported

    def lexemes(vector: str) -> set[str]:
        return {token.rsplit(":", 1)[0] for token in vector.split()}

    for service in Service.objects.all():
        assert lexemes(str(service.search_vector)) <= lexemes(imported[service.source_id])
