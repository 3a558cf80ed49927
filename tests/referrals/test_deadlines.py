"""The daily reminder/expiry job, set-based (``binome.referrals.deadlines``): the same rows as
the one-referral actions (``remind`` / ``expire``), each referral once whatever the number of
runs or of workers, and a query count that does not grow with the number of referrals."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.accounts.models import User
from binome.directory.models import Service
from binome.notifications.actions import set_email_frequency
from binome.notifications.models import EmailFrequency, Notification, NotificationKind
from binome.organisations.models import Membership, Organisation, OrganisationKind, Role
from binome.people.models import Person
from binome.referrals import actions
from binome.referrals.deadlines import run_deadlines
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralEvent,
    ReferralKind,
    ReferralLink,
    Status,
    Via,
)
from binome.support.models import TimelineEvent

TODAY = date(2026, 6, 15)
NOTIFICATION_LINK = re.compile(r"/notifications/\d+/")
REFERRAL_LINK = re.compile(r"/orientations/lien/[^/\s\"]+/")


class Scenario:
    """Referrals due on ``TODAY`` (and some not), with every kind of receiver."""

    def __init__(self, personas: dict[str, Any], orgs: dict[str, Any], garage: Service) -> None:
        Referral.objects.all().delete()  # the demo's referrals
        self.personas, self.orgs, self.garage = personas, orgs, garage
        self.sender, self.sender_org = personas["ines"], orgs["ft_toulon"]
        self.persons = 0
        # An association with an administrator (reminded) and two members (not, unless
        # assigned); one member's account is deactivated.
        self.with_admins = self._organisation("Association Relais Emploi")
        self.admin = self._member(self.with_admins, "admin", Role.ADMIN)
        self.member = self._member(self.with_admins, "membre")
        self.assignee = self._member(self.with_admins, "attributaire")
        gone = self._member(self.with_admins, "parti")
        User.objects.filter(pk=gone.pk).update(is_active=False)
        # An association without an administrator: all its active members are reminded.
        self.without_admins = self._organisation("Association Sans Chef")
        self.first = self._member(self.without_admins, "premier")
        self.second = self._member(self.without_admins, "second")
        inactive = self._member(self.without_admins, "inactif")
        Membership.objects.filter(user=inactive).update(is_active=False)
        # E-mail preferences: a daily digest, no e-mail, the others at once (no row).
        set_email_frequency(user=self.admin, frequency=EmailFrequency.DAILY)
        set_email_frequency(user=self.second, frequency=EmailFrequency.NEVER)

        remind = {"due": TODAY - timedelta(days=1), "expires": TODAY + timedelta(days=20)}
        expire = {"due": TODAY - timedelta(days=30), "expires": TODAY}
        self.due_reminders = [
            self._referral(to=self.with_admins, **remind),
            self._referral(to=self.without_admins, status=Status.SEEN, **remind),
            self._referral(to=self.with_admins, assigned=self.assignee, **remind),
            self._referral(kind=ReferralKind.REORIENTATION, **remind),
            self._referral(structure=True, **remind),  # its link is e-mailed again
            self._referral(structure=True, link=False, **remind),  # no link: no e-mail
        ]
        self.due_expiries = [
            self._referral(to=self.with_admins, **expire),
            self._referral(to=self.without_admins, assigned=self.first, **expire),
            self._referral(to=self.without_admins, status=Status.SEEN, **expire),
            self._referral(kind=ReferralKind.REORIENTATION, **expire),
            self._referral(structure=True, **expire),
        ]
        self.not_due = [
            self._referral(
                to=self.with_admins,
                due=TODAY + timedelta(days=1),
                expires=TODAY + timedelta(days=20),
            ),
            self._referral(to=self.with_admins, reminded=True, **remind),
            self._referral(to=self.with_admins, status=Status.ACCEPTED, **expire),
            self._referral(to=self.without_admins, status=Status.DECLINED, **remind),
        ]

    def _organisation(self, name: str) -> Organisation:
        return Organisation.objects.create(
            name=name, kind=OrganisationKind.ASSOCIATION, department_id="83"
        )

    def _member(self, organisation: Organisation, key: str, role: str = Role.PROFESSIONAL) -> User:
        slug = organisation.name.split()[-1].lower()
        user = User.objects.create_user(
            email=f"{key}@{slug}.test", password="x", first_name=key.title(), last_name=slug
        )
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user

    def _referral(
        self,
        *,
        due: date,
        expires: date,
        to: Organisation | None = None,
        structure: bool = False,
        kind: str = ReferralKind.GLOBAL,
        status: str = Status.SENT,
        assigned: User | None = None,
        reminded: bool = False,
        link: bool = True,
    ) -> Referral:
        self.persons += 1
        person = Person.objects.create(
            department_id="83",
            organisation=self.sender_org,
            first_name=f"Personne{self.persons}",
            last_name="Test",
            birth_date="1990-01-01",
        )
        sent = timezone.now() - timedelta(days=40)
        values: dict[str, Any] = {}
        if structure:
            kind = ReferralKind.SERVICE
            values = {
                "structure": self.garage.structure,
                "service": self.garage,
                "contact_email": "contact@garage.test",
            }
        referral = Referral.objects.create(
            kind=kind,
            status=status,
            person=person,
            department_id="83",
            sender=self.sender,
            sender_organisation=self.sender_org,
            to_organisation=to,
            assigned_to=assigned,
            reason="Motif.",
            decline_reason="no_place" if status == Status.DECLINED else "",
            sent_at=sent,
            due_on=due,
            expires_on=expires,
            reminded_at=sent if reminded else None,
            **values,
        )
        ReferralEvent.objects.create(referral=referral, action="sent", to_status="sent", at=sent)
        if structure and link:
            ReferralLink.objects.create(
                referral=referral,
                nonce=secrets.token_urlsafe(24),
                email="contact@garage.test",
                sent_at=sent,
            )
        return referral


@pytest.fixture
def scenario(personas: dict[str, Any], orgs: dict[str, Any], garage: Service) -> Scenario:
    return Scenario(personas, orgs, garage)


def _snapshot(since: dict[str, int]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the job writes (ids and timestamps left out), and the e-mails sent."""

    def rows(model: Any, *fields: str) -> list[tuple[Any, ...]]:
        new = model.objects.filter(pk__gt=since[model.__name__]).order_by()
        return sorted(new.values_list(*fields), key=repr)

    def normalised(text: str) -> str:
        return REFERRAL_LINK.sub("/orientations/lien/T/", NOTIFICATION_LINK.sub("/N/", text))

    return {
        "referrals": sorted(
            (r.pk, r.status, r.closed_at is not None, r.reminded_at is not None)
            for r in Referral.objects.all()
        ),
        "steps": rows(
            ReferralEvent,
            "referral",
            "action",
            "from_status",
            "to_status",
            "actor",
            "actor_label",
            "via",
            "message",
            "details",
        ),
        "timeline": rows(
            TimelineEvent,
            "person",
            "accompaniment",
            "kind",
            "actor",
            "organisation",
            "visibility",
            "target_type",
            "target_id",
            "summary",
        ),
        "audit": rows(
            AuditEvent,
            "kind",
            "actor",
            "actor_label",
            "organisation",
            "organisation_label",
            "department",
            "target_type",
            "target_id",
            "person_id",
            "what",
            "ip_address",
            "details",
        ),
        "notifications": rows(
            Notification,
            "recipient",
            "kind",
            "title",
            "body",
            "url",
            "actor",
            "dedup_key",
            "read_at",
        ),
        "emailed": sorted(
            (recipient, key, emailed_at is not None)
            for recipient, key, emailed_at in rows(
                Notification, "recipient", "dedup_key", "emailed_at"
            )
        ),
        "links": sorted(
            ReferralLink.objects.values_list("referral", "nonce", "email", "revoked_at")
        ),
        "emails": sorted(
            (
                tuple(m.to),
                m.subject,
                normalised(m.body),
                tuple(normalised(content) for content, _type in m.alternatives),
                tuple(m.reply_to),
            )
            for m in mail.outbox
        ),
    }


