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
  the commune's INSEE code, its département's code, its EPCI's SIREN or ``france``;
- **words**: French full text, accent-insensitive and stemmed (``french_unaccent``,
  migration 0002); every word must be found, but the words may be spread over the
  service (name, structure name, thématique labels, description), its publics (their
  labels and précisions) and its structure's description (``match_vector``, migration
  0010): « logement d'urgence » finds a housing service for « personnes en situation
  d'urgence ». A word of six letters or more also finds the words that share all its
  letters but the last (``PREFIX_FROM``): « urgente » finds « urgence », « budget »
  finds « budgétaire ». The services that hold every word *as typed* in their own text
  come first, then those that hold them with such endings, then those whose words are
  spread (``WEIGHT_TIER``). Typos are corrected first against the vocabulary of the
  directory (``SearchWord``, migration 0006): a word unknown to it ("formaton",
  "alimantaire") stands for its closest known words by trigram similarity ("format"),
  so the services themselves are only searched through their full-text index
  (``words_query``).

Only published services. One query: the page's services ranked, with their structure,
their commune and the total. One more for the typed words' corrections when they hold a
typo, or were not searched in the last ten minutes (``known_words``).
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import psycopg
import yaml
from django.core.paginator import Page, Paginator
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.utils import timezone

from binome.directory import referentials as ref
from binome.directory.models import PublicationStatus, Service, Structure
from binome.territories.models import Commune

DIAGNOSTIC_FILE = Path(__file__).parent / "data" / "diagnostic.yaml"
RADII_KM = (5, 10, 20, 30, 50, 100)
DEFAULT_RADIUS_KM = 30
MAX_RADIUS_KM = 200
MAX_TEXT = 200  # characters of the words kept: beyond, a query is no longer a search
MAX_PER_PAGE = 100
EARTH_RADIUS_M = 6378168.0  # earthdistance's ``earth()``, the radius of the distances
REMOTE = "a-distance"
# The remote services, and an eligibility zone open to the whole country, written as the
# conditions of the partial indexes of the remote services' words (``Service.Meta.indexes``,
# "service_remote_open_words" and "service_remote_zoned_words"; ``models.REMOTE_SERVICE``,
# ``models.OPEN_ZONE``): PostgreSQL uses a partial index only when the query holds its
# condition, compared as written (constants, not parameters: a generic plan could not
# prove it).
REMOTE_CONDITION = "s.reception_modes @> ARRAY['a-distance'::varchar(30)]"
OPEN_ZONE = (
    "(s.eligibility_zone = '{}'::varchar(12)[]"
    " OR s.eligibility_zone @> ARRAY['france'::varchar(12)])"
)
# The eligibility zone of a search near a commune: none, or one holding the commune's
# codes (``_ranking_sql``: its INSEE code, its département, its EPCI, « france »).
IN_ZONE = "(s.eligibility_zone = '{}' OR s.eligibility_zone && %(zone)s::varchar[])"
ALL_PUBLICS = "tous-publics"

# Weights of the ranking (see ``search_services``).
WEIGHT_TEXT = 2.0
# Each tier of the words (see ``search_services``) outweighs everything else together
# (relevance < 2, proximity <= 1, completeness <= 0.2, stale -0.6): a service holding the
# words as typed is never ranked below one that holds them only by their endings.
WEIGHT_TIER = 4.0
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


@cache
def _known_codes() -> tuple[frozenset[str], frozenset[str]]:
    """The codes of the catégories and of the thématiques, built once per process."""
    return (
        frozenset(code for code, _label in ref.CATEGORIES),
        frozenset(code for code, _label in ref.THEMATIQUES),
    )


def wanted_thematiques(
    thematiques: Iterable[str] = (), categories: Iterable[str] = (), themes: Iterable[str] = ()
) -> tuple[str, ...]:
    """Every thématique code selected by thématiques, catégories and diagnostic themes.

    An unknown code is a programming error (forms and the API validate their input).
    """
    if not (thematiques or categories or themes):
        return ()
    known_categories, known_thematiques = _known_codes()
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


