"""``binome bench soak``: a day's load on ``binome serve``, for ``--minutes`` (10 by default).

    BINOME_VAR_DIR=/tmp/bench-soak .venv/bin/binome generate --scale departement
    BINOME_VAR_DIR=/tmp/bench-soak .venv/bin/binome bench soak --minutes 10 --users 40

On the data set of the cluster (``binome generate``; the generated professionals all have
the same password), it:

- chooses professionals of several organisations (not administrators, who need a second
  factor) with persons in their teams, and gives three organisations an API token;
- starts ``binome serve`` on 127.0.0.1 (gunicorn, its default number of web processes,
  production settings; the HTTPS proxy is played by the locustfile) and ``binome worker``;
- runs locust headless (``bench/locustfile.py``): ``--users`` simulated users (nine
  professionals for one API client), started at ``--spawn-rate`` per second, for
  ``--minutes``, then stops by itself; traffic only to 127.0.0.1;
- every 15 s, notes the memory (RSS) of each web process and of the worker, the number of
  PostgreSQL connections and the load average;
- prints the requests per second sustained, p50/p95/p99 per route, the errors, the memory of
  each process over time and its growth over the last five minutes (goal: < 10 %), and the
  connections (bounded: goal ≤ web processes + worker + a margin).

With ``--drill-after M``, the backup drill (``bench/drill_backup.py``, ``DRILL_WRITES=0``: the
soak's own traffic is what writes) starts M minutes into the load: ``binome db dump`` while
the soak runs, ``binome db restore`` into a fresh cluster, every table compared; its output
is printed after the soak's figures, and a failed drill fails the command.

It stops the server and the worker at the end. The API's rate limit is raised for the run
(``BINOME_API_RATE_LIMIT``): the load test measures the server, not the limit.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

SAMPLE_EVERY = 15.0
P95_GOAL_MS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        kids = _children(current)
        out += kids
        todo += kids
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def plan(users: int) -> dict[str, Any]:
    """Who logs in (professionals of several organisations, with persons in their teams) and
    the API tokens of three organisations."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from binome.accounts.models import User
    from binome.api.actions import create_token
    from binome.core.generation import GENERATED_PASSWORD
    from binome.organisations.models import Membership, Organisation, Role
    from binome.support.models import TeamMember

    generated = User.objects.filter(email__endswith=".gen.binome.test", is_active=True)
    if not generated.exists():
        sys.exit(
            "soak : aucune donnée générée dans ce cluster. Lancez d'abord "
            "« binome generate --scale departement » (avec le même BINOME_VAR_DIR)."
        )
    professionals = (
        generated.exclude(memberships__role=Role.ADMIN)
        .exclude(territory_roles__isnull=False)
        .filter(memberships__is_active=True)
        .annotate(files=Count("team_memberships", filter=Q(team_memberships__left_at__isnull=True)))
        .filter(files__gt=0)
        .order_by("pk")
    )
    by_organisation: dict[int, list[User]] = {}
    for user in professionals[:5000]:
        organisation = user.memberships.filter(is_active=True).values_list(
            "organisation_id", flat=True
        )[0]
        by_organisation.setdefault(organisation, []).append(user)
    chosen: list[User] = []
    chosen_organisations: set[int] = set()
    while len(chosen) < users and any(by_organisation.values()):
        for organisation, queue in by_organisation.items():
            if queue and len(chosen) < users:
                chosen.append(queue.pop(0))
                chosen_organisations.add(organisation)
    people = []
    for user in chosen:
        persons = list(
            TeamMember.objects.filter(user=user, left_at__isnull=True).values_list(
                "person_id", flat=True
            )[:20]
        )
        people.append({"email": user.email, "persons": persons})
    tokens = []
    for organisation in Organisation.objects.filter(
        memberships__role=Role.ADMIN, memberships__user__in=generated
    ).distinct()[:3]:
        admin = Membership.objects.filter(organisation=organisation, role=Role.ADMIN).first()
        assert admin is not None
        _token, secret = create_token(
            organisation=organisation, name="Essai de charge", by=admin.user
        )
        tokens.append(secret)
    commune = (
        Organisation.objects.filter(pk__in=list(by_organisation))
        .exclude(commune__isnull=True)
        .values_list("commune_id", flat=True)
        .first()
    )
    return {
        "password": GENERATED_PASSWORD,
        "professionals": people,
        "tokens": tokens,
        "commune": commune,
        "organisations": len(chosen_organisations),
    }


