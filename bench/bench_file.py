"""Server-side timings of the person's file page and of the worklist ("Mes personnes").

Run with ``.venv/bin/binome bench file`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goal: p95 ≤ 80 ms for both pages, their
number of queries independent of the size of the file and of the timeline.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (
    HEADER,
    MAX_SECONDS,
    REQUESTS,
    WARMUP,
    ensure_dataset,
    measure,
    number,
    row,
)

GOAL_P95_MS = 80.0
FILES = 20  # persons of the professional whose file page is measured, in turn


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    from binome.accounts.models import User
    from binome.core.generate import scale_config
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
    baseline = measure(client, "accueil / (référence)", ["/"])
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
        result = measure(client, label, urls)
        print(row(result))
        if result.slowest:
            print(result.slowest)
        verdict = "atteint" if result.p95 <= GOAL_P95_MS else "MANQUÉ"
        failed |= result.p95 > GOAL_P95_MS
        print(
            f"    objectif p95 ≤ {GOAL_P95_MS:.0f} ms : {verdict} ; "
            f"x{result.p50 / baseline.p50:.1f} l'accueil en p50"
        )
    if failed:
        print("\nAu moins une page dépasse l'objectif.")


if __name__ == "__main__":
    main()
