"""Server-side timings of the steering dashboards (binome/steering): a département's and the
national one.

Run with ``.venv/bin/binome bench steering`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goals at the national volume: a
département's dashboard p95 ≤ 300 ms, the national one p95 ≤ 2 s.

The département is the one with the most global accompaniments, read by one of its generated
steering officers; the national dashboard by the same officer given the permission
``steering.view_national_dashboard`` for the run (taken back at its end). Two periods: the
three months before the data set's reference date, and a whole year. Baselines in the same
run: the SQL of the département's dashboard sent straight to PostgreSQL (one cursor, no ORM,
no template), and the officer's home page.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import HEADER, CpuClock, Timed, measure, row
from bench_foundation import REQUESTS, WARMUP, ensure_dataset, number, percentile

GOAL_DEPARTMENT_MS = 300.0
GOAL_NATIONAL_MS = 2000.0
QUARTER = {"periode": "dates", "du": "2026-06-01", "au": "2026-08-31"}
YEAR = {"periode": "annee", "annee": "2025"}


def raw_sql(clock: CpuClock, statements: list[tuple[str, object]]) -> Timed:
    """The statements sent as they are (with their parameters), one round per measure."""
    from django.db import connection

    wall: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + float(os.environ.get("BENCH_MAX_SECONDS", "60"))
    with connection.cursor() as cursor:
        for i in range(WARMUP + REQUESTS):
            if i > WARMUP and time.perf_counter() > deadline:
                break
            started, cpu_started = time.perf_counter(), clock()
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            if i >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(clock() - cpu_started)
    return Timed("SQL du tableau de bord, brut (référence)", wall, [len(statements)], ["-"], cpu)


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from binome.core.generation import scale_config
    from binome.organisations.models import Role, TerritoryRole, TerritoryRoleKind
    from binome.people.models import Person
    from binome.support.models import Accompaniment, Kind

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)
    busiest = (
        Accompaniment.objects.filter(kind=Kind.GLOBAL)
        .values("person__department_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit(f"Aucun accompagnement global généré pour « {config.tag} ».")
    code = busiest["person__department_id"]
    steering = (
        TerritoryRole.objects.filter(
            role=TerritoryRoleKind.STEERING,
            department_id=code,
            user__email__endswith=f"@{config.domain}",
        )
        .exclude(user__memberships__role=Role.ADMIN)  # no second factor to enrol
        .select_related("user")
        .order_by("id")
        .first()
    )
    if steering is None:
        raise SystemExit(f"Aucun chargé de pilotage généré dans le {code}.")
    user = steering.user
    permission = Permission.objects.get(codename="view_national_dashboard")
    user.user_permissions.add(permission)

    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(raise_request_exception=True)
    client.force_login(user)

    territory = reverse("steering:territory", args=[code])
    national = reverse("steering:national")
    export = reverse("steering:national_export", args=["national", "par_departement", "csv"])
    print(
        f"Jeu de données « {config.tag} » : {number(Person.objects.count())} personnes, "
        f"{number(Accompaniment.objects.count())} accompagnements dont "
        f"{number(Accompaniment.objects.filter(kind=Kind.GLOBAL).count())} globaux ; "
        f"le {code} en a {number(busiest['n'])} globaux"
    )
    print(f"Génération : {generation}")
    print(f"Connecté : {user.email}, chargé de pilotage du {code} (et, le temps du banc, national)")
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement ; SQL = requêtes par page"
    )
    try:
        quarter = f"{territory}?{urlencode(QUARTER)}"
        client.get(quarter)
        with CaptureQueriesContext(connection) as captured:
            client.get(quarter)
        # The figures' statements (those of the session, the user and the template left out),
        # with their parameters: psycopg's executed text has them inline already.
        statements = [
            (query["sql"], None)
            for query in captured.captured_queries
            if query["sql"].lstrip().startswith(("SELECT", "WITH"))
            and ("count(" in query["sql"] or "percentile_cont" in query["sql"])
        ]
        print()
        print(HEADER)
        clock = CpuClock()
        print(row(raw_sql(clock, statements)))
        print(row(measure(client, clock, "accueil du chargé de pilotage (référence)", ["/"])))
        lines = [
            (f"tableau de bord du {code}, 3 mois", quarter),
            (f"tableau de bord du {code}, 1 an", f"{territory}?{urlencode(YEAR)}"),
            ("tableau de bord national, 3 mois", f"{national}?{urlencode(QUARTER)}"),
            ("tableau de bord national, 1 an", f"{national}?{urlencode(YEAR)}"),
            ("export national CSV, 1 an", f"{export}?{urlencode(YEAR)}"),
        ]
        results = []
        for label, url in lines:
            result = measure(client, clock, label, [url])
            print(row(result))
            goal = GOAL_NATIONAL_MS if "national" in label else GOAL_DEPARTMENT_MS
            results.append((result, goal))
        print()
        for result, goal in results:
            verdict = "atteint" if result.p95 <= goal else "MANQUÉ"
            print(
                f"    {result.label} : objectif p95 ≤ {goal:.0f} ms : {verdict} "
                f"(p95 {result.p95:.0f} ms, CPU p50 {percentile(result.cpu, 50):.0f} ms)"
            )
    finally:
        user.user_permissions.remove(permission)


if __name__ == "__main__":
    main()
