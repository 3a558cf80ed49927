"""HSDS 3.0 export and import, and the round trips (data·inclusion and HSDS) on every field."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from binome.access.models import AuditEvent, AuditKind
from binome.directory import datainclusion as di
from binome.directory import hsds, importer
from binome.directory.datainclusion import Kind
from binome.directory.exporter import export_datainclusion
from binome.directory.importer import import_directory
from binome.directory.models import Service, Structure
from tests.directory.test_import import SERVICES, SERVICES_CSV, STRUCTURES, snapshot, write_json

pytestmark = pytest.mark.django_db


def complete_structure() -> dict[str, Any]:
    """A structure with every field of the data·inclusion v1 schema filled."""
    return {
        "source": "dora",
        "id": "dora--complete",
        "nom": "Maison de l'insertion du Var",
        "date_maj": "2025-05-20",
        "lien_source": "https://dora.inclusion.beta.gouv.fr/structures/complete",
        "description": "Accueil, orientation et accompagnement vers l'emploi.",
        "siret": "77568501900017",
        "adresse": "4 rue Picot",
        "complement_adresse": "2e étage",
        "code_postal": "83000",
        "commune": "Toulon",
        "code_insee": "83137",
        "latitude": 43.1242,
        "longitude": 5.928,
        "telephone": "+33494000010",
        "courriel": "contact@maison-insertion.example.org",
        "site_web": "https://maison-insertion.example.org/",
        "horaires_accueil": "Mo-Fr 09:00-12:00,14:00-17:00",
        "accessibilite_lieu": "https://acceslibre.beta.gouv.fr/app/83-toulon/a/erp/maison/",
        "reseaux_porteurs": ["france-travail", "mission-locale"],
    }


def complete_service() -> dict[str, Any]:
    """A service with every field of the data·inclusion v1 schema filled."""
    return {
        "source": "dora",
        "id": "dora--complete-permis",
        "structure_id": "dora--complete",
        "nom": "Aide au permis B",
        "date_maj": "2025-06-02",
        "lien_source": "https://dora.inclusion.beta.gouv.fr/services/complete-permis",
        "description": "Financement et préparation du permis de conduire pour l'emploi.",
        "type": "aide-financiere",
        "thematiques": ["mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"],
        "frais": "payant",
        "frais_precisions": "Reste à charge de 10 %",
        "publics": ["demandeurs-emploi", "jeunes"],
        "publics_precisions": "Inscrits à France Travail",
        "conditions_acces": "Avoir un projet professionnel qui demande le permis",
        "adresse": "12 boulevard de Strasbourg",
        "complement_adresse": "Bâtiment A",
        "code_postal": "83000",
        "commune": "Toulon",
        "code_insee": "83137",
        "latitude": 43.1239,
        "longitude": 5.9362,
        "telephone": "+33494000011",
        "courriel": "permis@maison-insertion.example.org",
        "contact_nom_prenom": "Durand Sylvie",
        "modes_accueil": ["a-distance", "en-presentiel"],
        "zone_eligibilite": ["83137", "83"],
        "lien_mobilisation": "https://maison-insertion.example.org/permis",
        "modes_mobilisation": ["envoyer-un-courriel", "telephoner"],
        "mobilisable_par": ["professionnels", "usagers"],
        "mobilisation_precisions": "Envoyer la fiche de liaison",
        "volume_horaire_hebdomadaire": 4.5,
        "nombre_semaines": 12,
        "horaires_accueil": "Tu,Th 09:00-12:00",
    }


def test_the_complete_rows_fill_every_field_of_the_schema() -> None:
    """The round trips below cover every field: none is left empty in these rows."""
    for kind, row in ((Kind.STRUCTURES, complete_structure()), (Kind.SERVICES, complete_service())):
        assert [theirs for theirs, _ours in di.FIELDS[kind] if not row.get(theirs)] == []
        assert di.check_row(kind, row)[1] == []


def _complete_files(tmp_path: Path) -> list[Path]:
    return [
        STRUCTURES,
        SERVICES,
        SERVICES_CSV,
        write_json(tmp_path, "complete_structures.json", [complete_structure()]),
        write_json(tmp_path, "complete_services.json", [complete_service()]),
    ]


def test_datainclusion_round_trip_keeps_every_field(tmp_path: Path) -> None:
    report = import_directory(_complete_files(tmp_path))
    assert report.rejected == [] and report.services.created == 7
    first = snapshot()
    complete = Service.objects.get(source_id="dora--complete-permis")
    assert complete.address_complement == "Bâtiment A" and complete.source_link
    exported = [tmp_path / "structures.json", tmp_path / "services.json"]
    call_command("directory", "export", "--kind", "structures", "-o", str(exported[0]))
    call_command("directory", "export", "--kind", "services", "-o", str(exported[1]))

    Service.objects.all().delete()
    Structure.objects.all().delete()
    report = import_directory(exported)

    assert (report.structures.created, report.services.created) == (4, 7)
    assert snapshot() == first


def test_hsds_export_follows_the_specification(tmp_path: Path) -> None:
    import_directory(_complete_files(tmp_path))

    document = hsds.export_hsds()

    assert document["hsds_version"] == "3.0"
    assert len(document["organizations"]) == 4 and len(document["services"]) == 7
    for table in ("organizations", "services", "locations", "taxonomies", "taxonomy_terms"):
        for item in document[table]:
            uuid.UUID(item["id"])  # HSDS identifiers are UUIDs
    org_ids = {org["id"] for org in document["organizations"]}
    assert {service["organization_id"] for service in document["services"]} <= org_ids
    service = next(s for s in document["services"] if s["name"] == "Aide au permis B")
    assert service["status"] == "active"
    assert service["url"] == "https://dora.inclusion.beta.gouv.fr/services/complete-permis"
    assert service["fees_description"] == "Reste à charge de 10 %"
    assert service["assured_date"] == "2025-06-02"
    assert service["phones"][0]["number"] == "+33494000011"
    assert service["contacts"][0]["name"] == "Durand Sylvie"
    assert [area["name"] for area in service["service_areas"]] == ["83137", "83"]
    # The thématiques are taxonomy terms of the data·inclusion thématiques taxonomy,
    # whose parent is their catégorie.
    terms = {term["id"]: term for term in document["taxonomy_terms"]}
    taxonomies = {taxonomy["id"]: taxonomy for taxonomy in document["taxonomies"]}
    coded = [
        terms[attribute["taxonomy_term_id"]]
        for attribute in service["attributes"]
        if attribute["link_type"] == "thematiques"
    ]
    assert sorted(term["code"] for term in coded) == [
        "mobilite--financer-ma-mobilite",
        "mobilite--preparer-un-permis",
    ]
    permis = next(term for term in coded if term["code"] == "mobilite--preparer-un-permis")
    assert taxonomies[permis["taxonomy_id"]]["name"] == "data·inclusion — thématiques"
    assert terms[permis["parent_id"]]["code"] == "mobilite"
    assert permis["name"] == "Préparer un permis"
    # Its own place: a location linked by a service_at_location, with its address.
    link = next(s for s in document["service_at_locations"] if s["service_id"] == service["id"])
    place = next(loc for loc in document["locations"] if loc["id"] == link["location_id"])
    assert place["location_type"] == "physical"
    assert (place["latitude"], place["longitude"]) == (43.1239, 5.9362)
    assert place["addresses"][0]["address_1"] == "12 boulevard de Strasbourg"
    assert place["addresses"][0]["country"] == "FR"
    assert place["external_identifier"] == "83137"
    org = next(o for o in document["organizations"] if o["id"] == service["organization_id"])
    assert org["name"] == "Maison de l'insertion du Var"
    assert org["organization_identifiers"][0]["identifier"] == "77568501900017"
    # Absent values are left out rather than null (HSDS fields are typed).
    assert ": null" not in json.dumps(document)
    scooters = next(
        s for s in document["services"] if s["name"] == "Location solidaire de scooters"
    )
    assert "latitude" not in scooters and "url" not in scooters
    # Same data, same identifiers: an export is stable.
    assert hsds.export_hsds() == document


def test_hsds_round_trip_import_export_import_gives_identical_data(tmp_path: Path) -> None:
    import_directory(_complete_files(tmp_path))
    first = snapshot()
    datainclusion = (export_datainclusion("structures"), export_datainclusion("services"))
    out = tmp_path / "annuaire.hsds.json"
    call_command("directory", "export", "--format", "hsds", "-o", str(out))

    # The export over the same data changes nothing…
    report = import_directory([out])
    assert report.rejected == [] and report.file_errors == []
    assert (report.structures.unchanged, report.services.unchanged) == (4, 7)

    # …and into an empty directory, it gives the same rows, every field.
    Service.objects.all().delete()
    Structure.objects.all().delete()
    report = import_directory([out])
    assert (report.structures.created, report.services.created) == (4, 7)
    assert snapshot() == first
    assert (export_datainclusion("structures"), export_datainclusion("services")) == datainclusion
    assert json.loads(out.read_text()) == hsds.export_hsds()


def test_hsds_rows_are_checked_like_any_other(tmp_path: Path) -> None:
    import_directory(_complete_files(tmp_path))
    document = hsds.export_hsds()
    service = next(s for s in document["services"] if s["name"] == "Aide au permis B")
    service["email"] = "pas-un-courriel"
    document["services"].append({"id": "x", "organization_id": "inconnue", "name": "Orphelin"})
    path = write_json(tmp_path, "partenaire.json", document)

    report = import_directory([path])

    where = f"{path} (services)"
    index = document["services"].index(service) + 1
    assert [(r.file, r.line, r.field, r.reason) for r in report.rejected] == [
        (where, index, "courriel", "courriel invalide « pas-un-courriel »"),
        (
            where,
            len(document["services"]),
            "ligne",
            "ligne illisible (organisation « inconnue » absente du fichier)",
        ),
    ]


def test_every_import_leaves_an_audit_row(tmp_path: Path) -> None:
    import_directory([STRUCTURES, SERVICES])
    call_command("directory", "import", str(STRUCTURES))
    refused = tmp_path / "vide.json"
    refused.write_text("")
    import_directory([refused])

    events = list(AuditEvent.objects.filter(kind=AuditKind.DIRECTORY_IMPORT).order_by("id"))

    assert len(events) == 3
    first, again, empty = events
    assert first.actor is None and first.actor_label == "ligne de commande"
    assert first.details["fichiers"] == [str(STRUCTURES), str(SERVICES)]
    assert first.details["structures"]["created"] == 3
    assert first.details["services"]["created"] == len(json.loads(SERVICES.read_text()))
    assert first.details["lignes_rejetees"] == 0
    assert again.details["structures"] == {"created": 0, "updated": 0, "unchanged": 3, "kept": 0}
    assert "structures 0 créée(s), 0 modifiée(s), 3 inchangée(s)" in again.what
    assert empty.details["erreurs"] == [f"{refused} : fichier vide."]
    assert empty.what.startswith("Import refusé")


# --- HSDS 3.0: the official schemas and examples ---------------------------------------

HSDS_30 = Path(__file__).parent / "data" / "hsds-3.0"
# Each table of our document → the official schema of its objects.
HSDS_TABLES = {
    "taxonomies": "taxonomy",
    "taxonomy_terms": "taxonomy_term",
    "organizations": "organization",
    "locations": "location",
    "services": "service",
    "service_at_locations": "service_at_location",
}


def _forbid_unknown_fields(node: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object, as the
    specification's own check of its examples does
    (``--set-additional-properties-false-everywhere``)."""
    if isinstance(node, dict):
        strict = {key: _forbid_unknown_fields(value) for key, value in node.items()}
        if strict.get("type") == "object" or "properties" in strict:
            strict["additionalProperties"] = False
        return strict
    if isinstance(node, list):
        return [_forbid_unknown_fields(value) for value in node]
    return node


