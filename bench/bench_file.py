"""Server-side timings of the person's file page and of the worklist ("Mes personnes").

Run with ``.venv/bin/binome bench file`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goal: p95 ≤ 80 ms for both pages, their
number of queries independent of the size of the file and of the timeline.

Each line gives the wall clock and the CPU time of the requests (this process's
``time.process_time`` plus its PostgreSQL backend's, from ``/proc/<pid>/schedstat``): on a
busy machine the wall clock also counts the waits for a CPU, the CPU time much less so.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (
    MAX_SECONDS,
    REQUESTS,
    WARMUP,
    Result,
    ensure_dataset,
    number,
    percentile,
)

if TYPE_CHECKING:
    from django.test import Client

GOAL_P95_MS = 80.0
FILES = 20  # persons of the professional whose file page is measured, in turn
HEADER = (
    f"  {'page':<46} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'CPU p95':>8} {'SQL':>7} {'n':>5}"
)


class CpuClock:
    """CPU milliseconds used so far by this process and its PostgreSQL backend."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        self.schedstat = Path(f"/proc/{pid}/schedstat")

    def __call__(self) -> float:
        backend = 0.0
        if self.schedstat.exists():
            backend = int(self.schedstat.read_text().split()[0]) / 1e6
        return time.process_time() * 1000 + backend


@dataclass
class Timed(Result):
    cpu: list[float] = field(default_factory=list)  # CPU milliseconds of each request


def measure(client: Client, clock: CpuClock, label: str, urls: Sequence[str]) -> Timed:
    """GETs cycling over ``urls`` (wall and CPU milliseconds), then each URL's SQL count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} : statut {response.status_code}, attendu 200.")
    for i in range(WARMUP):
        client.get(urls[i % len(urls)])
    wall: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + MAX_SECONDS
    for i in range(REQUESTS):
        if i and i % len(urls) == 0 and time.perf_counter() > deadline:
            break
        started, cpu_started = time.perf_counter(), clock()
        client.get(urls[i % len(urls)])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append(clock() - cpu_started)
    queries = []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries.append(len(captured))
    return Timed(label, wall, queries, urls, cpu)


def row(result: Timed) -> str:
    return (
        f"  {result.label:<46} {result.p50:8.2f} {result.p95:8.2f} "
        f"{percentile(result.cpu, 50):8.2f} {percentile(result.cpu, 95):8.2f} "
        f"{result.queries_label:>7} {len(result.timings):>5}"
    )


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.organisations.models import Membership, Role
    from binome.people.models import Person
    from binome.support.models import Accompaniment, Note, TeamMember, TimelineEvent

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)
    generated = f"@{config.domain}"
    admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    # The busiest professional (most persons): the worst case of the worklist.
    busiest = (
        TeamMember.objects.current()
        .filter(user__email__endswith=generated)
        .exclude(user_id__in=admins)
        .exclude(user__territory_roles__isnull=False)
        .values("user_id")
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")
        .first()
    )
    if busiest is None:
        raise SystemExit(f"Aucun membre d'équipe généré pour « {config.tag} ».")
    user = User.objects.get(pk=busiest["user_id"])
    # Their persons with the longest timelines first: the heaviest file pages.
    person_ids = list(
        TimelineEvent.objects.filter(
            person__in=TeamMember.objects.current().filter(user=user).values("person_id")
        )
        .values("person_id")
        .annotate(n=Count("id"))
        .order_by("-n", "person_id")
        .values_list("person_id", flat=True)[:FILES]
    )

    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(raise_request_exception=True)
    client.force_login(user)

    print(
        f"Jeu de données « {config.tag} » : {number(Person.objects.count())} personnes, "
        f"{number(Accompaniment.objects.count())} accompagnements, "
        f"{number(Note.objects.count())} notes, "
        f"{number(TimelineEvent.objects.count())} événements"
    )
    print(f"Génération : {generation}")
    print(f"Connecté : {user.email} — membre de l'équipe de {busiest['n']} accompagnements")
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page"
    )
    print()
    print(HEADER)
    clock = CpuClock()
    baseline = measure(client, clock, "accueil / (référence)", ["/"])
    print(row(baseline))
    pages = [
        ("Mes personnes", ["/suivi/mes-personnes/"]),
        ("Mes personnes, tri par fin prévue, page 2", ["/suivi/mes-personnes/?tri=fin&page=2"]),
        (
            f"dossier de la personne ({len(person_ids)} dossiers)",
            [f"/personnes/{pk}/" for pk in person_ids],
        ),
        (
            "dossier, chronologie filtrée (notes)",
            [f"/personnes/{pk}/?evenements=note" for pk in person_ids],
        ),
    ]
    failed = False
    print()
    for label, urls in pages:
        result = measure(client, clock, label, urls)
        print(row(result))
        if result.slowest:
            print(result.slowest)
        verdict = "atteint" if result.p95 <= GOAL_P95_MS else "MANQUÉ"
        failed |= result.p95 > GOAL_P95_MS
        cpu_ratio = percentile(result.cpu, 50) / percentile(baseline.cpu, 50)
        print(
            f"    objectif p95 ≤ {GOAL_P95_MS:.0f} ms : {verdict} ; "
            f"x{result.p50 / baseline.p50:.2f} l'accueil en p50 (CPU : x{cpu_ratio:.2f})"
        )
    if failed:
        print("\nAu moins une page dépasse l'objectif.")


if __name__ == "__main__":
    main()
