"""The steering reads a real streaming replica of the test cluster, and the primary when the
replica is down.

The replica is made by the test: ``pg_basebackup --write-recovery-conf`` from the test
cluster into a temporary directory, started on its own socket, declared as the database
``replica`` (what ``DATABASE_REPLICA_URL`` declares). The tests are transactional: what they
write is committed on the primary, so that the replica receives it.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from binome.core import embedded_pg
from binome.core.replica import REPLICA
from binome.support.models import State
from tests.database import ensure_referential
from tests.steering.conftest import QUERY, Known, _person, _set

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])

DASHBOARD = reverse("steering:territory", args=["83"])
EXPORT = reverse("steering:territory_export", args=["83", "support", "chiffres", "csv"])


def _connect(cluster: embedded_pg.Cluster) -> psycopg.Connection[Any]:
    name = connections["default"].settings_dict["NAME"]
    return psycopg.connect(
        f"host={cluster.socket_dir} user={embedded_pg.DB_USER} dbname={name}",
        autocommit=True,
        connect_timeout=3,
    )


def _caught_up(replica: embedded_pg.Cluster) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (written,) = cursor.fetchone()
    deadline = time.monotonic() + 30
    with _connect(replica) as conn:
        while True:
            row = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]
            ).fetchone()
            if row and row[0]:
                return
            assert time.monotonic() < deadline, "la réplique ne rattrape pas la base principale"
            time.sleep(0.1)


@pytest.fixture(scope="module", autouse=True)
def _replica_declared(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None
) -> Iterator[embedded_pg.Cluster]:
    """The database ``replica``, declared before the tests' database set-up reads which
    databases they may use; its cluster is made by each test (``replica``)."""
    cluster = embedded_pg.Cluster(tmp_path_factory.mktemp("replica").resolve())
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(
        HOST=str(cluster.socket_dir),
        OPTIONS={"connect_timeout": 3},
        TEST={**settings_dict["TEST"], "MIRROR": "default"},  # never flushed: it follows
    )
    connections.settings[REPLICA] = settings_dict
    try:
        yield cluster
    finally:
        if REPLICA in connections:
            with contextlib.suppress(Exception):  # the replica may be gone already
                connections[REPLICA].close()
            del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def replica(_replica_declared: embedded_pg.Cluster) -> Iterator[embedded_pg.Cluster]:
    ensure_referential()  # an earlier transactional test may have emptied the communes
    cluster = embedded_pg.start_replica(_replica_declared.root)
    try:
        with _connect(cluster) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        assert row == (True,)  # a standby, not a copy
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            connections[REPLICA].close()
        embedded_pg.stop_cluster(cluster)
        for child in cluster.root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _entries_on_page(client: Client) -> Any:
    response = client.get(DASHBOARD, QUERY)
    assert response.status_code == 200
    support = next(s for s in response.context["sections"] if s.key == "support")
    return next(c.figure.value for c in support.figures if c.figure.key == "entries")


def _entries_in_export(client: Client) -> str:
    response = client.get(EXPORT, QUERY)
    assert response.status_code == 200
    line = next(
        line
        for line in response.content.decode().splitlines()
        if line.startswith("Entrées en accompagnement global;")
    )
    return line.split(";")[1]


def _new_entry(known: Known, first_name: str) -> int:
    """A global accompaniment that started in the period, committed on the primary."""
    person = _person(known.var, first_name, date(1990, 5, 1))
    _set(person, started_on=date(2026, 2, 2), state=State.ACTIVE)
    return person.pk


def test_the_dashboard_and_its_exports_read_the_replica_the_file_the_primary(
    replica: embedded_pg.Cluster, known: Known
) -> None:
    steering = known.var.client(known.var.dan)
    _caught_up(replica)
    assert _entries_on_page(steering) == 3
    assert _entries_in_export(steering) == "3"

    # The replica stops replaying: a row written now on the primary is not on it.
    with _connect(replica) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    person_pk = _new_entry(known, "Rémi")
    assert _entries_on_page(steering) == 3  # read on the paused replica
    assert _entries_in_export(steering) == "3"
    # The professionals' pages read the primary: Alice opens the new file at once.
    alice = known.var.client(known.var.alice)
    assert alice.get(reverse("people:detail", args=[person_pk])).status_code == 200

    # Replayed: the figure written on the primary shows on the replica's page.
    with _connect(replica) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    _caught_up(replica)
    assert _entries_on_page(steering) == 4
    assert _entries_in_export(steering) == "4"


def test_with_the_replica_down_the_dashboard_answers_from_the_primary(
    replica: embedded_pg.Cluster, known: Known, caplog: pytest.LogCaptureFixture
) -> None:
    steering = known.var.client(known.var.dan)
    _caught_up(replica)
    assert _entries_on_page(steering) == 3  # the replica's connection is open now

    pid = embedded_pg.server_pid(replica)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while embedded_pg.server_pid(replica) is not None:
        assert time.monotonic() < deadline, "la réplique ne s'arrête pas"
        time.sleep(0.1)
    _new_entry(known, "Rémi")  # only the primary can know it now

    with caplog.at_level(logging.WARNING, logger="binome.replica"):
        assert _entries_on_page(steering) == 4
    warnings = [r for r in caplog.records if r.name == "binome.replica"]
    assert len(warnings) == 1
    assert "lus sur la base principale" in warnings[0].getMessage()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="binome.replica"):
        assert _entries_in_export(steering) == "4"  # refused at once, read on the primary
    assert len([r for r in caplog.records if r.name == "binome.replica"]) == 1