# The ranking query, written in SQL rather than with the ORM: the ORM's version cost more
# to build in Python than PostgreSQL took to answer it, and repeated the distance at each
# place it was used (filter, score, result). Every value comes in as a parameter.
#
# The candidates (innermost SELECT) are what the indexes find (see ``Service.Meta.indexes``):
#   - ``thematiques && codes``: GIN "service_thematiques";
#   - ``point <@ earth_box(centre, r)``: GiST "service_earth_point", OR-ed with
#     ``reception_modes @> {a-distance}`` (GIN "service_reception_modes": remote services
#     are kept whatever the distance); PostgreSQL ANDs and ORs the bitmaps of these indexes;
#   - words: ``match_vector @@ query`` (GIN "service_match_vector"), the query being
#     the typed words once corrected (``words_query``); the tier and the relevance read
#     ``search_vector`` of the candidates only;
#   - words near a commune: the squares of a grid around it and the words together (GIN
#     "service_published_cells_words", ``grid_cells``), and the remote services' words
#     (see ``_ranking_text``).
# ``OFFSET 0`` keeps PostgreSQL from folding that SELECT into the outer ones: the distance
# and the relevance are computed once per candidate, then filtered and ranked by name.
_POINT = "directory_earth_point(s.latitude, s.longitude)"
_CENTRE = "directory_earth_point(%(latitude)s, %(longitude)s)"
# Metres along the surface: earthdistance's ``earth_distance`` written inline (it calls
# ``sec_to_gc``, a SQL function PostgreSQL does not inline around an expression).
# ``least`` ignores NULL: without the CASE, a service without coordinates would be half
# the world away instead of having no distance. The centre is a sub-SELECT (an InitPlan),
# computed once per statement: written as an expression of the parameters, a generic plan
# computed it again for each candidate (four trigonometric functions and three cubes: 7 %
# of the statement near a commune).
_DISTANCE = (
    "CASE WHEN s.latitude IS NOT NULL AND s.longitude IS NOT NULL THEN"
    f" 2 * public.earth() * asin(least(1.0, public.cube_distance({_POINT}, (SELECT {_CENTRE}))"
    " / (2 * public.earth()))) END"
)
# The terms of the score that are the service's own: completeness and staleness (see
# ``search_services``), from the columns PostgreSQL writes (``Service.completeness``,
# ``Service.due_on``, migration 0013).
_BASE = (
    f"{WEIGHT_COMPLETENESS}::float8 * s.completeness"
    f" - CASE WHEN s.due_on < %(today)s THEN {STALE_PENALTY}::float8 ELSE 0.0::float8 END"
)
MAX_CORRECTIONS = 3  # known words that stand for a typed word unknown to the vocabulary
# A correction is kept only as close as this share of the closest one (trigram similarity):
# « urgente » (urgent, unknown) stands for « urgence » (0.56), not for « argent » (0.40)
# nor « émergent » (0.33), which would find the services about money; « alimentatio »
# stands for « aliment » (0.54) and « alimentaire » (0.53) alike.
CORRECTION_CLOSENESS = 0.8
# A stem of at least this many letters also finds the words that begin with all its
# letters but the last: French derives nouns and adjectives by their endings, which the
# stemmer does not always bring together ("urgente" urgent / "urgence" urgenc, "enfant" /
# "enfance" enfanc, "budget" / "budgétaire" budgetair). Shorter ones would find too much:
# "perm" (permis) would find "permanence", "numer" (numérique) "numéro". Those matches are
# ranked below the services holding the word as typed (``WEIGHT_TIER``).
PREFIX_FROM = 6
# The services' full-text index is searched for the known words of a prefix's family
# rather than for the prefix: a prefix makes GIN gather every row of every word it
# begins before intersecting them with the other words (9 ms for « logement d'urgence »
# on the national data, 1 ms with the family's one known word). A family larger than
# this keeps its prefix.
MAX_FAMILY = 32

# Each typed word, as the full-text configuration reduces it (accents, case, stem; stop
# words dropped: "permi de conduir" → perm, conduir), with what it stands for: itself
# when the vocabulary of the directory has it, else its closest words in the vocabulary
# (``%``: pg_trgm similarity at least ``pg_trgm.similarity_threshold``, 0.3 by default),
# at most MAX_CORRECTIONS, the closest first, those at least CORRECTION_CLOSENESS as close
# as the closest. The CASE runs the trigram lookup only for
# unknown words: most searches are spelt right and cost one primary-key probe per word.
# One row per word it stands for (``alternative``; NULL when an unknown word has no close
# known word), whether the typed word is known (it then stands for itself alone), with,
# for a word of PREFIX_FROM letters or more, its *family*: the known
# words that begin with all its letters but the last, at most MAX_FAMILY + 1 of them. The
# prefix is not a constant of the statement, so PostgreSQL cannot turn ``^@`` into an
# index range by itself (it read the whole vocabulary: 5 ms per word): the range is
# written out, in the byte order of the vocabulary's ``text_pattern_ops`` index (``~>=~``,
# ``~<~``; U+10FFFF, ``chr(1114111)``, sorts after every character).
_CORRECTIONS = f"""
    SELECT typed.lexeme, coalesce(alternative.word, typed.lexeme) AS word,
           coalesce(alternative.rank, 1) AS rank,
           coalesce(alternative.word = typed.lexeme, false) AS known,
           CASE WHEN char_length(alternative.word) >= {PREFIX_FROM} THEN ARRAY(
               SELECT family.word FROM directory_search_word AS family
               WHERE family.word ~>=~ left(alternative.word, -1)
                 AND family.word ~<~ (left(alternative.word, -1) || chr(1114111))
                 AND family.word ^@ left(alternative.word, -1)
               ORDER BY family.word
               LIMIT {MAX_FAMILY + 1}
           ) END
    FROM unnest(to_tsvector('french_unaccent'::regconfig, %(words)s)) AS typed
    LEFT JOIN LATERAL unnest(
        CASE WHEN EXISTS (
                 SELECT 1 FROM directory_search_word AS known WHERE known.word = typed.lexeme
             ) THEN ARRAY[typed.lexeme]
             ELSE ARRAY(
                 SELECT near.word FROM (
                     SELECT near.word, near.closeness, max(near.closeness) OVER () AS best
                     FROM (
                         SELECT near.word, similarity(near.word, typed.lexeme) AS closeness
                         FROM directory_search_word AS near
                         WHERE near.word %% typed.lexeme
                         ORDER BY closeness DESC, near.word
                         LIMIT {MAX_CORRECTIONS}
                     ) AS near
                 ) AS near
                 WHERE near.closeness >= {CORRECTION_CLOSENESS} * near.best
                 ORDER BY near.closeness DESC, near.word
             ) END
    ) WITH ORDINALITY AS alternative (word, rank) ON true
"""  # noqa: S608 (a constant; the words are a parameter)


