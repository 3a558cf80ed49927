"""The audit log's months: the job drops the months older than the kept duration and
nothing newer; nobody deletes a line of the log."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.retention import actions, audit_partitions
from binome.retention.contact import add_months

pytestmark = pytest.mark.django_db


def old_line(month: date) -> int:
    """A line of the log written in ``month`` (as the log held it then)."""
    audit_partitions.create_partition(month)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO access_auditevent (created_at, kind, actor_label, organisation_label, "
            "target_type, target_id, what, details, person_ids) "
            "VALUES (%s, 'read', 'Alice', '', '', '', 'Dossier', '{}', '{}') RETURNING id",
            [timezone.make_aware(timezone.datetime(month.year, month.month, 15, 12))],
        )
        return cursor.fetchone()[0]


def test_the_job_drops_the_expired_months_and_nothing_newer() -> None:
    today = timezone.localdate()
    this_month = today.replace(day=1)
    expired = old_line(add_months(this_month, -13))
    kept = old_line(add_months(this_month, -11))
    recent = AuditEvent.objects.create(kind=AuditKind.LOGIN, actor_label="Bob").pk
    names_before = set(audit_partitions.monthly_partitions())

    report = actions.run()

    assert report.audit_partitions_dropped == [
        audit_partitions.partition_name(add_months(this_month, -13))
    ]
    assert not AuditEvent.objects.filter(pk=expired).exists()
    assert AuditEvent.objects.filter(pk__in=[kept, recent]).count() == 2
    after = set(audit_partitions.monthly_partitions())
    assert names_before - after == set(report.audit_partitions_dropped)
    for month in range(4):  # this month and the next three exist
        assert audit_partitions.partition_name(add_months(this_month, month)) in after
    line = AuditEvent.objects.get(kind=AuditKind.AUDIT_PARTITIONS)
    assert line.details["dropped"] == report.audit_partitions_dropped
    # Run again: nothing more to drop, nothing logged.
    assert actions.run().audit_partitions_dropped == []
    assert AuditEvent.objects.filter(kind=AuditKind.AUDIT_PARTITIONS).count() == 1


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM access_auditevent WHERE id = %s",
        "UPDATE access_auditevent SET what = 'effacé' WHERE id = %s",
        "DELETE FROM {partition} WHERE id = %s",
    ],
)
def test_nobody_deletes_or_changes_a_line(sql: str) -> None:
    line = AuditEvent.objects.create(kind=AuditKind.LOGIN, actor_label="Bob")
    partition = audit_partitions.partition_name(timezone.now().date().replace(day=1))
    with (
        pytest.raises(DatabaseError, match="ajout seul"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql.format(partition=partition), [line.pk])
    assert AuditEvent.objects.filter(pk=line.pk, what="").exists()
