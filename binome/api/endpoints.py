"""The partners' JSON API (django-ninja), mounted at ``/api/v1/``.

Read-only, what the directory publishes (published status only). ``/services`` goes
through the one search of the directory, ``search_services``, with the UI's own form: the
same parameters give the same services in the same order as the search page. Errors are
JSON with a French message (``binome.api.errors``); each request is authenticated and
counted in one SQL statement (``binome.api.auth``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Path, Schema
from ninja.errors import HttpError, ValidationError
from pydantic import Field

from binome.api import schemas
from binome.api.auth import TokenAuth
from binome.api.errors import (
    JSON_TYPE,
    ApiError,
    Detail,
    crash_response,
    error_response,
    french_validation_details,
)
from binome.api.forms import MAX_PAGE, ApiServiceSearchForm, StructureFilterForm, validated
from binome.api.output import service_json, structure_json
from binome.directory import referentials as ref
from binome.directory.models import PublicationStatus, Service, Structure
from binome.directory.search import DEFAULT_RADIUS_KM, MAX_PER_PAGE, RADII_KM, search_services
from binome.directory.search import clean_text as clean_words

DESCRIPTION = """API de l'annuaire des solutions du territoire (base de ressources sociales)
de Binôme : les structures et les services publiés, au format data·inclusion v1.

**Authentification** : chaque requête porte l'en-tête `Authorization: Bearer <jeton>`.
Les administrateurs d'une organisation créent et révoquent ses jetons depuis la page de
l'organisation dans Binôme (« Accès à l'API ») ; le jeton n'est affiché qu'une fois.

**Limite** : un nombre de requêtes par minute et par jeton (réponse 429 au-delà, avec
l'en-tête `Retry-After`).

**Erreurs** : toujours en JSON, `{"erreur": {"code": "…", "message": "…", "details":
[{"parametre": "…", "message": "…"}]}}`, message en français.
"""

MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a greater id is unknown, not a crash
ERROR_DESCRIPTIONS = {
    400: "Paramètre invalide (valeur refusée, paramètre inconnu ou répété) : "
    "`details` nomme chaque paramètre en cause.",
    401: "Jeton absent, inconnu ou révoqué (codes jeton_absent, jeton_invalide, "
    "jeton_revoque, organisation_inactive).",
    404: "Objet inconnu ou non publié dans l'annuaire.",
    422: "Valeur d'un paramètre de chemin invalide.",
    429: "Trop de requêtes pour ce jeton : réessayer après le nombre de secondes de "
    "l'en-tête Retry-After.",
}


def _parameter_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's JSON schema without pydantic's "or null": absent is not null."""
    spec = {k: v for k, v in spec.items() if k not in {"title", "default"}}
    variants = [v for v in spec.pop("anyOf", []) if v.get("type") != "null"]
    if len(variants) == 1:
        spec = {**variants[0], **spec}
    elif variants:
        spec["anyOf"] = variants
    return spec


def _responses(
    ok: type, description: str, *errors: int, query: type[Schema] | None = None
) -> dict[str, Any]:
    """Ninja's ``response`` and the French ``openapi_extra`` of one operation.

    The query parameters are documented from ``query`` but not parsed by ninja: the
    endpoint validates them with its Django form (the UI's), so that every bad value gets
    the same French 400, whatever its type.
    """
    response: dict[int, Any] = {200: ok}
    extra: dict[int, Any] = {200: {"description": description}}
    for status in errors:
        response[status] = schemas.ErrorOut
        extra[status] = {"description": ERROR_DESCRIPTIONS[status]}
    openapi: dict[str, Any] = {"responses": extra}
    if query is not None:
        properties = query.model_json_schema()["properties"]
        openapi["parameters"] = [
            {
                "in": "query",
                "name": name,
                "required": False,
                "description": spec.pop("description"),
                "schema": _parameter_schema(spec),
            }
            for name, spec in properties.items()
        ]
    return {"response": response, "openapi_extra": openapi}


api = NinjaAPI(
    title="API de l'annuaire Binôme",
    version="1.0.0",
    description=DESCRIPTION,
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url=None,  # the page "Documentation de l'API" (binome.api.views) replaces it
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return exc.response()


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = french_validation_details(exc.errors)
    message = "Paramètre invalide : " + ", ".join(d.parameter for d in details) + "."
    return error_response(422, "parametre_invalide", message, details)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code)


@api.exception_handler(Exception)
def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    return crash_response(request.path, exc)


def _json(data: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False), content_type=JSON_TYPE
    )


