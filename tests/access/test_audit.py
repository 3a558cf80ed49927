import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from binome.access.audit import record
from binome.access.models import AuditEvent, AuditKind


def test_audit_rows_cannot_be_changed_or_deleted_through_the_application(personas):
    event = record(AuditKind.EXPORT, actor=personas["paul"], what="Export de test")
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).update(what="falsifié")
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).what == "Export de test"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE access_auditevent SET what = 'falsifié' WHERE id = %s",
        "DELETE FROM access_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete(personas, sql):
    event = record(AuditKind.EXPORT, actor=personas["paul"], what="Export de test")
    with (
        pytest.raises(DatabaseError, match="ajout seul"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).what == "Export de test"


def test_record_read_keeps_who_from_which_organisation_and_which_person(rf, personas, orgs):
    from binome.access.audit import record_read

    request = rf.get("/")
    request.user = personas["ines"]
    request.current_membership = personas["ines"].memberships.get(organisation=orgs["ft_toulon"])
    record_read(request=request, obj=orgs["ft_toulon"], person_id=42, what="Dossier : synthèse")
    line = AuditEvent.objects.reads_of_person(42).get()
    assert line.actor == personas["ines"]
    assert line.organisation_label == "France Travail Toulon"
    assert line.department_id == "83"
    assert line.what == "Dossier : synthèse"


def test_audit_log_page_lists_the_territorys_events_for_its_admin(client_for, personas):
    record(AuditKind.EXPORT, actor=personas["paul"], department_id="83", what="Export FSE+")
    record(AuditKind.EXPORT, actor=personas["charlie"], department_id="91", what="Export Essonne")
    body = client_for("claire").get("/audit/83/").content.decode()
    assert "Export FSE+" in body
    assert "Export Essonne" not in body
