"""Search of the directory: one function, ``search_services``, for the UI, the API and the
suggestions made from a person's diagnostic.

What is searched (every filter is optional; filters of different kinds are combined):

- **need**: thématiques, catégories (a catégorie selects all its sub-thématiques) and
  diagnostic themes (``data/diagnostic.yaml``: each theme's ``resources:`` lists the
  catégories whose services answer it); a service matches if it has any of them;
- **publics** (a service "tous publics" matches any), **frais**, **type**, **modes
  d'accueil**;
- **place**: a commune and a radius; a service matches when its coordinates are within
  the radius of the commune's centre, or when it is offered remotely (``a-distance``),
  whatever the distance; its eligibility zone must be empty (no restriction) or contain
  the commune's INSEE code, its département's code or ``france``;
- **words**: French full text, accent-insensitive and stemmed (``french_unaccent``,
  migration 0002) on name, structure name, thématique labels and description, or a
  trigram word similarity on the accent-free name, for typos ("permi de conduir").

Only published services. Two queries: the ranked ids of the page with the total, then
the page's services with their structure and commune.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import Combinable
from django.utils import timezone

from binome.core.text import normalize
from binome.directory import referentials as ref
from binome.directory.models import PublicationStatus, Service
from binome.territories.models import Commune

DIAGNOSTIC_FILE = Path(__file__).parent / "data" / "diagnostic.yaml"
RADII_KM = (5, 10, 20, 30, 50, 100)
DEFAULT_RADIUS_KM = 30
MAX_RADIUS_KM = 200
MAX_TEXT = 200  # characters of the words kept: beyond, a query is no longer a search
MAX_PER_PAGE = 100
REMOTE = "a-distance"
ALL_PUBLICS = "tous-publics"

# Weights of the ranking (see ``search_services``).
WEIGHT_TEXT = 2.0
WEIGHT_TRIGRAM = 0.5
WEIGHT_COMPLETENESS = 0.2
STALE_PENALTY = 0.6
REMOTE_PROXIMITY = 0.3

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def diagnostic_referential() -> dict[str, Any]:
    """The shared diagnostic's referential as written in ``data/diagnostic.yaml``, read once
    per process: the only place that reads the file (``binome.support.referential`` gives
    the diagnostic and the plan their typed view of it)."""
    data = yaml.safe_load(DIAGNOSTIC_FILE.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@cache
def diagnostic_resources() -> dict[str, tuple[str, ...]]:
    """Diagnostic theme code → the thématique catégories of its ``resources:``."""
    themes = diagnostic_referential().get("themes", [])
    return {theme["code"]: tuple(theme.get("resources") or ()) for theme in themes}


def wanted_thematiques(
    thematiques: Iterable[str] = (), categories: Iterable[str] = (), themes: Iterable[str] = ()
) -> tuple[str, ...]:
    """Every thématique code selected by thématiques, catégories and diagnostic themes.

    An unknown code is a programming error (forms and the API validate their input).
    """
    known_categories = {code for code, _label in ref.CATEGORIES}
    known_thematiques = {code for code, _label in ref.THEMATIQUES}
    resources = diagnostic_resources()
    wanted: dict[str, None] = {}
    all_categories = list(categories)
    for theme in themes:
        if theme not in resources:
            raise ValueError(f"Thème de diagnostic inconnu : {theme!r}")
        all_categories.extend(resources[theme])
    for category in all_categories:
        if category not in known_categories:
            raise ValueError(f"Catégorie de thématiques inconnue : {category!r}")
        wanted.update(dict.fromkeys(ref.thematiques_of_category(category)))
    for code in thematiques:
        if code not in known_thematiques:
            raise ValueError(f"Thématique inconnue : {code!r}")
        wanted[code] = None
    return tuple(wanted)


def clean_text(text: str) -> str:
    """What a user typed, made safe for PostgreSQL: no control characters (NUL is refused
    by the driver), unicode normalised, at most ``MAX_TEXT`` characters."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())[:MAX_TEXT]


@dataclass(frozen=True)
class SearchResult:
    """A page of services, ranked, with what the UI shows around it."""

    services: list[Service]  # annotated: distance_km (None without commune), score
    total: int
    page: int
    per_page: int
    commune: Commune | None
    radius_km: int
    text: str
    thematiques: tuple[str, ...]

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def page_obj(self) -> Page:
        """A Django ``Page`` for ``core/_pagination.html``."""
        paginator = Paginator(range(self.total), self.per_page)
        return Page(self.services, self.page, paginator)


def _earth_point(latitude: Any, longitude: Any) -> Func:
    # The IMMUTABLE wrapper of ll_to_earth the GiST index "service_earth_point" is built on.
    return Func(latitude, longitude, function="directory_earth_point", output_field=FloatField())


