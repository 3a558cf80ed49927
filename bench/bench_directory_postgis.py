"""The directory's search side by side with a PostGIS implementation of the national API's
approach, on the same services.

The other implementation follows what the national directory's API (data·inclusion) does:
the services in one table with their structure's columns, a ``geography`` point and a
GiST index, ``ST_DWithin`` for the radius and ``ST_Distance`` for the order, and the
words as a French full-text query (``plainto_tsquery``, accents removed) on a GIN-indexed
vector of the service's name and description, its thématiques' labels, its publics and its
structure's name and description: the same words as Binôme's ``match_vector``. It runs in
its own PostgreSQL cluster (Debian's ``postgresql-<version>-postgis-3``), under
BENCH_GIS_DIR, loaded from the national data set of the project's cluster.

Run alone on the machine (see bench/README.md)::

    BINOME_VAR_DIR=<copy of the national data set> .venv/bin/binome bench directory_postgis

Environment:

BENCH_SCALE=national|departement   data set (default national; generated when missing)
BENCH_SEED=42                      its seed
BENCH_QUERIES=60                   searches of each kind
BENCH_ROUNDS=3                     timed runs of every search by each side (p50 and p95 over
                                   all of them)
BENCH_GIS_DIR=/tmp/bench-search-gis  the PostGIS cluster (created and loaded when missing)
BENCH_GIS_BIN=…                    its server's bin directory (default: the highest
                                   /usr/lib/postgresql/<v>/bin whose lib has postgis-3)
BENCH_PAGES=path.json              Binôme's pages 1 and 3 of every search (480 pages): written
                                   to that file when it does not exist, else compared with it
                                   (totals, services in order, scores, distances) — run once
                                   before a change of the search, once after
BENCH_TIMINGS=0                    only the pages' check, no timed runs
BENCH_CPU=3                        the CPU table: each search run this many times by each
                                   side, its best kept (0: no CPU table)

Four kinds of searches, each run by both in turn (Binôme's ``search_services``, a page of
20 services built as objects; the other's one SQL statement, a page of 20 rows with every
column): place only (commune + 30 km), words only (all of France), words + place, and
filters (catégorie + public + commune + 30 km). Every search is run once by each before
the timed runs, then BENCH_ROUNDS times by each, in turn: a single run of 60 searches moved
the ratio of the medians by 0.1 from one run of the bench to the next on a shared machine.
It prints p50/p95 of each and the ratio Binôme / PostGIS (goal: ≤ 0.7).

Then the same searches measured in CPU time rather than on the wall clock: for each
search, the CPU its PostgreSQL backend spent (``/proc/<pid>/schedstat``) plus this
process's (``time.process_time``: Python, the driver, its system calls), the best of
BENCH_CPU runs. On a shared machine the wall clock also counts the time spent waiting for
a CPU, which moves both sides' figures by 20 to 30 % from one run to the next; the CPU
time does not.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

QUERIES = int(os.environ.get("BENCH_QUERIES", "60"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GIS_DIR = Path(os.environ.get("BENCH_GIS_DIR", "/tmp/bench-search-gis"))  # noqa: S108
ACCOUNT = "binome-pg"  # the embedded cluster's unprivileged account (PostgreSQL refuses root)
WORDS = [
    "crèche", "permis de conduire", "permis", "surendettement", "logement d'urgence",
    "hébergement d'urgence", "aide alimentaire", "garde d'enfant urgente", "épicerie",
    "numérique", "CV", "formation", "santé mentale", "garde d'enfants", "budget",
]  # fmt: skip
RADIUS_KM = 30
PER_PAGE = 20


def gis_bin() -> Path:
    if os.environ.get("BENCH_GIS_BIN"):
        return Path(os.environ["BENCH_GIS_BIN"])
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*") if (p / "lib" / "postgis-3.so").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        sys.exit(
            "PostGIS introuvable : installer le paquet Debian postgresql-<version>-postgis-3 "
            "(apt-get install postgresql-15-postgis-3 sur Debian 12)."
        )
    return versions[-1] / "bin"


def _as_account(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", ACCOUNT, "--", *cmd] if os.geteuid() == 0 else cmd


def start_gis_cluster() -> str:
    """The PostGIS cluster under GIS_DIR, created and started when needed: its conninfo."""
    data, run, log = GIS_DIR / "pgdata", GIS_DIR / "run", GIS_DIR / "postgresql.log"
    binaries = gis_bin()
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)
        for directory in (data, run):
            directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # The account exists: the project's embedded cluster made it.
            shutil.chown(GIS_DIR, ACCOUNT)
            for path in (data, run):
                shutil.chown(path, ACCOUNT)
            os.chmod(GIS_DIR, 0o755)  # noqa: S103 (the server's account goes through it)
        subprocess.run(
            _as_account(
                [
                    *(str(binaries / "initdb"), "-D", str(data), "-U", "postgres"),
                    *("--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"),
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with (data / "postgresql.conf").open("a") as conf:
            # The embedded cluster's settings (binome/core/embedded_pg.py), for a fair match.
            conf.write(
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{run}'\n"
                "shared_buffers = 256MB\nwork_mem = 16MB\nmaintenance_work_mem = 256MB\n"
                "timezone = 'UTC'\n"
            )
    if not (data / "postmaster.pid").exists():
        if os.geteuid() == 0 and not log.exists():
            log.touch()
            shutil.chown(log, ACCOUNT)
        subprocess.run(
            _as_account([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return f"host={run} user=postgres dbname=postgres"


SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS unaccent;
DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;
CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION french_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
DROP TABLE IF EXISTS service;
CREATE TABLE service (
    id bigint PRIMARY KEY, name text, description text, structure_id bigint,
    structure_name text, structure_description text, thematiques text[], publics text[],
    publics_details text, fees text, type text, reception_modes text[],
    eligibility_zone text[], latitude float8, longitude float8, status text,
    updated_on date, update_frequency_days int, phone text, email text,
    mobilisation_details text, mobilisation_link text, commune_id text, commune_name text,
    point geography(Point, 4326), vector tsvector
);
"""

