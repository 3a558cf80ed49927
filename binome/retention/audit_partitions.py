"""The audit log's months: one partition of ``access_auditevent`` per month (UTC), made
ahead by the retention job and dropped whole once older than the kept duration.

The duration is one setting for the whole instance (``BINOME_AUDIT_RETENTION_MONTHS``, 6 to
24, default 12), not one per territory: a month's partition holds the lines of every
territory, and removing only some of them would be a DELETE, which the append-only rule
refuses to everybody. Dropping a partition is the only way lines leave the log, and only
this job does it, leaving its own line in the log.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from django.db import connection, transaction

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.retention import settings as retention_settings
from binome.retention.contact import add_months

TABLE = "access_auditevent"
MONTHS_AHEAD = 3
_NAME = re.compile(rf"^{TABLE}_(\d{{4}})_(\d{{2}})$")


def partition_name(month: date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def monthly_partitions() -> dict[str, date]:
    """The log's monthly partitions, by name, with their first day."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname FROM pg_inherits i
               JOIN pg_class c ON c.oid = i.inhrelid
               JOIN pg_class p ON p.oid = i.inhparent
               WHERE p.relname = %s""",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            months[name] = date(int(match[1]), int(match[2]), 1)
    return months


def oldest_kept(today: date) -> date:
    """The first day of the oldest month the log keeps (« depuis le … »)."""
    return add_months(today.replace(day=1), -retention_settings.audit_months())


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1).strftime("%Y-%m-%d 00:00:00+00")


def create_partition(month: date) -> bool:
    """The month's partition, unless it exists or the DEFAULT partition already holds lines
    of that month (then they stay there: the log is never rewritten)."""
    name = partition_name(month)
    if name in monthly_partitions():
        return False
    start, end = _bound(month), _bound(add_months(month, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {TABLE}_default "  # noqa: S608 (a constant)
            "WHERE created_at >= %s AND created_at < %s)",
            [start, end],
        )
        if cursor.fetchone()[0]:
            return False
        # DDL takes no parameters: the bounds are dates this module formatted itself.
        cursor.execute(
            f"CREATE TABLE \"{name}\" PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')"
        )
    return True


@transaction.atomic
def maintain(*, today: date) -> tuple[list[str], list[str]]:
    """Create the current and the next months' partitions, drop those whose whole month is
    older than the kept duration; write one line of the log when something changed.
    Returns the names created and dropped."""
    created = []
    month = today.replace(day=1)
    for _ in range(MONTHS_AHEAD + 1):
        if create_partition(month):
            created.append(partition_name(month))
        month = add_months(month, 1)
    limit = oldest_kept(today)
    dropped = []
    for name, first_day in sorted(monthly_partitions().items(), key=lambda item: item[1]):
        if add_months(first_day, 1) <= limit:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE "{name}"')
            dropped.append(name)
    if created or dropped:
        record(
            AuditKind.AUDIT_PARTITIONS,
            actor_label="traitement de conservation",
            what=(
                f"Journal d'audit : {len(created)} mois créé(s), {len(dropped)} mois expiré(s) "
                f"supprimé(s) (conservé {retention_settings.audit_months()} mois)"
            ),
            details={"created": created, "dropped": dropped},
        )
    return created, dropped
