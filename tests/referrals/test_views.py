"""The referral pages: sending from the file or for a new person, the inbox, the answers,
the territory's settings — with bad input and what the receiving side may see."""

from __future__ import annotations

import html
import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from binome.accounts.models import User
from binome.directory.models import Service
from binome.notifications.models import Notification
from binome.organisations.models import Membership, Partnership
from binome.people.models import Consent, Person
from binome.referrals import actions
from binome.referrals.models import Referral, ReferralKind, ReferralSettings, Status
from binome.support.models import Appointment, EventKind, Note, TimelineEvent, Visibility
from tests.conftest import login_as
from tests.referrals.conftest import consent_to


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "service",
        "reason": "Pas de véhicule pour aller en formation.",
        "barriers": ["mobilite"],
        "urgency": "normal",
        "idempotency_key": "6f1c1d0e-4a8f-4a62-9a0e-1f0b8f5d2c11",
    }
    data.update(overrides)
    return data


@pytest.fixture
def ccas_agent(orgs: dict[str, Any]) -> User:
    """A social worker of the CCAS de Toulon: not on Nadia's team."""
    user = User.objects.create_user(
        email="lina.roche@ccas-toulon.test", password="x", first_name="Lina", last_name="Roche"
    )
    Membership.objects.create(user=user, organisation=orgs["ccas_toulon"])
    return user