# The columns copied from Binôme's directory (one row per service, its structure's and its
# commune's columns beside it).
COPIED = """
    SELECT s.id, s.name, s.description, s.structure_id, st.name, st.description,
           s.thematiques, s.publics, s.publics_details, s.fees, s.type, s.reception_modes,
           s.eligibility_zone, s.latitude, s.longitude, s.status, s.updated_on,
           s.update_frequency_days, s.phone, s.email, s.mobilisation_details,
           s.mobilisation_link, s.commune_id, c.name
    FROM directory_service s
    JOIN directory_structure st ON st.id = s.structure_id
    LEFT JOIN territories_commune c ON c.insee_code = s.commune_id
"""
COLUMNS = (
    "id, name, description, structure_id, structure_name, structure_description, thematiques,"
    " publics, publics_details, fees, type, reception_modes, eligibility_zone, latitude,"
    " longitude, status, updated_on, update_frequency_days, phone, email,"
    " mobilisation_details, mobilisation_link, commune_id, commune_name"
)


def load_gis(gis: Any, count: int) -> float:
    """Copy the services into the PostGIS cluster unless it holds them: seconds taken."""
    from django.db import connection

    from binome.directory import referentials as ref

    with gis.cursor() as cursor:
        cursor.execute("SELECT to_regclass('service') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT count(*) FROM service")
            if cursor.fetchone()[0] == count:
                return 0.0
    started = time.perf_counter()
    categories = dict(ref.CATEGORIES)
    labels = {
        code: f"{categories.get(code.split('--', 1)[0], '')} {label}".strip()
        for code, label in ref.THEMATIQUES
    }
    labels.update(dict(ref.PUBLICS))
    with gis.cursor() as cursor:
        cursor.execute(SCHEMA)
        with (
            connection.cursor() as source,
            source.cursor.copy(f"COPY ({COPIED}) TO STDOUT") as out,
            cursor.copy(f"COPY service ({COLUMNS}) FROM STDIN") as into,
        ):
            for block in out:
                into.write(block)
        cursor.execute(
            """
            UPDATE service SET
                point = CASE WHEN latitude IS NOT NULL AND longitude IS NOT NULL
                        THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography END,
                vector =
                    setweight(to_tsvector('french_unaccent', coalesce(name, '')), 'A')
                    || setweight(to_tsvector('french_unaccent', coalesce(structure_name, '')
                        || ' ' || coalesce((SELECT string_agg(%(labels)s::jsonb ->> code, ' ')
                                           FROM unnest(thematiques) AS code), '')), 'B')
                    || setweight(to_tsvector('french_unaccent',
                        left(coalesce(description, ''), 20000)), 'C')
                    || setweight(to_tsvector('french_unaccent', concat_ws(' ',
                        (SELECT string_agg(%(labels)s::jsonb ->> code, ' ')
                         FROM unnest(publics) AS code),
                        left(publics_details, 2000),
                        left(structure_description, 20000))), 'D')
            """,
            {"labels": json.dumps(labels, ensure_ascii=False)},
        )
        for index in (
            "CREATE INDEX service_point ON service USING gist (point)",
            "CREATE INDEX service_vector ON service USING gin (vector)",
            "CREATE INDEX service_thematiques ON service USING gin (thematiques)",
            "CREATE INDEX service_publics ON service USING gin (publics)",
            "CREATE INDEX service_reception_modes ON service USING gin (reception_modes)",
        ):
            cursor.execute(index)
        cursor.execute("VACUUM ANALYZE service")
    return time.perf_counter() - started


