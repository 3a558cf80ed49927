"""Server-side timings of the home page « À traiter » (binome/site/today.py).

Run with ``.venv/bin/binome bench home`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goal: p95 ≤ 80 ms at the national
volume, a number of queries that does not depend on the volume.

The page is measured for the busiest professional: of the organisation that receives the
most referrals awaiting an answer, the member on the most teams (the referrals block, the
appointments, the accompaniments and the join requests all have rows). Two baselines are
measured in the same run:

- the home page of a steering officer: the same request, session and template without the
  blocks of a file team (what the home page cost before « À traiter »);
- the SQL of the busy user's blocks sent straight to PostgreSQL (one cursor, no ORM, no
  template): the floor of what the blocks cost.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import HEADER, CpuClock, Timed, measure, row
from bench_foundation import MAX_SECONDS, REQUESTS, WARMUP, ensure_dataset, number, percentile

GOAL_P95_MS = 80.0


def raw_sql(clock: CpuClock, statements: list[str]) -> Timed:
    """The statements sent as they are, one round of all of them per measure."""
    from django.db import connection

    wall: list[float] = []
    cpu: list[float] = []
    with connection.cursor() as cursor:
        for i in range(WARMUP + REQUESTS):
            started, cpu_started = time.perf_counter(), clock()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            if i >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(clock() - cpu_started)
    return Timed("SQL des blocs, brut (référence)", wall, [len(statements)], ["-"], cpu)


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.organisations.models import Membership, Role, TerritoryRole, TerritoryRoleKind
    from binome.people.models import Person
    from binome.referrals.models import AWAITING, Referral
    from binome.support.models import Accompaniment, Appointment, TeamMember

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)
    generated = f"@{config.domain}"
    busiest_org = (
        Referral.objects.filter(status__in=AWAITING, to_organisation__isnull=False)
        .values("to_organisation_id")
        .annotate(n=Count("id"))
        .order_by("-n", "to_organisation_id")
        .first()
    )
    if busiest_org is None:
        raise SystemExit(f"Aucune orientation générée pour « {config.tag} ».")
    organisation_id = busiest_org["to_organisation_id"]
    # One membership only: the page is for that organisation.
    single = (
        Membership.objects.active()
        .values("user_id")
        .annotate(n=Count("id"))
        .filter(n=1)
        .values("user_id")
    )
    busiest = (
        TeamMember.objects.current()
        .filter(
            organisation_id=organisation_id,
            user__email__endswith=generated,
            user_id__in=single,
        )
        .exclude(user__memberships__role=Role.ADMIN)
        .exclude(user__territory_roles__isnull=False)
        .values("user_id")
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")
        .first()
    )
    if busiest is None:
        raise SystemExit(f"Aucun membre d'équipe de l'organisation {organisation_id}.")
    user = User.objects.get(pk=busiest["user_id"])
    steering = (
        TerritoryRole.objects.filter(
            role=TerritoryRoleKind.STEERING, user__email__endswith=generated
        )
        .exclude(user__memberships__role=Role.ADMIN)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if steering is None:
        raise SystemExit("Aucun chargé de pilotage généré.")

    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(raise_request_exception=True)
    client.force_login(user)
    officer = Client(raise_request_exception=True)
    officer.force_login(steering.user)

    print(
        f"Jeu de données « {config.tag} » : {number(Person.objects.count())} personnes, "
        f"{number(Accompaniment.objects.count())} accompagnements, "
        f"{number(Referral.objects.count())} orientations, "
        f"{number(Appointment.objects.count())} rendez-vous"
    )
    print(f"Génération : {generation}")
    print(
        f"Connecté : {user.email} — {busiest['n']} accompagnements ; son organisation a "
        f"{number(busiest_org['n'])} orientations reçues en attente de réponse"
    )
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page"
    )
    # The blocks' statements, as the page sends them (the session's first touch first).
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    blocks_sql = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT")
        and ("OVER ()" in query["sql"] or '"referrals_referral"' in query["sql"])
    ]
    print()
    print(HEADER)
    clock = CpuClock()
    floor = raw_sql(clock, blocks_sql)
    print(row(floor))
    baseline = measure(officer, clock, "accueil sans blocs (pilotage, référence)", ["/"])
    print(row(baseline))
    result = measure(client, clock, "accueil « À traiter », le plus occupé", ["/"])
    print(row(result))
    if result.slowest:
        print(result.slowest)
    verdict = "atteint" if result.p95 <= GOAL_P95_MS else "MANQUÉ"
    print(
        f"    objectif p95 ≤ {GOAL_P95_MS:.0f} ms : {verdict} ; "
        f"x{result.p50 / baseline.p50:.2f} l'accueil sans blocs en p50 "
        f"(CPU : x{percentile(result.cpu, 50) / percentile(baseline.cpu, 50):.2f}) ; "
        f"les {len(blocks_sql)} requêtes des blocs : {percentile(floor.timings, 50):.2f} ms "
        f"brutes en p50, x{result.p50 / percentile(floor.timings, 50):.2f}"
    )


if __name__ == "__main__":
    main()