def _quoted(word: str) -> str:
    """SQL of a lexeme quoted for the tsquery syntax (quotes doubled, backslashes
    escaped)."""
    return f"('''' || replace(replace({word}, '\\', '\\\\'), '''', '''''') || '''')"


def _prefixed(word: str) -> str:
    """SQL of a word as a prefix: from PREFIX_FROM letters, the prefix of all its letters
    but the last (``'urgen':*``), else the word quoted."""
    return (
        f"CASE WHEN char_length({word}) >= {PREFIX_FROM}"
        f" THEN {_quoted(f'left({word}, -1)')} || ':*' ELSE {_quoted(word)} END"
    )


# The tsqueries of the typed words (``WordsQuery``) as text, built from the corrections by
# PostgreSQL, and whether every typed word is known: one row, five NULLs when the words
# hold no searchable word. Each typed word gives a group ``(a | b)`` of what it stands for
# (its terms in the order of the corrections, each once), and the groups are joined in the
# order of the typed lexemes.
_WORDS = f"""
    SELECT string_agg(match, ' & ' ORDER BY lexeme) AS match,
           string_agg(exact, ' & ' ORDER BY lexeme) AS exact,
           string_agg(match, ' | ' ORDER BY lexeme) AS either,
           string_agg(indexed, ' & ' ORDER BY lexeme) AS indexed,
           bool_and(known) AS known
    FROM (
        SELECT lexeme, bool_and(known) AS known,
               '(' || string_agg(term, ' | ' ORDER BY position) FILTER (WHERE kind = 1)
                   || ')' AS match,
               '(' || string_agg(term, ' | ' ORDER BY position) FILTER (WHERE kind = 2)
                   || ')' AS exact,
               '(' || string_agg(term, ' | ' ORDER BY position) FILTER (WHERE kind = 3)
                   || ')' AS indexed
        FROM (
            SELECT correction.lexeme, term.kind, term.term, min(term.position) AS position,
                   bool_and(correction.known) AS known
            FROM ({_CORRECTIONS}) AS correction (lexeme, word, rank, known, family)
            CROSS JOIN LATERAL (
                SELECT 1, {_prefixed("correction.word")}, correction.rank * 1000
                UNION ALL
                SELECT 2, {_quoted("correction.word")}, correction.rank * 1000
                UNION ALL
                SELECT 3, {_quoted("known.word")}, correction.rank * 1000 + known.position
                FROM unnest(correction.family) WITH ORDINALITY AS known (word, position)
                WHERE cardinality(correction.family) <= {MAX_FAMILY}
                UNION ALL
                SELECT 3, {_prefixed("correction.word")}, correction.rank * 1000
                WHERE coalesce(cardinality(correction.family), 0) NOT BETWEEN 1 AND {MAX_FAMILY}
            ) AS term (kind, term, position)
            GROUP BY correction.lexeme, term.kind, term.term
        ) AS term
        GROUP BY lexeme
    ) AS typed
"""  # noqa: S608 (a constant; the words are a parameter)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """A statement written with named placeholders (``%(name)s``, ``%%`` for ``%``) as
    PostgreSQL takes it (``$1``, ``$2``…, one number per name), with the names in the
    order of their numbers.

    psycopg converts a statement's placeholders itself, but caches the conversion only for
    statements of at most 4,096 characters; the search's are longer (the words'
    corrections, the page's columns), and their conversion, a regular expression over
    10,000 characters, cost 0.1 to 0.3 ms of every search. They take a few shapes, each
    converted once per process here."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        return f"${names.setdefault(match.group(1), len(names) + 1)}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


class _PreparingCursor(psycopg.RawCursor[Any]):
    """A cursor binding its parameters on the server and preparing every statement it runs:
    PostgreSQL parses and plans a statement once per connection, and runs its generic plan
    (settings: ``plan_cache_mode``). The ranking statement's planning (1 to 2.5 ms on the
    national data: the words' corrections, the inlined earth functions, the joins of the
    page) cost as much as its execution for a search near a small commune.

    The search's statements take few shapes (which filters are set), each with its values
    as parameters; the connection keeps at most ``prepared_max`` of them (psycopg: 100).
    Django's own cursors bind on the client and never prepare (settings:
    ``prepare_threshold``). The statements are written with named placeholders and given
    to psycopg numbered (``_positional``).

    Their rows come in binary: the page's 20 rows of 60 columns are read in two thirds of
    the time their text takes to parse (0.10 against 0.22 ms per page). These statements
    read no column whose binary form Django loads differently from its text (``jsonb``,
    ``inet``: Django keeps their text); a timestamp comes in the connection's time zone
    (UTC), as Django's own loader gives it (``test_the_page_services_are_what_the_orm_reads``)."""

    def execute(  # type: ignore[override]
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        prepare: bool | None = None,
        binary: Any = None,
    ) -> _PreparingCursor:
        sql, names = _positional(query)
        values = [params[name] for name in names] if params else None
        return super().execute(sql, values, prepare=True, binary=True)