def gis_search(
    cursor: Any,
    *,
    codes: tuple[str, ...] = (),
    publics: tuple[str, ...] = (),
    commune: Any = None,
    text: str = "",
) -> tuple[int, list[Any]]:
    """The other implementation: one statement, a page of rows and the total."""
    params: dict[str, Any] = {"published": "published", "limit": PER_PAGE}
    where = ["s.status = %(published)s"]
    order = "s.id"
    distance = "NULL::float8"
    if codes:
        where.append("s.thematiques && %(codes)s::text[]")
        params["codes"] = list(codes)
    if publics:
        where.append("s.publics && %(publics)s::text[]")
        params["publics"] = [*publics, "tous-publics"]
    if text:
        where.append("s.vector @@ plainto_tsquery('french_unaccent', %(text)s)")
        params["text"] = text
        order = "ts_rank(s.vector, plainto_tsquery('french_unaccent', %(text)s)) DESC, s.id"
    if commune is not None:
        params.update(
            lon=commune.longitude,
            lat=commune.latitude,
            radius=RADIUS_KM * 1000.0,
            zone=[commune.insee_code, commune.department_id, commune.epci_id or "", "france"],
        )
        centre = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
        where.append(
            f"(ST_DWithin(s.point, {centre}, %(radius)s) OR s.reception_modes @> '{{a-distance}}')"
        )
        where.append("(s.eligibility_zone = '{}' OR s.eligibility_zone && %(zone)s::text[])")
        distance = f"ST_Distance(s.point, {centre})"
        order = f"distance NULLS LAST, {order}"
    cursor.execute(
        f"SELECT s.*, {distance} AS distance, count(*) OVER () AS total FROM service s"  # noqa: S608
        f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT %(limit)s",
        params,
    )
    rows = cursor.fetchall()
    return (rows[0][-1] if rows else 0), rows


def make_plans() -> dict[str, list[dict[str, Any]]]:
    """The searches of each kind: the same ones in every run on the same data set."""
    from binome.directory import referentials as ref
    from binome.territories.models import Commune

    rng = random.Random(11)
    communes = list(
        Commune.objects.filter(population__gt=0).order_by("-population", "insee_code")[:2000]
    )
    categories = [code for code, _l in ref.CATEGORIES]
    publics = [code for code, _l in ref.PUBLICS if code != "tous-publics"]

    def commune(i: int) -> Any:
        # Half in the 200 biggest communes (the densest results), half elsewhere.
        return rng.choice(communes[:200] if i % 2 else communes)

    return {
        "sans mots (commune + 30 km)": [{"commune": commune(i)} for i in range(QUERIES)],
        "mots (toute la France)": [{"text": WORDS[i % len(WORDS)]} for i in range(QUERIES)],
        "mots + distance": [
            {"text": WORDS[i % len(WORDS)], "commune": commune(i)} for i in range(QUERIES)
        ],
        "filtres (catégorie + public + 30 km)": [
            {
                "categories": (rng.choice(categories),),
                "publics": (rng.choice(publics),),
                "commune": commune(i),
            }
            for i in range(QUERIES)
        ],
    }


