"""The end of a file's life: the notice 30 days before two years without contact, the
anonymisation after, and what keeps a file (an open accompaniment, a legal hold)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.access.audit import record_read
from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.notifications.models import Notification, NotificationKind
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from binome.people.models import Person
from binome.retention import actions
from binome.retention.contact import last_contact
from binome.retention.models import Anonymisation, RetentionNotice, RetentionRun
from binome.support import actions as support_actions
from binome.support import figures
from binome.support.models import (
    Accompaniment,
    ExitReason,
    Kind,
    Medium,
    Note,
    TeamMember,
    TeamRole,
    TimelineEvent,
)
from tests.factories import SmallTerritory
from tests.retention.conftest import age_file, days_until_deadline_is, today

pytestmark = pytest.mark.django_db


def test_last_contact_moves_with_a_note_not_with_a_read(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    age_file(person, 400)
    before = last_contact(person)
    # Days as the person lives them (Paris), not in UTC: from 23:00 UTC they differ.
    assert (today() - timezone.localtime(before).date()).days == 400
    request = RequestFactory().get("/")
    request.user = closed_file.bob
    record_read(request=request, obj=person, person_id=person.pk, what="Dossier")
    # A job's line (no author) is no contact either.
    support_actions.add_event(
        person=person,
        kind="referral",
        actor=None,
        organisation=closed_file.france_travail,
        summary="Orientation expirée",
    )
    assert last_contact(person) == before
    support_actions.write_note(
        person=person,
        author=closed_file.bob,
        organisation=closed_file.departement,
        date=today(),
        medium=Medium.PHONE,
        text="Appel",
    )
    assert timezone.localtime(last_contact(person)).date() == today()


def test_the_team_is_told_30_days_before_then_the_file_is_anonymised(
    closed_file: SmallTerritory,
) -> None:
    person = closed_file.person
    ended = closed_file.accompaniment
    period = {"since": today() - timedelta(days=900), "until": today() + timedelta(days=1)}
    exits_before = figures.territory_exits("83", **period)
    by_organisation_before = figures.exits_by_organisation("83", **period)
    assert exits_before.job == 1

    age_file(person, days_until_deadline_is(31))
    assert actions.run().notified == 0

    age_file(person, 1)  # the deadline is in 30 days
    report = actions.run()
    assert (report.notified, report.anonymised) == (1, 0)
    notices = Notification.objects.filter(kind=NotificationKind.RETENTION)
    assert {n.recipient for n in notices} == {closed_file.alice, closed_file.bob}
    told = notices[0]
    assert "Zoé" not in told.title + told.body
    assert actions.run().notified == 0  # idempotent: told once

    age_file(person, 31)  # two years and one day without contact
    report = actions.run()
    assert report.anonymised == 1
    assert report.by_department == {"83": {"anonymise": 1}}
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.birth_name) == (
        "Personne",
        "anonymisée",
        "",
    )
    assert person.birth_date == person.birth_date.replace(day=1)
    assert (person.birth_date.year, person.birth_date.month) == (1990, 5)
    assert person.commune_id is None or person.commune_id  # the commune is kept as it was
    assert not person.nir_hash and not person.nir_encrypted
    assert Note.objects.get(person=person).text == ""
    ended.refresh_from_db()
    assert ended.exit_situation == ""
    assert ended.exit_reason == "emploi_durable"
    assert not TimelineEvent.objects.filter(person=person, summary__contains="Zoé").exists()
    assert Anonymisation.objects.filter(person=person).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.FILE_ANONYMISED, person_id=person.pk).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.RETENTION_RUN, department_id="83").exists()
    # The figures of the exits are the same as before.
    assert figures.territory_exits("83", **period) == exits_before
    assert figures.exits_by_organisation("83", **period) == by_organisation_before
    # Run again: nothing more.
    assert actions.run().anonymised == 0


def test_a_file_past_its_deadline_never_told_waits_for_the_notice(
    closed_file: SmallTerritory,
) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(-1))
    report = actions.run()
    assert (report.notified, report.anonymised) == (1, 0)
    age_file(person, 29)
    assert actions.run().anonymised == 0
    age_file(person, 1)
    assert actions.run().anonymised == 1


def test_a_note_29_days_before_the_deadline_keeps_the_file(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(30))
    assert actions.run().notified == 1
    age_file(person, 1)  # 29 days before the deadline, a new interview
    support_actions.write_note(
        person=person,
        author=closed_file.alice,
        organisation=closed_file.france_travail,
        date=today(),
        medium=Medium.IN_PERSON,
        text="Elle revient nous voir.",
    )
    age_file(person, 60)  # past the old deadline
    report = actions.run()
    assert (report.notified, report.anonymised) == (0, 0)
    person.refresh_from_db()
    assert person.first_name == "Zoé"


def test_a_held_file_is_kept(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(10))
    actions.run()
    actions.set_legal_hold(person=person, reason="Réquisition du parquet", by=closed_file.dan)
    age_file(person, 60)
    report = actions.run()
    assert (report.anonymised, report.kept) == (0, 1)
    assert Person.objects.get(pk=person.pk).first_name == "Zoé"


def test_an_open_accompaniment_keeps_the_file(small_var: SmallTerritory) -> None:
    age_file(small_var.person, days_until_deadline_is(-60))
    report = actions.run()
    assert (report.notified, report.anonymised, report.kept) == (0, 0, 1)


def test_a_legal_hold_needs_a_reason(closed_file: SmallTerritory) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        actions.set_legal_hold(person=closed_file.person, reason="  ", by=closed_file.dan)


def test_the_dry_run_writes_nothing(closed_file: SmallTerritory, capsys) -> None:  # type: ignore[no-untyped-def]
    person = closed_file.person
    age_file(person, days_until_deadline_is(30))
    actions.run()
    age_file(person, 40)
    audit_lines = AuditEvent.objects.count()
    call_command("retention", "run", "--dry-run")
    out = capsys.readouterr().out
    assert "France Travail Toulon ; 0 ; 1 ; 0 ; 0" in out
    assert f"dossier n° {person.pk} (83)" in out
    assert AuditEvent.objects.count() == audit_lines
    assert not RetentionRun.objects.exists() or RetentionRun.objects.filter(dry_run=False).exists()
    person.refresh_from_db()
    assert person.first_name == "Zoé"
    call_command("retention", "run")
    person.refresh_from_db()
    assert person.first_name == "Personne"


def test_a_second_run_waits_for_the_first() -> None:
    entered = threading.Event()

    def second_run() -> None:
        try:
            with actions._run_lock():
                entered.set()
        finally:
            connections.close_all()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [actions.RUN_LOCK_KEY])
    thread = threading.Thread(target=second_run)
    thread.start()
    try:
        assert not entered.wait(0.5)  # the first run holds the lock: the second waits
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [actions.RUN_LOCK_KEY])
    thread.join(10)
    assert entered.is_set()


def test_a_hold_set_while_the_run_works_is_honoured(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(10))
    actions.run()
    age_file(person, 40)
    [candidate] = actions.plan(today=today()).anonymise  # read by the run before the hold
    actions.set_legal_hold(person=person, reason="Réquisition", by=closed_file.dan)
    assert not actions.anonymise_if_due(candidate, today=today(), run=None)
    assert Person.objects.get(pk=person.pk).first_name == "Zoé"


def _closed_file_of(small_var: SmallTerritory, first_name: str) -> Person:
    person = support_actions.create_person(
        data={"first_name": first_name, "last_name": "Martin", "birth_date": date(1988, 4, 2)},
        by=small_var.alice,
        organisation=small_var.france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    support_actions.end_accompaniment(
        accompaniment=Accompaniment.objects.get(person=person),
        ended_on=today(),
        reason=ExitReason.DURABLE_JOB,
        situation="",
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    return person


def test_a_batch_of_files_is_told_in_a_fixed_number_of_statements(
    closed_file: SmallTerritory, django_assert_max_num_queries: Any
) -> None:
    """The notices of a batch are set-based: one file or five cost the same statements,
    and each file still gets its notice, its notifications and its audit line; a file
    without a team is told to the territory's administrators."""
    small_var = closed_file
    admin = User.objects.create_user(email="admin.retention@var.test", password="x" * 20)
    TerritoryRole.objects.create(
        user=admin, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    age_file(closed_file.person, days_until_deadline_is(30))
    with CaptureQueriesContext(connection) as one:
        assert actions.run().notified == 1

    others = [_closed_file_of(small_var, name) for name in ("Léa", "Inès", "Yanis", "Hugo")]
    TeamMember.objects.filter(person=others[0]).update(left_at=timezone.now())
    for person in others:
        age_file(person, days_until_deadline_is(30))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert actions.run().notified == 4
    for person in others:
        notice = RetentionNotice.objects.get(person=person)
        recipients = {
            n.recipient_id
            for n in Notification.objects.filter(
                kind=NotificationKind.RETENTION,
                dedup_key=f"retention-{person.pk}-{notice.last_contact_on:%Y%m%d}",
            )
        }
        expected = {admin.pk} if person == others[0] else {small_var.alice.pk}
        assert recipients == expected == set(notice.recipient_ids)
        assert (
            AuditEvent.objects.filter(kind=AuditKind.RETENTION_NOTICE, person_id=person.pk).count()
            == 1
        )
    assert actions.run().notified == 0
