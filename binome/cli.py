"""The ``binome`` command, for developers and operators.

binome run                 embedded database + migrations + demo + worker + web server
binome serve               production web server (gunicorn, several workers)
binome worker              background worker (procrastinate, on PostgreSQL)
binome db start|stop|status|psql|dump FILE|restore FILE
binome demo                load the demo territory (idempotent)
binome generate [...]      synthetic data at scale, for benchmarks
binome directory import FILE… | export --kind services|structures [-o FILE]
binome rsa import --departement CODE FILE…   CAF/MSA RSA flows
binome retention run [--dry-run]              notify, then anonymise files without contact
binome test [pytest args]  the whole test suite, on the embedded PostgreSQL
binome bench [...]         the benchmark scripts under bench/
binome manage ...          any Django management command
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from binome.core import embedded_pg

ROOT = embedded_pg.project_root()
RUN_HOST = "127.0.0.1"
RUN_PORT = 8000


def _fail(message: str) -> None:
    print(f"binome: {message}", file=sys.stderr)
    sys.exit(1)


def _embedded() -> bool:
    return not os.environ.get("DATABASE_URL")


@contextlib.contextmanager
def _database() -> Iterator[None]:
    """The database is reachable inside (the embedded cluster is started on demand)."""
    if not _embedded():
        yield
        return
    try:
        with embedded_pg.in_use():
            yield
    except embedded_pg.EmbeddedPostgresError as exc:
        _fail(str(exc))


def _manage(*args: str, check: bool = True) -> int:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "binome.settings"}
    result = subprocess.run([sys.executable, "-m", "django", *args], env=env, check=False)
    if check and result.returncode != 0:
        _fail(f"la commande « manage {' '.join(args)} » a échoué (code {result.returncode}).")
    return result.returncode


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")
    import django

    django.setup()


@contextlib.contextmanager
def _single_instance() -> Iterator[None]:
    lock_path = embedded_pg.var_dir() / "binome-run.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "?"
        _fail(
            f"Binôme tourne déjà sur cette copie (processus {other}) : ouvrez "
            f"http://{RUN_HOST}:{RUN_PORT}/ ou arrêtez-le d'abord avec Ctrl-C dans son terminal."
        )
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        handle.close()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


# --- commands -----------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> None:
    with _single_instance():
        if not _port_free(RUN_HOST, args.port):
            _fail(
                f"le port {args.port} est déjà utilisé par un autre programme : "
                f"libérez-le ou lancez « binome run --port AUTRE »."
            )
        with _database():
            _manage("migrate", "--noinput", "-v", "0")
            _manage("load_demo", "--if-empty")
            children: list[subprocess.Popen[bytes]] = []
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "binome.settings"}
            stopping = False

            def _stop(signum: int, _frame: object) -> None:
                nonlocal stopping
                stopping = True

            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "django", "procrastinate", "worker"],
                    env=env,
                    start_new_session=True,
                )
            )
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "django",
                        "runserver",
                        f"{RUN_HOST}:{args.port}",
                        "--noreload",
                        "--skip-checks",
                    ],
                    env=env,
                    start_new_session=True,
                )
            )
            _manage("demo_logins")
            print(f"\nBinôme est prêt : http://{RUN_HOST}:{args.port}/  (Ctrl-C pour arrêter)\n")
            try:
                while not stopping:
                    if any(child.poll() is not None for child in children):
                        print("binome: un des processus s'est arrêté ; arrêt de l'ensemble.")
                        break
                    time.sleep(0.3)
            finally:
                print("\nbinome: arrêt du serveur web, du worker et de PostgreSQL …")
                for child in children:
                    if child.poll() is None:
                        child.terminate()
                for child in children:
                    try:
                        child.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        child.kill()
        print("binome: arrêté proprement.")


def _refuse_unsafe_production() -> None:
    """Stop before anything starts when the settings are not fit for production."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        _django_setup()
    except ImproperlyConfigured as exc:
        _fail(f"réglage incorrect : {exc}")
    from binome.site.production import production_problems

    problems = production_problems()
    if problems:
        _fail(
            "refus de démarrer en production, ces réglages (variables d'environnement, voir "
            "README) ne conviennent pas :\n" + "\n".join(f"  - {problem}" for problem in problems)
        )


def cmd_serve(args: argparse.Namespace) -> None:
    _refuse_unsafe_production()
    _manage("check", "--deploy", "--fail-level", "ERROR")
    _manage("collectstatic", "--noinput", "-v", "0")
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "binome.wsgi:application",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-",
        ],
    )


def cmd_worker(_args: argparse.Namespace) -> None:
    with _database():
        # The jobs of a worker that died are queued again (then every minute, by a worker).
        _manage("retry_stalled_jobs")
        sys.exit(_manage("procrastinate", "worker", check=False))


def cmd_db(args: argparse.Namespace) -> None:
    if not _embedded() and args.action in {"start", "stop", "status"}:
        _fail("DATABASE_URL est défini : la base externe ne se pilote pas depuis Binôme.")
    try:
        if args.action == "start":
            started = embedded_pg.start(quiet=True)
            embedded_pg.keep_running()
            print(
                "binome: PostgreSQL embarqué démarré."
                if started
                else "binome: PostgreSQL embarqué déjà démarré."
            )
        elif args.action == "stop":
            print(
                "binome: PostgreSQL embarqué arrêté."
                if embedded_pg.stop()
                else "binome: PostgreSQL embarqué n'était pas démarré."
            )
        elif args.action == "status":
            pid = embedded_pg.server_pid()
            print(f"binome: PostgreSQL embarqué {f'démarré (pid {pid})' if pid else 'arrêté'}.")
        elif args.action in {"psql", "dump", "restore"}:
            _db_client(args)
    except embedded_pg.EmbeddedPostgresError as exc:
        _fail(str(exc))


