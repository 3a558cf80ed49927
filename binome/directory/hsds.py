"""The directory in HSDS 3.0 (Open Referral's Human Services Data Specification), as JSON.

``write_hsds(out)`` exports the published structures and services for the partners'
systems; ``datainclusion_rows(document)`` reads such a document back as data·inclusion v1
rows, which the importer then checks and merges like any other file: HSDS import →
export → import gives identical data (tested).

The document is one JSON object whose keys are HSDS tables, each a list of HSDS objects
with the specification's field names and their nested lists (phones, addresses,
attributes…)::

    {"taxonomies": [...], "taxonomy_terms": [...], "organizations": [...],
     "locations": [...], "services": [...], "service_at_locations": [...]}

Mapping (data·inclusion v1 → HSDS 3.0):

- structure → ``organization`` (``name``, ``description``, ``email``, ``website``;
  ``siret`` as an ``organization_identifiers`` entry of type "SIRET"; ``telephone`` as a
  ``phones`` entry) and one ``location`` of type ``physical`` (its ``addresses``,
  ``latitude``/``longitude``, the INSEE code as ``external_identifier``,
  ``accessibilite_lieu`` as ``accessibility``, ``horaires_accueil`` — OpenStreetMap
  syntax — as a ``schedules`` entry's description).
- service → ``service`` (``name``, ``description``, ``url`` = ``lien_source``, ``email``,
  ``status`` ``active``, ``fees_description``, ``eligibility_description`` =
  ``publics_precisions``, ``application_process`` = ``mobilisation_precisions``,
  ``assured_date`` = ``date_maj``, ``phones``, ``contacts``, ``schedules``,
  ``service_areas`` = ``zone_eligibilite``); a service with its own address gets its own
  ``location`` and a ``service_at_location``.
- Coded values (thématiques, publics, frais, type, modes d'accueil, modes de mobilisation,
  mobilisable par, réseaux porteurs) → ``attributes`` pointing at ``taxonomy_terms``; each
  data·inclusion referential is a ``taxonomy`` (the thématiques are hierarchical: a
  sub-thématique's ``parent_id`` is its catégorie).
- What HSDS 3.0 has no field for (the data·inclusion ``source`` and ``id``, a structure's
  ``date_maj`` and ``lien_source``, ``conditions_acces``, ``lien_mobilisation``,
  ``volume_horaire_hebdomadaire``, ``nombre_semaines``) → ``attributes`` with a
  ``value``, on the terms of the taxonomy "data·inclusion — champs". (HSDS 3.1's
  ``additional_websites``, ``additional_urls`` and ``attribute.label`` are not used: the
  document is valid against the 3.0 schemas with unknown fields forbidden, which
  ``tests/directory/test_hsds.py`` checks against the official schemas.)

Identifiers are UUIDs (version 5) derived from the data·inclusion source and id, so the
same row always has the same HSDS identifier, export after export.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import IO, Any

from binome.directory import referentials as ref
from binome.directory.datainclusion import Kind

HSDS_VERSION = "3.0"
NAMESPACE = uuid.UUID("7f1c2e0a-5b1d-4c59-9f0e-3a2b8d6c4e10")
MOBILISATION_LABEL = "Mobiliser le service"
SOURCE_LINK_LABEL = "Fiche à la source"
OSM_NOTE = "Horaires au format OpenStreetMap opening_hours"
SIRET = "SIRET"
INSEE = "code INSEE de la commune"
PLACE = (
    "adresse",
    "complement_adresse",
    "code_postal",
    "commune",
    "code_insee",
    "latitude",
    "longitude",
)


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Taxonomy:
    key: str  # the data·inclusion field it codes ("champs": the value-bearing fields)
    name: str
    description: str
    choices: list[tuple[str, str]]

    @property
    def id(self) -> str:
        return _id("taxonomy", self.key)

    def term_id(self, code: str) -> str:
        return _id("taxonomy_term", self.key, code)


# Fields HSDS has no place for, carried as attribute values.
VALUE_FIELDS = {
    Kind.STRUCTURES: ("source", "id", "date_maj", "lien_source"),
    Kind.SERVICES: (
        "source",
        "id",
        "conditions_acces",
        "lien_mobilisation",
        "volume_horaire_hebdomadaire",
        "nombre_semaines",
    ),
}
_VALUE_LABELS = {
    "source": "Source data·inclusion",
    "id": "Identifiant data·inclusion",
    "date_maj": "Date de mise à jour",
    "lien_source": "Fiche à la source",
    "conditions_acces": "Conditions d'accès",
    "lien_mobilisation": "Mobiliser le service",
    "volume_horaire_hebdomadaire": "Volume horaire hebdomadaire",
    "nombre_semaines": "Nombre de semaines",
}

TAXONOMIES = [
    Taxonomy(
        "thematiques",
        "data·inclusion — thématiques",
        "Besoins auxquels répond un service : catégories et thématiques du schéma "
        "data·inclusion v1.",
        ref.CATEGORIES + ref.THEMATIQUES,
    ),
    Taxonomy("publics", "data·inclusion — publics", "Publics visés par un service.", ref.PUBLICS),
    Taxonomy("frais", "data·inclusion — frais", "Frais à la charge du bénéficiaire.", ref.FRAIS),
    Taxonomy("type", "data·inclusion — types de service", "Nature du service.", ref.TYPES),
    Taxonomy(
        "modes_accueil",
        "data·inclusion — modes d'accueil",
        "Sur place ou à distance.",
        ref.MODES_ACCUEIL,
    ),
    Taxonomy(
        "modes_mobilisation",
        "data·inclusion — modes de mobilisation",
        "Comment mobiliser le service.",
        ref.MODES_MOBILISATION,
    ),
    Taxonomy(
        "mobilisable_par",
        "data·inclusion — mobilisable par",
        "Qui peut mobiliser le service.",
        ref.MOBILISABLE_PAR,
    ),
    Taxonomy(
        "reseaux_porteurs",
        "data·inclusion — réseaux porteurs",
        "Réseaux auxquels appartient une structure.",
        ref.RESEAUX_PORTEURS,
    ),
    Taxonomy(
        "champs",
        "data·inclusion — champs",
        "Champs du schéma data·inclusion v1 sans équivalent HSDS, portés par la valeur "
        "de l'attribut.",
        list(_VALUE_LABELS.items()),
    ),
]
_TAXONOMY = {taxonomy.key: taxonomy for taxonomy in TAXONOMIES}
# Coded fields of each kind (one code or a list of codes).
CODED_FIELDS = {
    Kind.STRUCTURES: ("reseaux_porteurs",),
    Kind.SERVICES: (
        "thematiques",
        "publics",
        "frais",
        "type",
        "modes_accueil",
        "modes_mobilisation",
        "mobilisable_par",
    ),
}
_LIST_CODED = {"thematiques", "publics", "modes_accueil", "modes_mobilisation"}
_LIST_CODED |= {"mobilisable_par", "reseaux_porteurs"}


@cache
def _terms() -> dict[str, tuple[str, str]]:
    """Every term id of our taxonomies → (taxonomy key, code)."""
    return {
        taxonomy.term_id(code): (taxonomy.key, code)
        for taxonomy in TAXONOMIES
        for code, _label in taxonomy.choices
    }


# --- export -----------------------------------------------------------------------------


def taxonomies() -> list[dict[str, Any]]:
    return [
        {
            "id": taxonomy.id,
            "name": taxonomy.name,
            "description": taxonomy.description,
            "version": "1",
        }
        for taxonomy in TAXONOMIES
    ]


def taxonomy_terms() -> list[dict[str, Any]]:
    terms = []
    categories = dict(ref.CATEGORIES)
    for taxonomy in TAXONOMIES:
        for code, label in taxonomy.choices:
            term: dict[str, Any] = {
                "id": taxonomy.term_id(code),
                "code": code,
                "name": label,
                "description": label,
                "taxonomy": taxonomy.name,
                "taxonomy_id": taxonomy.id,
                "language": "fr",
            }
            category = code.split("--", 1)[0]
            if taxonomy.key == "thematiques" and "--" in code and category in categories:
                term["parent_id"] = taxonomy.term_id(category)
            terms.append(term)
    return terms


def _attributes(kind: Kind, row: dict[str, Any], link_id: str) -> list[dict[str, Any]]:
    entity = "organization" if kind == Kind.STRUCTURES else "service"
    attributes = []
    for name in VALUE_FIELDS[kind]:
        value = row.get(name)
        if value is None:
            continue
        term_id = _TAXONOMY["champs"].term_id(name)
        attributes.append(
            {
                "id": _id("attribute", link_id, term_id),
                "link_id": link_id,
                "link_type": name,
                "link_entity": entity,
                "taxonomy_term_id": term_id,
                "value": str(value),
            }
        )
    for name in CODED_FIELDS[kind]:
        value = row.get(name)
        codes = value if isinstance(value, list) else [value] if value else []
        for code in codes:
            term_id = _TAXONOMY[name].term_id(code)
            attributes.append(
                {
                    "id": _id("attribute", link_id, term_id),
                    "link_id": link_id,
                    "link_type": name,
                    "link_entity": entity,
                    "taxonomy_term_id": term_id,
                }
            )
    return attributes


def organization_id(source: str, source_id: str) -> str:
    return _id("organization", source, source_id)


def service_id(source: str, source_id: str) -> str:
    return _id("service", source, source_id)


def _phones(owner_field: str, owner_id: str, number: str | None) -> list[dict[str, Any]]:
    if not number:
        return []
    return [{"id": _id("phone", owner_id), owner_field: owner_id, "number": number}]


def _schedules(owner_field: str, owner_id: str, hours: str | None) -> list[dict[str, Any]]:
    if not hours:
        return []
    return [
        {"id": _id("schedule", owner_id), owner_field: owner_id, "description": hours}
        | {"notes": OSM_NOTE}
    ]


def organization(row: dict[str, Any]) -> dict[str, Any]:
    """One data·inclusion structure as an HSDS organization."""
    org_id = organization_id(row["source"], row["id"])
    result: dict[str, Any] = {
        "id": org_id,
        "name": row["nom"],
        "description": row.get("description") or "",
        "email": row.get("courriel"),
        "website": row.get("site_web"),
        "organization_identifiers": [],
        "phones": _phones("organization_id", org_id, row.get("telephone")),
        "attributes": _attributes(Kind.STRUCTURES, row, org_id),
    }
    if row.get("siret"):
        result["organization_identifiers"].append(
            {
                "id": _id("organization_identifier", org_id),
                "organization_id": org_id,
                "identifier_type": SIRET,
                "identifier": row["siret"],
            }
        )
    return result


def location(kind: Kind, row: dict[str, Any]) -> dict[str, Any]:
    """The place of a structure (always) or of a service (when it has its own)."""
    if kind == Kind.STRUCTURES:
        org_id = organization_id(row["source"], row["id"])
        location_id = _id("location", "organization", org_id)
    else:
        org_id = organization_id(row["source"], row["structure_id"])
        location_id = _id("location", "service", service_id(row["source"], row["id"]))
    result: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": org_id,
        "name": row["nom"],
        "latitude": row.get("latitude"),
        "longitude": row.get("longitude"),
        "external_identifier": row.get("code_insee"),
        "external_identifier_type": INSEE if row.get("code_insee") else None,
        "addresses": [],
        "accessibility": [],
        "schedules": [],
    }
    if any(row.get(name) for name in ("adresse", "complement_adresse", "code_postal", "commune")):
        result["addresses"].append(
            {
                "id": _id("address", location_id),
                "location_id": location_id,
                "address_1": row.get("adresse") or "",
                "address_2": row.get("complement_adresse"),
                "city": row.get("commune") or "",
                "state_province": "",
                "postal_code": row.get("code_postal") or "",
                "country": "FR",
                "address_type": "physical",
            }
        )
    if kind == Kind.STRUCTURES:
        if row.get("accessibilite_lieu"):
            result["accessibility"].append(
                {
                    "id": _id("accessibility", location_id),
                    "location_id": location_id,
                    "url": row["accessibilite_lieu"],
                }
            )
        result["schedules"] = _schedules("location_id", location_id, row.get("horaires_accueil"))
    return result


def has_own_place(row: dict[str, Any]) -> bool:
    return any(row.get(name) not in (None, "") for name in PLACE)


def service(row: dict[str, Any]) -> dict[str, Any]:
    """One data·inclusion service as an HSDS service."""
    sid = service_id(row["source"], row["id"])
    result: dict[str, Any] = {
        "id": sid,
        "organization_id": organization_id(row["source"], row["structure_id"]),
        "name": row["nom"],
        "description": row.get("description"),
        "url": row.get("lien_source"),
        "email": row.get("courriel"),
        "status": "active",
        "fees_description": row.get("frais_precisions"),
        "eligibility_description": row.get("publics_precisions"),
        "application_process": row.get("mobilisation_precisions"),
        "assured_date": row.get("date_maj"),
        "phones": _phones("service_id", sid, row.get("telephone")),
        "contacts": [],
        "schedules": _schedules("service_id", sid, row.get("horaires_accueil")),
        "service_areas": [
            {"id": _id("service_area", sid, str(number)), "service_id": sid, "name": zone}
            for number, zone in enumerate(row.get("zone_eligibilite") or [])
        ],
        "attributes": _attributes(Kind.SERVICES, row, sid),
    }
    if row.get("contact_nom_prenom"):
        result["contacts"].append(
            {"id": _id("contact", sid), "service_id": sid, "name": row["contact_nom_prenom"]}
        )
    return result


def service_at_location(row: dict[str, Any]) -> dict[str, Any]:
    sid = service_id(row["source"], row["id"])
    location_id = _id("location", "service", sid)
    return {"id": _id("service_at_location", sid), "service_id": sid, "location_id": location_id}


def _compact(value: Any) -> Any:
    """Absent values left out (HSDS fields are typed: a null is not a string)."""
    if isinstance(value, dict):
        return {key: _compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _sections(
    rows: Callable[[Kind], Iterator[dict[str, Any]]],
) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    yield "taxonomies", iter(taxonomies())
    yield "taxonomy_terms", iter(taxonomy_terms())
    yield "organizations", (organization(row) for row in rows(Kind.STRUCTURES))

    def locations() -> Iterator[dict[str, Any]]:
        for row in rows(Kind.STRUCTURES):
            yield location(Kind.STRUCTURES, row)
        for row in rows(Kind.SERVICES):
            if has_own_place(row):
                yield location(Kind.SERVICES, row)

    yield "locations", locations()
    yield "services", (service(row) for row in rows(Kind.SERVICES))
    yield (
        "service_at_locations",
        (service_at_location(row) for row in rows(Kind.SERVICES) if has_own_place(row)),
    )


def _published_rows(kind: Kind) -> Iterator[dict[str, Any]]:
    from binome.directory.exporter import iter_datainclusion

    return iter_datainclusion(kind)


def export_hsds() -> dict[str, Any]:
    """The whole HSDS document (tests, small directories: ``write_hsds`` streams)."""
    return {"hsds_version": HSDS_VERSION} | {
        name: [_compact(item) for item in objects] for name, objects in _sections(_published_rows)
    }


def write_hsds(out: IO[str]) -> dict[str, int]:
    """Write the HSDS document to ``out`` object by object; returns the count per table."""
    counts: dict[str, int] = {}
    out.write(f'{{"hsds_version": "{HSDS_VERSION}"')
    for name, objects in _sections(_published_rows):
        out.write(f',\n"{name}": [')
        count = 0
        for item in objects:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(_compact(item), ensure_ascii=False))
            count += 1
        out.write("\n]" if count else "]")
        counts[name] = count
    out.write("}\n")
    return counts


# --- import -----------------------------------------------------------------------------

# The data·inclusion source of the rows of a document written by others (without our
# "Source data·inclusion" attribute); their id is their HSDS identifier.
FOREIGN_SOURCE = "hsds"
_TABLES = ("organizations", "services", "locations", "service_at_locations")
# What an object of each table holds nested, in the shapes of the HSDS 3.0 API
# (``/organizations/{id}``, ``/services/{id}``, ``/service_at_locations/{id}``): the field,
# the table of the objects in it, whether it is a list, and the field of the nested object
# (``child``) or of its parent (``parent``) that the nesting stands for.
_NESTED: dict[str, list[tuple[str, str, bool, str, str]]] = {
    "organizations": [
        ("services", "services", True, "child", "organization_id"),
        ("locations", "locations", True, "child", "organization_id"),
    ],
    "services": [
        ("organization", "organizations", False, "parent", "organization_id"),
        ("service_at_locations", "service_at_locations", True, "child", "service_id"),
    ],
    "service_at_locations": [
        ("service", "services", False, "parent", "service_id"),
        ("location", "locations", False, "parent", "location_id"),
    ],
    "locations": [],
}


# An area's name that is a code of data·inclusion's ``zone_eligibilite`` (commune,
# département, EPCI, country, "france"), as our export writes them. Others write a
# sentence ("all residents of MyCity"): not a zone we can read, left out.
_ZONE_CODE = re.compile(r"\w{2,3}|\w{5}|\d{9}|france")


class HsdsError(Exception):
    """The document cannot be read as HSDS (the message is for the user, in French)."""


def _object_table(item: Any) -> str | None:
    """The table of one HSDS object standing alone (an API response), or None."""
    if not isinstance(item, dict) or "nom" in item:
        return None  # data·inclusion names its fields in French
    if "location_type" in item:
        return "locations"
    if "service" in item and "location" in item:
        return "service_at_locations"
    if "name" not in item or "id" not in item:
        return None
    if any(name in item for name in ("status", "organization", "service_at_locations")):
        return "services"
    return "organizations"


def is_hsds(data: Any) -> bool:
    """An HSDS document: its tables (as our export writes it), a page of the HSDS API
    (``contents``), or one organization, service or service at a location."""
    if not isinstance(data, dict) or "nom" in data or "source" in data:
        return False
    if isinstance(data.get("organizations"), list) or isinstance(data.get("services"), list):
        return True
    if isinstance(data.get("contents"), list):
        return True
    return _object_table(data) is not None


def _list(document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise HsdsError(f"« {name} » doit être une liste.")
    return value


def _objects(item: dict[str, Any], name: str, where: str) -> list[dict[str, Any]]:
    """The objects of a nested list (absent or null: none), or HsdsError."""
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise HsdsError(f"« {where}.{name} » doit être une liste d'objets.")
    for index, element in enumerate(value):
        if not isinstance(element, dict):
            raise HsdsError(f"« {where}.{name}[{index}] » doit être un objet.")
    return value


def _ref(item: dict[str, Any], name: str, where: str) -> str | None:
    """An identifier (``id``, ``organization_id``…): a text, or absent."""
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HsdsError(f"« {where}.{name} » doit être un identifiant (texte).")
    return value


def _tables(document: dict[str, Any]) -> dict[str, list[Any]]:
    """The HSDS tables of a document, the objects nested in others taken out into their
    table (each once), with the link the nesting stood for written on the child."""
    tables: dict[str, list[Any]] = {name: [] for name in _TABLES}
    seen: set[tuple[str, str]] = set()

    def add(table: str, item: dict[str, Any], where: str, nested: bool) -> str | None:
        item_id = _ref(item, "id", where)
        if nested and item_id is not None and (table, item_id) in seen:
            return item_id  # met before (an organization nested in each of its services)
        if item_id is not None:
            seen.add((table, item_id))
        copy = dict(item)
        tables[table].append(copy)
        for field, child_table, many, side, link in _NESTED[table]:
            if many:
                children = _objects(item, field, where)
            else:
                child = item.get(field)
                if child is None:
                    continue
                if not isinstance(child, dict):
                    raise HsdsError(f"« {where}.{field} » doit être un objet.")
                children = [child]
            for index, child in enumerate(children):
                child_where = f"{where}.{field}[{index}]" if many else f"{where}.{field}"
                if side == "child":
                    if item_id is not None and child.get(link) is None:
                        child = {**child, link: item_id}
                    add(child_table, child, child_where, True)
                else:
                    child_id = add(child_table, child, child_where, True)
                    if copy.get(link) is None:
                        copy[link] = child_id
        return item_id

    single = _object_table(document)
    if single is not None:  # one object: its own nested lists may be named like tables
        top: list[tuple[str, int, Any]] = [(single, 0, document)]
    elif isinstance(document.get("contents"), list) and not any(
        name in document for name in _TABLES
    ):
        top = []
        for index, item in enumerate(document["contents"]):
            table = _object_table(item)
            if table is None:
                raise HsdsError(
                    f"« contents[{index}] » n'est ni une organisation, ni un service, ni un "
                    "service à un lieu."
                )
            top.append((table, index, item))
    else:
        top = [
            (name, index, item)
            for name in _TABLES
            for index, item in enumerate(_list(document, name))
        ]
    for table, index, item in top:
        if isinstance(item, dict):
            add(table, item, f"{table}[{index}]", False)
        else:
            tables[table].append(item)  # reported as its row
    return tables


def _first(item: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    objects = _objects(item, name, where)
    return objects[0] if objects else {}


def _url(item: dict[str, Any], name: str, label: str, where: str) -> str | None:
    """The url of the entry with ``label`` of an HSDS 3.1 list of urls (older exports)."""
    for entry in _objects(item, name, where):
        if entry.get("label") == label:
            return entry.get("url")
    return None


def _read_attributes(kind: Kind, item: dict[str, Any], row: dict[str, Any], where: str) -> None:
    """Fill the row's coded and value-bearing fields from the item's attributes."""
    terms = _terms()
    for attribute in _objects(item, "attributes", where):
        key_code = terms.get(str(attribute.get("taxonomy_term_id")))
        if key_code is None:
            continue  # a term of another taxonomy: not ours to read
        key, code = key_code
        if key == "champs":
            if code in VALUE_FIELDS[kind]:
                row[code] = attribute.get("value")
        elif key in CODED_FIELDS[kind]:
            if key in _LIST_CODED:
                row.setdefault(key, []).append(code)
            else:
                row[key] = code


def _place(location_item: dict[str, Any], row: dict[str, Any], where: str) -> None:
    address = _first(location_item, "addresses", where)
    row["adresse"] = address.get("address_1") or None
    row["complement_adresse"] = address.get("address_2") or None
    row["code_postal"] = address.get("postal_code") or None
    row["commune"] = address.get("city") or None
    # Another identifier of the place (a UPRN, what3words…) is not an INSEE code.
    if location_item.get("external_identifier_type") in (None, "", INSEE):
        row["code_insee"] = location_item.get("external_identifier") or None
    row["latitude"] = location_item.get("latitude")
    row["longitude"] = location_item.get("longitude")


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if value not in (None, "", [])}


def _day(value: Any) -> Any:
    """The date of an HSDS ``date-time`` (``last_modified``)."""
    return value[:10] if isinstance(value, str) and len(value) > 10 else value


def datainclusion_rows(document: dict[str, Any]) -> dict[Kind, list[Any]]:
    """The data·inclusion v1 rows of an HSDS document, structures then services.

    The document is our export, or one written by others: its tables, a page of the HSDS
    API, one organization or service with what it nests. The rows of a document written
    by others have the source ``hsds`` and their HSDS identifier as id; a service's
    ``date_maj`` is its ``assured_date``, else the day of its ``last_modified``; a
    structure without one takes the newest of its services'.

    A row that cannot be built (not an object, an unknown organisation) is a string
    saying why, so that the importer reports it at its place in the file. A document whose
    shape is not HSDS's (a list where an object is expected, an identifier that is not a
    text…) raises ``HsdsError`` naming the place.
    """
    tables = _tables(document)
    locations: dict[str, dict[str, Any]] = {}
    location_where: dict[str, str] = {}  # id → its place in the document, for the messages
    for index, item in enumerate(tables["locations"]):
        if isinstance(item, dict) and (location_id := _ref(item, "id", f"locations[{index}]")):
            locations.setdefault(location_id, item)
            location_where.setdefault(location_id, f"locations[{index}]")
    service_locations: dict[str, str] = {}
    for index, link in enumerate(tables["service_at_locations"]):
        if not isinstance(link, dict):
            continue
        where = f"service_at_locations[{index}]"
        service, place = _ref(link, "service_id", where), _ref(link, "location_id", where)
        if service and place:
            service_locations.setdefault(service, place)
    used = set(service_locations.values())
    organization_locations: dict[str, dict[str, Any]] = {}
    for location_id, item in locations.items():
        org_id = _ref(item, "organization_id", location_where[location_id])
        if location_id not in used and org_id:
            organization_locations.setdefault(org_id, item)

    structure_rows: list[Any] = []
    structure_ids: dict[str, tuple[Any, Any]] = {}
    for index, item in enumerate(tables["organizations"]):
        if not isinstance(item, dict):
            structure_rows.append("l'organisation doit être un objet")
            continue
        where = f"organizations[{index}]"
        org_id = _ref(item, "id", where)
        row: dict[str, Any] = {
            "nom": item.get("name"),
            "description": item.get("description"),
            "courriel": item.get("email"),
            "site_web": item.get("website"),
            "lien_source": _url(item, "additional_websites", SOURCE_LINK_LABEL, where),
            "telephone": _first(item, "phones", where).get("number"),
        }
        for identifier in _objects(item, "organization_identifiers", where):
            if identifier.get("identifier_type") == SIRET:
                row["siret"] = identifier.get("identifier")
        _read_attributes(Kind.STRUCTURES, item, row, where)
        row.setdefault("source", FOREIGN_SOURCE)
        row.setdefault("id", org_id)
        org_place = organization_locations.get(str(org_id), {})
        at = location_where.get(str(org_place.get("id")), "locations")
        _place(org_place, row, at)
        row["accessibilite_lieu"] = _first(org_place, "accessibility", at).get("url")
        row["horaires_accueil"] = _first(org_place, "schedules", at).get("description")
        structure_ids[str(org_id)] = (row.get("source"), row.get("id"))
        row["_hsds_id"] = str(org_id)
        structure_rows.append(row)

    service_rows: list[Any] = []
    # HSDS organization id → the newest date_maj of its services.
    newest: dict[str, str] = {}
    for index, item in enumerate(tables["services"]):
        if not isinstance(item, dict):
            service_rows.append("le service doit être un objet")
            continue
        where = f"services[{index}]"
        organization_ref = _ref(item, "organization_id", where)
        org = structure_ids.get(str(organization_ref))
        if org is None:
            service_rows.append(f"organisation « {organization_ref} » absente du fichier")
            continue
        row = {
            "structure_id": org[1],
            "nom": item.get("name"),
            "description": item.get("description"),
            "lien_source": item.get("url"),
            "lien_mobilisation": _url(item, "additional_urls", MOBILISATION_LABEL, where),
            "courriel": item.get("email"),
            "frais_precisions": item.get("fees_description"),
            "publics_precisions": item.get("eligibility_description"),
            "mobilisation_precisions": item.get("application_process"),
            "date_maj": item.get("assured_date") or _day(item.get("last_modified")),
            "telephone": _first(item, "phones", where).get("number"),
            "contact_nom_prenom": _first(item, "contacts", where).get("name"),
            "horaires_accueil": _first(item, "schedules", where).get("description"),
            "zone_eligibilite": [
                area["name"]
                for area in _objects(item, "service_areas", where)
                if isinstance(area.get("name"), str) and _ZONE_CODE.fullmatch(area["name"])
            ],
        }
        _read_attributes(Kind.SERVICES, item, row, where)
        row.setdefault("source", org[0])
        row.setdefault("id", _ref(item, "id", where))
        place_id = service_locations.get(str(item.get("id")))
        if place_id is not None:
            _place(locations.get(place_id, {}), row, location_where.get(place_id, "locations"))
        if isinstance(row["date_maj"], str):
            key = str(organization_ref)
            newest[key] = max(newest.get(key, ""), row["date_maj"])
        service_rows.append(_clean(row))
    for position, row in enumerate(structure_rows):
        if isinstance(row, dict):
            if not row.get("date_maj"):
                row["date_maj"] = newest.get(row.pop("_hsds_id"))
            row.pop("_hsds_id", None)
            structure_rows[position] = _clean(row)
    return {Kind.STRUCTURES: structure_rows, Kind.SERVICES: service_rows}