def _server_env(port: int) -> dict[str, str]:
    from binome.people.crypto import derived_key

    development = "insecure-local-key-only-for-development-and-tests"
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "cle-de-l-essai-de-charge-" + os.urandom(24).hex(),
        # The generated data were encrypted with the development keys.
        "PERSON_MATCHING_KEY": derived_key(development, "matching"),
        "PERSON_ENCRYPTION_KEY": derived_key(development, "encryption"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{port}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "9",  # discard: nothing listens, the e-mails of the run fail
        "BINOME_API_RATE_LIMIT": "1000000",
        "LOG_LEVEL": "WARNING",
    }


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-c", "from binome.cli import main; main()", *args],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


class Sampler(threading.Thread):
    def __init__(self, server: int, worker: int) -> None:
        super().__init__(daemon=True)
        self.server, self.worker = server, worker
        self.samples: list[dict[str, Any]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        from binome.core import embedded_pg

        started = time.monotonic()
        while not self.stopping.is_set():
            processes: dict[str, float] = {}
            for pid in [self.server, *_descendants(self.server)]:
                line = _cmdline(pid)
                if "gunicorn" in line:
                    label = "gunicorn maître" if pid == self.server else f"web {pid}"
                    rss = _rss_mb(pid)
                    if rss is not None:
                        processes[label] = rss
            for pid in _descendants(self.worker):
                if "procrastinate" in _cmdline(pid):
                    rss = _rss_mb(pid)
                    if rss is not None:
                        processes[f"worker {pid}"] = rss
            try:
                with psycopg.connect(
                    host=embedded_pg.socket_dir(),
                    user=embedded_pg.DB_USER,
                    dbname=embedded_pg.DB_NAME,
                ) as db:
                    (connections,) = db.execute(
                        "SELECT count(*) - 1 FROM pg_stat_activity "
                        "WHERE datname = current_database()"
                    ).fetchone()
            except psycopg.Error:
                connections = -1
            self.samples.append(
                {
                    "t": time.monotonic() - started,
                    "rss": processes,
                    "connections": connections,
                    "load": os.getloadavg()[0],
                }
            )
            self.stopping.wait(SAMPLE_EVERY)


class Drill(threading.Thread):
    """The backup drill, started ``after`` seconds into the load, its output in ``log``; it
    writes nothing itself (``DRILL_WRITES=0``): the soak's users write meanwhile."""

    def __init__(self, after: float, log: Path) -> None:
        super().__init__(daemon=True)
        self.after, self.log = after, log
        self.returncode: int | None = None
        self.started_at = self.ended_at = 0.0

    def run(self) -> None:
        time.sleep(self.after)
        self.started_at = time.monotonic()
        with self.log.open("wb") as output:
            self.returncode = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "drill_backup.py")],
                cwd=ROOT,
                env={**os.environ, "DRILL_WRITES": "0"},
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            ).returncode
        self.ended_at = time.monotonic()

    def describe(self, load_ended: float) -> str:
        took = self.ended_at - self.started_at
        within = "fini pendant la charge" if self.ended_at <= load_ended else "fini après elle"
        return (
            f"commencé à {self.after / 60:g} min de charge, {took:.0f} s, {within}, "
            f"code {self.returncode}"
        )