def test_sending_from_the_file_needs_the_consent_and_a_double_post_sends_once(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    ines = client_for("ines")
    url = reverse("referrals:create", args=[nadia_file.pk])
    # The service is chosen among the results of a search of the directory.
    assert "Location de véhicules et garage solidaire" in page(ines.get(url, {"q": "garage"}))
    refused = ines.post(url, form_data(service=garage.pk))
    assert refused.status_code == 400
    assert "n'a pas donné (ou a retiré) son consentement" in page(refused)
    assert not Referral.objects.filter(service=garage).exists()
    sent = ines.post(url, form_data(service=garage.pk, consent_now="oral"))
    referral = Referral.objects.get(service=garage)
    assert sent.status_code == 302 and sent["Location"] == f"/orientations/{referral.pk}/"
    assert Consent.objects.active().filter(person=nadia_file, structure=garage.structure).exists()
    again = ines.post(url, form_data(service=garage.pk, consent_now="oral"))
    assert again["Location"] == f"/orientations/{referral.pk}/"
    assert Referral.objects.filter(service=garage).count() == 1
    # The file shows the referral in its section.
    assert "Location de véhicules et garage solidaire" in page(
        ines.get(reverse("people:detail", args=[nadia_file.pk]))
    )


def test_bad_input_on_the_form_gets_precise_messages(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    ines = client_for("ines")
    url = reverse("referrals:create", args=[nadia_file.pk])
    response = ines.post(url, form_data(kind="social", reason=""))
    body = page(response)
    assert response.status_code == 400
    assert "Indiquez le motif de l'orientation." in body
    assert "Choisissez l'organisation destinataire." in body
    response = ines.post(url, form_data(kind="service"))
    assert "Choisissez le service de l'annuaire." in page(response)


def test_only_items_the_sender_sees_may_be_shared(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    marc_private = Note.objects.get(person=nadia_file, visibility=Visibility.ORGANISATION)
    response = client_for("ines").post(
        reverse("referrals:create", args=[nadia_file.pk]),
        form_data(service=garage.pk, consent_now="oral", items=[f"note:{marc_private.pk}"]),
    )
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in page(response)
    assert not Referral.objects.filter(service=garage).exists()


def test_the_receiver_sees_exactly_the_shared_items(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, ccas_agent: User
) -> None:
    Referral.objects.filter(person=nadia_file, to_organisation=orgs["ccas_toulon"]).delete()
    shared, kept = Note.objects.filter(person=nadia_file, author=personas["ines"])[:2]
    referral = actions.send_referral(
        person=nadia_file,
        kind=ReferralKind.SOCIAL,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        to_organisation=orgs["ccas_toulon"],
        reason="Dette de loyer.",
        shared_items=[("note", shared.pk)],
        consent_method="oral",
    )
    agent = login_as(Client(), ccas_agent)
    body = page(agent.get(reverse("referrals:detail", args=[referral.pk])))
    assert shared.text in body
    assert kept.text not in body
    assert "06 12 34 56 78" in body  # the person's contact, to call her
    # Seeing the referral does not open the file.
    assert agent.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    referral.refresh_from_db()
    assert referral.status == Status.SEEN


def test_a_decline_without_reason_is_refused_then_the_sender_is_told(
    personas: dict[str, Any],
    client_for: Any,
    nadia_file: Person,
    orgs: dict[str, Any],
    ccas_agent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    referral = Referral.objects.get(person=nadia_file, to_organisation=orgs["ccas_toulon"])
    agent = login_as(Client(), ccas_agent)
    url = reverse("referrals:decline", args=[referral.pk])
    response = agent.post(url, {"message": "Non"})
    assert response.status_code == 400
    assert "Choisissez le motif du refus." in page(response)
    response = agent.post(url, {"reason": "other"})
    assert "Précisez le motif du refus." in page(response)
    referral.refresh_from_db()
    assert referral.status == Status.SENT
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = agent.post(url, {"reason": "already_supported", "message": "Suivie au CCAS."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason) == (Status.DECLINED, "already_supported")
    notification = Notification.objects.get(
        recipient=personas["ines"], kind="referral_answered", url=f"/orientations/{referral.pk}/"
    )
    assert notification.title == "Orientation refusée par CCAS de Toulon"
    assert [m.to for m in mail.outbox] == [[personas["ines"].email]]
    assert "Nadia" not in mail.outbox[0].subject + mail.outbox[0].body
    # The answer is in Nadia's timeline, for her team.
    timeline = page(client_for("marc").get(reverse("people:detail", args=[nadia_file.pk])))
    assert "Orientation refusée par Lina Roche : Personne déjà accompagnée" in timeline


def test_sophie_orients_someone_new_and_the_counselor_plans_the_diagnostic(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    sophie = client_for("sophie")
    identity = {
        "first_name": "Maël",
        "last_name": "Guivarch",
        "birth_date": "1985-03-02",
        "kind": "global",
        "role": "social_worker",
    }
    created = sophie.post(reverse("referrals:create_person"), identity)
    person = Person.objects.get(first_name="Maël")
    assert created["Location"] == reverse("referrals:create", args=[person.pk]) + "?kind=global"
    # The same identity again: the existing file is proposed, nothing is created.
    again = sophie.post(reverse("referrals:create_person"), identity)
    assert "Cette personne a peut-être déjà un dossier" in page(again)
    assert Person.objects.filter(first_name="Maël").count() == 1
    sent = sophie.post(
        reverse("referrals:create", args=[person.pk]),
        form_data(
            kind="global",
            to_organisation=orgs["ft_quimper"].pk,
            reason="Isolement, garde d'enfants.",
            consent_now="written",
        ),
    )
    assert sent.status_code == 302
    referral = Referral.objects.get(person=person)
    gwenael = client_for("gwenael")
    inbox = page(gwenael.get(reverse("referrals:inbox")))
    assert "Maël GUIVARCH" in inbox
    badge = gwenael.get(reverse("referrals:inbox_badge")).content.decode()
    assert '2<span class="fr-sr-only"> orientations en attente de réponse' in badge
    gwenael.get(reverse("referrals:detail", args=[referral.pk]))
    when = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    accepted = gwenael.post(
        reverse("referrals:accept", args=[referral.pk]),
        {"appointment_at": when.strftime("%Y-%m-%dT%H:%M"), "place": "Agence, bureau 3"},
    )
    assert accepted.status_code == 302
    appointment = Appointment.objects.get(person=person)
    assert appointment.at == when and appointment.place == "Agence, bureau 3"
    file_page = page(gwenael.get(reverse("people:detail", args=[person.pk])))
    assert "Orientation acceptée par Gwenaël Le Bihan" in file_page
    steps = list(referral.events.values_list("action", flat=True))
    assert steps == ["sent", "seen", "accepted"]


def test_an_accept_without_date_or_step_is_refused(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    referral = Referral.objects.get(to_organisation=orgs["ft_quimper"])  # the demo's
    gwenael = client_for("gwenael")
    response = gwenael.post(reverse("referrals:accept", args=[referral.pk]), {})
    assert response.status_code == 400
    assert "Indiquez la date du rendez-vous ou la première étape prévue." in page(response)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = gwenael.post(
        reverse("referrals:accept", args=[referral.pk]), {"appointment_at": past}
    )
    assert "Cette date est passée" in page(response)


def test_the_inbox_puts_overdue_first_filters_and_assigns_in_bulk(
    client_for: Any,
    personas: dict[str, Any],
    orgs: dict[str, Any],
    django_assert_max_num_queries: Any,
) -> None:
    quimper, ccas = orgs["ft_quimper"], orgs["ccas_quimper"]
    sophie, gwenael = personas["sophie"], personas["gwenael"]
    today = timezone.localdate()
    persons = []
    for i in range(30):
        person = Person.objects.create(
            department_id="29",
            organisation=ccas,
            first_name=f"Personne{i:02d}",
            last_name="Test",
            birth_date="1990-01-01",
        )
        persons.append(person)
        Referral.objects.create(
            person=person,
            kind=ReferralKind.GLOBAL,
            department_id="29",
            sender=sophie,
            sender_organisation=ccas,
            to_organisation=quimper,
            reason="Test",
            urgency="urgent" if i % 2 else "normal",
            due_on=today + timedelta(days=i - 5),
            expires_on=today + timedelta(days=40),
        )
    client = client_for("gwenael")
    # The session's first touch (3 more on this first request: 12 afterwards, pinned in
    # test_inbox.py); session, user, device, memberships, roles; the tabs' counts (from the
    # counters), the page's rows, their persons, users and organisations, the members to
    # assign to; the header's notifications: 15, whatever the number of referrals.
    with django_assert_max_num_queries(15):
        body = page(client.get(reverse("referrals:inbox")))
    # Overdue first (the oldest due date first), then the others by due date.
    assert body.index("Personne00") < body.index("Personne04") < body.index("Personne05")
    assert "En retard" in body
    urgent = page(client.get(reverse("referrals:inbox"), {"urgence": "urgent"}))
    assert "Personne01" in urgent and "Personne02 " not in urgent
    chosen = Referral.objects.filter(person__in=persons[:3]).values_list("pk", flat=True)
    response = client.post(
        reverse("referrals:assign"), {"referrals": list(chosen), "to_user": gwenael.pk}
    )
    assert response.status_code == 302
    assert Referral.objects.filter(assigned_to=gwenael).count() == 3
    mine = page(client.get(reverse("referrals:inbox"), {"attribution": "moi"}))
    assert "Personne00" in mine and "Personne05" not in mine
    # A referral of another organisation cannot be slipped into the assignment.
    other = Referral.objects.exclude(to_organisation=quimper).first()
    assert other is not None
    response = client.post(
        reverse("referrals:assign"), {"referrals": [other.pk], "to_user": gwenael.pk}
    )
    other.refresh_from_db()
    assert other.assigned_to is None


def test_the_sender_withdraws_and_the_receiver_cannot(
    client_for: Any, nadia_file: Person, orgs: dict[str, Any]
) -> None:
    referral = Referral.objects.get(person=nadia_file, to_organisation=orgs["ccas_toulon"])
    url = reverse("referrals:withdraw", args=[referral.pk])
    assert client_for("marc").post(url).status_code == 404
    response = client_for("ines").post(url, {"message": "Réglé autrement"}, follow=True)
    assert "L'orientation est retirée." in page(response)
    referral.refresh_from_db()
    assert referral.status == Status.WITHDRAWN
    again = client_for("ines").post(url, follow=True)
    assert "déjà « retirée »" in page(again)


def test_the_territory_sets_its_delays_and_partners(client_for: Any, orgs: dict[str, Any]) -> None:
    claire = client_for("claire")
    url = reverse("referrals:settings", args=["83"])
    bad = claire.post(url, {"form": "delays", "reminder_days": "0", "expiry_days": "30"})
    assert bad.status_code == 400
    assert not ReferralSettings.objects.filter(department_id="83").exists()
    claire.post(url, {"form": "delays", "reminder_days": "7", "expiry_days": "21"})
    assert ReferralSettings.delays_for("83") == (7, 21)
    claire.post(url, {"form": "partner", "organisation": orgs["ft_quimper"].pk})
    partnership = Partnership.objects.get(department_id="83")
    assert partnership.organisation == orgs["ft_quimper"]
    claire.post(reverse("referrals:partner_remove", args=["83", partnership.pk]))
    assert not Partnership.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_members_accepting_at_the_same_moment_get_one_outcome(
    personas: dict[str, Any], orgs: dict[str, Any], garage: Service
) -> None:
    """Two threads, two database connections: one acceptance wins; the other gets a
    clear message and changes nothing."""
    nadia = Person.objects.get(user=personas["nadia"])
    consent_to(nadia, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    referral = actions.send_referral(
        person=nadia,
        kind=ReferralKind.SERVICE,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        service=garage,
        reason="Mobilité",
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(step: str) -> None:
        try:
            barrier.wait()
            if step == "accept":
                actions.accept(referral=referral, by=None, via="link", first_step="Appel")
            else:
                actions.decline(referral=referral, by=None, via="link", reason="no_place")
            outcomes.append(step)
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(step,)) for step in ("accept", "decline")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    referral.refresh_from_db()
    winner = "accept" if referral.status == Status.ACCEPTED else "decline"
    assert referral.status in (Status.ACCEPTED, Status.DECLINED)
    assert winner in outcomes
    loser = next(o for o in outcomes if o not in ("accept", "decline"))
    assert "votre action n'a pas été enregistrée" in loser
    assert referral.events.count() == 2  # sent, then one answer
    assert (
        TimelineEvent.objects.filter(
            kind=EventKind.REFERRAL, target_id=referral.pk, summary__startswith="Orientation"
        ).count()
        == 2
    )


def test_orienting_from_a_service_page_picks_one_of_the_users_persons(
    client_for: Any, nadia_file: Person, garage: Service, orgs: dict[str, Any]
) -> None:
    service_url = reverse("directory:service_detail", args=[garage.pk])
    choose_url = reverse("referrals:create_for_service", args=[garage.pk])
    ines = client_for("ines")
    assert choose_url in page(ines.get(service_url))  # the button
    assert choose_url not in page(client_for("paul").get(service_url))  # steering: none
    body = page(ines.get(choose_url))
    form_url = reverse("referrals:create", args=[nadia_file.pk]) + (
        f"?kind=service&service={garage.pk}"
    )
    assert "Nadia BELKACEM" in body and form_url in body
    assert "Nadia BELKACEM" in page(ines.get(choose_url, {"q": "belkacém"}))
    assert "Nadia BELKACEM" not in page(ines.get(choose_url, {"q": "Dupont"}))
    # The referral form opens on that service, kind « service ».
    form_page = ines.get(form_url).content.decode()
    inputs = re.findall(r"<(?:input|option)[^>]*>", form_page)
    # (a radio button among the search's results now, no longer an option of a select)
    assert [i for i in inputs if f'value="{garage.pk}"' in i and "checked" in i]
    assert [i for i in inputs if 'name="kind"' in i and 'value="service"' in i and "checked" in i]
    # Someone else's persons are not offered: Sophie (Quimper) does not see Nadia.
    assert "Nadia BELKACEM" not in page(client_for("sophie").get(choose_url))
    # A service that is not published, and a steering role: 404.
    garage.status = "draft"
    garage.save(update_fields=["status"])
    assert ines.get(choose_url).status_code == 404
    assert client_for("paul").get(choose_url).status_code == 404


def test_orienting_someone_new_to_a_service_opens_the_form_on_it(
    client_for: Any, garage: Service
) -> None:
    url = reverse("referrals:create_person") + f"?service={garage.pk}"
    created = client_for("ines").post(
        url,
        {
            "first_name": "Maël",
            "last_name": "Guivarch",
            "birth_date": "1994-03-08",
            "kind": "global",
            "role": "dedicated_counselor",
        },
    )
    person = Person.objects.get(first_name="Maël")
    assert created["Location"] == (
        reverse("referrals:create", args=[person.pk]) + f"?kind=service&service={garage.pk}"
    )


def test_the_menus_offer_only_what_the_user_may_open(client_for: Any) -> None:
    """A link that answers 404 is never shown: steering officers get no « Mes personnes »
    nor « Orientations », a crèche no « Nouvelle personne » (it opens no file)."""
    worklist, inbox = reverse("support:worklist"), reverse("referrals:inbox")
    new_person, orient_new = reverse("people:create"), reverse("referrals:create_person")

    ines = client_for("ines")
    home = page(ines.get("/"))
    assert f'href="{worklist}"' in home and f'href="{inbox}"' in home
    assert f'href="{new_person}"' in page(ines.get(worklist))
    assert f'href="{orient_new}"' in page(ines.get(inbox))
    assert ines.get(new_person).status_code == 200

    paul = client_for("paul")
    home = page(paul.get("/"))
    assert f'href="{worklist}"' not in home and f'href="{inbox}"' not in home
    assert paul.get(inbox).status_code == 404

    lea = client_for("lea")
    assert f'href="{new_person}"' not in page(lea.get(worklist))
    assert f'href="{orient_new}"' not in page(lea.get(inbox))
    assert lea.get(new_person).status_code == 404
    assert lea.get(orient_new).status_code == 404


def test_the_file_links_a_referral_only_for_its_sending_and_receiving_sides(
    client_for: Any, nadia_file: Person
) -> None:
    referral = Referral.objects.filter(person=nadia_file, kind=ReferralKind.SERVICE).first()
    assert referral is not None
    detail = reverse("referrals:detail", args=[referral.pk])
    file_page = reverse("people:detail", args=[nadia_file.pk])

    assert f'href="{detail}"' in page(client_for("ines").get(file_page))  # she sent it
    marc_page = page(client_for("marc").get(file_page))  # on the team, of another organisation
    assert f'href="{detail}"' not in marc_page
    assert referral.target_label in marc_page
    assert client_for("marc").get(detail).status_code == 404
