"""The directory import reads the files others write: the national API's other answers,
pages, dates, faults said in French, and optional fields that do not cost a row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from binome.directory.importer import import_directory
from binome.directory.models import Service, Structure
from tests.directory.test_import import (
    DATA,
    SERVICES,
    STRUCTURES,
    reasons,
    service_row,
    write_json,
)

# Built by us in the shapes of the API's response models: see api-built/SOURCE.md.
API = DATA / "api-built"

pytestmark = pytest.mark.django_db


def warnings(report: Any) -> list[tuple[int, str, str]]:
    return [(w.line, w.field, w.reason) for w in report.warnings]


def structure_row(**changes: Any) -> dict[str, Any]:
    """The crèche Les Lucioles (structures.json), with changes."""
    rows = json.loads(STRUCTURES.read_text())["items"]
    row: dict[str, Any] = dict(next(r for r in rows if r["id"] == "dora--creche-les-lucioles"))
    row.update(changes)
    return {key: value for key, value in row.items() if value is not None}


# --- the national API's other shapes -----------------------------------------------------


def test_a_service_as_services_id_returns_it_with_its_structure() -> None:
    report = import_directory([API / "service_detail.json"])

    assert report.file_errors == [] and report.rejected == []
    assert (report.structures.created, report.services.created) == (1, 1)
    permis = Service.objects.select_related("structure").get()
    assert permis.source_id == "dora--aide-permis-b"
    assert permis.structure.source_id == "dora--mobilite-var"
    assert permis.structure.name == "Plateforme Mobilité Var"


def test_a_structure_as_structures_id_returns_it_with_its_services() -> None:
    report = import_directory([API / "structure_detail.json"])

    assert report.file_errors == [] and report.rejected == []
    assert (report.structures.created, report.services.created) == (1, 2)
    assert sorted(
        Service.objects.filter(structure__source_id="dora--mobilite-var").values_list(
            "source_id", flat=True
        )
    ) == ["dora--aide-permis-b", "dora--scooters-solidaires"]


def test_a_search_results_page_gives_its_services_and_their_structures_once() -> None:
    report = import_directory([API / "search_services_page.json"])

    assert report.file_errors == [] and report.rejected == [] and report.warnings == []
    # The Plateforme Mobilité Var is nested in two results: one structure.
    assert (report.structures.created, report.services.created) == (2, 3)
    assert sorted(Structure.objects.values_list("source_id", flat=True)) == [
        "dora--creche-les-lucioles",
        "dora--mobilite-var",
    ]
    # A re-run changes nothing.
    report = import_directory([API / "search_services_page.json"])
    assert report.rejected == []
    assert (report.structures.unchanged, report.services.unchanged) == (2, 3)


def test_an_empty_last_page_does_not_abort_the_import() -> None:
    report = import_directory([STRUCTURES, SERVICES, API / "services_empty_last_page.json"])

    assert report.file_errors == []
    assert report.services.created == 4
    assert [(w.file, w.line, w.field) for w in report.warnings] == [
        (str(API / "services_empty_last_page.json"), 0, "items")
    ]
    assert "page vide" in report.warnings[0].reason
    assert any("page vide" in line for line in report.lines())


# --- dates ----------------------------------------------------------------------------


def test_an_older_row_does_not_overwrite_a_newer_one(tmp_path: Path) -> None:
    newer = service_row(date_maj="2025-10-01", nom="Places en crèche AVIP (2 places)")
    import_directory([STRUCTURES, write_json(tmp_path, "new.json", [newer])])
    older = service_row(date_maj="2025-03-01", nom="Places en crèche AVIP (ancien)")

    report = import_directory([write_json(tmp_path, "old.json", [older])])

    service = Service.objects.get()
    assert service.name == "Places en crèche AVIP (2 places)"
    assert str(service.updated_on) == "2025-10-01"
    assert (report.services.updated, report.services.unchanged) == (0, 0)
    assert report.rejected == []
    assert warnings(report) == [
        (
            1,
            "date_maj",
            "date_maj 2025-03-01 antérieure à celle de l'annuaire (2025-10-01) : ligne "
            "ignorée, la version plus récente est gardée",
        )
    ]
    # A newer one still does.
    newest = service_row(date_maj="2025-11-01", nom="Places en crèche AVIP (complet)")
    report = import_directory([write_json(tmp_path, "newest.json", [newest])])
    assert report.services.updated == 1
    assert Service.objects.get().name == "Places en crèche AVIP (complet)"


@pytest.mark.parametrize("newest_first", [True, False])
def test_the_same_id_twice_keeps_the_newest_and_says_so(tmp_path: Path, newest_first: bool) -> None:
    old = service_row(date_maj="2025-03-01", nom="Places AVIP (ancien)")
    new = service_row(date_maj="2025-10-01", nom="Places AVIP (à jour)")
    rows = [new, old] if newest_first else [old, new]
    path = write_json(tmp_path, "s.json", rows)

    report = import_directory([STRUCTURES, path])

    assert Service.objects.get().name == "Places AVIP (à jour)"
    assert report.rejected == [] and report.services.created == 1
    old_line, new_line = (2, 1) if newest_first else (1, 2)
    assert warnings(report) == [
        (
            old_line,
            "date_maj",
            "identifiant « dora--places-avip » en double : la version la plus récente "
            f"(date_maj 2025-10-01, en {path}:{new_line}) est gardée, celle-ci "
            "(date_maj 2025-03-01) est ignorée",
        )
    ]


# --- faults in French, one line each ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"date_maj": "2025-06-02T10:00:00Z"},
            "date_maj",
            "date invalide : une date sans heure est attendue (format AAAA-MM-JJ)",
        ),
        ({"date_maj": 20250602}, "date_maj", "date invalide (attendue au format AAAA-MM-JJ)"),
        (
            {"zone_eligibilite": ["83137", "toulon"]},
            "zone_eligibilite",
            "code inconnu « toulon » (valeur n° 2) ; attendu : un code de commune "
            "(5 caractères), de département (2 ou 3), d'EPCI (9 chiffres), de pays (99XXX) "
            "ou « france »",
        ),
        ({"zone_eligibilite": [83]}, "zone_eligibilite", "code inconnu « 83 » (valeur n° 1)"),
        (
            {"volume_horaire_hebdomadaire": [4]},
            "volume_horaire_hebdomadaire",
            "doit être un nombre",
        ),
        ({"nom": {"fr": "Crèche"}}, "nom", "doit être un texte"),
    ],
)
def test_every_fault_is_one_french_line(
    tmp_path: Path, changes: dict[str, Any], field: str, reason: str
) -> None:
    path = write_json(tmp_path, "s.json", [service_row(**changes)])

    report = import_directory([STRUCTURES, path])

    [(line, rejected_field, said)] = reasons(report)
    assert (line, rejected_field) == (1, field)
    assert said.startswith(reason)
    for english in ("Input should", "should have", "a valid", "Datetimes", "provided"):
        assert english not in said
    assert Service.objects.count() == 0


# --- an optional field's fault does not cost the row ------------------------------------


@pytest.mark.parametrize(
    ("changes", "fields", "reason_part", "cleared"),
    [
        (
            {"latitude": 40.4168, "longitude": -3.7038},
            ["latitude"],
            "hors de France",
            {"latitude": None, "longitude": None},
        ),
        ({"longitude": None}, ["longitude"], "l'une manque", {"latitude": None}),
        (
            {"code_insee": "83999"},
            ["code_insee"],
            "code INSEE inconnu « 83999 »",
            {"commune_id": None, "department_id": None},
        ),
        ({"code_postal": "ABC 1234"}, ["code_postal"], "trop long", {"postal_code": ""}),
    ],
)
def test_a_fault_of_an_optional_place_field_is_a_warning(
    tmp_path: Path,
    changes: dict[str, Any],
    fields: list[str],
    reason_part: str,
    cleared: dict[str, Any],
) -> None:
    path = write_json(
        tmp_path, "s.json", [service_row(id="dora--bonne-ligne"), service_row(**changes)]
    )

    report = import_directory([STRUCTURES, path])

    assert report.rejected == [] and report.rejected_rows == 0
    assert report.services.created == 2
    assert [(w.line, w.field) for w in report.warnings] == [(2, field) for field in fields]
    assert reason_part in report.warnings[0].reason
    assert report.warnings[0].reason.endswith("valeur ignorée, ligne importée sans elle")
    service = Service.objects.filter(source_id="dora--places-avip").values(*cleared).get()
    assert service == cleared
    # The rest of the row is there.
    assert Service.objects.get(source_id="dora--places-avip").name == "Places en crèche AVIP"


def test_a_structure_outside_france_is_imported_without_its_coordinates(tmp_path: Path) -> None:
    row = structure_row(latitude=48.8566, longitude=-73.0, code_insee="83999")

    report = import_directory([write_json(tmp_path, "st.json", [row])])

    assert report.rejected == []
    assert [w.field for w in report.warnings] == ["latitude", "code_insee"]
    creche = Structure.objects.get()
    assert (creche.latitude, creche.longitude, creche.commune_id) == (None, None, None)
    assert creche.name == "Crèche AVIP Les Lucioles"


def test_the_command_prints_the_warnings_and_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_json(tmp_path, "s.json", [service_row(code_insee="83999")])

    call_command("directory", "import", str(STRUCTURES), str(bad))

    out = capsys.readouterr().out
    assert "avertissements : 1" in out
    assert f"avertissement : {bad}:1 code_insee : code INSEE inconnu « 83999 »" in out


# --- pages recorded by the national API's own tests -------------------------------------

RECORDED = DATA / "datainclusion-api"


def test_the_pages_recorded_by_the_national_apis_tests_import() -> None:
    report = import_directory([RECORDED / "structures_page.json", RECORDED / "services_page.json"])

    assert report.file_errors == [] and report.rejected == []
    assert (report.structures.created, report.services.created) == (1, 1)
    service = Service.objects.select_related("structure").get()
    assert (service.source_id, service.name) == ("dora--be-water-scene-wind", "Munoz")
    assert service.structure.source_id == "dora--lot-kitchen-amount"
    assert service.thematiques == ["famille--garde-denfants"]
    assert str(service.updated_on) == "2023-01-01"
    # Their made-up coordinates are not in France: the rows come without them.
    assert (service.latitude, service.structure.latitude) == (None, None)
    assert [(w.file.rsplit("/", 1)[-1], w.field) for w in report.warnings] == [
        ("services_page.json", "latitude"),
        ("structures_page.json", "latitude"),
    ]