def _db_client(args: argparse.Namespace) -> None:
    if _embedded():
        embedded_pg.start(quiet=True)
        env = embedded_pg.client_env()
        target: list[str] = []
    else:
        env = dict(os.environ)
        target = ["--dbname", os.environ["DATABASE_URL"]]
    tool = {"psql": "psql", "dump": "pg_dump", "restore": "pg_restore"}[args.action]
    binary = embedded_pg.client_binary(tool)
    if args.action == "psql":
        os.execvpe(binary, [binary, *target], env)
    if not args.file:
        _fail(f"indiquez le fichier : binome db {args.action} FICHIER")
    if args.action == "dump":
        cmd = [binary, "--format=custom", "--no-owner", "--file", args.file, *target]
        if args.snapshot:
            cmd.append(f"--snapshot={args.snapshot}")
    else:
        if not Path(args.file).is_file():
            _fail(f"le fichier {args.file} n'existe pas.")
        cmd = [
            binary,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            *(target or ["--dbname", embedded_pg.DB_NAME]),
            args.file,
        ]
    result = subprocess.run(cmd, env=env, check=False)
    if result.returncode != 0:
        _fail(f"{tool} a échoué (code {result.returncode}) ; la base n'a pas été modifiée.")
    print(f"binome: {tool} terminé ({args.file}).")


def cmd_demo(_args: argparse.Namespace) -> None:
    with _database():
        _manage("migrate", "--noinput", "-v", "0")
        _manage("load_demo")
        _manage("demo_logins")


def cmd_generate(args: argparse.Namespace) -> None:
    with _database():
        _manage("migrate", "--noinput", "-v", "0")
        _manage("generate", *args.rest)


def cmd_directory(args: argparse.Namespace) -> None:
    with _database():
        _manage("migrate", "--noinput", "-v", "0")
        sys.exit(_manage("directory", *args.rest, check=False))


def cmd_rsa(args: argparse.Namespace) -> None:
    with _database():
        _manage("migrate", "--noinput", "-v", "0")
        sys.exit(_manage("rsa", *args.rest, check=False))


def cmd_retention(args: argparse.Namespace) -> None:
    with _database():
        _manage("migrate", "--noinput", "-v", "0")
        sys.exit(_manage("retention", *args.rest, check=False))


def cmd_manage(args: argparse.Namespace) -> None:
    needs_db = not (args.rest and args.rest[0] in {"help", "--help"})
    if needs_db:
        with _database():
            sys.exit(_manage(*args.rest, check=False))
    sys.exit(_manage(*args.rest, check=False))


def cmd_test(args: argparse.Namespace) -> None:
    # One pytest-xdist worker per CPU (each has its own test database on the shared cluster)
    # unless the command line chooses: `binome test -n 0 tests/x` runs in one process.
    chosen = any(arg.startswith(("-n", "--numprocesses")) or arg == "no:xdist" for arg in args.rest)
    workers = [] if chosen else ["-n", os.environ.get("BINOME_TEST_WORKERS", "auto")]
    with _database():
        env = {**os.environ, "BINOME_TESTING": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *workers, *args.rest], cwd=ROOT, env=env, check=False
        )
    sys.exit(result.returncode)


def cmd_bench(args: argparse.Namespace) -> None:
    with _database():
        # A new cluster (e.g. BINOME_VAR_DIR=/tmp/binome-bench) has no tables yet.
        _manage("migrate", "--noinput", "-v", "0")
        if args.rest and args.rest[0] == "soak":
            # The load test: `binome bench soak [--minutes N] [--users N]` (bench/soak.py).
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "binome.settings"}
            soak = [sys.executable, str(ROOT / "bench" / "soak.py"), *args.rest[1:]]
            sys.exit(subprocess.run(soak, cwd=ROOT, env=env, check=False).returncode)
        scripts = sorted((ROOT / "bench").glob("bench_*.py"))
        chosen = [s for s in scripts if not args.rest or any(r in s.name for r in args.rest)]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "binome.settings"}
        for script in chosen:
            print(f"== {script.name}")
            subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, check=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="binome", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="tout lancer en local avec le territoire de démonstration")
    run.add_argument("--port", type=int, default=RUN_PORT)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serveur web de production (gunicorn)")
    serve.add_argument("--bind", default=os.environ.get("BIND", "0.0.0.0:8000"))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "4")))
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("worker", help="worker des tâches de fond").set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="base PostgreSQL embarquée")
    db.add_argument("action", choices=["start", "stop", "status", "psql", "dump", "restore"])
    db.add_argument("file", nargs="?")
    db.add_argument(
        "--snapshot",
        help="dump : l'instantané exporté (pg_export_snapshot) à sauvegarder, pour comparer",
    )
    db.set_defaults(func=cmd_db)

    sub.add_parser("demo", help="charger le territoire de démonstration").set_defaults(
        func=cmd_demo
    )
    for name, func in (
        ("generate", cmd_generate),
        ("directory", cmd_directory),
        ("rsa", cmd_rsa),
        ("retention", cmd_retention),
        ("manage", cmd_manage),
        ("test", cmd_test),
        ("bench", cmd_bench),
    ):
        p = sub.add_parser(name, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")
    argv = sys.argv[1:] if argv is None else argv
    passthrough = {
        "generate": cmd_generate,
        "directory": cmd_directory,
        "rsa": cmd_rsa,
        "retention": cmd_retention,
        "manage": cmd_manage,
        "test": cmd_test,
        "bench": cmd_bench,
    }
    if argv and argv[0] in passthrough:
        # Everything after the command goes to it untouched (pytest options, manage.py commands).
        passthrough[argv[0]](argparse.Namespace(rest=argv[1:]))
        return
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
