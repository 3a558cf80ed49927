"""Search of the directory on the national data set: search_services, the same SQL sent raw,
and the search page end to end.

Run with ``.venv/bin/binome bench directory`` (see bench/README.md). Environment:

BENCH_SCALE=national|departement   data set (default national; generated when missing)
BENCH_SEED=42                      its seed
BENCH_QUERIES=300                  varied searches (catégorie + commune + 30 km, ± words)
"""

from __future__ import annotations

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
    from binome.core.generate import scale_config
    from binome.directory import referentials as ref
    from binome.directory.models import Service
    from binome.directory.search import search_services
    from binome.territories.models import Commune

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    print("Jeu de données :", ensure_dataset(config))
    print(f"  {Service.objects.count():,} services".replace(",", "\u202f"))

    rng = random.Random(7)
    communes = list(
        Commune.objects.filter(population__gt=0)
        .order_by("-population")
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

    def run(plan: dict[str, Any]) -> Any:
        return search_services(**plan)

    for plan in plans[:30]:  # warm-up
        run(plan)
    orm_ms: list[float] = []
    raw_ms: list[float] = []
    sqls: list[list[tuple[str, Any]]] = []
    totals: list[int] = []
    for plan in plans:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = run(plan)
            orm_ms.append((time.perf_counter() - started) * 1000)
        totals.append(result.total)
        sqls.append([(q["sql"], None) for q in captured.captured_queries])
    # The same SQL replayed on the raw psycopg connection (the text Django sent, params
    # already inlined by the capture: the database's share of the function's time).
    raw = connection.connection
    with raw.cursor() as cursor:
        for queries in sqls:
            started = time.perf_counter()
            for sql, _params in queries:
                cursor.execute(sql)
                cursor.fetchall()
            raw_ms.append((time.perf_counter() - started) * 1000)

    def line(label: str, values: list[float]) -> str:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        return f"  {label:<52} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"

    words = [i for i, p in enumerate(plans) if "text" in p]
    no_words = [i for i, p in enumerate(plans) if "text" not in p]
    print(f"{len(plans)} recherches « catégorie + commune + 30 km » ({len(words)} avec des mots) ;")
    print(f"  résultats : médiane {percentile(totals, 50)}, max {max(totals)}")
    print(line("search_services, toutes", orm_ms))
    print(line("search_services, sans mots", [orm_ms[i] for i in no_words]))
    print(line("search_services, avec mots", [orm_ms[i] for i in words]))
    print(line("même SQL brut (psycopg), toutes", raw_ms))
    print(line("même SQL brut, avec mots", [raw_ms[i] for i in words]))
    ratio50 = percentile(orm_ms, 50) / percentile(raw_ms, 50)
    ratio95 = percentile(orm_ms, 95) / percentile(raw_ms, 95)
    print(
        f"  ratio search_services / SQL brut : p50 {ratio50:.2f}x, p95 {ratio95:.2f}x "
        "(objectif ≤ 2x)"
    )
    print(f"  SQL par recherche : {min(len(q) for q in sqls)} à {max(len(q) for q in sqls)}")

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
    for query in params:
        started = time.perf_counter()
        client.get(url, query)
        page_ms.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params[0])
    print(line("page /annuaire/ de bout en bout (Client)", page_ms) + f"   SQL {len(captured)}")
    print("  objectifs : search_services p95 ≤ 30 ms, page p95 ≤ 120 ms")


if __name__ == "__main__":
    main()
