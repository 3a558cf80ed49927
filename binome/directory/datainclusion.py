"""The data·inclusion v1 format: our field names ↔ the schema's French ones, and row checks.

One row of a file (a dict named like the schema) is checked by ``check_row``: first by the
package's pydantic models (``v1.Structure``, ``v1.Service``), whose errors become French
messages naming the field, then by the rules the schema leaves out but our database needs
(valid SIRET key, coordinates in France, lengths of our columns). ``to_record`` turns the
validated row into our column values; ``to_datainclusion`` does the reverse for export.

Conventions of the mapping, so that import → export → import gives identical data:
an absent value is ``None`` in the schema and ``""`` (text) or ``[]`` (list) in our tables,
and the lists the schema declares as sets (thématiques, publics…) are stored sorted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Any

from data_inclusion.schema import v1
from django.db import models
from pydantic import BaseModel, ValidationError
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError
from stdnum.fr import siret as stdnum_siret

from binome.directory.models import Service, Structure


class Kind(StrEnum):
    STRUCTURES = "structures"
    SERVICES = "services"


# (schema field, our model field). ``code_insee`` maps to the commune foreign key (the
# département follows from the commune); ``structure_id`` to the structure's source id.
PLACE_FIELDS: list[tuple[str, str]] = [
    ("adresse", "address"),
    ("complement_adresse", "address_complement"),
    ("code_postal", "postal_code"),
    ("commune", "commune_name"),
    ("code_insee", "commune_id"),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
]
STRUCTURE_FIELDS: list[tuple[str, str]] = [
    ("source", "source"),
    ("id", "source_id"),
    ("nom", "name"),
    ("date_maj", "updated_on"),
    ("lien_source", "source_link"),
    ("description", "description"),
    ("siret", "siret"),
    *PLACE_FIELDS,
    ("telephone", "phone"),
    ("courriel", "email"),
    ("site_web", "website"),
    ("horaires_accueil", "opening_hours"),
    ("accessibilite_lieu", "accessibility_link"),
    ("reseaux_porteurs", "networks"),
]
SERVICE_FIELDS: list[tuple[str, str]] = [
    ("source", "source"),
    ("id", "source_id"),
    ("structure_id", "structure_source_id"),
    ("nom", "name"),
    ("date_maj", "updated_on"),
    ("lien_source", "source_link"),
    ("description", "description"),
    ("type", "type"),
    ("thematiques", "thematiques"),
    ("frais", "fees"),
    ("frais_precisions", "fees_details"),
    ("publics", "publics"),
    ("publics_precisions", "publics_details"),
    ("conditions_acces", "access_conditions"),
    *PLACE_FIELDS,
    ("telephone", "phone"),
    ("courriel", "email"),
    ("contact_nom_prenom", "contact_name"),
    ("modes_accueil", "reception_modes"),
    ("zone_eligibilite", "eligibility_zone"),
    ("lien_mobilisation", "mobilisation_link"),
    ("modes_mobilisation", "mobilisation_modes"),
    ("mobilisable_par", "mobilisable_by"),
    ("mobilisation_precisions", "mobilisation_details"),
    ("volume_horaire_hebdomadaire", "weekly_hours"),
    ("nombre_semaines", "number_of_weeks"),
    ("horaires_accueil", "opening_hours"),
]
FIELDS: dict[Kind, list[tuple[str, str]]] = {
    Kind.STRUCTURES: STRUCTURE_FIELDS,
    Kind.SERVICES: SERVICE_FIELDS,
}
SCHEMA_MODELS: dict[Kind, type[BaseModel]] = {
    Kind.STRUCTURES: v1.Structure,
    Kind.SERVICES: v1.Service,
}
DJANGO_MODELS: dict[Kind, type[models.Model]] = {
    Kind.STRUCTURES: Structure,
    Kind.SERVICES: Service,
}
# Fields a file must have (a CSV without one of these columns is refused whole).
REQUIRED: dict[Kind, tuple[str, ...]] = {
    kind: tuple(name for name, info in model.model_fields.items() if info.is_required())
    for kind, model in SCHEMA_MODELS.items()
}
# Schema fields holding a list (a CSV cell separates their values with ",").
LIST_FIELDS = frozenset(
    {
        "thematiques",
        "publics",
        "modes_accueil",
        "zone_eligibilite",
        "modes_mobilisation",
        "mobilisable_par",
        "reseaux_porteurs",
    }
)
# Declared as sets by the schema: stored sorted, so the same data gives the same row.
_SET_FIELDS = LIST_FIELDS - {"zone_eligibilite"}
NUMBER_FIELDS = frozenset({"latitude", "longitude", "volume_horaire_hebdomadaire"})

# French territory, as boxes (south, north, west, east) in WGS84 degrees.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "métropole et Corse": (41.3, 51.2, -5.3, 9.7),
    "Guadeloupe": (15.8, 16.6, -61.9, -60.9),
    "Martinique": (14.3, 14.95, -61.3, -60.8),
    "Guyane": (2.1, 5.8, -54.7, -51.6),
    "La Réunion": (-21.4, -20.8, 55.2, 55.9),
    "Saint-Pierre-et-Miquelon": (46.7, 47.2, -56.5, -56.1),
    "Mayotte": (-13.1, -12.6, 44.95, 45.35),
}

# The schema's (English) pydantic messages, in French. ``{…}`` takes the error's context.
_MESSAGES: dict[str, str] = {
    "missing": "champ obligatoire absent",
    "string_too_long": "trop long : {max_length} caractères au plus (il en a {length})",
    "string_too_short": "trop court : {min_length} caractères au moins",
    "string_pattern_mismatch": "format invalide",
    "string_type": "doit être un texte",
    "too_short": "doit contenir au moins {min_length} valeur(s)",
    "list_type": "doit être une liste",
    "set_type": "doit être une liste",
    "float_parsing": "doit être un nombre",
    "float_type": "doit être un nombre",
    "int_parsing": "doit être un nombre entier",
    "int_type": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "date_from_datetime_parsing": "date invalide (attendue au format AAAA-MM-JJ)",
    "date_parsing": "date invalide (attendue au format AAAA-MM-JJ)",
    "date_type": "date invalide (attendue au format AAAA-MM-JJ)",
    "date_from_datetime_inexact": (
        "date invalide : une date sans heure est attendue (format AAAA-MM-JJ)"
    ),
    "date_future": "la date ne peut pas être dans le futur",
    "date_past": "la date doit être dans le passé",
    "bool_type": "doit valoir vrai ou faux",
    "bool_parsing": "doit valoir vrai ou faux",
    "dict_type": "doit être un objet",
    "finite_number": "doit être un nombre fini",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "greater_than": "doit être supérieur à {gt}",
    "less_than": "doit être inférieur à {lt}",
    "url_parsing": "lien invalide (attendu : une adresse web complète, https://…)",
    "url_scheme": "lien invalide (attendu : une adresse web en http ou https)",
    "url_type": "lien invalide",
    "model_type": "la ligne doit être un objet",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # the schema's name ("thematiques", "code_insee"…)
    reason: str  # in French


def _location(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc else "ligne"


# A zone_eligibilite code: what the schema accepts, said once (its type is a union of five
# kinds of code, each of which gives its own error).
_ZONE_EXPECTED = (
    "attendu : un code de commune (5 caractères), de département (2 ou 3), d'EPCI "
    "(9 chiffres), de pays (99XXX) ou « france »"
)


def french_errors(exc: ValidationError) -> list[FieldError]:
    """The pydantic errors of one row, each as a French message naming the field.

    One message per faulty value: a value of a union type (a ``zone_eligibilite`` code)
    gives one error per member of the union, said once here.
    """
    errors: list[FieldError] = []
    said: set[tuple[Any, ...]] = set()
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        field = _location(loc)
        kind = error["type"]
        ctx = error.get("ctx") or {}
        value = error.get("input")
        if field == "zone_eligibilite" and len(loc) >= 2 and isinstance(loc[1], int):
            if (field, loc[1]) in said:
                continue
            said.add((field, loc[1]))
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            reason = f"code inconnu « {shown} » (valeur n° {loc[1] + 1}) ; {_ZONE_EXPECTED}"
        elif kind == "enum":
            reason = f"code inconnu « {value} »"
            if field == "thematiques":
                reason = f"thématique inconnue « {value} »"
        elif kind == "value_error":
            if field == "courriel":
                reason = f"courriel invalide « {value} »"
            else:
                # The schema's own validators already speak French.
                reason = str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
        elif kind == "date_from_datetime_inexact" and not isinstance(value, str):
            reason = _MESSAGES["date_parsing"]  # a number read as a timestamp
        elif kind in _MESSAGES:
            length = len(value) if isinstance(value, str | list) else 0
            reason = _MESSAGES[kind].format(length=length, **ctx)
        else:
            # Never pydantic's English: the value, and what the field expects.
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            reason = f"valeur invalide « {shown} »"
        if (field, reason) in said:
            continue
        said.add((field, reason))
        errors.append(FieldError(field, reason))
    return errors


def _max_lengths(kind: Kind) -> dict[str, int]:
    """Schema field → the max_length of the column it goes to, where there is one."""
    model = DJANGO_MODELS[kind]
    lengths: dict[str, int] = {}
    for schema_name, our_name in FIELDS[kind]:
        if our_name.endswith("_id") and our_name != "source_id":
            continue
        field = model._meta.get_field(our_name)
        max_length = getattr(field, "max_length", None)
        if max_length:
            lengths[schema_name] = max_length
    return lengths


_MAX_LENGTHS = {kind: _max_lengths(kind) for kind in Kind}
# (schema field, our field, max_length), for the checks of a record.
_RECORD_MAX_LENGTHS = {
    kind: [
        (theirs, ours, _MAX_LENGTHS[kind][theirs])
        for theirs, ours in FIELDS[kind]
        if theirs in _MAX_LENGTHS[kind]
    ]
    for kind in Kind
}


def in_france(latitude: float, longitude: float) -> bool:
    """Inside one of the boxes of metropolitan France, Corsica and the overseas départements."""
    return any(
        south <= latitude <= north and west <= longitude <= east
        for south, north, west, east in FRANCE_BOXES.values()
    )


# An ASCII dot-atom local part (RFC 5322 atext), what nearly every address has.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=100_000)
def _email_domain(domain: str) -> str:
    return validate_email(f"x@{domain}")[1].partition("@")[2]


def normalized_email(value: str) -> str:
    """The e-mail as the schema's ``EmailStr`` normalizes it, or PydanticCustomError.

    The schema's check (email-validator) costs most of a row's validation, mostly on the
    domain: the domain's verdict is cached, and the full check kept for unusual addresses.
    """
    local, at, domain = value.rpartition("@")
    if at and len(value) <= 254 and len(local) <= 64 and _DOT_ATOM.fullmatch(local):
        return f"{local}@{_email_domain(domain)}"
    return validate_email(value)[1]


def _validated(
    kind: Kind, row: Mapping[str, Any]
) -> tuple[BaseModel | None, Any, list[FieldError]]:
    """The row validated by the schema's model, its normalized e-mail, or the errors."""
    errors: list[FieldError] = []
    email = row.get("courriel")
    if isinstance(email, str):
        row = {name: value for name, value in row.items() if name != "courriel"}
        try:
            email = normalized_email(email)
        except PydanticCustomError:
            errors.append(FieldError("courriel", f"courriel invalide « {email} »"))
    try:
        validated = SCHEMA_MODELS[kind].model_validate(row)
    except ValidationError as exc:
        return None, email, [*french_errors(exc), *errors]
    if errors:
        return None, email, errors
    return validated, email, []


