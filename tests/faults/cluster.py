"""A private PostgreSQL cluster for the fault tests, which kill its postmaster or a worker for
real: the test database's schema and referential copied into it, the test's own Django
connection pointed at it (autocommit: what the test writes is seen by the processes it
starts), and helpers to start ``binome`` commands on it and to kill them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.db import DatabaseError, connections

from binome.core import embedded_pg
from tests.database import ensure_referential

REFERENTIAL_TABLES = "territories_*"


@dataclass
class PrivateCluster:
    var: Path
    env: dict[str, str]  # for the processes started on the cluster
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_binome(
        self, *args: str, log: str, console_mail: bool = False
    ) -> subprocess.Popen[bytes]:
        """``binome ARGS`` on this cluster, in a process group of its own (so that killing
        it kills what it started, as a machine that stops would). ``console_mail``: the
        e-mails it sends are written to its log (development settings)."""
        env = dict(self.env)
        if console_mail:
            env["DEBUG"] = "true"
            del env["EMAIL_HOST"]
        with (self.logs / log).open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-c", "from binome.cli import main; main()", *args],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / name).read_text(errors="replace")


def _copy_database(test_database: str, main_socket: str, private_socket: str) -> None:
    """The test database's tables (migrated once for the run) and its referential (the
    départements and communes the migrations load), into the private cluster."""
    pg_dump = embedded_pg.client_binary("pg_dump")
    common = ["--no-owner", f"--host={main_socket}", f"--username={embedded_pg.DB_USER}"]
    schema = subprocess.run(
        [pg_dump, "--schema-only", *common, test_database], capture_output=True, check=True
    )
    data = subprocess.run(
        [pg_dump, "--data-only", f"--table={REFERENTIAL_TABLES}", *common, test_database],
        capture_output=True,
        check=False,
    )
    assert data.returncode == 0, data.stderr.decode()
    subprocess.run(
        [
            embedded_pg.client_binary("psql"),
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--host={private_socket}",
            f"--username={embedded_pg.DB_USER}",
            f"--dbname={embedded_pg.DB_NAME}",
        ],
        input=schema.stdout + data.stdout,
        capture_output=True,
        check=True,
    )


@pytest.fixture
def private_cluster(
    monkeypatch: pytest.MonkeyPatch, django_db_setup: None, django_db_blocker: Any
) -> Iterator[PrivateCluster]:
    # Not under pytest's own temporary directory: another pytest run of the same account may
    # take back the traversal right PostgreSQL's account needs on it.
    tmp_path = Path(tempfile.mkdtemp(prefix="binome-faults-"))
    connection = connections["default"]
    test_database = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        ensure_referential()  # an earlier transactional test may have emptied it
    main_socket = embedded_pg.socket_dir()
    var = tmp_path / "var"
    monkeypatch.setenv("BINOME_VAR_DIR", str(var))
    assert embedded_pg.start(quiet=True)
    private_socket = embedded_pg.socket_dir()
    assert private_socket != main_socket
    _copy_database(test_database, main_socket, private_socket)
    env = {
        **os.environ,
        "BINOME_VAR_DIR": str(var),
        "BINOME_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "binome.settings",
        "DEBUG": "false",
        "SECRET_KEY": "une-cle-pour-ce-test-seulement-" + "x" * 40,
        "PERSON_MATCHING_KEY": "cle-de-rapprochement-de-ce-test-seulement-" + "x" * 32,
        "PERSON_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_HOST": "127.0.0.1",  # never reached: nothing here sends mail
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    saved = {key: connection.settings_dict[key] for key in ("NAME", "HOST")}
    connection.close()
    connection.settings_dict.update(NAME=embedded_pg.DB_NAME, HOST=private_socket)
    cluster = PrivateCluster(var=var, env=env, logs=logs)
    try:
        with django_db_blocker.unblock():
            yield cluster
    finally:
        for process in cluster.started:
            if process.poll() is None:
                kill_group(process)
        connection.close()
        connection.settings_dict.update(saved)
        embedded_pg.stop()
        shutil.rmtree(var, ignore_errors=True)  # the processes' logs stay, for a failure


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll ``condition`` until it returns something true; the database may be away meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = condition()
            if result:
                return result
        except (psycopg.OperationalError, DatabaseError):
            connections["default"].close()
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} : toujours pas après {seconds} s")
        time.sleep(0.05)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started by ``start_binome`` and every process it started."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def kill_postmaster() -> None:
    """SIGKILL PostgreSQL's postmaster; its backends notice and leave: the cluster is down."""
    pid = embedded_pg.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(_refused, "arrêt de PostgreSQL", seconds=20)
    connections["default"].close()


def restart_postgresql() -> None:
    assert embedded_pg.start(quiet=True)
    connections["default"].close()


def _refused() -> bool:
    try:
        psycopg.connect(
            f"host={embedded_pg.socket_dir()} user={embedded_pg.DB_USER} "
            f"dbname={embedded_pg.DB_NAME}",
            connect_timeout=2,
        ).close()
    except psycopg.OperationalError:
        return True
    return False
