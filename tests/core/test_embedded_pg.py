"""The embedded PostgreSQL launcher, on a private cluster of its own (not the test database)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from binome.core import embedded_pg


@pytest.fixture
def private_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BINOME_VAR_DIR", str(tmp_path / "var"))
    yield embedded_pg.cluster()
    embedded_pg.stop()


def test_start_stop_reuse_and_stale_pid_file(private_cluster, capsys):
    assert embedded_pg.start(quiet=True) is True
    assert embedded_pg.start(quiet=True) is False  # already running: reused
    pid = embedded_pg.server_pid()
    assert pid is not None
    with psycopg.connect(
        f"host={private_cluster.socket_dir} user={embedded_pg.DB_USER} dbname=binome"
    ) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",), "no TCP port"
    assert embedded_pg.stop() is True
    assert embedded_pg.server_pid() is None
    assert not _alive(pid), "no orphan postgres after stop"

    # A crash leaves a postmaster.pid behind, pointing to a process that is gone.
    private_cluster.pid_file.write_text("999999\n")
    assert embedded_pg.start(quiet=True) is True
    assert "postmaster.pid périmé" in capsys.readouterr().out
    assert embedded_pg.server_pid() is not None


def _alive(pid: int) -> bool:
    """Running and not a zombie waiting to be reaped by the container's init."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_second_run_is_refused_with_a_clear_message(tmp_path: Path):
    var = tmp_path / "var"
    var.mkdir()
    with (var / "binome-run.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        result = subprocess.run(
            [sys.executable, "-m", "binome.cli", "run"],
            env={**os.environ, "BINOME_VAR_DIR": str(var)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "Binôme tourne déjà sur cette copie (processus 4242)" in result.stderr


def test_dump_and_restore(private_cluster, tmp_path: Path):
    embedded_pg.start(quiet=True)
    conninfo = f"host={private_cluster.socket_dir} user={embedded_pg.DB_USER} dbname=binome"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE souvenir (texte text)")
        conn.execute("INSERT INTO souvenir VALUES ('avant la sauvegarde')")
    dump = tmp_path / "binome.dump"
    env = {**os.environ, "BINOME_VAR_DIR": str(private_cluster.root)}

    def binome(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "binome.cli", "db", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert binome("dump", str(dump)).returncode == 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("UPDATE souvenir SET texte = 'modifié après'")
    result = binome("restore", str(dump))
    assert result.returncode == 0, result.stderr
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT texte FROM souvenir").fetchall() == [("avant la sauvegarde",)]
    missing = binome("restore", str(tmp_path / "absent.dump"))
    assert missing.returncode == 1
    assert "n'existe pas" in missing.stderr


def test_the_last_user_stops_a_cluster_started_on_demand(private_cluster):
    with embedded_pg.in_use():
        with embedded_pg.in_use():  # e.g. a test run while `binome run` serves
            assert embedded_pg.server_pid() is not None
        assert embedded_pg.server_pid() is not None, "still used by the outer command"
    assert embedded_pg.server_pid() is None

    embedded_pg.start(quiet=True)
    embedded_pg.keep_running()  # `binome db start`: the operator stops it
    with embedded_pg.in_use():
        pass
    assert embedded_pg.server_pid() is not None
