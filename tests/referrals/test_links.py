"""The signed link of a structure without an account: e-mailed when the referral is sent,
opens that referral only (answer, start, outcome), re-sendable; forged, expired, revoked
and reused links get a clear page and change nothing."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.directory.models import Service
from binome.notifications.models import Notification, NotificationKind
from binome.people.models import Person
from binome.referrals import actions, links
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralKind,
    ReferralLink,
    Status,
    Via,
)
from binome.support.models import EventKind, TimelineEvent
from tests.conftest import login_as
from tests.referrals.conftest import consent_to

LINK = re.compile(r"/orientations/lien/([^/\s\"]+)/")


def _send(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, garage: Service
) -> Referral:
    consent_to(person, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    return actions.send_referral(
        person=person,
        kind=ReferralKind.SERVICE,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        reason="Besoin d'un véhicule pour une reprise d'emploi à 30 km.",
        service=garage,
    )


@pytest.fixture
def sent(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    garage: Service,
    django_capture_on_commit_callbacks: Any,
) -> tuple[Referral, str]:
    """Inès orients Nadia to the garage (no account): the e-mail leaves on commit."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        referral = _send(personas, orgs, nadia_file, garage)
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match is not None
    return referral, match.group(1)


def _url(token: str) -> str:
    return reverse("referral_links:open", args=[token])


def test_sending_to_a_structure_without_account_emails_its_link(
    sent: tuple[Referral, str], nadia_file: Person, personas: dict[str, Any]
) -> None:
    referral, token = sent
    message = mail.outbox[0]
    assert message.to == ["orientation@garage-solidaire-var.test"]
    assert message.reply_to == [personas["ines"].email]
    assert "France Travail" in message.subject
    # The e-mail names neither the person nor her file.
    assert nadia_file.last_name not in message.body
    assert nadia_file.first_name not in message.body
    html = message.alternatives[0].content  # type: ignore[attr-defined]
    assert _url(token) in str(html)
    link = ReferralLink.objects.get(referral=referral)
    assert link.email == message.to[0] and link.revoked_at is None
    # The first link is part of the sending (no step of its own); a re-send is one.
    assert not referral.events.filter(action=EventAction.LINK_SENT).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.REFERRAL_LINK_SENT, person_id=nadia_file.pk
    ).exists()