def hsds_30_errors(document: dict[str, Any]) -> list[str]:
    """Every error of the document's objects against the official HSDS 3.0 schemas."""
    import jsonschema_rs

    base = "https://hsds.invalid/3.0/"
    registry = jsonschema_rs.Registry(
        [
            (base + path.name, _forbid_unknown_fields(json.loads(path.read_text())))
            for path in (HSDS_30 / "schema").glob("*.json")
        ]
    )
    errors = []
    for table, schema in HSDS_TABLES.items():
        validator = jsonschema_rs.validator_for(
            {"$ref": f"{base}{schema}.json"}, registry=registry, validate_formats=True
        )
        for index, item in enumerate(document[table]):
            errors.extend(
                f"{table}[{index}]{error.instance_path}: {error.message}"
                for error in validator.iter_errors(item)
            )
    return errors


def test_the_schema_check_refuses_a_field_of_hsds_31() -> None:
    """The check below can fail: a field HSDS 3.0 does not have is refused."""
    document = {table: [] for table in HSDS_TABLES}
    org_id = str(uuid.uuid4())
    document["organizations"] = [
        {"id": org_id, "name": "Org", "description": "Org", "additional_websites": []}
    ]

    assert len(hsds_30_errors(document)) == 1


def test_hsds_export_is_valid_against_the_official_30_schemas(tmp_path: Path) -> None:
    import_directory(_complete_files(tmp_path))
    out = tmp_path / "annuaire.hsds.json"
    call_command("directory", "export", "--format", "hsds", "-o", str(out))
    document = json.loads(out.read_text())

    assert document["hsds_version"] == "3.0"
    assert hsds_30_errors(document) == []
    # What had a 3.1 field goes as an attribute's value, and is read back.
    org = next(o for o in document["organizations"] if o["name"] == "Maison de l'insertion du Var")
    values = {a["link_type"]: a["value"] for a in org["attributes"] if "value" in a}
    assert values["lien_source"] == "https://dora.inclusion.beta.gouv.fr/structures/complete"
    service = next(s for s in document["services"] if s["name"] == "Aide au permis B")
    values = {a["link_type"]: a["value"] for a in service["attributes"] if "value" in a}
    assert values["lien_mobilisation"] == "https://maison-insertion.example.org/permis"