class _LoggedPreparingCursor(CursorDebugWrapper):
    """Django's debug cursor, logging the statement with its values inlined (Django reads
    the text a client-binding cursor sent, which a server-binding one does not have)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


# Each connection's cursor for the search's statements, made once (``_rows``): a cursor
# keeps the loaders of the columns it has read, which a new one builds again for the
# page's 60 columns at every search. Keyed by Django's connection object (one per thread
# and alias), dropped with it; made again when Django opens a new database connection.
_CURSORS: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _PreparingCursor] = (
    weakref.WeakKeyDictionary()
)


def _rows(sql: str, params: dict[str, Any], *, db: BaseDatabaseWrapper | None = None) -> list[Any]:
    """The rows of a statement run by the connection's preparing cursor (``_PreparingCursor``),
    as Django runs its own: errors translated, a broken transaction refused, statements
    counted and logged when the connection logs them, its execute wrappers applied.

    ``db``: Django's connection object (``connections[alias]``), read once by the caller;
    each attribute read through ``django.db.connection`` is a lookup of the thread's
    connection."""
    db = db or connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    db.validate_thread_sharing()
    cursor = _CURSORS.get(db)
    if cursor is None or cursor.closed or cursor.connection is not db.connection:
        cursor = _CURSORS[db] = _PreparingCursor(db.connection)
    if db.queries_logged or db.execute_wrappers:
        wrapped = (
            _LoggedPreparingCursor(cursor, db) if db.queries_logged else CursorWrapper(cursor, db)
        )
        wrapped.execute(sql, params)
        return wrapped.fetchall()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class WordsQuery:
    """The typed words, typos corrected, as the tsqueries (text) of the search."""

    match: str  # what a service must match: every word, or a word of its family
    exact: str  # every word as typed (or its corrections): the first tier
    any: str  # any word or a word of its family: the relevance
    # ``match`` as the full-text index is searched: each prefix written as the known words
    # it begins (the same services: the vocabulary holds every word of every service).
    indexed: str = ""
    # Every typed word is in the vocabulary: none was corrected (see ``known_words``).
    known: bool = False


def words_query(words: str, *, db: BaseDatabaseWrapper | None = None) -> WordsQuery | None:
    """The tsqueries of what a user typed, typos corrected, or None when it holds no
    searchable word (only stop words, punctuation or emoji: the words then filter nothing).

    Every typed word must match (AND); a word stands for itself or, unknown to the
    vocabulary, for its closest known words (OR): "permi de conduir" gives the match
    ``('perm') & ('condui':*)``, "alimentatio" ``('alimen':* | 'alimentai':*)`` (the
    prefixes of "aliment", "alimentair"). An unknown word with no close known word stays
    as it is, and finds nothing ("xylophone"). In ``indexed``, a prefix is replaced by the
    known words it begins (``('perm') & ('conduir' | 'conduit')``), unless they are more
    than MAX_FAMILY or none.

    One statement (``_WORDS``); the search reads it through ``known_words``."""
    if not words:
        return None
    rows = _rows(_WORDS, {"words": words}, db=db)
    row = rows[0] if rows else None
    if row is None or row[0] is None:
        return None
    match, exact, any_, indexed, known = row
    return WordsQuery(match=match, exact=exact, any=any_, indexed=indexed, known=known)


# The words' queries the search has asked for, by typed words (``known_words``): at most
# WORDS_KEPT, each for WORDS_SECONDS.
WORDS_KEPT = 10_000
WORDS_SECONDS = 600.0
_words_kept: dict[str, tuple[float, WordsQuery | None]] = {}


def known_words(words: str, *, db: BaseDatabaseWrapper | None = None) -> WordsQuery | None:
    """``words_query``, kept for WORDS_SECONDS when every typed word is known (or none is
    searchable), asked again when it holds a typo.

    Correcting the words in the search's own statement cost a third of a search near a
    commune (0.5 of 1.6 ms of PostgreSQL's time at the median of the bench's searches on
    the national data: its two dozen plan nodes started, run and ended for every search),
    four times what the same statement takes alone. The vocabulary (``SearchWord``) only
    grows, as services are written: a known word stays known and stands for itself, and a
    text without searchable word stays so. What a kept query may miss is a word that came
    into the vocabulary since, in the family of a typed word of PREFIX_FROM letters or more
    (``indexed``): a service holding only that new ending is found once the query is asked
    again, WORDS_SECONDS later at most. A typed word unknown to the vocabulary is corrected
    at every search: the next import may bring the word itself, or a closer one."""
    now = time.monotonic()
    kept = _words_kept.get(words)
    if kept is not None and now - kept[0] <= WORDS_SECONDS:
        return kept[1]
    query = words_query(words, db=db)
    if query is None or query.known:
        if len(_words_kept) >= WORDS_KEPT:
            _words_kept.clear()
        _words_kept[words] = (now, query)
    return query


def corrected_query(words: str) -> str | None:
    """The tsquery (as text) that services must match for what a user typed, or None
    (see ``words_query``)."""
    query = words_query(words)
    return query.match if query else None


# The status of the services searched, written as a constant (see ``_ranking_sql``): the
# condition of the partial index "service_published_cells_words", as the model writes it.
PUBLISHED = f"s.status = '{PublicationStatus.PUBLISHED.value}'"

# The grid of ``directory_grid_cells`` (migration 0015): for each size of square, in degrees
# of latitude and longitude, the number its squares start from. A square is
# ``start + (row + 500) * 2000 + column + 1000``, ``row = floor(latitude / size)``,
# ``column = floor(longitude / size)``. The sizes are powers of two: the division is exact,
# the same in PostgreSQL and in Python.
GRID = ((0.25, 0), (0.5, 2_000_000), (1.0, 4_000_000))
# A search reads the squares of the finest size that covers its circle with at most this
# many (the coarsest otherwise). For the communes of France: 9 to 20 squares of 0.25° within
# 30 km (12 for two in three), 20 to 35 of 0.5° within 100 km, of 1° within 200 km. More
# squares are more lists to read in the index; larger ones hold more services beyond the
# radius, read and dropped. Measured on the national data set, 60 searches with words, at
# the median: within 30 km, squares of 0.25° 0.64 ms, of 0.5° 0.68; within 100 km, 104
# squares of 0.25° 1.4 ms, 30 of 0.5° 1.3; within 200 km, 108 of 0.5° 2.8 ms, 35 of 1° 2.4.
GRID_MOST_CELLS = 40


def grid_cells(latitude: float | None, longitude: float | None, radius_m: float) -> list[int]:
    """The squares of the grid (``GRID``) that cover every point within ``radius_m`` of the
    centre, along the surface of the sphere the distances are measured on
    (``EARTH_RADIUS_M``): the cap's extent in latitude, and in longitude at its widest,
    ``asin(sin(d) / cos(latitude))``. Around the 180th meridian the columns go on from the
    other side; a cap that reaches a pole takes every column. None for either coordinate:
    no square."""
    if latitude is None or longitude is None:
        return []
    reach = radius_m / EARTH_RADIUS_M  # radians
    # A hair wider than the exact cap: a point at the radius is never left out by rounding.
    margin = 1e-9
    lat_min = max(-90.0, latitude - math.degrees(reach) - margin)
    lat_max = min(90.0, latitude + math.degrees(reach) + margin)
    cos_latitude = math.cos(math.radians(latitude))
    if reach >= math.pi / 2 or math.sin(reach) >= cos_latitude:
        lon_min, lon_max = -180.0, 180.0
    else:
        lon_reach = math.degrees(math.asin(math.sin(reach) / cos_latitude)) + margin
        lon_min, lon_max = longitude - lon_reach, longitude + lon_reach
    cells: list[int] = []
    for size, start in GRID:
        rows = range(math.floor(lat_min / size), math.floor(lat_max / size) + 1)
        half_turn = round(180 / size)  # columns from the 180th meridian to the prime one
        columns: set[int] = set()
        for column in range(math.floor(lon_min / size), math.floor(lon_max / size) + 1):
            column = (column + half_turn) % (2 * half_turn) - half_turn
            columns.add(column)
            if column == -half_turn:  # a point at 180° exactly is in the column after 179.75°
                columns.add(half_turn)
        cells = [
            start + (row + 500) * 2000 + column + 1000 for row in rows for column in sorted(columns)
        ]
        if len(cells) <= GRID_MOST_CELLS:
            break
    return cells


@lru_cache(maxsize=4096)
def _grid_array(latitude: float | None, longitude: float | None, radius_m: float) -> str:
    """``grid_cells`` as PostgreSQL reads an array of integers, computed once per centre and
    radius: a search near a commune is often one of a few hundred."""
    return "{" + ",".join(map(str, grid_cells(latitude, longitude, radius_m))) + "}"


def _ranking_sql(
    *,
    codes: Sequence[str],
    publics: Sequence[str],
    fees: Sequence[str],
    types: Sequence[str],
    reception_modes: Sequence[str],
    commune: Commune | None,
    radius_m: float,
    words: WordsQuery | None,
    today: date,
    department: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The SELECT of the matching services (id, score, distance_km, total), unordered, and
    its values.

    ``words``: the typed words' queries (``known_words``), None for a search without words.

    The text depends only on which filters are set (``_ranking_text``, built once per
    shape); every value is a parameter."""
    params: dict[str, Any] = {"today": today, "published": PublicationStatus.PUBLISHED.value}
    if department is not None:
        params["department"] = department
    if codes:
        params["codes"] = list(codes)
    if publics:
        params["publics"] = [*publics, ALL_PUBLICS]
    if fees:
        params["fees"] = list(fees)
    if types:
        params["types"] = list(types)
    if reception_modes:
        params["reception_modes"] = list(reception_modes)
    if commune is not None:
        params["latitude"] = commune.latitude
        params["longitude"] = commune.longitude
        params["radius_m"] = radius_m
        # The commune's own codes, known before the query (its EPCI is a column of the
        # commune): one array overlap per service, no join.
        params["zone"] = [
            commune.insee_code,
            commune.department_id,
            *([commune.epci_id] if commune.epci_id else []),
            "france",
        ]
    if words is not None:
        params["match"] = words.match
        params["exact"] = words.exact
        params["either"] = words.any
        params["indexed"] = words.indexed
        if commune is not None:
            params["cells"] = _grid_array(commune.latitude, commune.longitude, radius_m)
    sql = _ranking_text(
        department is not None,
        bool(codes),
        bool(publics),
        bool(fees),
        bool(types),
        bool(reception_modes),
        commune is not None,
        words is not None,
    )
    return sql, params