def test_the_structure_answers_then_reports_the_start_and_the_completion(
    sent: tuple[Referral, str],
    nadia_file: Person,
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    referral, token = sent
    client = Client()
    page = client.get(_url(token))
    assert page.status_code == 200
    html = page.content.decode()
    # Minimal identity: first name and the initial of the last name.
    assert f"{nadia_file.first_name} {nadia_file.last_name[0]}." in html
    assert nadia_file.last_name not in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert page["Referrer-Policy"] == "same-origin"
    referral.refresh_from_db()
    assert referral.status == Status.SEEN
    # A read of Nadia's data, listed in her space under the structure's name.
    opened = AuditEvent.objects.filter(
        kind=AuditKind.READ, person_id=nadia_file.pk, details__via="link"
    )
    assert opened.count() == 1
    assert opened.get().actor is None and "Garage" in opened.get().actor_label

    when = (timezone.localtime() + timedelta(days=3)).replace(second=0, microsecond=0)
    answer = client.post(
        _url(token),
        {
            "step": "answer",
            "decision": "accept",
            "accept-appointment_at": when.strftime("%d/%m/%Y %H:%M"),
            "accept-place": "Garage, 12 rue du Port",
        },
    )
    assert answer.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert referral.appointment_at == when
    accepted = referral.events.get(action=EventAction.ACCEPTED)
    assert accepted.actor is None and accepted.via == Via.LINK
    assert Notification.objects.filter(
        recipient=personas["ines"], kind=NotificationKind.REFERRAL_ANSWERED
    ).exists()
    # The page now asks for the start; the structure reports it, then the completion.
    page = client.get(_url(token))
    assert "La personne a-t-elle commencé" in page.content.decode()
    started = client.post(
        _url(token), {"step": "start", "outcome": "started", "on": timezone.localdate().isoformat()}
    )
    assert started.status_code == 302
    completed = client.post(_url(token), {"step": "finish", "outcome": "completed"})
    assert completed.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED
    summaries = list(
        TimelineEvent.objects.filter(person=nadia_file, kind=EventKind.REFERRAL)
        .order_by("at", "id")
        .values_list("summary", flat=True)
    )
    assert any("acceptée" in s and "lien sécurisé" in s for s in summaries)
    assert any("commencée" in s for s in summaries)
    assert any("terminée" in s for s in summaries)
    assert (
        Notification.objects.filter(
            recipient=personas["ines"],
            kind=NotificationKind.REFERRAL_OUTCOME,
            url=f"/orientations/{referral.pk}/",
        ).count()
        == 2
    )
    # Closed: the link shows the state and offers nothing more.
    closed = client.get(_url(token))
    assert closed.status_code == 200
    assert "plus rien à indiquer" in closed.content.decode()


def test_a_reused_step_changes_nothing(sent: tuple[Referral, str]) -> None:
    referral, token = sent
    client = Client()
    data = {"step": "answer", "decision": "accept", "accept-first_step": "Appel lundi"}
    assert client.post(_url(token), data).status_code == 302
    again = client.post(_url(token), {**data, "accept-first_step": "Autre"})
    assert again.status_code == 409
    assert "déjà été enregistrée" in again.content.decode()
    referral.refresh_from_db()
    assert referral.first_step == "Appel lundi"
    assert referral.events.filter(action=EventAction.ACCEPTED).count() == 1
    # Declining after the acceptance through the same old form: refused too.
    late = client.post(
        _url(token), {"step": "answer", "decision": "decline", "decline-reason": "no_place"}
    )
    assert late.status_code == 409
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED


def test_a_decline_needs_a_reason_and_says_which_field(sent: tuple[Referral, str]) -> None:
    referral, token = sent
    client = Client()
    page = client.post(
        _url(token), {"step": "answer", "decision": "decline", "decline-reason": "other"}
    )
    assert page.status_code == 400
    assert "Précisez le motif du refus" in page.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.SENT  # nothing recorded
    done = client.post(
        _url(token),
        {
            "step": "answer",
            "decision": "decline",
            "decline-reason": "no_place",
            "decline-message": "Complet",
        },
    )
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.DECLINED
    assert referral.decline_reason == "no_place"


def test_forged_tampered_and_expired_links_change_nothing(sent: tuple[Referral, str]) -> None:
    referral, token = sent
    client = Client()
    forged = client.get(_url("bonjour:1abc:xyz"))
    assert forged.status_code == 400
    assert "incomplet ou a été modifié" in forged.content.decode()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(_url(tampered)).status_code == 400
    assert client.post(_url("x" + token), {"step": "answer"}).status_code == 400

    link = ReferralLink.objects.get(referral=referral)

    class Earlier(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 31 * 86400)

    old = Earlier(salt=links.SALT).sign_object({"r": referral.pk, "n": link.nonce})
    expired = client.post(
        _url(old), {"step": "answer", "decision": "decline", "decline-reason": "no_place"}
    )
    assert expired.status_code == 410
    assert "a expiré" in expired.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.SENT  # never opened, never answered
    refusals = AuditEvent.objects.filter(kind=AuditKind.REFERRAL_LINK_REFUSED)
    assert refusals.count() == 4
    assert not AuditEvent.objects.filter(kind=AuditKind.READ, details__via="link").exists()


def test_resending_revokes_the_earlier_link(
    sent: tuple[Referral, str],
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    referral, first = sent
    ines = Client()
    login_as(ines, personas["ines"])
    detail = ines.get(reverse("referrals:detail", args=[referral.pk]))
    assert "Renvoyer le lien" in detail.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ines.post(reverse("referral_links:resend", args=[referral.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = LINK.search(mail.outbox[0].body)
    assert match is not None
    second = match.group(1)
    client = Client()
    revoked = client.get(_url(first))
    assert revoked.status_code == 410
    assert "remplacé par un plus récent" in revoked.content.decode()
    assert client.get(_url(second)).status_code == 200
    assert ReferralLink.objects.filter(referral=referral, revoked_at__isnull=True).count() == 1
    assert referral.events.filter(action=EventAction.LINK_SENT).count() == 1
    assert (
        AuditEvent.objects.filter(
            kind=AuditKind.REFERRAL_LINK_SENT, actor=personas["ines"], target_id=str(referral.pk)
        ).count()
        == 2
    )
    # Marc is not a side of this referral: 404; a closed referral gets no new link.
    marc = Client()
    login_as(marc, personas["marc"])
    assert marc.post(reverse("referral_links:resend", args=[referral.pk])).status_code == 404
    actions.withdraw(referral=referral, by=personas["ines"])
    closed = ines.post(reverse("referral_links:resend", args=[referral.pk]), follow=True)
    assert "plus de lien à envoyer" in closed.content.decode()


def test_too_many_bad_links_from_one_address_are_refused(
    sent: tuple[Referral, str], settings: Any
) -> None:
    settings.REFERRAL_LINK_MAX_REFUSALS = 3
    _referral, token = sent
    client = Client()
    for attempt in range(3):
        assert client.get(_url(f"faux{attempt}:a:b")).status_code == 400
    assert client.get(_url(token)).status_code == 429


def test_the_reminder_reaches_the_structure_once(
    sent: tuple[Referral, str], django_capture_on_commit_callbacks: Any
) -> None:
    referral, _token = sent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reminded, _expired = actions.run_deadlines(referral.due_on)
    assert reminded >= 1  # the demo's referrals may be due too
    to_garage = [m for m in mail.outbox if m.to == [referral.contact_email]]
    assert len(to_garage) == 1
    assert to_garage[0].subject.startswith("Relance")
    token = LINK.search(to_garage[0].body)
    assert token is not None
    assert Client().get(_url(token.group(1))).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.run_deadlines(referral.due_on) == (0, 0)
    assert mail.outbox == []
