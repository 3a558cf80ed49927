"""Import of data·inclusion v1 files: formats, rejections, idempotence, atomicity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from binome.directory import importer
from binome.directory.importer import ImportReport, import_directory
from binome.directory.models import Service, Structure

DATA = Path(__file__).parent / "data"
STRUCTURES = DATA / "structures.json"
SERVICES = DATA / "services.json"
SERVICES_CSV = DATA / "services.csv"

pytestmark = pytest.mark.django_db


def service_row(**changes: Any) -> dict[str, Any]:
    """A valid service of the Var (the AVIP places of Les Lucioles), with changes."""
    rows = json.loads(SERVICES.read_text())
    row: dict[str, Any] = dict(rows[2])
    row.update(changes)
    return {key: value for key, value in row.items() if value is not None}


def write_json(tmp_path: Path, name: str, rows: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def reasons(report: ImportReport) -> list[tuple[int, str, str]]:
    return [(r.line, r.field, r.reason) for r in report.rejected]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    # Where and when a row came from, not its data (the fingerprint is of the file read).
    ignored = {"id", "structure_id", "imported_at", "created_at", "updated_at", "content_hash"}
    return {
        "structures": [
            {k: v for k, v in row.items() if k not in ignored}
            for row in Structure.objects.order_by("source_id").values()
        ],
        "services": [
            {k: v for k, v in row.items() if k not in ignored}
            for row in Service.objects.order_by("source_id").values(
                *[f.attname for f in Service._meta.concrete_fields], "structure__source_id"
            )
        ],
    }


def test_imports_structures_and_services_from_json_and_csv() -> None:
    report = import_directory([STRUCTURES, SERVICES, SERVICES_CSV])

    assert report.file_errors == []
    assert report.rejected == []
    assert (report.structures.created, report.services.created) == (3, 6)
    permis = Service.objects.select_related("structure", "commune").get(
        source_id="dora--aide-permis-b"
    )
    assert permis.structure.name == "Plateforme Mobilité Var"
    assert permis.commune is not None and permis.commune.name == "Toulon"
    assert permis.department_id == "83"
    assert permis.thematiques == ["mobilite--financer-ma-mobilite", "mobilite--preparer-un-permis"]
    assert permis.fees == "payant"
    assert permis.reception_modes == ["en-presentiel"]
    assert permis.weekly_hours == 4 and permis.number_of_weeks == 12
    assert permis.contact_name == "Durand Sylvie"
    assert permis.imported_at is not None
    # CSV: ";" separator, lists separated by ",", decimal comma, a description on two lines.
    garage = Service.objects.get(source_id="dora--garage-solidaire")
    assert garage.thematiques == [
        "mobilite--acceder-a-un-vehicule",
        "mobilite--entretenir-reparer-son-vehicule",
    ]
    assert (garage.latitude, garage.longitude) == (43.1204, 6.1286)
    assert garage.commune_id == "83069"
    urgence = Service.objects.get(source_id="dora--garde-urgence")
    assert "dans les 24 heures\npour permettre" in urgence.description
    assert urgence.eligibility_zone == ["83126", "83137"]
    assert urgence.latitude is None
    ccas = Structure.objects.get(source_id="dora--ccas-toulon")
    assert ccas.siret == "21830137200015"
    assert ccas.networks == ["ccas-cias"]


def test_a_rerun_adds_and_changes_nothing() -> None:
    import_directory([STRUCTURES, SERVICES, SERVICES_CSV])
    before = snapshot()
    imported_at = dict(Service.objects.values_list("source_id", "imported_at"))

    report = import_directory([STRUCTURES, SERVICES, SERVICES_CSV])

    assert (report.structures.created, report.structures.updated) == (0, 0)
    assert (report.services.created, report.services.updated) == (0, 0)
    assert (report.structures.unchanged, report.services.unchanged) == (3, 6)
    assert snapshot() == before
    assert dict(Service.objects.values_list("source_id", "imported_at")) == imported_at


def test_a_changed_row_is_updated(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES])
    rows = json.loads(SERVICES.read_text())
    rows[0]["nom"] = "Aide au permis B et AM"
    rows[0]["thematiques"] = ["mobilite--preparer-un-permis"]

    report = import_directory([write_json(tmp_path, "services.json", rows)])

    assert (report.services.created, report.services.updated, report.services.unchanged) == (
        0,
        1,
        3,
    )
    permis = Service.objects.get(source_id="dora--aide-permis-b")
    assert permis.name == "Aide au permis B et AM"
    assert permis.thematiques == ["mobilite--preparer-un-permis"]


def test_a_locally_edited_row_is_kept(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES])
    Service.objects.filter(source_id="dora--places-avip").update(
        name="Places AVIP (3 places libres)", edited_locally_at=timezone.now()
    )
    rows = json.loads(SERVICES.read_text())
    for row in rows:
        row["description"] += " Mis à jour."

    report = import_directory([write_json(tmp_path, "services.json", rows)])

    assert report.services.kept == 1
    assert report.services.updated == 3
    assert report.kept == ["services dora--places-avip"]
    avip = Service.objects.get(source_id="dora--places-avip")
    assert avip.name == "Places AVIP (3 places libres)"
    assert not avip.description.endswith("Mis à jour.")


@pytest.mark.parametrize(
    ("changes", "field", "reason_part"),
    [
        (
            {"thematiques": ["famille--garde-denfants", "famille--garde-de-chats"]},
            "thematiques",
            "thématique inconnue « famille--garde-de-chats »",
        ),
        ({"description": "crèche " * 2858}, "description", "10000 caractères au plus"),
        ({"nom": None}, "nom", "champ obligatoire absent"),
        ({"date_maj": "2025-13-45"}, "date_maj", "date invalide"),
        ({"courriel": "creche-at-lucioles"}, "courriel", "courriel invalide"),
        ({"frais": "cher"}, "frais", "code inconnu « cher »"),
        ({"publics": ["tous-publics", "femmes"]}, "publics", "`tous-publics` ne peut pas"),
        (
            {"structure_id": "dora--inconnue"},
            "structure_id",
            "structure « dora--inconnue » (source « dora ») absente",
        ),
    ],
)
def test_bad_rows_are_rejected_and_the_others_applied(
    tmp_path: Path, changes: dict[str, Any], field: str, reason_part: str
) -> None:
    good = service_row(id="dora--bonne-ligne")
    bad = service_row(**changes)
    path = write_json(tmp_path, "services.json", [good, bad])

    report = import_directory([STRUCTURES, path])

    assert report.rejected_rows == 1
    [(line, rejected_field, reason)] = reasons(report)
    assert (line, rejected_field) == (2, field)
    assert reason_part in reason
    assert str(report.rejected[0]).startswith(f"{path}:2 {field} : ")
    assert list(Service.objects.values_list("source_id", flat=True)) == ["dora--bonne-ligne"]


def test_every_fault_of_a_rejected_row_is_reported_at_once(tmp_path: Path) -> None:
    bad = service_row(
        latitude=40.4168,
        longitude=-3.7038,
        code_insee="83999",
        structure_id="dora--inconnue",
        frais="cher",
    )
    path = write_json(tmp_path, "services.json", [service_row(id="dora--bonne-ligne"), bad])

    report = import_directory([STRUCTURES, path])

    assert report.rejected_rows == 1
    assert [(line, field) for line, field, _reason in reasons(report)] == [
        (2, "frais"),
        (2, "code_insee"),
        (2, "structure_id"),
    ]
    # Once the schema is satisfied, our own rules are reported with the commune.
    report = import_directory(
        [STRUCTURES, write_json(tmp_path, "s.json", [{**bad, "frais": None}])]
    )
    assert [field for _line, field, _reason in reasons(report)] == [
        "latitude",
        "code_insee",
        "structure_id",
    ]
    assert list(Service.objects.values_list("source_id", flat=True)) == ["dora--bonne-ligne"]


def test_a_description_of_20000_characters_is_rejected_by_the_schema(tmp_path: Path) -> None:
    path = write_json(tmp_path, "s.json", [service_row(description="x" * 20_000)])

    report = import_directory([STRUCTURES, path])

    assert reasons(report) == [
        (1, "description", "trop long : 10000 caractères au plus (il en a 20000)")
    ]
    assert not Service.objects.exists()


def test_an_invalid_siret_is_rejected(tmp_path: Path) -> None:
    rows = json.loads(STRUCTURES.read_text())["items"]
    rows[1]["siret"] = "77568501900018"  # wrong Luhn key
    path = write_json(tmp_path, "structures.json", rows)

    report = import_directory([path])

    assert reasons(report) == [
        (2, "siret", "numéro SIRET invalide « 77568501900018 » (clé de contrôle)")
    ]
    assert Structure.objects.count() == 2


def test_a_service_of_a_rejected_structure_is_rejected_but_one_in_the_directory_is_not(
    tmp_path: Path,
) -> None:
    import_directory([STRUCTURES])
    rows = json.loads(STRUCTURES.read_text())["items"]
    new_structure = dict(rows[0], id="dora--nouvelle", siret="12345678901234")  # bad SIRET
    services = [
        service_row(id="dora--rattache-nouvelle", structure_id="dora--nouvelle"),
        service_row(id="dora--rattache-existante"),  # Les Lucioles, already imported
    ]

    report = import_directory([write_json(tmp_path, "all.json", [new_structure, *services])])

    assert [(r.line, r.field) for r in report.rejected] == [(1, "siret"), (2, "structure_id")]
    assert report.rejected[1].reason == (
        f"structure « dora--nouvelle » rejetée (voir {tmp_path / 'all.json'}:1)"
    )
    assert list(Service.objects.values_list("source_id", flat=True)) == ["dora--rattache-existante"]


def test_a_duplicate_id_is_rejected(tmp_path: Path) -> None:
    path = write_json(tmp_path, "s.json", [service_row(), service_row(nom="Autre nom")])

    report = import_directory([STRUCTURES, path])

    assert reasons(report) == [
        (2, "id", f"identifiant « dora--places-avip » en double (déjà en {path}:1)")
    ]
    assert Service.objects.get().name == "Places en crèche AVIP"


def test_a_paris_arrondissement_is_its_commune(tmp_path: Path) -> None:
    row = service_row(code_insee="75111", latitude=48.859, longitude=2.38)

    report = import_directory([STRUCTURES, write_json(tmp_path, "s.json", [row])])

    assert report.rejected == []
    service = Service.objects.get()
    assert (service.commune_id, service.department_id) == ("75056", "75")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vide.json", b"", "vide.json : fichier vide."),
        ("blancs.csv", b"  \n\n", "blancs.csv : fichier vide."),
        ("liste.json", b"[]", "ne contient aucune structure ni aucun service"),
        (
            "casse.json",
            b'[{"source": "dora", "id": "x",}]',
            "casse.json : JSON mal formé, ligne 1, colonne 31",
        ),
        ("objet.json", b'{"data": []}', "une liste de structures ou de services"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "format non reconnu"),
        ("latin1.csv", "source;id;nom\ndora;1;Crèche".encode("latin-1"), "format non reconnu"),
    ],
)
def test_an_unreadable_file_writes_nothing(name: str, content: bytes, message: str) -> None:
    report = import_directory([STRUCTURES, (name, content)])

    assert not report.written
    assert any(message in error for error in report.file_errors), report.file_errors
    assert report.lines()[-1] == "Import annulé : rien n'a été modifié dans l'annuaire."
    assert not Structure.objects.exists()


def test_a_csv_without_a_required_column_writes_nothing() -> None:
    report = import_directory([STRUCTURES, DATA / "structures_missing_column.csv"])

    assert report.file_errors == [
        f"{DATA / 'structures_missing_column.csv'} : ni JSON ni CSV de structures "
        "data·inclusion : colonne(s) obligatoire(s) absente(s) : nom (ligne 1)."
    ]
    assert not Structure.objects.exists()


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    report = import_directory([tmp_path / "absent.json"])

    assert report.file_errors == [f"{tmp_path / 'absent.json'} : fichier introuvable."]


def test_an_interrupted_import_leaves_the_directory_as_it_was(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import_directory([STRUCTURES, SERVICES])
    before = snapshot()
    structures = json.loads(STRUCTURES.read_text())["items"]
    structures[0]["nom"] = "CCAS de la ville de Toulon"
    services = json.loads(SERVICES.read_text())
    services.append(service_row(id="dora--nouveau-service"))
    real_upsert = importer._upsert

    def failing_upsert(kind: importer.Kind) -> tuple[int, int]:
        if kind == importer.Kind.SERVICES:
            raise RuntimeError("coupure")
        return real_upsert(kind)

    monkeypatch.setattr(importer, "_upsert", failing_upsert)

    with pytest.raises(RuntimeError, match="coupure"):
        import_directory(
            [write_json(tmp_path, "st.json", structures), write_json(tmp_path, "se.json", services)]
        )

    assert snapshot() == before


def test_command_prints_the_report_and_exits_1_on_rejected_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # (An unknown INSEE code, the fault this test used, is now a warning: the row is
    # imported without it.)
    bad = write_json(tmp_path, "s.json", [service_row(frais="cher")])

    with pytest.raises(CommandError) as exc:
        call_command("directory", "import", str(STRUCTURES), str(bad))

    assert exc.value.returncode == 1
    out = capsys.readouterr().out
    assert "structures : 3 créé(s), 0 modifié(s), 0 inchangé(s), 0 conservé(s)" in out
    assert f"{bad}:1 frais : code inconnu « cher »" in out


def test_command_exits_2_when_nothing_could_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "casse.json"
    broken.write_text("{")

    with pytest.raises(CommandError) as exc:
        call_command("directory", "import", str(broken))

    assert exc.value.returncode == 2
    assert "JSON mal formé" in capsys.readouterr().out


def test_command_succeeds_when_everything_is_applied(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("directory", "import", str(STRUCTURES), str(SERVICES))

    assert "services : 4 créé(s)" in capsys.readouterr().out


def test_csv_rejections_give_the_line_number_in_the_file(tmp_path: Path) -> None:
    lines = SERVICES_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 2: the garage; lines 3-4: the emergency childcare (a two-line description).
    bad_garage = lines[1].replace("mobilite--entretenir-reparer-son-vehicule", "mobilite--voler")
    bad = tmp_path / "services.csv"
    bad.write_text(
        lines[0]
        + bad_garage
        + "".join(lines[2:])
        + lines[1]
        .replace("dora--garage-solidaire", "dora--garage-2")
        .replace(";83069;", ";99999;"),
        encoding="utf-8",
    )

    report = import_directory([STRUCTURES, bad])

    # Line 5's unknown INSEE code is a warning: the row is imported without it.
    assert reasons(report) == [(2, "thematiques", "thématique inconnue « mobilite--voler »")]
    assert [(w.line, w.field, w.reason) for w in report.warnings] == [
        (
            5,
            "code_insee",
            "code INSEE inconnu « 99999 » ; valeur ignorée, ligne importée sans elle",
        )
    ]
    assert sorted(Service.objects.values_list("source_id", flat=True)) == [
        "dora--garage-2",
        "dora--garde-urgence",
    ]


def test_a_rerun_skips_the_rows_it_stored_without_checking_them_again(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES])
    stored = dict(Service.objects.values_list("source_id", "content_hash"))
    assert all(len(digest) == 32 for digest in stored.values())
    # The stored fingerprint is what decides: a row whose fingerprint matches is not read
    # again, so a row that the checks would now refuse, stored under the same fingerprint,
    # proves the skip (an import never stores such a row itself).
    rows = json.loads(SERVICES.read_text())
    rows[0]["frais"] = "cher"
    changed = write_json(tmp_path, "services.json", rows)
    Service.objects.filter(source_id=rows[0]["id"]).update(
        content_hash=importer.content_hash(importer.Kind.SERVICES, rows[0])
    )

    report = import_directory([STRUCTURES, changed])

    assert report.rejected == []
    assert (report.structures.unchanged, report.services.unchanged) == (3, 4)
    assert (report.services.created, report.services.updated) == (0, 0)


def test_a_rerun_still_refuses_a_duplicate_of_an_unchanged_row(tmp_path: Path) -> None:
    path = write_json(tmp_path, "s.json", [service_row()])
    import_directory([STRUCTURES, path])

    twice = write_json(tmp_path, "twice.json", [service_row(), service_row()])
    report = import_directory([twice])

    assert reasons(report) == [
        (2, "id", f"identifiant « dora--places-avip » en double (déjà en {twice}:1)")
    ]
    assert report.services.unchanged == 1


def test_a_locally_edited_row_is_kept_even_from_the_same_file() -> None:
    import_directory([STRUCTURES, SERVICES])
    Service.objects.filter(source_id="dora--places-avip").update(
        name="Places AVIP (3 places libres)", edited_locally_at=timezone.now()
    )

    report = import_directory([STRUCTURES, SERVICES])

    assert report.kept == ["services dora--places-avip"]
    assert (report.services.kept, report.services.unchanged) == (1, 3)
    assert Service.objects.get(source_id="dora--places-avip").name.endswith("libres)")


def test_an_update_that_keeps_the_words_keeps_the_search_vector(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES])
    rows = json.loads(SERVICES.read_text())
    rows[0]["telephone"] = "0494000001"
    rows[1]["description"] += " Sur rendez-vous au garage solidaire."

    report = import_directory([write_json(tmp_path, "services.json", rows)])

    assert report.services.updated == 2
    with_words = Service.objects.filter(search_vector="garage").values_list("source_id", flat=True)
    assert list(with_words) == [rows[1]["id"]]
    assert Service.objects.filter(source_id=rows[0]["id"], search_vector="permis").exists()
