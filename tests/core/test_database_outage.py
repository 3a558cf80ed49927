"""PostgreSQL killed while the web server runs: a French 503 during the outage, and the web
processes serve again by themselves once it is back.

For real: a private cluster (not the test database's) with the test database's schema,
gunicorn serving Binôme on it from a process of its own, and the cluster's postmaster
killed with SIGKILL, then started again. The web server is never restarted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from cryptography.fernet import Fernet
from django.db import connections

from binome.core import embedded_pg

SESSION_COOKIE = {"sessionid": "a" * 32}  # a well-formed key: looked up in the database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _copy_schema(test_database: str, main_socket: str, private_socket: str) -> None:
    """The test database's tables (migrated once for the run), into the private cluster."""
    dump = subprocess.run(
        [
            embedded_pg.client_binary("pg_dump"),
            "--schema-only",
            "--no-owner",
            f"--host={main_socket}",
            f"--username={embedded_pg.DB_USER}",
            test_database,
        ],
        capture_output=True,
        check=True,
    )
    subprocess.run(
        [
            embedded_pg.client_binary("psql"),
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--host={private_socket}",
            f"--username={embedded_pg.DB_USER}",
            f"--dbname={embedded_pg.DB_NAME}",
        ],
        input=dump.stdout,
        capture_output=True,
        check=True,
    )


@pytest.fixture
def served_on_private_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_db_setup: None
) -> Iterator[dict[str, Any]]:
    test_database = connections["default"].settings_dict["NAME"]
    main_socket = embedded_pg.socket_dir()
    var = tmp_path / "var"
    monkeypatch.setenv("BINOME_VAR_DIR", str(var))
    assert embedded_pg.start(quiet=True)
    private_socket = embedded_pg.socket_dir()
    assert private_socket != main_socket
    _copy_schema(test_database, main_socket, private_socket)

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "BINOME_VAR_DIR": str(var),
        "BINOME_TESTING": "1",
        "DEBUG": "false",
        "SECRET_KEY": "une-cle-pour-ce-test-seulement-" + "x" * 40,
        "PERSON_MATCHING_KEY": "cle-de-rapprochement-de-ce-test-seulement-" + "x" * 32,
        "PERSON_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_HOST": "127.0.0.1",  # never reached: nothing here sends mail
    }
    output = log.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "binome.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: requests.get(base + "/", timeout=2).status_code == 200,
            f"serveur (journal : {log})",
        )
        yield {"base": base, "log": log}
    finally:
        server.terminate()
        server.wait(timeout=30)
        output.close()
        embedded_pg.stop()


def _wait_for(condition: Any, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} : toujours pas prêt après {seconds} s")
        time.sleep(0.2)


def _kill_postmaster() -> None:
    pid = embedded_pg.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # The backends notice their postmaster's death and leave; the cluster is then down.
    _wait_for(lambda: _refused(), "arrêt de PostgreSQL", seconds=20)


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


def test_pages_answer_503_in_french_while_postgresql_is_down_and_recover_without_restart(
    served_on_private_cluster: dict[str, Any],
) -> None:
    base = served_on_private_cluster["base"]
    api = {"Authorization": "Bearer binome_un-jeton-inconnu"}
    # Both web processes hold a connection to the database.
    for _ in range(6):
        assert requests.get(base + "/", cookies=SESSION_COOKIE, timeout=5).status_code == 200
        assert requests.get(base + "/api/v1/services", headers=api, timeout=5).status_code == 401

    _kill_postmaster()

    for _ in range(4):
        page = requests.get(base + "/", cookies=SESSION_COOKIE, timeout=10)
        assert page.status_code == 503
        assert "Service momentanément indisponible" in page.text
        assert "Rien de ce que vous avez saisi n'a été enregistré à moitié" in page.text
        assert page.headers["Retry-After"] == "30"
        answer = requests.get(base + "/api/v1/services", headers=api, timeout=10)
        assert answer.status_code == 503
        assert answer.json()["erreur"]["code"] == "service_indisponible"

    assert embedded_pg.start(quiet=True)

    # The same web processes, never restarted, serve again.
    for _ in range(6):
        assert requests.get(base + "/", cookies=SESSION_COOKIE, timeout=5).status_code == 200
        assert requests.get(base + "/api/v1/services", headers=api, timeout=5).status_code == 401
