"""Search of the directory on the national data set: search_services, the same SQL sent raw,
and the search page end to end.

Run with ``.venv/bin/binome bench directory`` (see bench/README.md). Environment:

BENCH_SCALE=national|departement   data set (default national; generated when missing)
BENCH_SEED=42                      its seed
BENCH_QUERIES=300                  varied searches (catégorie + commune + 30 km, ± words)
BENCH_RESULTS=FILE                 write each search's total and ranked ids to FILE (JSON),
                                   to compare the results of two versions of the code
BENCH_COMPARE=FILE                 compare each search's total and ranked ids with FILE
                                   (written by BENCH_RESULTS): how many differ, and how

Each line gives the wall-clock time and, when the PostgreSQL backend is a local process,
the CPU time of the request: this process's plus the backend's (``/proc/<pid>/schedstat``,
in nanoseconds). On a busy machine the wall clock counts the time spent waiting for a CPU;
the CPU time is close to what a quiet machine would show.

Every search is run once before the timed runs (warm caches: the steady state of a server).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

QUERIES = int(os.environ.get("BENCH_QUERIES", "300"))
WORDS = [
    "crèche", "permi de conduir", "permis", "surendettement", "logement d'urgence", "creche",
    "épicerie", "numérique", "CV", "formation", "santé mentale", "garde d'enfants",
    "alimentaire", "voiture", "budget",
]  # fmt: skip


def make_plans() -> list[dict[str, Any]]:
    """The searches: the same ones in every run on the same data set."""
    from binome.directory import referentials as ref
    from binome.territories.models import Commune

    rng = random.Random(7)
    communes = list(
        Commune.objects.filter(population__gt=0)
        .order_by("-population", "insee_code")  # communes of equal population: fixed order
        .values_list("insee_code", flat=True)[:2000]
    )
    categories = [code for code, _l in ref.CATEGORIES]
    by_code = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=communes)}
    plans: list[dict[str, Any]] = []
    for i in range(QUERIES):
        # Half in the 200 biggest communes (the densest results), half elsewhere.
        code = rng.choice(communes[:200] if i % 2 else communes)
        plan: dict[str, Any] = {
            "categories": [rng.choice(categories)],
            "commune": by_code[code],
            "radius_km": 30,
        }
        if i % 3 == 0:
            plan["text"] = rng.choice(WORDS)
        plans.append(plan)
    return plans


def main() -> None:
    import django

    django.setup()
    from bench_foundation import ensure_dataset, percentile  # type: ignore[import-not-found]
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.directory.models import Service
    from binome.directory.search import search_services

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    print("Jeu de données :", ensure_dataset(config))
    print(f"  {Service.objects.count():,} services".replace(",", "\u202f"))

    plans = make_plans()

    def run(plan: dict[str, Any]) -> Any:
        return search_services(**plan)

    connection.ensure_connection()
    schedstat = Path(f"/proc/{connection.connection.info.backend_pid}/schedstat")

    def cpu_ms() -> float:
        """CPU milliseconds used so far by this process and its PostgreSQL backend."""
        backend = int(schedstat.read_text().split()[0]) / 1e6 if schedstat.exists() else 0.0
        return time.process_time() * 1000 + backend

    class Timer:
        """Wall-clock and CPU milliseconds of a block, appended to two lists."""

        def __init__(self, wall: list[float], cpu: list[float]) -> None:
            self.wall, self.cpu = wall, cpu

        def __enter__(self) -> None:
            self.started, self.cpu_started = time.perf_counter(), cpu_ms()

        def __exit__(self, *exc: object) -> None:
            self.wall.append((time.perf_counter() - self.started) * 1000)
            self.cpu.append(cpu_ms() - self.cpu_started)

    # Warm-up: every search once, so that the directory's pages are in memory as on a server
    # that answers searches all day, whatever ran before (an import evicts them: the first
    # searches after it read the disk, and measured that, not the search).
    for plan in plans:
        run(plan)
    orm_ms: list[float] = []
    orm_cpu: list[float] = []
    raw_ms: list[float] = []
    raw_cpu: list[float] = []
    sqls: list[list[tuple[str, Any]]] = []
    totals: list[int] = []
    results: list[list[Any]] = []
    for plan in plans:
        with CaptureQueriesContext(connection) as captured, Timer(orm_ms, orm_cpu):
            result = run(plan)
        totals.append(result.total)
        results.append([result.total, [service.pk for service in result.services]])
        sqls.append([(q["sql"], None) for q in captured.captured_queries])
    if os.environ.get("BENCH_RESULTS"):
        Path(os.environ["BENCH_RESULTS"]).write_text(json.dumps(results), encoding="utf-8")
    compared = ""
    if os.environ.get("BENCH_COMPARE"):
        compared = compare(
            plans, results, json.loads(Path(os.environ["BENCH_COMPARE"]).read_text("utf-8"))
        )
    # The same SQL replayed on the raw psycopg connection (the text Django sent, params
    # already inlined by the capture: the database's share of the function's time).
    raw = connection.connection
    with raw.cursor() as cursor:
        for queries in sqls:
            with Timer(raw_ms, raw_cpu):
                for sql, _params in queries:
                    cursor.execute(sql)
                    cursor.fetchall()

    def line(label: str, values: list[float], cpu: list[float] | None = None) -> str:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        text = f"  {label:<46} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
        if cpu and schedstat.exists():
            text += f"   CPU p50 {percentile(cpu, 50):6.2f}   p95 {percentile(cpu, 95):6.2f}"
        return text

    words = [i for i, p in enumerate(plans) if "text" in p]
    no_words = [i for i, p in enumerate(plans) if "text" not in p]
    print(f"{len(plans)} recherches « catégorie + commune + 30 km » ({len(words)} avec des mots) ;")
    print(f"  résultats : médiane {percentile(totals, 50)}, max {max(totals)}")

    def some(values: list[float], indexes: list[int]) -> list[float]:
        return [values[i] for i in indexes]

    print(line("search_services, toutes", orm_ms, orm_cpu))
    print(line("search_services, sans mots", some(orm_ms, no_words), some(orm_cpu, no_words)))
    print(line("search_services, avec mots", some(orm_ms, words), some(orm_cpu, words)))
    print(line("même SQL brut (psycopg), toutes", raw_ms, raw_cpu))
    print(line("même SQL brut, avec mots", some(raw_ms, words), some(raw_cpu, words)))
    for kind, orm, raw_values in (("temps réel", orm_ms, raw_ms), ("CPU", orm_cpu, raw_cpu)):
        if kind == "CPU" and not schedstat.exists():
            continue
        ratio50 = percentile(orm, 50) / percentile(raw_values, 50)
        ratio95 = percentile(orm, 95) / percentile(raw_values, 95)
        print(
            f"  ratio search_services / SQL brut ({kind}) : p50 {ratio50:.2f}x, "
            f"p95 {ratio95:.2f}x (objectif ≤ 2x)"
        )
    print(f"  SQL par recherche : {min(len(q) for q in sqls)} à {max(len(q) for q in sqls)}")
    if compared:
        print(compared)

    user = User.objects.filter(email__endswith=f"@{config.domain}").order_by("id").first()
    if user is None:
        raise SystemExit("Aucun professionnel généré.")
    client = Client()
    client.force_login(user)
    url = reverse("directory:search")
    params = []
    for plan in plans:
        query = {
            "categorie": plan["categories"][0],
            "commune": plan["commune"].insee_code,
            "rayon": "30",
        }
        if "text" in plan:
            query["q"] = plan["text"]
        params.append(query)
    for query in params[:30]:
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"{url} : statut {response.status_code}")
    page_ms: list[float] = []
    page_cpu: list[float] = []
    for query in params:
        with Timer(page_ms, page_cpu):
            client.get(url, query)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params[0])
    print(line("page /annuaire/ de bout en bout (Client)", page_ms, page_cpu))
    print(f"  SQL par page : {len(captured)}")
    # The fixed cost of the page: the same page and form, without a search.
    empty_ms: list[float] = []
    empty_cpu: list[float] = []
    for _ in range(len(params) // 3):
        with Timer(empty_ms, empty_cpu):
            client.get(url)
    print(line("page /annuaire/ sans recherche (coût fixe)", empty_ms, empty_cpu))
    print("  objectifs : search_services p95 ≤ 30 ms, page p95 ≤ 120 ms")


def compare(plans: list[dict[str, Any]], results: list[Any], earlier: list[Any]) -> str:
    """How many searches give another total or another first page than ``earlier``, with
    and without words, and for the words, which ones (total before → after)."""
    lines = [f"Comparaison avec {os.environ['BENCH_COMPARE']} :"]
    changed: dict[str, list[str]] = {}
    counts = {"sans mots": [0, 0, 0], "avec mots": [0, 0, 0]}
    for plan, (total, ids), (total_before, ids_before) in zip(plans, results, earlier, strict=True):
        kind = "avec mots" if "text" in plan else "sans mots"
        counts[kind][0] += 1
        if total != total_before:
            counts[kind][1] += 1
        if ids != ids_before:
            counts[kind][2] += 1
        if total != total_before or ids != ids_before:
            key = plan.get("text", "")
            changed.setdefault(key, []).append(f"{total_before}→{total}")
    for kind, (n, totals, pages) in counts.items():
        lines.append(
            f"  {kind} : {n} recherches, {totals} avec un autre total, "
            f"{pages} avec une autre première page"
        )
    for text, changes in sorted(changed.items()):
        lines.append(f"    « {text} » ({len(changes)}) : {', '.join(changes[:8])}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
