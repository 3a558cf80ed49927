"""Steering reads on a read replica, when there is one.

When ``DATABASE_REPLICA_URL`` is set, the settings declare a second database, ``replica``
(a streaming standby of the primary). The steering's figures — the dashboards, their
exports, the apps' figures pages — are heavy reads: they run on it, so that they never
slow the pages the professionals use all day, which always read the primary.

The choice is explicit and narrow: a view runs its figures through :func:`on_replica`;
inside, :class:`ReplicaRouter` sends the ORM's reads to the replica and the figures'
raw SQL takes its cursor from :func:`reading_connection`. Everything else (the user, the
permissions, the audit log, every write) stays on the primary.

A replica that is down (connection refused, a query cut) is not an error for the user:
one log line, and the same figures are read again from the primary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"

logger = logging.getLogger("binome.replica")

# The database the current steering read goes to: None outside on_replica().
_reading: ContextVar[str | None] = ContextVar("binome_steering_reads", default=None)


def replica_configured() -> bool:
    """True when the settings declare a replica (``DATABASE_REPLICA_URL``)."""
    return REPLICA in connections.settings


def reading_alias() -> str:
    """The database the figures read now: the replica inside :func:`on_replica` when it
    answers, else the primary."""
    return _reading.get() or DEFAULT_DB_ALIAS


def reading_connection() -> BaseDatabaseWrapper:
    """The connection the figures' raw SQL runs on (``reading_connection().cursor()``)."""
    return connections[reading_alias()]


def _run_on[T](alias: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    token = _reading.set(alias)
    try:
        return function(*args, **kwargs)
    finally:
        _reading.reset(token)


def _give_up_replica(exc: BaseException) -> None:
    logger.warning(
        "Réplique de lecture injoignable (%s) : les chiffres sont lus sur la base principale.",
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
    )
    connection = connections[REPLICA]
    try:
        connection.close()
    except (OperationalError, InterfaceError):
        connection.connection = None  # already gone: forget it, the next call reconnects


def on_replica[T](function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, its reads on the replica when one is configured and
    answers; on the primary otherwise, or when the replica fails during the call (one log
    line, and the call is made again on the primary: it only reads)."""
    if not replica_configured() or _reading.get() is not None:
        return function(*args, **kwargs)
    replica = connections[REPLICA]
    try:
        replica.close_if_unusable_or_obsolete()
        replica.ensure_connection()
    except (OperationalError, InterfaceError) as exc:
        _give_up_replica(exc)
        return function(*args, **kwargs)
    try:
        return _run_on(REPLICA, function, *args, **kwargs)
    except (OperationalError, InterfaceError) as exc:
        # A statement cancelled by the standby's replay (« conflict with recovery ») is the
        # replica's doing too; any other error on a live replica would fail on the primary.
        recovery_conflict = getattr(exc.__cause__, "sqlstate", None) == "40001"
        if replica.is_usable() and not recovery_conflict:
            raise
        _give_up_replica(exc)
        return function(*args, **kwargs)


class ReplicaRouter:
    """Inside :func:`on_replica`, the ORM's reads go to the replica; writes, and every read
    outside it, to the primary. The replica is never migrated: it copies the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return _reading.get()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None