@lru_cache(maxsize=512)
def _ranking_text(
    department: bool,
    codes: bool,
    publics: bool,
    fees: bool,
    types: bool,
    reception_modes: bool,
    place: bool,
    words: bool,
) -> str:
    """The text of ``_ranking_sql`` for the filters set, built once per shape and process."""
    where = ["s.status = %(published)s"]
    if department:
        where.append("s.department_id = %(department)s")
    if codes:
        where.append("s.thematiques && %(codes)s::varchar[]")
    if publics:
        # Checked on the rows the other conditions find, never through the publics' index
        # (``IS TRUE`` is not a condition an index answers): a public always comes with
        # « tous publics », which half the services hold, so that index would gather most
        # of the table before the other conditions narrow it (64 of 90 ms for « catégorie
        # + public + commune » on the national data).
        where.append("(s.publics && %(publics)s::varchar[]) IS TRUE")
    if fees:
        where.append("s.fees = ANY(%(fees)s::varchar[])")
    if types:
        where.append("s.type = ANY(%(types)s::varchar[])")
    if reception_modes:
        where.append("s.reception_modes && %(reception_modes)s::varchar[]")

    distance, proximity, kept = "NULL::float8", "0.0", "true"
    place_arms: tuple[str, ...] = ("true",)
    if place:
        if words:
            # With words, the services near the commune that are not remote and the remote
            # services wherever they are are read by three SELECTs (``UNION ALL``,
            # disjoint) rather than one whose place is ``box OR remote``: the first by the
            # squares' and the words' index, the others by the partial indexes of the
            # remote services' words, instead of OR-ing the row list of every remote
            # service (7,000) with the box's before the AND with the words (1 to 1.5 ms of
            # a 4 ms search on the national data). ``IS NOT TRUE``: a service without modes
            # is not remote. The remote services open to the whole country are all in the
            # commune's zone; the others are read by their zone's codes and their words
            # together (the commune's zone holds a few dozen of them): the remote services
            # holding the words outside the zone, two in five, are no longer read to be
            # dropped (8 % of a search near a commune at the median of the bench's). Without
            # words, one SELECT: the remote services' list is ORed with the box's and ANDed
            # with the thématiques' (two SELECTs each reading the thématiques' lists were
            # 20 % slower).
            #
            # The first SELECT reads the published services of the squares that cover the
            # circle (``grid_cells``) holding the words from one index,
            # "service_published_cells_words" (migration 0015): PostgreSQL intersects the
            # squares' lists with the words' inside it, where the place's and the word's
            # lists are each far larger than what they have in common (« aide alimentaire »
            # near Clisson, « budget » near Livry-Gargan and its 20,000 services within
            # 30 km alike). The status is written as a constant, the condition of that
            # partial index. The squares reach beyond the radius: ``kept`` drops what is
            # farther.
            arm = (
                "directory_grid_cells(s.latitude, s.longitude) && %(cells)s::integer[]"
                f" AND ({REMOTE_CONDITION}) IS NOT TRUE AND {IN_ZONE}"
            )
            place_arms = (
                f"{PUBLISHED} AND {arm}",
                f"{REMOTE_CONDITION} AND {OPEN_ZONE}",
                f"{REMOTE_CONDITION} AND NOT {OPEN_ZONE}"
                " AND s.eligibility_zone && %(zone)s::varchar[]",
            )
        else:
            # The box is a cube around the sphere's cap: the exact distance is checked after.
            box = f"{_POINT} <@ public.earth_box({_CENTRE}, %(radius_m)s)"
            where.append(f"({box} OR {REMOTE_CONDITION})")
            where.append(IN_ZONE)
        distance = _DISTANCE
        proximity = (
            "CASE WHEN distance_m <= %(radius_m)s"
            " THEN greatest(0.0, 1.0 - distance_m / %(radius_m)s)"
            f" ELSE {REMOTE_PROXIMITY}::float8 END"
        )
        kept = f"(distance_m <= %(radius_m)s OR {REMOTE_CONDITION.removeprefix('s.')})"

    relevance, tier = "0.0", "0"
    if words:
        # The typed words' tsqueries (``WordsQuery``), each a parameter of type tsquery:
        # parsed once, when the statement's values are bound.
        where.append("s.match_vector @@ %(indexed)s::tsquery")
        relevance = "ts_rank(s.search_vector, %(either)s::tsquery, 32)"
        tier = (
            "CASE WHEN s.search_vector @@ %(exact)s::tsquery THEN 2"
            " WHEN s.search_vector @@ %(match)s::tsquery THEN 1 ELSE 0 END"
        )

    candidates = " UNION ALL ".join(
        f"""
                SELECT s.id, s.reception_modes, {_BASE} AS base,
                       {distance} AS distance_m, {relevance} AS relevance, {tier} AS tier
                FROM directory_service AS s
                WHERE {" AND ".join(where)}{"" if arm == "true" else f" AND {arm}"}"""  # noqa: S608
        for arm in place_arms
    )
    sql = f"""
        SELECT id, score, distance_m / 1000.0 AS distance_km, count(*) OVER () AS total
        FROM (
            SELECT id, distance_m,
                   {WEIGHT_TIER}::float8 * tier + base + {proximity}
                   + {WEIGHT_TEXT}::float8 * relevance AS score
            FROM ({candidates}
                OFFSET 0
            ) AS candidate
            WHERE {kept}
        ) AS ranked
    """  # noqa: S608 (only fixed fragments; every value is a parameter)
    return sql


