"""Referrals at scale: the inbox of the organisation that receives the most, its page with
the figures, and the daily reminder/expiry job over the open referrals.

Run with ``.venv/bin/binome bench referrals`` (see bench/README.md). Environment: as
bench_foundation.py, but ``BENCH_SCALE`` defaults to ``departement`` (the Var: 50,000
persons, 130,000 referrals, a third of them received by one organisation, ~80 % open).

- Inbox: p50/p95 server-side (Django test client in process, DEBUG off) and queries per
  page, against baselines measured in the same run: the SQL statements of the inbox's
  first page sent straight to PostgreSQL (its SELECTs; and its main query alone: the page
  of 50 referrals), and before each page its own statements (all of them, its cursor and
  its read log's INSERT included) sent the same way. Goal p95 ≤ 80 ms, and under five
  times its own statements. The deep pages (10, 200) are reached by following the
  « Page suivante » links (keyset pagination), then measured at their address.
- Job: ``run_deadlines`` for the next day that has work (the generated data leave the
  reference day's reminders and expiries to do; each later run takes the following day),
  run twice: the second run must remind, expire and send nothing. Goal ≤ 30 s. Wall
  time, the CPU time of this process and of its PostgreSQL backend.

Environment, besides ``BENCH_SCALE`` and ``BENCH_SEED``:

- ``BENCH_PARTS``: ``inbox``, ``job`` or ``inbox,job`` (the default): the parts to run.
  The job changes the data (reminders sent, referrals expired); ``inbox`` alone leaves the
  data set as it was.
- ``BENCH_PAIRED=1``: each page's own statements replayed in turn with the page's requests
  (one replay, one request) rather than all before it: both sides of the ratio see the same
  load of a shared machine (and each runs after the other's work, not in a warm loop).
- ``BENCH_JOB_BASELINE=1``: first run the job as it was before it became set-based (each
  due referral in its own transaction, ``actions.expire`` / ``actions.remind`` one by one)
  on the next day that has work, then the set-based job on the following one: a baseline
  measured in the same run, on a day of the same size. Each run of the job consumes the
  day it measures: the data set changes (restore a copy to measure the same days again).
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import HEADER, CpuClock, Timed, measure, row
from bench_foundation import MAX_SECONDS, REQUESTS, WARMUP, ensure_dataset, number, percentile

GOAL_INBOX_P95_MS = 80.0
# BENCH_PAIRED=1: each page's statements replayed in turn with its requests (see ``paired``).
PAIRED = os.environ.get("BENCH_PAIRED") == "1"
GOAL_JOB_SECONDS = 30.0


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a PostgreSQL backend (same machine), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def one_by_one(day: date) -> tuple[int, int]:
    """The job as it was before it became set-based (the baseline): each due referral in its
    own transaction, locked, re-checked, its rows written and its notifications sent."""
    from binome.referrals.actions import expire, remind
    from binome.referrals.models import Referral

    expired = sum(
        expire(referral=referral, today=day)
        for referral in Referral.objects.due_for_expiry(day).order_by("pk")
    )
    reminded = sum(
        remind(referral=referral, today=day)
        for referral in Referral.objects.due_for_reminder(day).order_by("pk")
    )
    return reminded, expired


def next_day() -> date:
    """The next day that has reminders or expiries to do (from the data set's reference day)."""
    from django.db.models import Min

    from binome.core.generation import REFERENCE_TIME
    from binome.referrals.models import AWAITING, Referral

    awaiting = Referral.objects.filter(status__in=AWAITING)
    next_due = [
        awaiting.filter(reminded_at__isnull=True).aggregate(d=Min("due_on"))["d"],
        awaiting.aggregate(d=Min("expires_on"))["d"],
    ]
    return max(REFERENCE_TIME.date(), min(d for d in next_due if d is not None))


def measure_job() -> bool:
    """The daily job for the next day that has work, run twice (and the baseline first
    with ``BENCH_JOB_BASELINE=1``). Returns True when a goal is missed."""
    from django.core import mail
    from django.db import connection

    from binome.notifications.models import Notification
    from binome.referrals.deadlines import run_deadlines
    from binome.referrals.models import OPEN, Referral

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    jobs: list[tuple[str, Callable[[date], tuple[int, int]]]] = [
        ("tâche ensembliste", run_deadlines)
    ]
    if os.environ.get("BENCH_JOB_BASELINE") == "1":
        jobs.insert(0, ("référence : une orientation à la fois (avant)", one_by_one))
    failed = False
    walls: dict[str, float] = {}
    for label, job in jobs:
        day = next_day()
        to_remind = Referral.objects.due_for_reminder(day).count()
        to_expire = Referral.objects.due_for_expiry(day).count()
        print()
        print(
            f"Tâche quotidienne (relances et expirations), {label}, pour le {day:%d/%m/%Y} : "
            f"{number(Referral.objects.filter(status__in=OPEN).count())} orientations "
            f"ouvertes, {number(to_remind)} à relancer, {number(to_expire)} à faire expirer"
        )
        for attempt in (1, 2):
            mail.outbox = []
            notifications = Notification.objects.count()
            cpu, db_cpu, started = (
                time.process_time(),
                backend_cpu_seconds(backend),
                time.perf_counter(),
            )
            reminded, expired = job(day)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            db_after = backend_cpu_seconds(backend)
            db_text = (
                f"{db_after - db_cpu:.1f} s" if db_cpu is not None and db_after is not None else "?"
            )
            created = Notification.objects.count() - notifications
            verdict = "atteint" if wall <= GOAL_JOB_SECONDS else "MANQUÉ"
            print(
                f"  passage {attempt} : {wall:6.1f} s (CPU Python {cpu:.1f} s, PostgreSQL "
                f"{db_text}) — {number(reminded)} relancées, {number(expired)} expirées, "
                f"{number(created)} notifications, {number(len(mail.outbox))} e-mails ; "
                f"objectif ≤ {GOAL_JOB_SECONDS:.0f} s : {verdict}"
            )
            if attempt == 1:
                walls[label] = wall / max(reminded + expired, 1)
            if attempt == 2 and (reminded or expired or created or mail.outbox):
                print("  Le second passage a encore agi : il doit ne rien faire.")
                failed = True
            if job is run_deadlines:
                failed |= wall > GOAL_JOB_SECONDS
    if len(walls) == 2:
        before, after = walls.values()
        print(
            f"  Par orientation traitée : {before * 1000:.1f} ms avant, {after * 1000:.1f} ms "
            f"après (x{before / after:.1f} plus rapide)"
        )
    return failed


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from binome.accounts.models import User
    from binome.core.generation import scale_config
    from binome.organisations.middleware import SESSION_KEY
    from binome.organisations.models import Membership, Organisation, Role
    from binome.referrals.inbox import PAGE_SIZE
    from binome.referrals.models import AWAITING, OPEN, Referral, ReferralEvent

    parts = {p.strip() for p in os.environ.get("BENCH_PARTS", "inbox,job").split(",")}
    if not parts or not parts <= {"inbox", "job"}:
        raise SystemExit("BENCH_PARTS : « inbox », « job » ou « inbox,job ».")
    call_command("migrate", interactive=False, verbosity=0)
    config = scale_config(
        os.environ.get("BENCH_SCALE", "departement"), seed=int(os.environ.get("BENCH_SEED", "42"))
    )
    generation = ensure_dataset(config)
    hub_row = (
        Referral.objects.filter(to_organisation__isnull=False)
        .values("to_organisation")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if hub_row is None:
        raise SystemExit(f"Aucune orientation générée pour « {config.tag} ».")
    hub = Organisation.objects.get(pk=hub_row["to_organisation"])
    admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
    user = (
        User.objects.filter(memberships__organisation=hub, memberships__is_active=True)
        .exclude(pk__in=admins)
        .exclude(territory_roles__isnull=False)
        .order_by("pk")
        .first()
    )
    if user is None:
        raise SystemExit(f"Aucun membre simple de {hub.name}.")

    settings.DEBUG = False
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox = []
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(raise_request_exception=True)
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = hub.pk
    session.save()

    received = Referral.objects.filter(to_organisation=hub)
    print(
        f"Jeu de données « {config.tag} » : {number(Referral.objects.count())} orientations "
        f"({number(Referral.objects.filter(status__in=OPEN).count())} ouvertes), "
        f"{number(ReferralEvent.objects.count())} étapes"
    )
    print(f"Génération : {generation}")
    print(
        f"Organisation : {hub.name} — {number(received.count())} orientations reçues, "
        f"{number(received.filter(status__in=AWAITING).count())} à traiter"
    )
    print(f"Connecté : {user.email}")
    print(
        f"Mesure : Client Django en processus, DEBUG=False, jusqu'à {REQUESTS} requêtes par "
        f"ligne (n) après {WARMUP} d'échauffement, {MAX_SECONDS:.0f} s au plus ; "
        "SQL = requêtes par page. Machine partagée et chargée : chiffres indicatifs."
    )
    print()
    failed = False
    if "inbox" in parts:
        print(HEADER)
        clock = CpuClock()
        home = measure(client, clock, "accueil / (référence)", ["/"])
        print(row(home))
        # The inbox's statements, as Django sends them, replayed as raw SQL: the database's
        # share. The main query (the page's rows), and all the page's statements (session,
        # user, counts, rows, their persons, users and organisations, members, header).
        with CaptureQueriesContext(connection) as captured:
            client.get("/orientations/")
        page_sql = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
        main_sql = [
            sql
            for sql in page_sql
            if '"referrals_referral"' in sql and f"LIMIT {PAGE_SIZE + 1}" in sql
        ]
        connection.ensure_connection()
        raw = connection.connection

        def replay(label: str, statements: list[str]) -> Timed:
            wall: list[float] = []
            cpu: list[float] = []
            for i in range(WARMUP + REQUESTS):
                started, cpu_started = time.perf_counter(), clock()
                with raw.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
                        cursor.fetchall()
                if i >= WARMUP:
                    wall.append((time.perf_counter() - started) * 1000)
                    cpu.append(clock() - cpu_started)
            return Timed(label, wall, [len(statements)], [], cpu)

        print(row(replay("requête principale en SQL brut", main_sql)))
        baseline = replay("requêtes de la page en SQL brut (référence)", page_sql)
        print(row(baseline))
        print()

        def deep(url: str, page: int) -> str:
            """The address of the list's page ``page``, reached by its « Page suivante »
            links (keyset pagination: a page's address carries the previous page's key)."""
            for _ in range(page - 1):
                body = client.get(url).content.decode()
                found = re.search(r'href="([^"]*)"\s*>Page suivante</a>', body)
                if found is None:
                    raise SystemExit(f"La liste {url} a moins de {page} pages.")
                url = "/orientations/" + html.unescape(found.group(1))
            return url

        pages = [
            ("boîte de réception, à traiter", ["/orientations/"]),
            (
                "boîte, acceptées en cours, page 10",
                [deep("/orientations/?etat=en_cours", 10)],
            ),
            ("boîte, toutes, page 200", [deep("/orientations/?etat=toutes", 200)]),
            ("boîte, attribuées à moi", ["/orientations/?etat=toutes&attribution=moi"]),
        ]

        def paired(label: str, url: str, statements: list[str]) -> tuple[Timed, Timed]:
            """The page's own statements replayed as raw SQL and the page, in turn: one
            replay, then one request (``BENCH_PAIRED=1``). Both sides of the ratio see the
            same load of a shared machine, where a burst of other work during one side
            only, measured one after the other, moved a wall-clock ratio by 1 to 2. Each
            side also runs after the other's work rather than in a warm loop of its own:
            both are slower than in the sequential measure."""
            if client.get(url).status_code != 200:
                raise SystemExit(f"{url} : statut attendu 200.")
            own_wall: list[float] = []
            own_cpu: list[float] = []
            wall: list[float] = []
            cpu: list[float] = []
            deadline: float | None = None
            for i in range(WARMUP + REQUESTS):
                if i == WARMUP:
                    deadline = time.perf_counter() + MAX_SECONDS
                elif deadline is not None and time.perf_counter() > deadline:
                    break
                started, cpu_started = time.perf_counter(), clock()
                with raw.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
                        cursor.fetchall()
                if i >= WARMUP:
                    own_wall.append((time.perf_counter() - started) * 1000)
                    own_cpu.append(clock() - cpu_started)
                started, cpu_started = time.perf_counter(), clock()
                client.get(url)
                if i >= WARMUP:
                    wall.append((time.perf_counter() - started) * 1000)
                    cpu.append(clock() - cpu_started)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            return (
                Timed("  ses requêtes en SQL brut", own_wall, [len(statements)], [], own_cpu),
                Timed(label, wall, [len(captured)], [url], cpu),
            )

        for label, urls in pages:
            # Each page's own statements (its cursor, its filters, the read log's INSERT),
            # replayed as raw SQL just before the page (or in turn with its requests): the
            # baseline of its ratio.
            with CaptureQueriesContext(connection) as captured:
                client.get(urls[0])
            statements = [q["sql"] for q in captured.captured_queries]
            if PAIRED:
                own, result = paired(label, urls[0], statements)
            else:
                own = replay("  ses requêtes en SQL brut", statements)
                result = measure(client, clock, label, urls)
            print(row(own))
            print(row(result))
            verdict = "atteint" if result.p95 <= GOAL_INBOX_P95_MS else "MANQUÉ"
            cpu_p95 = percentile(result.cpu, 95)
            cpu_verdict = "atteint" if cpu_p95 <= GOAL_INBOX_P95_MS else "manqué"
            failed |= result.p95 > GOAL_INBOX_P95_MS
            print(
                f"    objectif p95 ≤ {GOAL_INBOX_P95_MS:.0f} ms : {verdict} "
                f"(en temps CPU : {cpu_verdict}) ; "
                f"x{result.p50 / own.p50:.1f} ses requêtes en SQL brut en p50 "
                f"(CPU : x{percentile(result.cpu, 50) / percentile(own.cpu, 50):.1f}), "
                f"x{result.p50 / baseline.p50:.1f} celles de la première page "
                f"(CPU : x{percentile(result.cpu, 50) / percentile(baseline.cpu, 50):.1f}), "
                f"x{result.p50 / home.p50:.1f} l'accueil"
            )
        # The organisation's page, then its figures, which the page loads after it (htmx),
        # here as their page of their own (without htmx: the same two statements).
        print(row(measure(client, clock, "page de l'organisation", [f"/organisations/{hub.pk}/"])))
        figures = measure(
            client,
            clock,
            "ses chiffres (chargés après la page)",
            [reverse("referral_figures:organisation", args=[hub.pk])],
        )
        print(row(figures))

    if "job" in parts:
        failed |= measure_job()
    if failed:
        print("\nAu moins un objectif n'est pas atteint.")


if __name__ == "__main__":
    main()
