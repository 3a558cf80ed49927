"""Server-side timings of the RSA pages: « à orienter », the RSA section of the person's file,
the file page, the figures of a département.

Run with ``.venv/bin/binome bench rsa`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goals: p95 ≤ 80 ms for the lists and the
file, ≤ 300 ms for the figures, a number of queries that does not depend on the volume.

The lists and the figures are measured for an orientation manager of the département with
the most persons to orient (the Var at ``departement`` scale); the file for the professional
who is on the team of the most persons the flows named. Measured in the same run:

- the orientation manager's home page (the fixed cost of a request);
- the SQL of « à orienter » (its first page) and of the figures, sent straight to
  PostgreSQL (one cursor, no ORM, no template): the floor of what the pages cost.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import HEADER, CpuClock, Timed, measure, row
from bench_foundation import MAX_SECONDS, REQUESTS, WARMUP, ensure_dataset, number, percentile

if TYPE_CHECKING:
    from django.test import Client

GOAL_LIST_MS = 80.0
GOAL_FIGURES_MS = 300.0
FILES = 20  # persons whose RSA section and file page are measured, in turn


def raw_sql(clock: CpuClock, label: str, statements: Sequence[str]) -> Timed:
    """The statements sent as they are, one round of all of them per measure."""
    from django.db import connection

    wall: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + MAX_SECONDS
    with connection.cursor() as cursor:
        for i in range(WARMUP + REQUESTS):
            if i > WARMUP and time.perf_counter() > deadline:
                break
            started, cpu_started = time.perf_counter(), clock()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            if i >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(clock() - cpu_started)
    return Timed(label, wall, [len(statements)], ["-"], cpu)


def page_sql(client: Client, url: str, tables: Sequence[str]) -> list[str]:
    """The SELECTs the page sends that read one of ``tables``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        and any(f'"{table}"' in query["sql"] or f" {table} " in query["sql"] for table in tables)
    ]


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.organisations.models import Membership, Role, TerritoryRole, TerritoryRoleKind
    from binome.people.models import Person
    from binome.rsa.models import Beneficiary, Dossier, MatchStatus, Orientation
    from binome.rsa.views import PAGE_SIZE
    from binome.support.models import TeamMember

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)
    generated = f"@{config.domain}"
    admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    busiest = (
        Beneficiary.objects.to_orient()
        .values("dossier__department_id")
        .annotate(n=Count("id"))
        .order_by("-n", "dossier__department_id")
        .first()
    )
    if busiest is None:
        raise SystemExit(f"Aucune personne à orienter générée pour « {config.tag} ».")
    code, to_orient = busiest["dossier__department_id"], busiest["n"]
    steering = TerritoryRole.objects.filter(
        role=TerritoryRoleKind.STEERING, department_id=code
    ).values("user_id")
    manager_role = (
        TerritoryRole.objects.filter(
            role=TerritoryRoleKind.ORIENTATION_MANAGER,
            department_id=code,
            user__email__endswith=generated,
        )
        .exclude(user_id__in=admins)
        .exclude(user_id__in=steering)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if manager_role is None:
        raise SystemExit(f"Aucun responsable des orientations généré dans le {code}.")
    manager = manager_role.user
    # The professional on the team of the most persons the flows named, and those persons.
    named = Beneficiary.objects.filter(
        match_status=MatchStatus.MATCHED, dossier__department_id=code
    ).values("person_id")
    member = (
        TeamMember.objects.current()
        .filter(person_id__in=named, user__email__endswith=generated)
        .exclude(user_id__in=admins)
        .exclude(user__territory_roles__isnull=False)
        .values("user_id")
        .annotate(n=Count("person_id", distinct=True))
        .order_by("-n", "user_id")
        .first()
    )
    if member is None:
        raise SystemExit(f"Aucun membre d'équipe d'une personne du RSA dans le {code}.")
    user = User.objects.get(pk=member["user_id"])
    person_ids = list(
        TeamMember.objects.current()
        .filter(user=user, person_id__in=named)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .distinct()[:FILES]
    )
    # A name many persons to orient bear: the search's worst case.
    common = (
        Beneficiary.objects.to_orient()
        .in_department(code)
        .values("last_name")
        .annotate(n=Count("id"))
        .order_by("-n", "last_name")
        .first()
    )
    last_page = max(1, math.ceil(to_orient / PAGE_SIZE))

    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    managing = Client(raise_request_exception=True)
    managing.force_login(manager)
    client = Client(raise_request_exception=True)
    client.force_login(user)

    print(
        f"Jeu de données « {config.tag} » : {number(Person.objects.count())} personnes, "
        f"{number(Beneficiary.objects.count())} soumises aux droits et devoirs, "
        f"{number(Dossier.objects.count())} dossiers RSA, "
        f"{number(Orientation.objects.count())} orientations RSA"
    )
    print(f"Génération : {generation}")
    print(
        f"Département {code} : {number(to_orient)} personnes à orienter "
        f"({last_page} pages de {PAGE_SIZE}) ; responsable des orientations : {manager.email}"
    )
    print(
        f"Dossier : {user.email} — dans l'équipe de {member['n']} personnes nommées par les "
        f"flux, {len(person_ids)} mesurées"
    )
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page"
    )
    base = f"/rsa/{code}/a-orienter/"
    figures_url = f"/rsa/{code}/chiffres/"
    list_sql = page_sql(managing, base, ["rsa_beneficiary", "rsa_orientation"])
    figures_sql = page_sql(managing, figures_url, ["rsa_beneficiary", "rsa_orientation"])
    print()
    print(HEADER)
    clock = CpuClock()
    home = measure(managing, clock, "accueil / du responsable (référence)", ["/"])
    print(row(home))
    list_floor = raw_sql(clock, "SQL de « à orienter », brut (référence)", list_sql)
    print(row(list_floor))
    figures_floor = raw_sql(clock, "SQL des chiffres, brut (référence)", figures_sql)
    print(row(figures_floor))
    print()
    pages = [
        ("« à orienter », page 1", managing, [base], GOAL_LIST_MS, list_floor),
        (
            "« à orienter », pages lointaines",
            managing,
            [f"{base}?page={last_page}", f"{base}?page={max(1, last_page // 2)}"],
            GOAL_LIST_MS,
            None,
        ),
        (
            "« à orienter », filtrée",
            managing,
            [
                f"{base}?due=overdue",
                f"{base}?due=week",
                f"{base}?sdf=on",
                f"{base}?q={common['last_name'] if common else 'martin'}",
                f"{base}?q=zzzz",
            ],
            GOAL_LIST_MS,
            None,
        ),
        (
            f"section RSA du dossier ({len(person_ids)} personnes)",
            client,
            [f"/rsa/personnes/{pk}/" for pk in person_ids],
            GOAL_LIST_MS,
            None,
        ),
        (
            "dossier de la personne",
            client,
            [f"/personnes/{pk}/" for pk in person_ids],
            GOAL_LIST_MS,
            None,
        ),
        (f"chiffres du {code} (12 mois)", managing, [figures_url], GOAL_FIGURES_MS, figures_floor),
    ]
    failed = False
    for label, who, urls, goal, floor in pages:
        result = measure(who, clock, label, urls)
        print(row(result))
        if result.slowest:
            print(result.slowest)
        verdict = "atteint" if result.p95 <= goal else "MANQUÉ"
        failed |= result.p95 > goal
        cpu_ratio = percentile(result.cpu, 50) / percentile(home.cpu, 50)
        against_floor = (
            f" ; x{result.p50 / percentile(floor.timings, 50):.2f} son SQL brut en p50"
            if floor is not None
            else ""
        )
        print(
            f"    objectif p95 ≤ {goal:.0f} ms : {verdict} ; "
            f"x{result.p50 / home.p50:.2f} l'accueil en p50 (CPU : x{cpu_ratio:.2f})"
            f"{against_floor}"
        )
    load = os.getloadavg()
    print(f"\nCharge de la machine (1, 5, 15 min) : {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if failed:
        print("Au moins une page dépasse son objectif.")


if __name__ == "__main__":
    main()