# The page's services are read by the ranking query itself, joined after the LIMIT (one
# round trip, and no ORM query to compile for them): every column of the service but its
# search columns; of its structure and its commune, the columns the results show (the
# search page, the API, the plan's suggestions). Reading another column of those two later
# costs one query per service: the search page's pinned query count would catch it.
UNREAD_COLUMNS = ("search_vector", "match_vector", "search_name", "content_hash")
_SERVICE_FIELDS = tuple(
    field for field in Service._meta.concrete_fields if field.name not in UNREAD_COLUMNS
)
_RELATED_FIELDS = tuple(
    (model, alias, tuple(f for f in model._meta.concrete_fields if f.name in names))
    for model, alias, names in (
        (Structure, "st", {"id", "source", "source_id", "name"}),
        (Commune, "c", {"insee_code", "name", "department", "postal_codes"}),
    )
)


@lru_cache(maxsize=128)
def _page_sql(ranked_page: str) -> str:
    """The SELECT of the page's rows: score, distance, total, then the columns of the
    service, its structure and its commune, in the order ``_page_services`` reads them."""
    columns = [f"svc.{field.column}" for field in _SERVICE_FIELDS]
    for _model, alias, fields in _RELATED_FIELDS:
        columns.extend(f"{alias}.{field.column}" for field in fields)
    return f"""
        SELECT page.score, page.distance_km, page.total, {", ".join(columns)}
        FROM ({ranked_page}) AS page
        JOIN directory_service AS svc ON svc.id = page.id
        JOIN directory_structure AS st ON st.id = svc.structure_id
        LEFT JOIN territories_commune AS c ON c.insee_code = svc.commune_id
        ORDER BY page.score DESC, page.id
    """  # noqa: S608 (table and column names come from our models)