def page_of(result: Any) -> dict[str, Any]:
    """What a page shows: the total, and each service's id, score and distance in order
    (floats rounded to 1e-9: the same ranking computed in another order of operations)."""

    def rounded(value: Any) -> Any:
        return None if value is None else round(float(value), 9)

    return {
        "total": result.total,
        "services": [[s.id, rounded(s.score), rounded(s.distance_km)] for s in result.services],
    }


def check_pages(path: Path, plans: dict[str, list[dict[str, Any]]]) -> bool:
    """Binôme's pages 1 and 3 of every search written to ``path``, or compared with it."""
    from binome.directory.search import search_services

    pages = {}
    for kind, kind_plans in plans.items():
        for i, plan in enumerate(kind_plans):
            for page in (1, 3):
                result = search_services(radius_km=RADIUS_KM, per_page=PER_PAGE, page=page, **plan)
                pages[f"{kind} #{i} p{page}"] = page_of(result)
    if not path.exists():
        path.write_text(json.dumps(pages, ensure_ascii=False, indent=0), encoding="utf-8")
        print(f"Pages : {len(pages)} pages écrites dans {path}")
        return True
    before = json.loads(path.read_text(encoding="utf-8"))
    differing = [key for key in pages if before.get(key) != pages[key]]
    differing += [key for key in before if key not in pages]
    print(
        f"Pages : {len(pages) - len(differing)} / {len(pages)} identiques à {path}"
        + (" (différentes : " + ", ".join(differing[:10]) + ")" if differing else "")
    )
    return not differing


def backend_cpu_ms(pid: int) -> float:
    """The CPU time a PostgreSQL backend has used so far (its process's schedstat), in ms."""
    with open(f"/proc/{pid}/schedstat") as stat:
        return int(stat.read().split()[0]) / 1e6


def cpu_table(
    plans: dict[str, list[dict[str, Any]]],
    ours: Callable[[dict[str, Any]], int],
    theirs: Callable[[dict[str, Any]], int],
    connection: Any,
    gis: Any,
    runs: int,
) -> None:
    """p50 / p95 of each kind's searches in CPU time (backend + this process), each the
    best of ``runs``, both sides in turn."""
    from bench_foundation import percentile  # type: ignore[import-not-found]

    connection.ensure_connection()
    sides = [
        (ours, connection.connection.info.backend_pid),
        (theirs, gis.info.backend_pid),
    ]
    print(
        f"\n  CPU (PostgreSQL + Python), meilleur de {runs} :\n"
        f"  {'recherche':<38} {'Binôme p50':>10} {'p95':>7} {'PostGIS p50':>11} {'p95':>7}"
        f" {'ratio p50':>9} {'p95':>5}   (dont PostgreSQL p50 : Binôme / PostGIS)"
    )
    for kind, kind_plans in plans.items():
        totals: list[list[float]] = [[], []]
        backends: list[list[float]] = [[], []]
        for plan in kind_plans:
            best: list[tuple[float, float]] = [(math.inf, 0.0), (math.inf, 0.0)]
            for _ in range(runs):
                for side, (run, pid) in enumerate(sides):
                    backend, process = backend_cpu_ms(pid), time.process_time()
                    run(plan)
                    spent_backend = backend_cpu_ms(pid) - backend
                    total = spent_backend + (time.process_time() - process) * 1000
                    if total < best[side][0]:
                        best[side] = (total, spent_backend)
            for side in (0, 1):
                totals[side].append(best[side][0])
                backends[side].append(best[side][1])
        (o50, o95), (t50, t95) = ((percentile(t, 50), percentile(t, 95)) for t in totals)
        print(
            f"  {kind:<38} {o50:>10.1f} {o95:>7.1f} {t50:>11.1f} {t95:>7.1f}"
            f" {o50 / t50:>8.2f}x {o95 / t95:>4.2f}x"
            f"   ({percentile(backends[0], 50):.1f} / {percentile(backends[1], 50):.1f})"
        )