def _page(
    request: HttpRequest, *, total: int, page: int, per_page: int, results: list[Any]
) -> dict[str, Any]:
    pages = max(1, -(-total // per_page))

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return {
        "total": total,
        "page": page,
        "taille": per_page,
        "nombre_pages": pages,
        "page_suivante": link(page + 1) if page < pages else None,
        "page_precedente": link(min(page - 1, pages)) if page > 1 else None,
        "resultats": results,
    }


def _codes(choices: list[tuple[str, str]]) -> list[str]:
    return [code for code, _label in choices]


def _enum(values: Iterable[str]) -> dict[str, Any]:
    """The accepted values of a parameter, for the OpenAPI document."""
    return {"enum": list(values)}


class ServiceQuery(Schema):
    """The query parameters of /services (documentation: the UI's form validates them)."""

    q: str | None = Field(
        None,
        description="Mots-clés, comme dans la recherche de Binôme : texte libre, sans accents "
        "ni majuscules obligatoires, fautes de frappe tolérées (200 caractères retenus).",
        examples=["permis de conduire"],
    )
    commune: str | None = Field(
        None,
        description="Code INSEE de la commune autour de laquelle chercher (5 caractères).",
        examples=["83137"],
    )
    rayon: str | None = Field(
        None,
        description=f"Distance autour de la commune, en km : {', '.join(map(str, RADII_KM))} "
        f"(par défaut {DEFAULT_RADIUS_KM}). Les services à distance sont gardés quelle que "
        "soit la distance.",
        json_schema_extra=_enum(str(km) for km in RADII_KM),
    )
    categorie: str | None = Field(
        None,
        description="Catégorie de thématiques data·inclusion (toutes ses thématiques).",
        json_schema_extra=_enum(_codes(ref.CATEGORIES)),
    )
    thematique: str | None = Field(
        None,
        description="Thématique data·inclusion précise (l'emporte sur une catégorie différente).",
        json_schema_extra=_enum(_codes(ref.THEMATIQUES)),
    )
    public: str | None = Field(
        None,
        description="Public visé (les services « tous publics » sont gardés).",
        json_schema_extra=_enum(_codes(ref.PUBLICS)),
    )
    frais: str | None = Field(
        None, description="Frais.", json_schema_extra=_enum(_codes(ref.FRAIS))
    )
    type: str | None = Field(
        None, description="Type de service.", json_schema_extra=_enum(_codes(ref.TYPES))
    )
    accueil: str | None = Field(
        None,
        description="Mode d'accueil.",
        json_schema_extra=_enum(_codes(ref.MODES_ACCUEIL)),
    )
    page: int | None = Field(None, ge=1, le=MAX_PAGE, description="Numéro de page, à partir de 1.")
    taille: int | None = Field(
        None,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Résultats par page (20 par défaut, au plus {MAX_PER_PAGE}).",
    )


@api.get(
    "/services",
    url_name="service_list",
    summary="Rechercher des services",
    description="Les services publiés qui répondent aux filtres, les plus pertinents d'abord "
    "(mêmes résultats, dans le même ordre, que la recherche de l'annuaire dans Binôme). "
    "Une page au-delà de la dernière est vide. Tout paramètre inconnu ou répété est refusé.",
    tags=["Services"],
    **_responses(schemas.ServicePage, "Une page de services.", 400, 401, 429, query=ServiceQuery),
)
def service_list(request: HttpRequest) -> HttpResponse:
    form = validated(ApiServiceSearchForm, request.GET)
    page, per_page = form.pagination()
    result = search_services(**form.search_arguments(), page=page, per_page=per_page)
    today = timezone.localdate()
    return _json(
        _page(
            request,
            total=result.total,
            page=page,
            per_page=per_page,
            results=[service_json(s, today=today) for s in result.services],
        )
    )


@api.get(
    "/services/{int:id}",
    url_name="service_detail",
    summary="Un service",
    description="Un service publié, par son identifiant dans Binôme.",
    tags=["Services"],
    **_responses(schemas.ServiceOut, "Le service.", 401, 404, 429),
)
def service_detail(
    request: HttpRequest,
    id: int = Path(..., description="Identifiant du service dans Binôme."),
) -> HttpResponse:
    service = (
        Service.objects.select_related("structure")
        .filter(pk=id, status=PublicationStatus.PUBLISHED)
        .first()
        if id <= MAX_ID
        else None
    )
    if service is None:
        raise ApiError(
            404,
            "introuvable",
            f"Aucun service publié n'a l'identifiant {id}.",
            [Detail("id", "service inconnu ou non publié")],
        )
    return _json(service_json(service, today=timezone.localdate()))


class StructureQuery(Schema):
    departement: str | None = Field(
        None, description="Code du département (83, 2A, 971…).", examples=["83"]
    )
    commune: str | None = Field(
        None, description="Code INSEE de la commune de la structure.", examples=["83137"]
    )
    q: str | None = Field(
        None, description="Mots du nom de la structure (sans accents ni majuscules obligatoires)."
    )
    page: int | None = Field(None, ge=1, le=MAX_PAGE, description="Numéro de page, à partir de 1.")
    taille: int | None = Field(
        None,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Résultats par page (20 par défaut, au plus {MAX_PER_PAGE}).",
    )


@api.get(
    "/structures",
    url_name="structure_list",
    summary="Lister des structures",
    description="Les structures publiées, par nom, filtrées par département, commune ou mots "
    "du nom. Tout paramètre inconnu ou répété est refusé.",
    tags=["Structures"],
    **_responses(
        schemas.StructurePage, "Une page de structures.", 400, 401, 429, query=StructureQuery
    ),
)
def structure_list(request: HttpRequest) -> HttpResponse:
    form = validated(StructureFilterForm, request.GET)
    page, per_page = form.pagination()
    data = form.cleaned_data
    qs = Structure.objects.filter(status=PublicationStatus.PUBLISHED)
    if data.get("departement"):
        qs = qs.filter(department=data["departement"])
    if data.get("commune"):
        qs = qs.filter(commune=data["commune"])
    for word in clean_words(data.get("q") or "").split()[:10]:
        qs = qs.filter(Q(name__unaccent__icontains=word))
    offset = (page - 1) * per_page
    structures = list(qs.order_by("name", "id")[offset : offset + per_page])
    # A partial page tells the total; a full or empty one needs the count.
    partial = structures and len(structures) < per_page
    total = offset + len(structures) if partial else qs.count()
    return _json(
        _page(
            request,
            total=total,
            page=page,
            per_page=per_page,
            results=[structure_json(s) for s in structures],
        )
    )


@api.get(
    "/structures/{int:id}",
    url_name="structure_detail",
    summary="Une structure",
    description="Une structure publiée, par son identifiant dans Binôme.",
    tags=["Structures"],
    **_responses(schemas.StructureOut, "La structure.", 401, 404, 429),
)
def structure_detail(
    request: HttpRequest,
    id: int = Path(..., description="Identifiant de la structure dans Binôme."),
) -> HttpResponse:
    structure = (
        Structure.objects.filter(pk=id, status=PublicationStatus.PUBLISHED).first()
        if id <= MAX_ID
        else None
    )
    if structure is None:
        raise ApiError(
            404,
            "introuvable",
            f"Aucune structure publiée n'a l'identifiant {id}.",
            [Detail("id", "structure inconnue ou non publiée")],
        )
    return _json(structure_json(structure))