def search_services(
    *,
    thematiques: Sequence[str] = (),
    categories: Sequence[str] = (),
    themes: Sequence[str] = (),
    publics: Sequence[str] = (),
    fees: Sequence[str] = (),
    types: Sequence[str] = (),
    reception_modes: Sequence[str] = (),
    commune: Commune | None = None,
    radius_km: int = DEFAULT_RADIUS_KM,
    text: str = "",
    page: int = 1,
    per_page: int = 20,
    today: date | None = None,
) -> SearchResult:
    """Published services matching the filters (see the module's docstring), ranked.

    Ranking: the highest ``score`` first, then the id (a stable order for pagination)::

        score = 2.0 x relevance          (words only)
              + proximity                (a commune only)
              + 0.2 x completeness
              - 0.6 x stale

    - *relevance*: ``ts_rank`` of the words in the weighted vector (name A, structure
      name and thématique labels B, description C), normalised to [0, 1[, plus 0.5 x the
      trigram word similarity of the words to the name (the typo tolerance);
    - *proximity*: 1 at the commune's centre down to 0 at the radius; 0.3 for a remote
      service beyond the radius (or without coordinates);
    - *completeness*: 0.5 for a phone or an e-mail, 0.5 for mobilisation details or a
      mobilisation link — what a counselor needs to act;
    - *stale*: 1 when the service is past its update frequency (``needs_checking``,
      shown "à vérifier"): it drops below fresh services of comparable relevance and
      distance, but a stale service next door still beats a fresh one 50 km away.
    """
    today = today or timezone.localdate()
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    radius_km = max(1, min(int(radius_km), MAX_RADIUS_KM))
    codes = wanted_thematiques(thematiques, categories, themes)
    words = clean_text(text)

    qs: QuerySet[Service] = Service.objects.filter(status=PublicationStatus.PUBLISHED)
    if codes:
        qs = qs.filter(thematiques__overlap=list(codes))
    if publics:
        qs = qs.filter(publics__overlap=[*publics, ALL_PUBLICS])
    if fees:
        qs = qs.filter(fees__in=list(fees))
    if types:
        qs = qs.filter(type__in=list(types))
    if reception_modes:
        qs = qs.filter(reception_modes__overlap=list(reception_modes))

    score: Combinable = WEIGHT_COMPLETENESS * (
        Case(When(~Q(phone="") | ~Q(email=""), then=Value(0.5)), default=Value(0.0))
        + Case(
            When(~Q(mobilisation_details="") | ~Q(mobilisation_link=""), then=Value(0.5)),
            default=Value(0.0),
        )
    )
    stale_from = ExpressionWrapper(
        F("updated_on") + F("update_frequency_days"), output_field=DateField()
    )
    qs = qs.alias(stale_from=stale_from)
    score = score - STALE_PENALTY * Case(
        When(stale_from__lt=today, then=Value(1.0)), default=Value(0.0)
    )

    distance: Func | Value = Value(None, output_field=FloatField())
    if commune is not None:
        radius_m = radius_km * 1000.0
        centre = _earth_point(Value(commune.latitude), Value(commune.longitude))
        point = _earth_point(F("latitude"), F("longitude"))
        # "point <@ earth_box(centre, r)" is what the GiST index answers; the box is a
        # cube around the sphere's cap, so the exact distance is checked afterwards.
        within_box = Func(
            point,
            Func(centre, Value(radius_m), function="earth_box", output_field=FloatField()),
            template="(%(expressions)s)",
            arg_joiner=" <@ ",
            output_field=BooleanField(),
        )
        distance = Func(point, centre, function="earth_distance", output_field=FloatField())
        qs = qs.alias(distance_m=distance).filter(
            (Q(within_box) & Q(distance_m__lte=radius_m)) | Q(reception_modes__contains=[REMOTE])
        )
        zone = [commune.insee_code, commune.department_id, "france"]
        qs = qs.filter(Q(eligibility_zone=[]) | Q(eligibility_zone__overlap=zone))
        proximity = Func(
            Value(0.0),
            Value(1.0) - F("distance_m") / Value(radius_m),
            function="GREATEST",
            output_field=FloatField(),
        )
        score = score + Case(
            When(distance_m__lte=radius_m, then=proximity), default=Value(REMOTE_PROXIMITY)
        )

    if words:
        query = SearchQuery(words, config="french_unaccent", search_type="websearch")
        matches = Q(search_vector=query)
        relevance: Combinable = SearchRank(F("search_vector"), query, normalization=32)
        typo_text = normalize(words)
        if len(typo_text) >= 3:
            # "search_name %> typo_text": the GIN trigram index "service_name_trgm".
            matches |= Q(search_name__trigram_word_similar=typo_text)
            relevance = relevance + WEIGHT_TRIGRAM * TrigramWordSimilarity(typo_text, "search_name")
        qs = qs.filter(matches)
        score = score + WEIGHT_TEXT * relevance

    offset = (page - 1) * per_page
    ranked = list(
        qs.annotate(
            score=ExpressionWrapper(score, output_field=FloatField()),
            distance_km=ExpressionWrapper(distance / Value(1000.0), output_field=FloatField()),
            total=Window(Count("*")),
        )
        .order_by("-score", "id")
        .values_list("id", "score", "distance_km", "total")[offset : offset + per_page]
    )
    if ranked:
        total = ranked[0][3]
        by_id = Service.objects.select_related("structure", "commune").in_bulk(
            [row[0] for row in ranked]
        )
        services = []
        for pk, row_score, distance_km, _total in ranked:
            service = by_id[pk]
            service.score = row_score  # type: ignore[attr-defined]
            service.distance_km = distance_km  # type: ignore[attr-defined]
            services.append(service)
    else:
        total = qs.count() if page > 1 else 0
        services = []
    return SearchResult(
        services=services,
        total=total,
        page=page,
        per_page=per_page,
        commune=commune,
        radius_km=radius_km,
        text=words,
        thematiques=codes,
    )