def check_row(kind: Kind, row: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Validate one row against the schema and our rules: (clean row, []) or (None, errors).

    The clean row keeps the schema's names, with JSON values (dates as ``AAAA-MM-JJ``).
    The commune's existence is checked by the importer (it needs the database).
    """
    validated, email, errors = _validated(kind, row)
    if validated is None:
        return None, errors
    clean = validated.model_dump(mode="json")
    if isinstance(email, str):
        clean["courriel"] = email
    return _our_rules(kind, clean)


def check_record(
    kind: Kind, row: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """``check_row`` then ``to_record``, in one pass: (our column values, []) or (None,
    errors). The importer's path, for hundreds of thousands of rows.

    The fields we store are read from the validated model, the values converted as
    ``model_dump(mode="json")`` then ``to_record`` would convert them (enums to their
    codes, sets to sorted lists, URLs to text, absent values to ``""``, ``[]`` or None),
    without dumping the others; then our rules, on the record.
    """
    validated, email, errors = _validated(kind, row)
    if validated is None:
        return None, errors
    values = validated.__dict__
    record: dict[str, Any] = {}
    for theirs, ours in FIELDS[kind]:
        value = values[theirs]
        if value is None:
            record[ours] = [] if theirs in LIST_FIELDS else _ABSENT.get(theirs, "")
        elif type(value) is str or type(value) is float:
            record[ours] = value
        else:
            record[ours] = _record_value(value)
    if isinstance(email, str):
        record["email"] = email
    errors = _record_rules(kind, record)
    return (None, errors) if errors else (record, [])


# Absent values stored as None rather than "" (lists: []).
_ABSENT: dict[str, None] = dict.fromkeys([*NUMBER_FIELDS, "nombre_semaines", "code_insee"])


def _record_value(value: Any) -> Any:
    """A validated value other than text or a decimal, as our column holds it."""
    # ``_value_``: what ``.value`` returns, without the enum property's cost (a set of
    # codes per row and field adds up over 150,000 services).
    if isinstance(value, Enum):
        return value._value_
    if isinstance(value, set | frozenset):  # declared as sets: stored sorted
        return sorted([item._value_ if isinstance(item, Enum) else item for item in value])
    if isinstance(value, list):
        return [item._value_ if isinstance(item, Enum) else item for item in value]
    if isinstance(value, date | int):
        return value
    return str(value)  # URLs


def _record_rules(kind: Kind, record: dict[str, Any]) -> list[FieldError]:
    """``_our_rules`` on a record (our names); the errors name the schema's fields."""
    errors: list[FieldError] = []
    siret = record.get("siret")
    if siret and not stdnum_siret.is_valid(siret):
        errors.append(FieldError("siret", f"numéro SIRET invalide « {siret} » (clé de contrôle)"))
    latitude, longitude = record["latitude"], record["longitude"]
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        errors.append(FieldError(missing, "latitude et longitude vont ensemble : l'une manque"))
    elif latitude is not None and longitude is not None and not in_france(latitude, longitude):
        errors.append(FieldError("latitude", _outside_france(latitude, longitude)))
    for theirs, ours, max_length in _RECORD_MAX_LENGTHS[kind]:
        value = record[ours]
        if len(value) > max_length:
            errors.append(
                FieldError(theirs, f"trop long : {max_length} caractères au plus ({len(value)})")
            )
    return errors


def _outside_france(latitude: float, longitude: float) -> str:
    return (
        f"coordonnées hors de France ({latitude}, {longitude}) : attendues en "
        "métropole, en Corse ou dans un département d'outre-mer (WGS84)"
    )


def _our_rules(kind: Kind, clean: dict[str, Any]) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """The rules the schema leaves out, on a clean row (schema names, JSON values)."""
    errors: list[FieldError] = []
    for name in _SET_FIELDS:
        if clean.get(name) is not None:
            clean[name] = sorted(clean[name])
    siret = clean.get("siret")
    if siret and not stdnum_siret.is_valid(siret):
        errors.append(FieldError("siret", f"numéro SIRET invalide « {siret} » (clé de contrôle)"))
    latitude, longitude = clean.get("latitude"), clean.get("longitude")
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        errors.append(FieldError(missing, "latitude et longitude vont ensemble : l'une manque"))
    elif latitude is not None and longitude is not None and not in_france(latitude, longitude):
        errors.append(FieldError("latitude", _outside_france(latitude, longitude)))
    for name, max_length in _MAX_LENGTHS[kind].items():
        value = clean.get(name)
        if isinstance(value, str) and len(value) > max_length:
            errors.append(
                FieldError(name, f"trop long : {max_length} caractères au plus ({len(value)})")
            )
    if errors:
        return None, errors
    return clean, []


def _our_value(schema_name: str, value: Any) -> Any:
    if value is None:
        if schema_name in LIST_FIELDS:
            return []
        if schema_name in NUMBER_FIELDS or schema_name in {"nombre_semaines", "code_insee"}:
            return None
        return ""
    if schema_name == "date_maj":
        return date.fromisoformat(value)
    return value


def to_record(kind: Kind, clean: Mapping[str, Any]) -> dict[str, Any]:
    """A clean row (schema names) → our column values (model field names)."""
    return {ours: _our_value(theirs, clean.get(theirs)) for theirs, ours in FIELDS[kind]}


def to_datainclusion(kind: Kind, record: Mapping[str, Any]) -> dict[str, Any]:
    """Our column values (model field names) → a row of the schema, absent values as None."""
    row: dict[str, Any] = {}
    for theirs, ours in FIELDS[kind]:
        value = record.get(ours)
        if value == "" or value == []:
            value = None
        elif isinstance(value, date):
            value = value.isoformat()
        row[theirs] = value
    return row
