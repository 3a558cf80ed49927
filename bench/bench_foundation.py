"""Server-side timings of the foundation pages on the national data set.

Run with ``.venv/bin/binome bench foundation`` (see bench/README.md). Environment:

BENCH_SCALE=national|departement   data set to measure on (default national)
BENCH_SEED=42                      its seed
BENCH_REGENERATE=1                 regenerate it (--reset) and report the generation time
BENCH_REQUESTS=300                 timed requests per page (after BENCH_WARMUP=30)
BENCH_MAX_SECONDS=60               per page: stop sooner when a page is that slow
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

if TYPE_CHECKING:
    from django.test import Client

    from binome.core.generation import ScaleConfig

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "30"))
MAX_SECONDS = float(os.environ.get("BENCH_MAX_SECONDS", "60"))

ORGANISATION_WORDS = [
    "France Travail",
    "ccas",
    "crèche",
    "mission locale",
    "solidarités",
    "caf",
    "emploi",
    "insertion",
    "zzz-introuvable",
]
# What people type in the commune field: names (accents, hyphens, articles), typos, and
# postal code prefixes. Two characters at least (the view ignores shorter input).
COMMUNE_QUERIES = {
    "noms": [
        "toulon",
        "marseille",
        "paris",
        "lyon",
        "saint",
        "saint-étienne",
        "la seyne",
        "aix",
        "bordeaux",
        "brest",
        "quimper",
        "évry",
        "le havre",
        "villeneuve",
        "montpellier",
        "draguignan",
    ],
    "fautes de frappe": [
        "marseile",
        "tuolon",
        "bordeau",
        "strasbur",
        "grenobel",
        "montpelier",
        "quimpre",
        "draguigan",
        "perpigan",
        "clermond ferand",
    ],
    "codes postaux": [
        "83",
        "830",
        "8300",
        "83000",
        "75011",
        "29",
        "2920",
        "13",
        "1300",
        "69003",
        "974",
        "97400",
    ],
}


@dataclass
class Result:
    label: str
    timings: list[float]  # milliseconds, request i on URL i % len(urls)
    queries: list[int]
    urls: Sequence[str] = ()

    @property
    def slowest(self) -> str:
        """The URL with the highest median, for lines that cycle over several."""
        if len(self.urls) < 2:
            return ""
        step = len(self.urls)
        medians = {url: percentile(self.timings[i::step], 50) for i, url in enumerate(self.urls)}
        url = max(medians, key=lambda u: medians[u])
        return f"    la plus lente : {url.split('?', 1)[-1]} — p50 {medians[url]:.2f} ms"

    @property
    def p50(self) -> float:
        return percentile(self.timings, 50)

    @property
    def p95(self) -> float:
        return percentile(self.timings, 95)

    @property
    def queries_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low} à {high}"


def percentile(values: Sequence[float], rank: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


HEADER = f"  {'page':<46} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>7} {'n':>5}"


def row(result: Result, label: str = "") -> str:
    return (
        f"  {label or result.label:<46} {result.p50:8.2f} {result.p95:8.2f} "
        f"{result.queries_label:>7} {len(result.timings):>5}"
    )


def ensure_dataset(config: ScaleConfig) -> str:
    """Generate the data set if it is missing (or BENCH_REGENERATE=1); say how long it took."""
    from binome.site.generate import existing_datasets, generate

    regenerate = os.environ.get("BENCH_REGENERATE") == "1"
    existing = existing_datasets()
    if config.tag in existing and not regenerate:
        return "déjà présent (BENCH_REGENERATE=1 pour mesurer une génération complète)"
    if existing and config.tag not in existing:
        print(f"Remplacement des données générées {sorted(existing)} par « {config.tag} ».")
    started = time.perf_counter()
    report = generate(config, reset=bool(existing), log=print)
    elapsed = time.perf_counter() - started
    steps = sum(s.seconds for s in report.steps)
    return (
        f"{elapsed:.1f} s au total (étapes {steps:.1f} s, COMMIT {report.commit_seconds:.1f} s, "
        f"ANALYZE {report.analyze_seconds:.1f} s"
        + (f", suppression {sum(r.seconds for r in report.resets):.1f} s)" if existing else ")")
    )


def timed(run: Callable[[int], object], cycle: int, count: int = 0) -> list[float]:
    """Milliseconds of ``run(i)`` for i = 0, 1, … after a warm-up.

    ``count`` runs if given, else REQUESTS, stopping early (at the end of a cycle over
    the URLs) once MAX_SECONDS have passed: a page at one second needs no 300 samples.
    """
    for i in range(WARMUP):
        run(i)
    timings: list[float] = []
    deadline = time.perf_counter() + MAX_SECONDS
    for i in range(count or REQUESTS):
        if not count and i % cycle == 0 and i and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        run(i)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure(client: Client, label: str, urls: Sequence[str]) -> Result:
    """Time GETs cycling over ``urls``; then count the SQL queries of each URL once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} : statut {response.status_code}, attendu 200.")
    timings = timed(lambda i: client.get(urls[i % len(urls)]), len(urls))
    queries = []
    for url in urls:  # after the warm-up: no one-off session write in the count
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries.append(len(captured))
    return Result(label, timings, queries, urls)


