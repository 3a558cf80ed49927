"""Urgent referrals: due within the territory's hours, said so in the e-mail and the inbox,
reminded at half-time and at the due time (once each); « Relancer » by the sender's side."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.notifications.models import Notification
from binome.people.models import Person
from binome.referrals import actions
from binome.referrals.deadlines import run_urgent_reminders
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralEvent,
    ReferralKind,
    ReferralSettings,
    Status,
    Urgency,
)
from binome.support.models import TimelineEvent
from tests.referrals.conftest import consent_to


@pytest.fixture
def person(orgs: dict[str, Any], personas: dict[str, Any]) -> Person:
    """Someone of the Var followed by Inès (France Travail Toulon), who consents to be
    oriented to the Département's social service (Marc's)."""
    person = Person.objects.create(
        department_id="83",
        organisation=orgs["ft_toulon"],
        first_name="Yasmina",
        last_name="Urgente",
        birth_date="1991-05-04",
    )
    consent_to(person, personas["ines"], orgs["ft_toulon"], recipient=orgs["dep83"])
    run_urgent_reminders()  # the demo's urgent referral, past its due time, reminded first
    return person


def send(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, urgency: str = Urgency.URGENT
) -> Referral:
    return actions.send_referral(
        person=person,
        kind=ReferralKind.SOCIAL,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        to_organisation=orgs["dep83"],
        reason="Expulsion annoncée pour la fin de la semaine.",
        urgency=urgency,
    )


def local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def test_an_urgent_referral_is_due_within_the_territorys_hours(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person
) -> None:
    ReferralSettings.objects.create(department_id="83", urgent_hours=6)
    referral = send(personas, orgs, person)
    assert referral.due_at == referral.sent_at + timedelta(hours=6)
    assert referral.due_on == timezone.localdate(referral.due_at)
    # Not urgent: today's delay in days, due at the end of that day.
    other = Person.objects.create(
        department_id="83",
        organisation=orgs["ft_toulon"],
        first_name="A",
        last_name="B",
        birth_date="1980-01-01",
    )
    consent_to(other, personas["ines"], orgs["ft_toulon"], recipient=orgs["dep83"])
    normal = send(personas, orgs, other, Urgency.NORMAL)
    assert normal.due_on == timezone.localdate(normal.sent_at) + timedelta(days=10)
    assert local(normal.due_at).date() == normal.due_on
    assert (local(normal.due_at).hour, local(normal.due_at).minute) == (23, 59)


def test_the_default_is_48_hours_and_the_email_says_until_when(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    person: Person,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(personas, orgs, person)
    assert referral.due_at == referral.sent_at + timedelta(hours=48)
    due = local(referral.due_at)
    expected = f"Orientation urgente : réponse attendue avant le {due:%d/%m} à {due:%H}h{due:%M}"
    to_marc = [m for m in mail.outbox if personas["marc"].email in m.to]
    assert to_marc and expected in to_marc[0].body
    assert "Yasmina" not in to_marc[0].body and "Urgente" not in to_marc[0].subject.split()
    notice = Notification.objects.get(recipient=personas["marc"], kind="referral_received")
    assert expected in notice.body and "Yasmina" not in notice.body


def test_the_inbox_shows_the_badge_and_the_due_time(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, client_for: Any
) -> None:
    referral = send(personas, orgs, person)
    # Due this afternoon at 16:00 (local time).
    now = timezone.localtime()
    due = now.replace(hour=16, minute=0, second=0, microsecond=0)
    if due <= now:
        due += timedelta(days=1)
    Referral.objects.filter(pk=referral.pk).update(due_at=due, due_on=due.date())
    body = html.unescape(client_for("marc").get(reverse("referrals:inbox")).content.decode())
    row = body[body.index("Yasmina") - 2000 : body.index("Yasmina") + 2000]
    assert "Urgente" in row
    day = "aujourd'hui" if due.date() == now.date() else "demain"
    assert f"avant {day} 16h00" in row
    # Past its due time: late, first in « Toutes » although due today.
    Referral.objects.filter(pk=referral.pk).update(
        due_at=timezone.now() - timedelta(minutes=5), due_on=timezone.localdate()
    )
    body = html.unescape(
        client_for("marc").get(reverse("referrals:inbox") + "?etat=toutes").content.decode()
    )
    assert "En retard : avant " in body
    first_row = body.index("<tbody")
    assert body.index("Yasmina") < body.index("</tr>", first_row)


def test_half_time_then_due_time_reminders_once_each(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    person: Person,
    django_capture_on_commit_callbacks: Any,
) -> None:
    referral = send(personas, orgs, person)
    sent = referral.sent_at
    reminders = Notification.objects.filter(
        kind="referral_reminder", url=reverse("referrals:detail", args=[referral.pk])
    )
    # Before half-time: nothing.
    assert run_urgent_reminders(sent + timedelta(hours=23)) == (0, 0)
    assert not reminders.exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_urgent_reminders(sent + timedelta(hours=24, minutes=1)) == (1, 0)
    assert reminders.count() >= 1
    assert any("Orientation urgente : réponse attendue avant le" in m.body for m in mail.outbox)
    half = set(reminders.values_list("pk", flat=True))
    # Run again: nothing more.
    assert run_urgent_reminders(sent + timedelta(hours=25)) == (0, 0)
    assert set(reminders.values_list("pk", flat=True)) == half
    # The daily job leaves the urgent ones to their clock.
    actions.run_deadlines(referral.due_on)
    referral.refresh_from_db()
    assert referral.reminded_at is None
    # Past the due time: the second reminder, once.
    assert run_urgent_reminders(sent + timedelta(hours=48, minutes=1)) == (0, 1)
    assert run_urgent_reminders(sent + timedelta(hours=49)) == (0, 0)
    referral.refresh_from_db()
    assert referral.half_reminded_at is not None and referral.reminded_at is not None
    assert reminders.filter(title__contains="délai").count() == reminders.count() - len(half)
    assert ReferralEvent.objects.filter(referral=referral, action=EventAction.REMINDED).count() == 2


def test_an_answered_urgent_referral_is_not_reminded(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person
) -> None:
    referral = send(personas, orgs, person)
    actions.decline(referral=referral, by=personas["marc"], reason="no_place")
    assert run_urgent_reminders(referral.sent_at + timedelta(hours=50)) == (0, 0)


def test_the_sender_nudges_once_a_day(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    person: Person,
    django_capture_on_commit_callbacks: Any,
) -> None:
    referral = send(personas, orgs, person, Urgency.NORMAL)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.nudge(referral=referral, by=personas["ines"])
    assert any(personas["marc"].email in m.to and "vous relance" in m.body for m in mail.outbox)
    assert ReferralEvent.objects.filter(referral=referral, action=EventAction.NUDGED).count() == 1
    assert TimelineEvent.objects.filter(person=person, summary__contains="relancée par").exists()
    assert AuditEvent.objects.filter(what__contains="relancée par Inès").exists()
    with pytest.raises(ValidationError, match="une relance par jour au plus"):
        actions.nudge(referral=referral, by=personas["ines"])
    # A day later, again.
    ReferralEvent.objects.filter(referral=referral, action=EventAction.NUDGED).update(
        at=timezone.now() - timedelta(hours=25)
    )
    actions.nudge(referral=referral, by=personas["ines"])
    # Answered: no more.
    actions.decline(referral=referral, by=personas["marc"], reason="no_place")
    ReferralEvent.objects.filter(referral=referral, action=EventAction.NUDGED).update(
        at=timezone.now() - timedelta(hours=25)
    )
    with pytest.raises(ValidationError, match="ne se relance plus"):
        actions.nudge(referral=referral, by=personas["ines"])


def test_relancer_on_the_page_twice_in_a_day_is_refused(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, client_for: Any
) -> None:
    referral = send(personas, orgs, person)
    ines = client_for("ines")
    url = reverse("referrals:detail", args=[referral.pk])
    assert "Relancer" in ines.get(url).content.decode()
    response = ines.post(reverse("referrals:nudge", args=[referral.pk]), follow=True)
    assert "L'orientation est relancée" in html.unescape(response.content.decode())
    # The button is gone; posted anyway, refused with a message.
    assert ">Relancer<" not in ines.get(url).content.decode()
    response = ines.post(reverse("referrals:nudge", args=[referral.pk]), follow=True)
    assert "une relance par jour au plus" in html.unescape(response.content.decode())
    assert ReferralEvent.objects.filter(referral=referral, action=EventAction.NUDGED).count() == 1


def test_a_receiver_cannot_nudge(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, client_for: Any
) -> None:
    referral = send(personas, orgs, person)
    marc = client_for("marc")
    assert (
        ">Relancer<"
        not in marc.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    )
    response = marc.post(reverse("referrals:nudge", args=[referral.pk]))
    assert response.status_code == 403
    assert not ReferralEvent.objects.filter(referral=referral, action=EventAction.NUDGED).exists()
    # Charlie, of another département, does not even see it.
    assert (
        client_for("charlie").post(reverse("referrals:nudge", args=[referral.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("value", ["3", "169", "abc", "-4"])
def test_bad_urgent_hours_are_refused_in_french(value: str, client_for: Any) -> None:
    url = reverse("referrals:settings", args=["83"])
    response = client_for("claire").post(
        url,
        {"form": "delays", "reminder_days": "10", "expiry_days": "30", "urgent_hours": value},
    )
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "Entre 4 et 168 heures." in body or "Saisissez un nombre entier." in body
    assert not ReferralSettings.objects.filter(department_id="83").exists()


def test_the_territory_sets_the_urgent_delay(client_for: Any) -> None:
    url = reverse("referrals:settings", args=["83"])
    client = client_for("claire")
    assert (
        "délai de réponse d'une orientation urgente (heures)"
        in html.unescape(client.get(url).content.decode()).lower()
    )
    client.post(
        url, {"form": "delays", "reminder_days": "10", "expiry_days": "30", "urgent_hours": "24"}
    )
    assert ReferralSettings.objects.get(department_id="83").urgent_hours == 24
    assert AuditEvent.objects.filter(what__contains="urgente en 24 heures").exists()


def test_the_demo_has_an_urgent_referral(orgs: dict[str, Any]) -> None:
    urgent = Referral.objects.get(to_organisation=orgs["ft_quimper"], status=Status.SENT)
    assert urgent.urgency == Urgency.URGENT and urgent.due_at is not None


def test_the_link_email_of_a_structure_without_an_account_says_until_when(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    garage: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        referral = actions.send_referral(
            person=nadia_file,
            kind=ReferralKind.SERVICE,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
            service=garage,
            reason="Entretien d'embauche après-demain, pas de véhicule.",
            urgency=Urgency.URGENT,
        )
    due = local(referral.due_at)
    (message,) = mail.outbox
    assert (
        f"Orientation urgente : réponse attendue avant le {due:%d/%m} à {due:%H}h{due:%M}"
        in message.body
    )


def test_an_urgent_referral_sent_before_due_times_keeps_the_daily_reminder(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person
) -> None:
    referral = send(personas, orgs, person)
    Referral.objects.filter(pk=referral.pk).update(due_at=None)
    actions.run_deadlines(referral.due_on)
    referral.refresh_from_db()
    assert referral.reminded_at is not None
