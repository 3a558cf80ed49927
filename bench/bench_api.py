"""The partners' API on the national data set: GET /api/v1/services against calling
search_services directly with the same filters, in the same run.

Run with ``.venv/bin/binome bench api`` (see bench/README.md). Environment:

BENCH_SCALE=national|departement   data set (default national; generated when missing)
BENCH_SEED=42                      its seed
BENCH_QUERIES=300                  varied searches (catégorie + commune + 30 km, ± words)

The API's cost over the function: the Django request (middleware, URL, ninja), the token
and rate counter statement, the form that validates the parameters (the commune's query),
and the JSON of 20 services. The run creates one token (audited) and revokes it at the end.
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
WARMUP = 30
WORDS = [
    "crèche", "permi de conduir", "permis", "surendettement", "logement d'urgence", "creche",
    "épicerie", "numérique", "CV", "formation", "santé mentale", "garde d'enfants",
    "alimentaire", "voiture", "budget",
]  # fmt: skip


def measure(secret: str) -> None:
    from bench_foundation import percentile  # type: ignore[import-not-found]
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from binome.directory import referentials as ref
    from binome.directory.models import PublicationStatus, Service
    from binome.directory.search import search_services
    from binome.territories.models import Commune

    headers = {"Authorization": f"Bearer {secret}"}
    client = Client()
    rng = random.Random(7)
    communes = list(
        Commune.objects.filter(population__gt=0)
        .order_by("-population")
        .values_list("insee_code", flat=True)[:2000]
    )
    by_code = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=communes)}
    categories = [code for code, _l in ref.CATEGORIES]
    plans: list[tuple[dict[str, Any], dict[str, str]]] = []
    for i in range(QUERIES + WARMUP):
        code = rng.choice(communes[:200] if i % 2 else communes)
        category = rng.choice(categories)
        direct: dict[str, Any] = {"categories": [category], "commune": by_code[code]}
        direct["radius_km"] = 30
        query = {"categorie": category, "commune": code, "rayon": "30"}
        if i % 3 == 0:
            direct["text"] = query["q"] = rng.choice(WORDS)
        plans.append((direct, query))

    url = "/api/v1/services"
    direct_ms: list[float] = []
    api_ms: list[float] = []
    for i, (direct, query) in enumerate(plans):
        # Interleaved, so that both see the same load of a shared machine.
        started = time.perf_counter()
        result = search_services(**direct)
        elapsed_direct = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        response = client.get(url, query, headers=headers)
        elapsed_api = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} : statut {response.status_code} {response.content[:300]!r}")
        if [s["id"] for s in response.json()["resultats"]] != [s.pk for s in result.services]:
            raise SystemExit(f"{url}?{query} : pas les mêmes services que search_services")
        if i >= WARMUP:
            direct_ms.append(elapsed_direct)
            api_ms.append(elapsed_api)

    def line(label: str, values: list[float], extra: str = "") -> str:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        return f"  {label:<44} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{extra}"

    with CaptureQueriesContext(connection) as captured:
        client.get(url, plans[1][1], headers=headers)
    words = [i for i, (d, _q) in enumerate(plans[WARMUP:]) if "text" in d]
    print(f"{QUERIES} recherches « catégorie + commune + 30 km » ({len(words)} avec des mots) :")
    print(line("search_services (appel direct)", direct_ms))
    print(line("GET /api/v1/services (Client, jeton)", api_ms, f"   SQL {len(captured)}"))
    print(line("GET /api/v1/services, avec mots", [api_ms[i] for i in words]))
    ratio50 = percentile(api_ms, 50) / percentile(direct_ms, 50)
    ratio95 = percentile(api_ms, 95) / percentile(direct_ms, 95)
    print(f"  ratio API / search_services : p50 {ratio50:.2f}x, p95 {ratio95:.2f}x")
    overhead = sorted(a - d for a, d in zip(api_ms, direct_ms, strict=True))
    print(
        f"  surcoût de l'API par requête : p50 {percentile(overhead, 50):.2f} ms, "
        f"p95 {percentile(overhead, 95):.2f} ms (requête Django, jeton et compteur, "
        "formulaire, JSON de 20 services)"
    )

    # The other endpoints, for reference.
    service_ids = list(
        Service.objects.filter(status=PublicationStatus.PUBLISHED)
        .order_by("?")
        .values_list("id", flat=True)[:100]
    )
    departments = sorted({by_code[code].department_id for code in communes[:200]})
    others = {
        "GET /api/v1/services/{id}": [f"/api/v1/services/{pk}" for pk in service_ids],
        "GET /api/v1/structures?departement=": [
            f"/api/v1/structures?departement={d}" for d in departments
        ],
        "GET /api/v1/structures?departement=&q=": [
            f"/api/v1/structures?departement={d}&q=association" for d in departments
        ],
    }
    for label, urls in others.items():
        timings: list[float] = []
        for i in range(220):
            path = urls[i % len(urls)]
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} : statut {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(urls[0], headers=headers)
        print(line(label, timings[20:], f"   SQL {len(captured)}"))


def main() -> None:
    import django

    django.setup()
    from bench_foundation import ensure_dataset
    from django.conf import settings

    from binome.api import actions
    from binome.core.generation import scale_config
    from binome.directory.models import Service, Structure
    from binome.organisations.models import Membership, Role

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    # The counter is still incremented on every request (its cost is measured); the limit
    # is lifted so that the benchmark's own requests are not refused.
    settings.API_RATE_LIMIT = 10**9
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    print("Jeu de données :", ensure_dataset(config))
    counts = f"  {Service.objects.count():,} services, {Structure.objects.count():,} structures"
    print(counts.replace(",", "\u202f"))

    admin = (
        Membership.objects.filter(role=Role.ADMIN, user__email__endswith=f"@{config.domain}")
        .select_related("user", "organisation")
        .order_by("id")
        .first()
    )
    if admin is None:
        raise SystemExit("Aucun administrateur d'organisation généré.")
    token, secret = actions.create_token(
        organisation=admin.organisation, name="Banc d'essai", by=admin.user
    )
    try:
        measure(secret)
    finally:
        actions.revoke_token(token=token, by=admin.user)


if __name__ == "__main__":
    main()