def main() -> None:
    import django

    django.setup()
    import psycopg
    from bench_foundation import ensure_dataset, percentile  # type: ignore[import-not-found]
    from django.conf import settings
    from django.db import connection

    from binome.core.generation import scale_config
    from binome.directory.models import Service
    from binome.directory.search import search_services, wanted_thematiques

    settings.DEBUG = False  # as in production and the other benchmarks: no query log
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    print("Jeu de données :", ensure_dataset(config))
    count = Service.objects.count()
    conninfo = start_gis_cluster()
    with psycopg.connect(conninfo, autocommit=True) as gis:
        with gis.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cursor.execute("SELECT version(), postgis_lib_version()")
            version, postgis = cursor.fetchone()
        print(f"PostGIS {postgis} ({version.split(',')[0]}), {GIS_DIR}")
        seconds = load_gis(gis, count)
        print(f"  {count:,} services".replace(",", "\u202f"), end="")
        print(f", chargés en {seconds:.1f} s" if seconds else " (déjà chargés)")
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            print(f"Binôme : {cursor.fetchone()[0].split(',')[0]}")

        plans = make_plans()
        if os.environ.get("BENCH_PAGES"):
            same = check_pages(Path(os.environ["BENCH_PAGES"]), plans)
            if os.environ.get("BENCH_TIMINGS") == "0":
                sys.exit(0 if same else 1)
        gis_cursor = gis.cursor()

        def ours(plan: dict[str, Any]) -> int:
            return search_services(radius_km=RADIUS_KM, per_page=PER_PAGE, **plan).total

        def theirs(plan: dict[str, Any]) -> int:
            codes = wanted_thematiques(categories=plan.get("categories", ()))
            return gis_search(
                gis_cursor,
                codes=codes,
                publics=plan.get("publics", ()),
                commune=plan.get("commune"),
                text=plan.get("text", ""),
            )[0]

        def timed(run: Callable[[dict[str, Any]], int], plan: dict[str, Any]) -> tuple[float, int]:
            started = time.perf_counter()
            total = run(plan)
            return (time.perf_counter() - started) * 1000, total

        print(
            f"\n  {'recherche':<38} {'Binôme p50':>10} {'p95':>7} {'PostGIS p50':>11} {'p95':>7}"
            f" {'ratio p50':>9} {'p95':>5} {'trouvés (moy.)':>15}"
        )
        for kind, kind_plans in plans.items():
            for plan in kind_plans:  # warm-up: every search once by each
                ours(plan)
                theirs(plan)
            our_ms: list[float] = []
            their_ms: list[float] = []
            our_totals: list[int] = []
            their_totals: list[int] = []
            for turn, plan in enumerate(kind_plans * ROUNDS):
                # In turn, the first one alternating from one search to the next and from
                # one round to the next: a burst of load hits both alike.
                runs = [(ours, our_ms, our_totals), (theirs, their_ms, their_totals)]
                first = (turn + turn // len(kind_plans)) % 2
                for run, timings, totals in runs if first == 0 else reversed(runs):
                    ms, total = timed(run, plan)
                    timings.append(ms)
                    totals.append(total)
            o50, o95 = percentile(our_ms, 50), percentile(our_ms, 95)
            t50, t95 = percentile(their_ms, 50), percentile(their_ms, 95)
            our_found = sum(our_totals) / len(our_totals)
            their_found = sum(their_totals) / len(their_totals)
            found = f"{our_found:,.0f} / {their_found:,.0f}".replace(",", "\u202f")
            print(
                f"  {kind:<38} {o50:>10.1f} {o95:>7.1f} {t50:>11.1f} {t95:>7.1f}"
                f" {o50 / t50:>8.2f}x {o95 / t95:>4.2f}x {found:>15}"
            )
        cpu_runs = int(os.environ.get("BENCH_CPU", "3"))
        if cpu_runs > 0:
            cpu_table(plans, ours, theirs, connection, gis, cpu_runs)
        print(
            "\n  services trouvés par chaque recherche de mots (France entière), Binôme / PostGIS :"
        )
        for words in WORDS:
            print(f"    « {words} » : {ours({'text': words}):,} / {theirs({'text': words}):,}")
        print(
            "\n  ratio : Binôme / PostGIS (objectif ≤ 0,7). trouvés : total moyen de Binôme / de"
            " PostGIS (Binôme cherche aussi les fins de mots et corrige les fautes)."
        )


if __name__ == "__main__":
    main()