def _marks() -> dict[str, int]:
    return {
        model.__name__: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (ReferralEvent, TimelineEvent, AuditEvent, Notification)
    }


def _one_by_one(today: date) -> tuple[int, int]:
    """The job as it was: each referral in its own transaction, locked and re-checked."""
    expired = sum(
        actions.expire(referral=r, today=today)
        for r in Referral.objects.due_for_expiry(today).order_by("pk")
    )
    reminded = sum(
        actions.remind(referral=r, today=today)
        for r in Referral.objects.due_for_reminder(today).order_by("pk")
    )
    return reminded, expired


def _outcome(
    job: Callable[[date], tuple[int, int]], capture: Any
) -> tuple[tuple[int, int], dict[str, list[tuple[Any, ...]]]]:
    """Run the job in a savepoint, e-mails included, note what it wrote, then undo it."""
    marks = _marks()
    mail.outbox.clear()
    try:
        with transaction.atomic():
            with capture(execute=True):
                counts = job(TODAY)
            snapshot = _snapshot(marks)
            raise _Undo
    except _Undo:
        pass
    return counts, snapshot


class _Undo(Exception):
    """Rolls back what the job wrote in the test."""


def test_the_job_writes_the_same_rows_as_one_referral_at_a_time(
    scenario: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    before, old = _outcome(_one_by_one, django_capture_on_commit_callbacks)
    after, new = _outcome(run_deadlines, django_capture_on_commit_callbacks)
    expected = (len(scenario.due_reminders), len(scenario.due_expiries))
    assert before == after == expected
    for part in old:
        assert new[part] == old[part], part
    # What the rows say (so that the comparison above compares something).
    notified = {(kind, url, recipient) for recipient, kind, _t, _b, url, *_ in new["notifications"]}

    def told(referral: Referral, kind: str) -> set[int]:
        url = reverse("referrals:detail", args=[referral.pk])
        return {r for k, u, r in notified if k == kind and u == url}

    s = scenario
    reminded, expired = NotificationKind.REFERRAL_REMINDER, NotificationKind.REFERRAL_EXPIRED
    assert told(s.due_reminders[0], reminded) == {s.admin.pk}
    assert told(s.due_reminders[1], reminded) == {s.first.pk, s.second.pk}
    assert told(s.due_reminders[2], reminded) == {s.assignee.pk}
    assert told(s.due_reminders[3], reminded) == {s.personas["claire"].pk}
    assert told(s.due_reminders[4], reminded) == told(s.due_reminders[5], reminded) == set()
    assert told(s.due_expiries[0], expired) == {s.sender.pk, s.admin.pk}
    assert told(s.due_expiries[1], expired) == {s.sender.pk, s.first.pk}
    assert told(s.due_expiries[4], expired) == {s.sender.pk}
    emails = [(to, subject) for to, subject, *_ in new["emails"]]
    # The digest and no-e-mail users get none at once; the garage its reminder, once.
    assert not any(s.admin.email in to or s.second.email in to for to, _ in emails)
    garage = (
        ("contact@garage.test",),
        f"Relance : orientation de {s.sender_org.name} sans réponse",
    )
    assert emails.count(garage) == 1
    assert ((s.first.email,), "Orientation en attente de réponse") in emails
    # The garage's reminder signs its current link anew: no new link, none revoked.
    assert len(new["links"]) == 2 and all(revoked is None for *_, revoked in new["links"])
    assert {action for _r, action, *_ in new["steps"]} == {"reminded", "expired"}
    assert len(new["timeline"]) == len(new["audit"]) == sum(expected)


def test_run_twice_it_does_nothing_the_second_time(
    scenario: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert run_deadlines(TODAY) == (len(scenario.due_reminders), len(scenario.due_expiries))
    marks = _marks()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_deadlines(TODAY) == (0, 0)
    assert mail.outbox == []
    assert _marks() == marks
    for referral in scenario.not_due:
        assert not referral.events.exclude(action=EventAction.SENT).exists()


def _due(count: int, day: date, scenario: Scenario) -> None:
    """``count`` referrals to remind on ``day`` and as many to expire, of every kind."""
    shapes: list[dict[str, Any]] = [
        {"to": scenario.with_admins},
        {"to": scenario.without_admins},
        {"to": scenario.with_admins, "assigned": scenario.member},
        {"kind": ReferralKind.REORIENTATION},
        {"structure": True},
    ]
    for i in range(count):
        shape = shapes[i % len(shapes)]
        scenario._referral(due=day, expires=day + timedelta(days=30), **shape)
        scenario._referral(due=day - timedelta(days=30), expires=day, **shape)


def test_the_number_of_queries_does_not_grow_with_the_referrals(
    scenario: Scenario, django_capture_on_commit_callbacks: Any
) -> None:
    counts = []
    for number, day in ((5, TODAY + timedelta(days=1)), (50, TODAY + timedelta(days=2))):
        run_deadlines(day)  # what the scenario has due that day
        _due(number, day, scenario)
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert run_deadlines(day) == (number, number)
        counts.append(len(queries))
    # Per action: the selection, the update, the read, three inserts (steps, timeline, audit),
    # the receivers (members, managers), the notifications, (the links), a savepoint and its
    # release; after the commit, each action's e-mails read and marked sent.
    assert counts[0] == counts[1] == 27, counts


def _reminders() -> int:
    return Notification.objects.filter(kind=NotificationKind.REFERRAL_REMINDER).count()


def _waiting_for_a_lock(count: int, results: list[Any]) -> None:
    """Wait until ``count`` other backends wait for a row lock (the race is on)."""
    with connection.cursor() as cursor:
        for _ in range(400):
            # Inside a transaction the activity view is a snapshot: take a new one each time.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.05)
    raise AssertionError(f"the job never waited for the lock: {results}")


@pytest.fixture
def committed(
    personas: dict[str, Any], orgs: dict[str, Any], garage: Service
) -> Iterator[Scenario]:
    """The scenario, committed (the threads see it through their own connections)."""
    yield Scenario(personas, orgs, garage)


def _in_thread(target: Callable[[], Any], results: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(target())
        except Exception as exc:  # the assertion below shows it
            results.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_and_expire_each_referral_once(committed: Scenario) -> None:
    """Two workers, two connections, both blocked by a row lock on a due referral after
    they selected their work: each referral is still reminded or expired once."""
    locked = committed.due_expiries[0]
    lines, reminders = TimelineEvent.objects.count(), _reminders()
    results: list[Any] = []
    workers: list[threading.Thread] = []
    try:
        with transaction.atomic():
            Referral.objects.select_for_update().get(pk=locked.pk)
            workers = [_in_thread(lambda: run_deadlines(TODAY), results) for _ in range(2)]
            _waiting_for_a_lock(2, results)
    finally:
        for worker in workers:
            worker.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    reminded = sum(r[0] for r in results)
    expired = sum(r[1] for r in results)
    assert (reminded, expired) == (
        len(committed.due_reminders),
        len(committed.due_expiries),
    )
    for referral in committed.due_reminders:
        assert referral.events.filter(action=EventAction.REMINDED).count() == 1
    for referral in committed.due_expiries:
        assert referral.events.filter(action=EventAction.EXPIRED).count() == 1
        referral.refresh_from_db()
        assert referral.status == Status.EXPIRED
    assert TimelineEvent.objects.count() == lines + reminded + expired
    # The administrator, the two members, the assignee, the orientation manager.
    assert _reminders() == reminders + 5
    to_garage = [m for m in mail.outbox if m.to == ["contact@garage.test"]]
    assert len(to_garage) == 1


@pytest.mark.django_db(transaction=True)
def test_a_referral_answered_after_the_selection_is_left_alone(committed: Scenario) -> None:
    """The job selects a referral due for expiry; before its update, a member accepts it
    (another connection): the update skips it."""
    answered = committed.due_expiries[0]
    results: list[Any] = []
    job: threading.Thread | None = None
    try:
        with transaction.atomic():
            Referral.objects.filter(pk=answered.pk).update(
                status=Status.ACCEPTED, answered_at=timezone.now()
            )
            job = _in_thread(lambda: run_deadlines(TODAY), results)
            _waiting_for_a_lock(1, results)  # the job selected it as due, waits for the answer
    finally:
        if job is not None:
            job.join()
    assert results == [(len(committed.due_reminders), len(committed.due_expiries) - 1)]
    answered.refresh_from_db()
    assert answered.status == Status.ACCEPTED and answered.closed_at is None
    assert not answered.events.filter(via=Via.JOB).exists()
    assert not Notification.objects.filter(
        url=reverse("referrals:detail", args=[answered.pk])
    ).exists()
