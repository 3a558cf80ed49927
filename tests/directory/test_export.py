"""Export in data·inclusion v1 JSON, and the round trip import → export → import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_inclusion.schema import v1
from django.core.management import call_command

from binome.directory.exporter import export_datainclusion
from binome.directory.importer import import_directory
from binome.directory.models import Service, Structure
from tests.directory.test_import import SERVICES, SERVICES_CSV, STRUCTURES, snapshot

pytestmark = pytest.mark.django_db


def test_export_gives_valid_datainclusion_rows() -> None:
    import_directory([STRUCTURES, SERVICES, SERVICES_CSV])

    services = export_datainclusion("services")
    structures = export_datainclusion("structures")

    assert len(services) == 6 and len(structures) == 3
    for row in services:
        v1.Service.model_validate(row)
    for row in structures:
        v1.Structure.model_validate(row)
    permis = next(row for row in services if row["id"] == "dora--aide-permis-b")
    assert permis["structure_id"] == "dora--mobilite-var"
    assert permis["date_maj"] == "2025-06-02"
    assert permis["code_insee"] == "83137"
    assert permis["frais_precisions"] == "Reste à charge de 10 % du coût du permis"
    scooters = next(row for row in services if row["id"] == "dora--scooters-solidaires")
    assert scooters["latitude"] is None and scooters["conditions_acces"] is None


def test_round_trip_import_export_import_gives_identical_data(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES, SERVICES_CSV])
    first = snapshot()
    structures_file = tmp_path / "structures.json"
    services_file = tmp_path / "services.json"
    call_command("directory", "export", "--kind", "structures", "-o", str(structures_file))
    call_command("directory", "export", "--kind", "services", "-o", str(services_file))

    # The export over the same data changes nothing…
    report = import_directory([structures_file, services_file])
    assert (report.structures.unchanged, report.services.unchanged) == (3, 6)
    assert report.rejected == []

    # …and into an empty directory, it gives the same rows.
    Service.objects.all().delete()
    Structure.objects.all().delete()
    report = import_directory([structures_file, services_file])
    assert (report.structures.created, report.services.created) == (3, 6)
    assert snapshot() == first
    assert json.loads(services_file.read_text()) == export_datainclusion("services")


def test_export_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    import_directory([STRUCTURES])

    call_command("directory", "export", "--format", "datainclusion", "--kind", "structures")

    rows = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in rows] == [
        "dora--ccas-toulon",
        "dora--creche-les-lucioles",
        "dora--mobilite-var",
    ]


def test_export_of_an_empty_directory_is_an_empty_list(tmp_path: Path) -> None:
    out = tmp_path / "services.json"

    call_command("directory", "export", "--kind", "services", "-o", str(out))

    assert json.loads(out.read_text()) == []