@lru_cache(maxsize=512)
def _page_statement(ranking: str) -> str:
    """The page's statement for a ranking statement's text (``_ranking_text``), built once:
    the page of services in ranking order, from ``limit`` and ``offset``."""
    return _page_sql(f"{ranking} ORDER BY score DESC, id LIMIT %(limit)s OFFSET %(offset)s")


_SERVICE_ATTNAMES = tuple(field.attname for field in _SERVICE_FIELDS)
_RELATED_ATTNAMES = tuple(
    (model, tuple(field.attname for field in fields)) for model, _alias, fields in _RELATED_FIELDS
)


def _instance[M: Model](
    model: type[M], db: str, attnames: Sequence[str], values: Sequence[Any]
) -> M:
    """``model.from_db`` for the columns read, without ``Model.__init__``: what ``from_db``
    leaves on an instance (the values by attribute name, the columns not read deferred, the
    state of a row from the database), in a tenth of its time — ``__init__`` checks every
    field of these wide models one by one: 2 to 5 ms of the 20 rows of a page, the
    search's largest share of Python."""
    instance = object.__new__(model)
    attributes = instance.__dict__
    attributes.update(zip(attnames, values, strict=True))
    state = attributes["_state"] = object.__new__(ModelState)
    state.__dict__.update(adding=False, db=db, fields_cache={})
    return instance


def _from_db[M: Model](
    model: type[M], db: str, attnames: Sequence[str], values: Sequence[Any]
) -> M:
    """``model.from_db``, for a model whose instances have ``pre_init`` / ``post_init``
    receivers (``_instance`` would skip them)."""
    return model.from_db(db, list(attnames), values)