def commune_sql(client: Client, urls: Sequence[str]) -> dict[str, list[str]]:
    """The SQL the autocomplete sends to PostgreSQL for each URL (its commune queries)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = {}
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        statements[url] = [
            q["sql"] for q in captured.captured_queries if '"territories_commune"' in q["sql"]
        ]
    return statements


def measure_raw_sql(label: str, statements: dict[str, list[str]], count: int) -> Result:
    """The same lookups sent as raw SQL on the psycopg connection: the database's share."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    urls = list(statements)

    def run(i: int) -> None:
        with raw.cursor() as cursor:
            for sql in statements[urls[i % len(urls)]]:
                cursor.execute(sql)
                cursor.fetchall()

    return Result(label, timed(run, len(urls), count), [len(s) for s in statements.values()])


def commune_urls(queries: Sequence[str]) -> list[str]:
    return [f"/territoires/communes/?{urlencode({'q': q})}" for q in queries]


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count, Q
    from django.test import Client

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.organisations.models import Membership, Organisation, Role, TerritoryRole

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)

    generated = f"@{config.domain}"
    users = User.objects.filter(email__endswith=generated)
    organisations = Organisation.objects.filter(email__endswith=generated)
    biggest = (
        organisations.filter(is_active=True)
        .annotate(members=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("-members", "name")
        .first()
    )
    if biggest is None:
        raise SystemExit(f"Aucune organisation générée pour « {config.tag} ».")
    # A professional without admin role: administrators must pass a second factor first.
    admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    user = (
        users.filter(
            memberships__organisation=biggest,
            memberships__is_active=True,
            memberships__role=Role.PROFESSIONAL,
        )
        .exclude(pk__in=admins)
        .exclude(territory_roles__isnull=False)
        .order_by("email")
        .first()
    )
    if user is None:
        raise SystemExit(f"Aucun professionnel sans rôle d'administration dans {biggest}.")
    department_communes = [
        item["commune__name"]
        for item in organisations.filter(department_id=biggest.department_id)
        .values("commune__name")
        .annotate(n=Count("id"))
        .order_by("-n", "commune__name")[:3]
    ]

    settings.DEBUG = False  # as in production: no query log, no template debug
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(raise_request_exception=True)
    client.force_login(user)

    print(
        f"Jeu de données « {config.tag} » : {number(users.count())} professionnels, "
        f"{number(organisations.count())} organisations, "
        f"{number(Membership.objects.filter(user__in=users).count())} appartenances, "
        f"{number(TerritoryRole.objects.filter(user__in=users).count())} rôles territoriaux"
    )
    print(f"Génération : {generation}")
    print(
        f"Connecté : {user.email} — membre de « {biggest.name} » "
        f"({biggest.members} membres actifs, département {biggest.department_id})"
    )
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page"
    )
    print()
    print(HEADER)

    pages: list[tuple[str, list[str]]] = [
        ("accueil /", ["/"]),
        ("organisations /organisations/", ["/organisations/"]),
        ("organisations, page 3", ["/organisations/?page=3"]),
        (
            f"organisations ?q= ({len(ORGANISATION_WORDS) + len(department_communes)} mots)",
            [
                f"/organisations/?{urlencode({'q': w})}"
                for w in ORGANISATION_WORDS + department_communes
            ],
        ),
        (
            f"organisation /organisations/{biggest.pk}/ ({biggest.members} m.)",
            [f"/organisations/{biggest.pk}/"],
        ),
    ]
    for label, urls in pages:
        result = measure(client, label, urls)
        print(row(result))
        if result.slowest:
            print(result.slowest)

    all_urls: list[str] = []
    page_results: list[Result] = []
    sql_results: list[Result] = []
    for kind, queries in COMMUNE_QUERIES.items():
        urls = commune_urls(queries)
        all_urls += urls
        result = measure(client, f"communes — {kind} ({len(queries)})", urls)
        sql = measure_raw_sql(f"SQL brut — {kind}", commune_sql(client, urls), len(result.timings))
        page_results.append(result)
        sql_results.append(sql)
        print(row(result))
        print(result.slowest)
        print(row(sql, "  même recherche en SQL brut"))
    page = measure(client, "communes — tout", all_urls)
    sql = measure_raw_sql("SQL brut — tout", commune_sql(client, all_urls), len(page.timings))
    print(row(page, "communes — toutes requêtes"))
    print(row(sql, "  même recherche en SQL brut"))
    print()
    print(
        f"Autocomplétion des communes / SQL brut : x{page.p50 / sql.p50:.1f} en p50, "
        f"x{page.p95 / sql.p95:.1f} en p95 "
        f"(page {page.p50:.2f} ms contre {sql.p50:.2f} ms de base de données en p50)"
    )
    for result, baseline in zip(page_results, sql_results, strict=True):
        print(
            f"  {result.label:<42} x{result.p50 / baseline.p50:.1f} en p50, "
            f"x{result.p95 / baseline.p95:.1f} en p95"
        )


if __name__ == "__main__":
    main()
