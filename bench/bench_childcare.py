"""Childcare (AVIP) at scale: the matching query and the provider's inbox.

Run with ``.venv/bin/binome bench childcare`` (see bench/README.md). Environment: as
bench_foundation.py (BENCH_SCALE=national|departement, BENCH_SEED, BENCH_REGENERATE,
BENCH_REQUESTS, BENCH_WARMUP, BENCH_MAX_SECONDS). Goal: p95 ≤ 80 ms at the national
volume (1,200 labelled solutions, 50,000 requests a year), a number of queries that does
not depend on the volume.

- **Matching**: the page of a request still to send (``/garde-enfants/demandes/<id>/``),
  which lists the providers that fit, for the draft request with the most matches, seen
  by its author (a member of the parent's team); and the matching query alone
  (``matching_providers``) over every draft request of the data set, against the same SQL
  sent straight to PostgreSQL.
- **Provider's inbox**: the places page of the provider that received the most requests
  (``/garde-enfants/accueils/<organisation>/``: its places in short — their form is on a
  page of its own — and the 50 requests addressed to it, those awaiting an answer first),
  seen by a plain member; against the page's SQL sent straight to PostgreSQL.
- The home page of the same users as a second reference.
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
DRAFTS_SAMPLED = 200


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
    from binome.childcare.matching import matching_providers
    from binome.childcare.models import (
        ChildcareRequest,
        Placement,
        Provider,
        RequestStatus,
        Solicitation,
        SolicitationStatus,
    )
    from binome.core.generation import scale_config
    from binome.organisations.middleware import SESSION_KEY
    from binome.organisations.models import Membership, Role
    from binome.support.models import TeamMember

    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "national"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)

    # The matching: every draft request (to send), with its parent's commune and children.
    drafts = list(
        ChildcareRequest.objects.filter(status=RequestStatus.DRAFT, person__commune__isnull=False)
        .select_related("person__commune")
        .prefetch_related("children")
        .order_by("pk")[:DRAFTS_SAMPLED]
    )
    if not drafts:
        raise SystemExit(f"Aucune demande de garde à envoyer dans « {config.tag} ».")

    def match(childcare_request: ChildcareRequest) -> list[Provider]:
        commune = childcare_request.person.commune
        assert commune is not None  # drafts of persons with a commune only
        return matching_providers(
            commune=commune,
            birth_dates=[child.birth_date for child in childcare_request.children.all()],
            needed_on=childcare_request.needed_on,
            urgency=childcare_request.urgency,
            radius_km=childcare_request.radius_km,
        )

    on_team = set(
        TeamMember.objects.current()
        .filter(accompaniment__person_id__in=[d.person_id for d in drafts])
        .values_list("accompaniment__person_id", "user_id")
    )
    candidates = [d for d in drafts if (d.person_id, d.created_by_id) in on_team]
    if not candidates:
        raise SystemExit("Aucune demande à envoyer dont l'auteur est dans l'équipe.")
    matches = {d.pk: len(match(d)) for d in candidates}
    busiest_draft = max(candidates, key=lambda d: (matches[d.pk], -d.pk))
    author = User.objects.get(pk=busiest_draft.created_by_id)

    # The provider's inbox: the provider with the most solicitations, a plain member of it.
    with_members = Membership.objects.filter(is_active=True, role=Role.PROFESSIONAL).values(
        "organisation_id"
    )
    busiest = (
        Solicitation.objects.filter(provider__organisation_id__in=with_members)
        .values("provider_id")
        .annotate(n=Count("id"))
        .order_by("-n", "provider_id")
        .first()
    )
    if busiest is None:
        raise SystemExit("Aucun accueil avec un membre n'a reçu de demande.")
    provider = Provider.objects.select_related("organisation").get(pk=busiest["provider_id"])
    admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    member = (
        User.objects.filter(
            memberships__organisation=provider.organisation, memberships__is_active=True
        )
        .exclude(pk__in=admins)
        .exclude(territory_roles__isnull=False)
        .order_by("pk")
        .first()
    )
    if member is None:
        raise SystemExit(f"Aucun membre simple de {provider.organisation.name}.")

    settings.DEBUG = False
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    team_client = Client(raise_request_exception=True)
    team_client.force_login(author)
    provider_client = Client(raise_request_exception=True)
    provider_client.force_login(member)
    session = provider_client.session
    session[SESSION_KEY] = provider.organisation_id
    session.save()

    requests = ChildcareRequest.objects.all()
    print(
        f"Jeu de données « {config.tag} » : {number(Provider.objects.count())} accueils AVIP, "
        f"{number(requests.count())} demandes de garde "
        f"({number(requests.filter(status=RequestStatus.SENT).count())} en attente, "
        f"{number(requests.filter(status=RequestStatus.DRAFT).count())} à envoyer), "
        f"{number(Solicitation.objects.count())} sollicitations, "
        f"{number(Placement.objects.count())} accueils d'enfants"
    )
    print(f"Génération : {generation}")
    received = Solicitation.objects.filter(provider=provider)
    print(
        f"Demande mesurée : n° {busiest_draft.pk} ({busiest_draft.get_urgency_display()}, "
        f"{busiest_draft.radius_km} km), {matches[busiest_draft.pk]} accueils qui conviennent ; "
        f"vue par {author.email}"
    )
    print(
        f"Accueil mesuré : {provider.organisation.name} — {number(received.count())} demandes "
        f"reçues, {number(received.filter(status=SolicitationStatus.PENDING).count())} en "
        f"attente ; vu par {member.email}"
    )
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page."
    )
    print()
    print(HEADER)
    clock = CpuClock()
    connection.ensure_connection()
    raw = connection.connection

    def replay(label: str, statements: list[str]) -> Timed:
        """The statements as Django sent them, straight to PostgreSQL."""
        wall: list[float] = []
        cpu: list[float] = []
        count = len(statements)
        for i in range(WARMUP + REQUESTS):
            started, cpu_started = time.perf_counter(), clock()
            with raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()
            if i >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(clock() - cpu_started)
        return Timed(label, wall, [count], [], cpu)

    def function(label: str, items: list[ChildcareRequest]) -> Timed:
        """``matching_providers`` called in process (ORM, one query), cycling over ``items``."""
        wall: list[float] = []
        cpu: list[float] = []
        for i in range(WARMUP + REQUESTS):
            item = items[i % len(items)]
            started, cpu_started = time.perf_counter(), clock()
            match(item)
            if i >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append(clock() - cpu_started)
        return Timed(label, wall, [1], [], cpu)

    def sql_of_match(item: ChildcareRequest) -> str:
        with CaptureQueriesContext(connection) as captured:
            match(item)
        return str(captured.captured_queries[-1]["sql"])

    failed = False

    def verdict(result: Timed, reference: Timed, home: Timed) -> None:
        nonlocal failed
        failed |= result.p95 > GOAL_P95_MS
        print(
            f"    objectif p95 ≤ {GOAL_P95_MS:.0f} ms : "
            f"{'atteint' if result.p95 <= GOAL_P95_MS else 'MANQUÉ'} "
            f"(CPU p95 {percentile(result.cpu, 95):.1f} ms) ; x{result.p50 / reference.p50:.1f} "
            f"son SQL brut en p50, x{result.p50 / home.p50:.1f} l'accueil /"
        )

    # --- matching ------------------------------------------------------------------------
    print("Recherche des accueils qui conviennent")
    home = measure(team_client, clock, "accueil / de l'auteur (référence)", ["/"])
    print(row(home))
    raw_matches = [sql_of_match(d) for d in candidates]
    print(row(replay_each("requête de recherche, SQL brut (référence)", raw_matches, raw, clock)))
    in_process = function(f"matching_providers, {len(candidates)} demandes", candidates)
    print(row(in_process))
    url = f"/garde-enfants/demandes/{busiest_draft.pk}/"
    with CaptureQueriesContext(connection) as captured:
        team_client.get(url)
    page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    page_raw = replay("page de la demande : son SQL brut (référence)", page_sql)
    print(row(page_raw))
    page = measure(team_client, clock, "page de la demande à envoyer", [url])
    print(row(page))
    verdict(page, page_raw, home)
    print()

    # --- the provider's inbox ------------------------------------------------------------
    print("Boîte de l'accueil")
    home = measure(provider_client, clock, "accueil / du membre (référence)", ["/"])
    print(row(home))
    url = f"/garde-enfants/accueils/{provider.organisation_id}/"
    with CaptureQueriesContext(connection) as captured:
        provider_client.get(url)
    page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    inbox_raw = replay("boîte de l'accueil : son SQL brut (référence)", page_sql)
    print(row(inbox_raw))
    inbox = measure(provider_client, clock, "boîte de l'accueil (places et demandes)", [url])
    print(row(inbox))
    verdict(inbox, inbox_raw, home)
    if failed:
        print("\nAu moins un objectif n'est pas atteint.")


def replay_each(label: str, statements: list[str], raw: object, clock: object) -> Timed:
    """One statement per measure, cycling over ``statements``."""
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(WARMUP + REQUESTS):
        sql = statements[i % len(statements)]
        started, cpu_started = time.perf_counter(), clock()  # type: ignore[operator]
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(sql)
            cursor.fetchall()
        if i >= WARMUP:
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append(clock() - cpu_started)  # type: ignore[operator]
    return Timed(label, wall, [1], [], cpu)


if __name__ == "__main__":
    main()