def _page_services(rows: Sequence[Sequence[Any]], db: str) -> list[Service]:
    """The rows of ``_page_sql`` as Services, their structure and commune attached, annotated
    with their ``score`` and ``distance_km``; ``db``: the connection's alias.

    The models' signal receivers are read once per page, not per instance. Models with
    ``pre_init`` / ``post_init`` receivers (none of these three) go through ``from_db``."""
    if not rows:
        return []
    build: dict[type[Model], Any] = {}
    for model in (Service, *(model for model, _attnames in _RELATED_ATTNAMES)):
        listened = signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
        build[model] = _from_db if listened else _instance
    (structure_model, structure_names), (commune_model, commune_names) = _RELATED_ATTNAMES
    make_structure, make_commune = build[structure_model], build[commune_model]
    first = 3 + len(_SERVICE_ATTNAMES)
    middle = first + len(structure_names)
    last = middle + len(commune_names)
    # A structure or a commune that comes back on the page is built once and shared, as
    # ``prefetch_related`` shares them (a page of 20 services is often in a few communes).
    structures: dict[Any, Model] = {}
    communes: dict[Any, Model | None] = {None: None}
    services = []
    if build[Service] is _instance:
        # ``_instance`` written out: two function calls per instance were a third of it.
        new = object.__new__
        for row in rows:
            # The primary key comes first (model order): None for a service without commune.
            structure = structures.get(row[first])
            if structure is None:
                structure = structures[row[first]] = make_structure(
                    structure_model, db, structure_names, row[first:middle]
                )
            commune = communes.get(row[middle], communes)
            if commune is communes:
                commune = communes[row[middle]] = make_commune(
                    commune_model, db, commune_names, row[middle:last]
                )
            service = new(Service)
            values = service.__dict__
            values.update(zip(_SERVICE_ATTNAMES, row[3:first], strict=True))
            state = values["_state"] = new(ModelState)
            attributes = state.__dict__
            attributes["adding"] = False
            attributes["db"] = db
            attributes["fields_cache"] = {"structure": structure, "commune": commune}
            values["score"] = row[0]
            values["distance_km"] = row[1]
            services.append(service)
        return services
    for row in rows:
        service = _from_db(Service, db, _SERVICE_ATTNAMES, row[3:first])
        key = row[first]
        if key not in structures:
            structures[key] = make_structure(
                structure_model, db, structure_names, row[first:middle]
            )
        key = row[middle]
        if key not in communes:
            communes[key] = make_commune(commune_model, db, commune_names, row[middle:last])
        service._state.fields_cache["structure"] = structures[row[first]]
        service._state.fields_cache["commune"] = communes[row[middle]]
        vars(service).update(score=row[0], distance_km=row[1])
        services.append(service)
    return services


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
    department: str | None = None,
) -> SearchResult:
    """Published services matching the filters (see the module's docstring), ranked.

    Ranking: the highest ``score`` first, then the id (a stable order for pagination)::

        score = 4.0 x tier               (words only)
              + 2.0 x relevance          (words only)
              + proximity                (a commune only)
              + 0.2 x completeness
              - 0.6 x stale

    - *tier*: 2 when the service's own words (``search_vector``) hold every word as
      typed (or its corrections), 1 when they hold them with the endings of
      ``PREFIX_FROM``, 0 when some word is only in its publics or its structure's
      description;
    - *relevance*: ``ts_rank`` of the words (typos corrected) in the service's weighted
      vector (name A, structure name and thématique labels B, description C), normalised
      to [0, 1[;
    - *proximity*: 1 at the commune's centre down to 0 at the radius; 0.3 for a remote
      service beyond the radius (or without coordinates);
    - *completeness*: 0.5 for a phone or an e-mail, 0.5 for mobilisation details or a
      mobilisation link — what a counselor needs to act;
    - *stale*: 1 when the service is past its update frequency (``needs_checking``,
      shown "à vérifier"): it drops below fresh services of comparable relevance and
      distance, but a stale service next door still beats a fresh one 50 km away.

    ``department`` keeps the services whose address is in that département (the referral
    form offers those of the person's département).
    """
    today = today or timezone.localdate()
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    radius_km = max(1, min(int(radius_km), MAX_RADIUS_KM))
    codes = wanted_thematiques(thematiques, categories, themes)
    words = clean_text(text)

    db = connections[DEFAULT_DB_ALIAS]
    # None for words that hold only stop words, punctuation or emoji: they filter nothing.
    query = known_words(words, db=db) if words else None
    sql, params = _ranking_sql(
        codes=codes,
        publics=publics,
        fees=fees,
        types=types,
        reception_modes=reception_modes,
        commune=commune,
        radius_m=radius_km * 1000.0,
        words=query,
        today=today,
        department=department,
    )
    params["limit"] = per_page
    params["offset"] = (page - 1) * per_page
    rows = _rows(_page_statement(sql), params, db=db)
    if rows:
        total = rows[0][2]
    elif page > 1:  # past the last page: the total still says how many
        total = _rows(f"SELECT count(*) FROM ({sql}) AS page", params, db=db)[0][0]  # noqa: S608
    else:
        total = 0
    services = _page_services(rows, db.alias)
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