def _report(stats: Path, sampler: Sampler, minutes: float, users: int) -> None:
    rows = list(csv.DictReader(stats.open(encoding="utf-8")))
    print(f"\n== {users} utilisateurs simulés, {minutes:g} min")
    print(f"{'route':38} {'req':>7} {'err':>5} {'p50':>6} {'p95':>6} {'p99':>6}  ms")
    worst = 0.0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "== toutes"
        p95 = float(row["95%"] or 0)
        if row["Name"] != "Aggregated":
            worst = max(worst, p95)
        print(
            f"{name[:38]:38} {row['Request Count']:>7} {row['Failure Count']:>5} "
            f"{row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    print(f"requêtes par seconde soutenues : {float(total['Requests/s']):.1f}")
    print(f"erreurs : {total['Failure Count']} (objectif 0)")
    print(f"p95 de la route la plus lente : {worst:.0f} ms (objectif ≤ {P95_GOAL_MS} ms)")
    samples = sampler.samples
    if not samples:
        return
    labels = sorted({label for s in samples for label in s["rss"]})
    print("\nmémoire (RSS, Mo) au fil du temps :")
    marks = [*samples[:: max(1, len(samples) // 10)], samples[-1]]
    print(f"{'processus':18} " + " ".join(f"{s['t'] / 60:5.1f}m" for s in marks))
    end = samples[-1]["t"]
    window = min(300.0, end / 2)
    reference = min(samples, key=lambda s: abs(s["t"] - (end - window)))
    for label in labels:
        values = " ".join(
            f"{s['rss'][label]:6.0f}" if label in s["rss"] else "     -" for s in marks
        )
        growth = ""
        if label in reference["rss"] and label in samples[-1]["rss"]:
            first, last = reference["rss"][label], samples[-1]["rss"][label]
            growth = (
                f"  {100 * (last - first) / first:+.1f} % sur les {window / 60:.1f} dernières min"
            )
        print(f"{label:18} {values}{growth}")
    connections = [s["connections"] for s in samples]
    print(f"\nconnexions PostgreSQL : max {max(connections)}, fin {connections[-1]}")
    loads = [s["load"] for s in samples]
    print(
        f"charge de la machine (load average 1 min) : de {min(loads):.1f} à {max(loads):.1f}, "
        f"moyenne {sum(loads) / len(loads):.1f}, sur {os.cpu_count()} cœurs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="binome bench soak")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--spawn-rate", type=float, default=2)
    parser.add_argument(
        "--drill-after",
        type=float,
        default=None,
        metavar="MINUTES",
        help="the backup drill (bench/drill_backup.py) this many minutes into the load",
    )
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="binome-soak-"))
    plan_path = work / "plan.json"
    professionals = max(1, options.users - options.users // 10)
    content = plan(professionals)
    plan_path.write_text(json.dumps(content), encoding="utf-8")
    print(
        f"soak : {len(content['professionals'])} professionnels de "
        f"{content['organisations']} organisations, {len(content['tokens'])} jetons d'API"
    )
    port = _free_port()
    env = _server_env(port)
    server = _start(["serve", "--bind", f"127.0.0.1:{port}"], env, work / "serve.log")
    worker = _start(["worker"], env, work / "worker.log")
    try:
        import requests

        deadline = time.monotonic() + 600  # check --deploy and collectstatic first
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/connexion/", timeout=5).status_code:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit(f"soak : le serveur ne répond pas (journal : {work / 'serve.log'})")
            time.sleep(1)
        sampler = Sampler(server.pid, worker.pid)
        sampler.start()
        drill = None
        if options.drill_after is not None:
            drill = Drill(options.drill_after * 60, work / "drill.log")
            drill.start()
        locust = subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "--locustfile",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{port}",
                "--users",
                str(options.users),
                "--spawn-rate",
                str(options.spawn_rate),
                "--run-time",
                f"{int(options.minutes * 60)}s",
                "--stop-timeout",
                "10",
                "--csv",
                str(work / "soak"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "SOAK_PLAN": str(plan_path)},
            check=False,
        )
        load_ended = time.monotonic()
        sampler.stopping.set()
        sampler.join(timeout=30)
        _report(work / "soak_stats.csv", sampler, options.minutes, options.users)
        if drill is not None:
            drill.join()
            print(f"\nexercice de sauvegarde pendant la charge ({drill.describe(load_ended)}) :")
            print(drill.log.read_text(encoding="utf-8").rstrip())
        print(f"\njournaux et CSV de locust : {work}")
        if locust.returncode not in {0, 1}:  # 1: some requests failed (reported above)
            sys.exit(locust.returncode)
        if drill is not None and drill.returncode != 0:
            sys.exit("soak : l'exercice de sauvegarde a échoué (voir ci-dessus)")
    finally:
        for process in (server, worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
