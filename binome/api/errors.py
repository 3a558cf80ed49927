"""Every error of the API as ``{"erreur": {"code", "message", "details"}}``, in French.

``code`` is stable (clients test it), ``message`` is for people, ``details`` names the
parameter at fault: ``[{"parametre": "rayon", "message": "…"}]``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from binome.core.views import RETRY_AFTER, database_unreachable

logger = logging.getLogger("binome.api")

JSON_TYPE = "application/json; charset=utf-8"

# Status → (code, message) of the errors that have nothing more to say.
GENERIC: dict[int, tuple[str, str]] = {
    400: ("requete_invalide", "La requête est invalide."),
    401: ("non_authentifie", "Authentification requise."),
    403: ("interdit", "Accès refusé."),
    404: ("introuvable", "Cette adresse n'existe pas dans l'API."),
    405: ("methode_non_autorisee", "Méthode HTTP non autorisée : l'API ne sert que GET."),
    422: ("requete_invalide", "La requête est invalide."),
    429: ("trop_de_requetes", "Trop de requêtes."),
    503: (
        "service_indisponible",
        "Service momentanément indisponible : la base de données ne répond pas. "
        "Réessayez dans quelques instants.",
    ),
    500: (
        "erreur_interne",
        "Erreur interne du serveur : l'équipe de Binôme en est informée. Réessayez plus tard.",
    ),
}


@dataclass(frozen=True)
class Detail:
    parameter: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"parametre": self.parameter, "message": self.message}


@dataclass
class ApiError(Exception):
    """An error the API answers with: raise it from an endpoint."""

    status: int
    code: str
    message: str
    details: list[Detail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> HttpResponse:
        return error_response(
            self.status, self.code, self.message, self.details, headers=self.headers
        )


def crash_response(path: str, exception: BaseException) -> HttpResponse:
    """The answer to an exception nothing else answered: 503 while the database is out of
    reach (the client may try again), else 500; logged either way."""
    if database_unreachable(exception):
        logger.error("Base de données injoignable : %s", path, exc_info=exception)
        return error_response(503, headers={"Retry-After": str(RETRY_AFTER)})
    logger.exception("Erreur interne de l'API sur %s", path, exc_info=exception)
    return error_response(500)


def error_body(code: str, message: str, details: list[Detail] | None = None) -> dict[str, Any]:
    return {
        "erreur": {
            "code": code,
            "message": message,
            "details": [d.as_json() for d in details or []],
        }
    }


def error_response(
    status: int,
    code: str | None = None,
    message: str | None = None,
    details: list[Detail] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    generic_code, generic_message = GENERIC.get(status, GENERIC[400 if status < 500 else 500])
    body = error_body(code or generic_code, message or generic_message, details)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=JSON_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Pydantic's error types (ninja's validation of path and query values) in French.
_PYDANTIC_FR = {
    "missing": "paramètre obligatoire absent",
    "int_parsing": "doit être un nombre entier",
    "int_type": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "string_type": "doit être un texte",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
}


def french_validation_details(errors: list[dict[str, Any]]) -> list[Detail]:
    """Ninja's validation errors (pydantic's, located ``("query", "page")``) in French."""
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in {"query", "path"}]
        template = _PYDANTIC_FR.get(error.get("type", ""), "valeur invalide")
        try:
            message = template.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError):
            message = "valeur invalide"
        details.append(Detail(".".join(location) or "requête", message))
    return details
