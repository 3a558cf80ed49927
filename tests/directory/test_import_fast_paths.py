"""The importer's fast paths write exactly what the slow ones would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import F

from binome.directory import importer
from binome.directory.importer import import_directory
from binome.directory.models import Service, Structure
from tests.directory.test_import import SERVICES, SERVICES_CSV, STRUCTURES, write_json

pytestmark = pytest.mark.django_db


def search_columns() -> dict[str, tuple[str, str]]:
    return {
        source_id: (str(vector), name)
        for source_id, vector, name in Service.objects.values_list(
            "source_id", "search_vector", "search_name"
        )
    }


def service_indexes(model: type[Service | Structure] = Service) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s",
            [model._meta.db_table],
        )
        return {name for (name,) in cursor.fetchall()}


def test_search_columns_computed_by_the_import_are_the_triggers(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES, SERVICES_CSV])
    by_import = search_columns()
    assert all(vector and name for vector, name in by_import.values())

    # The row trigger computes them again, from the same SQL functions.
    Service.objects.update(name=F("name"))
    assert search_columns() == by_import


def test_the_trigger_still_serves_other_writers() -> None:
    import_directory([STRUCTURES, SERVICES])
    service = Service.objects.get(source_id="dora--aide-permis-b")

    service.name = "Permis de conduire solidaire"
    service.save()

    service.refresh_from_db()
    assert service.search_name == "permis de conduire solidaire"
    assert "solidair" in str(service.search_vector)


def test_a_load_that_outgrows_the_table_rebuilds_the_indexes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = service_indexes()
    structures_before = service_indexes(Structure)
    declared = {index.name for index in Service._meta.indexes}
    assert declared <= before
    monkeypatch.setattr(importer, "TUNING", importer.Tuning(rebuild_indexes_min_rows=1))

    report = import_directory([STRUCTURES, SERVICES, SERVICES_CSV])

    assert "index reconstruits" in report.timings
    # The search indexes and the foreign keys' ones, on both tables, are all back.
    assert service_indexes() == before
    assert service_indexes(Structure) == structures_before
    assert any(name.startswith("directory_structure_commune_id") for name in structures_before)
    assert Structure.objects.count() == 3
    found = Service.objects.filter(
        search_vector=SearchQuery("permis", config="french_unaccent")
    ).values_list("source_id", flat=True)
    assert list(found) == ["dora--aide-permis-b"]


def test_the_search_columns_functions_are_inlined() -> None:
    """Migration 0009: no SQL function call per row for the search columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (VERBOSE) SELECT directory_search_name(s.name),"
            " directory_search_vector(s.name, s.name, s.thematiques, s.description)"
            " FROM directory_service s"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "directory_search_vector" not in plan and "directory_search_name" not in plan
    assert "to_tsvector" in plan and "unaccent" in plan


def test_lists_are_staged_as_array_literals_postgresql_reads_back() -> None:
    values = ["a", 'b "c"', "d\\e", "f,g", "{h}", " i ", "NULL", ""]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], '{}'::text[] = %s::text[]",
            [importer._array_literal(values), importer._array_literal([])],
        )
        assert cursor.fetchone() == (values, True)


def test_every_search_vector_written_by_the_import_is_the_function_s(tmp_path: Path) -> None:
    """The parts of ``directory_search_vector`` computed beforehand (staging, labels) give
    the very vector it gives, for new services and for updated ones."""
    import_directory([STRUCTURES, SERVICES, SERVICES_CSV])
    rows = json.loads(SERVICES.read_text())
    for row in rows:
        row["description"] = row["description"] + " Nouvelle permanence le mardi."
    import_directory([write_json(tmp_path, "services.json", rows)])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE s.search_vector IS DISTINCT FROM "
            "directory_search_vector(s.name, st.name, s.thematiques, s.description)) "
            "FROM directory_service s JOIN directory_structure st ON st.id = s.structure_id"
        )
        total, differing = cursor.fetchone()
    assert total == Service.objects.count() > 2
    assert differing == 0
    assert Service.objects.filter(
        search_vector=SearchQuery("permanence", config="french_unaccent")
    ).count() == len(rows)


def pending_pages() -> int:
    """Pages the services' words index still holds in its pending list, merged by this
    call (so that a second call says 0)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('service_match_vector'::regclass)")
        return int(cursor.fetchone()[0])


def test_the_import_leaves_no_pending_entry_in_the_services_indexes() -> None:
    # A service written outside the import leaves its words in the index's pending list,
    # which every search would read whole until a vacuum.
    import_directory([STRUCTURES, SERVICES])
    Service.objects.update(description=F("description"))
    assert pending_pages() > 0

    # The import merges them (its own and any left before) once it has written.
    Service.objects.update(description=F("description"))
    import_directory([STRUCTURES, SERVICES_CSV])
    assert pending_pages() == 0