def test_the_open_referral_examples_import(tmp_path: Path) -> None:
    """Open Referral's own examples: an organization with its services and locations
    nested, a service with its organization nested, a service at a location, and pages of
    the HSDS API. Their places are in the United States (coordinates 100, 101; postal code
    "ABC 1234"): the rows are imported without them, with warnings."""
    examples = HSDS_30 / "examples"
    for name in ("organization_full", "service_full", "service_at_location_full"):
        Service.objects.all().delete()
        Structure.objects.all().delete()

        report = import_directory([examples / f"{name}.json"])

        assert report.file_errors == [] and report.rejected == [], name
        assert (report.structures.created, report.services.created) == (1, 1), name
        service = Service.objects.select_related("structure").get()
        assert service.source == "hsds"
        assert service.source_id == "ac148810-d857-441c-9679-408f346de14b"
        assert service.name == "Community Counselling"
        assert service.structure.name == "Example Organization Inc."
        assert service.structure.source_id == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
        assert str(service.updated_on) == "2005-01-01"  # its assured_date
        assert str(service.structure.updated_on) == "2005-01-01"  # its newest service's
        assert service.fees_details.startswith("Non-NHS patients are expected to pay")
        assert service.description.startswith("Counselling Services provided")
        assert (service.latitude, service.postal_code) == (None, "")
        assert service.address == "1-30 Main Street"
        assert service.eligibility_zone == []  # its area is a sentence, not a code
        assert [(w.field, w.line) for w in report.warnings] == [
            ("code_postal", 1),
            ("latitude", 1),
        ], name

    # A page of /services, its organization nested in its service.
    report = import_directory([examples / "service_list.json"])
    assert report.rejected == [] and (report.services.unchanged, report.services.created) == (
        0,
        0,
    )
    # A page of /organizations: the organization alone has no date to be imported with.
    report = import_directory([examples / "organization_list.json"])
    assert reasons_of(report) == [(1, "date_maj", "champ obligatoire absent")]


def reasons_of(report: Any) -> list[tuple[int, str, str]]:
    return [(r.line, r.field, r.reason) for r in report.rejected]


@pytest.mark.parametrize(
    ("table", "field", "value", "message"),
    [
        # The two shapes that raised an uncaught TypeError, found by fuzzing (see below): a
        # number or a text where a list of objects is expected ("not iterable"), and a
        # list or an object where an identifier is expected ("unhashable type").
        (
            "organizations",
            "attributes",
            1,
            "« organizations[0].attributes » doit être une liste d'objets.",
        ),
        (
            "organizations",
            "organization_identifiers",
            "SIRET",
            "« organizations[0].organization_identifiers » doit être une liste d'objets.",
        ),
        (
            "services",
            "service_areas",
            83,
            "« services[0].service_areas » doit être une liste d'objets.",
        ),
        ("services", "phones", ["+33494000011"], "« services[0].phones[0] » doit être un objet."),
        ("locations", "id", [None], "« locations[0].id » doit être un identifiant (texte)."),
        (
            "service_at_locations",
            "service_id",
            [1],
            "« service_at_locations[0].service_id » doit être un identifiant (texte).",
        ),
        (
            "locations",
            "organization_id",
            {"id": 1},
            "« locations[0].organization_id » doit être un identifiant (texte).",
        ),
        ("services", "attributes", [None], "« services[0].attributes[0] » doit être un objet."),
    ],
)
def test_malformed_hsds_is_refused_cleanly(
    tmp_path: Path, table: str, field: str, value: Any, message: str
) -> None:
    import_directory(_complete_files(tmp_path))
    document = hsds.export_hsds()
    Service.objects.all().delete()
    Structure.objects.all().delete()
    document[table][0][field] = value
    path = write_json(tmp_path, "partenaire.json", document)

    report = import_directory([path])

    [error] = report.file_errors
    assert error.startswith(f"{path} : HSDS illisible : ")
    assert error.endswith(message)
    assert (Structure.objects.count(), Service.objects.count()) == (0, 0)


def test_odd_hsds_shapes_never_crash(tmp_path: Path) -> None:
    """Every field of the first object of every table set to odd values (lists where
    objects are expected, nulls, numbers, texts…): the file is refused with a French
    message or read into rows the checks report on, never an uncaught exception."""
    import_directory(_complete_files(tmp_path))
    document = hsds.export_hsds()
    odd: list[Any] = [None, 1, "x", [], {}, [1], ["x"], [None], [[]], {"a": 1}, True, 1.5]
    tried = 0
    for table in ("organizations", "services", "locations", "service_at_locations"):
        for field in sorted({key for item in document[table][:3] for key in item}):
            for value in odd:
                changed = json.loads(json.dumps(document))
                changed[table][0][field] = value
                try:
                    _name, rows = importer.read_rows(("odd.json", json.dumps(changed).encode()))
                except importer.FileError as exc:
                    assert "HSDS illisible" in str(exc)
                    continue
                for row in rows:
                    if isinstance(row.data, dict):
                        di.check_record(row.kind, row.data)
                tried += 1
    assert tried > 100
