"""Referrals that close the loop, in a real browser: Sophie (CCAS de Quimper) orients someone
new to the dedicated counselor of France Travail Quimper with consent, who accepts and plans
the shared diagnostic; in the Var, Inès orients Nadia to a mobility service without an
account; unanswered, it is reminded, then expires — each step in the timeline. Every page
visited goes through axe-core."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from binome.people.models import Person
from binome.referrals.actions import run_deadlines
from binome.referrals.models import Referral, Status
from binome.site.demo import load_demo_directory
from binome.support.models import Appointment
from tests.browser.accessibility import assert_accessible
from tests.browser.test_diagnostic_plan import tick
from tests.browser.test_foundation_journeys import field, heading, log_in
from tests.browser.test_person_file import log_out
from tests.browser.test_small_screens import PHONE

pytestmark = pytest.mark.browser


def test_sophie_orients_someone_new_and_the_counselor_plans_the_diagnostic(
    page: Page, live_personas: dict[str, Any]
) -> None:
    log_in(page, live_personas["sophie"])
    expect(heading(page)).to_have_text("Bonjour Sophie")
    assert_accessible(page)

    page.get_by_role("link", name=re.compile(r"^\s*Orientations")).first.click()
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
    page.get_by_role("link", name="Orienter une nouvelle personne").click()
    expect(heading(page)).to_have_text("Nouvelle personne")
    assert_accessible(page)
    field(page, "Prénom").fill("Maël")
    field(page, "Nom d'usage").fill("Guivarch")
    field(page, "Date de naissance").fill("1985-03-02")
    field(page, "Votre rôle dans l'équipe").select_option(
        label="Travailleur ou travailleuse sociale"
    )
    page.get_by_role("button", name="Créer le dossier").click()

    expect(heading(page)).to_have_text("Orienter la personne")
    expect(page.get_by_label("Vers l'accompagnement global (binôme)")).to_be_checked()
    assert_accessible(page)
    field(page, "Organisation destinataire").select_option(label="France Travail Quimper")
    field(page, "Motif de l'orientation").fill(
        "Demandeur d'emploi isolé, sans solution de garde : accompagnement global proposé."
    )
    tick(page.locator("main"), "Contraintes familiales")
    field(page, "Consentement de la personne").select_option(
        label="Recueilli par écrit aujourd'hui : l'enregistrer"
    )
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(page.get_by_role("status")).to_contain_text(
        "L'orientation vers France Travail Quimper est envoyée."
    )
    expect(heading(page)).to_have_text("Orientation de Maël GUIVARCH")
    assert_accessible(page)
    log_out(page)

    log_in(page, live_personas["gwenael"])
    expect(heading(page)).to_have_text("Bonjour Gwenaël")
    assert_accessible(page)
    inbox_link = page.get_by_role("link", name=re.compile(r"^\s*Orientations"))
    expect(inbox_link).to_contain_text("1 orientation en attente de réponse")
    inbox_link.click()
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
    page.get_by_role("link", name="Maël GUIVARCH").click()
    expect(heading(page)).to_have_text("Orientation de Maël GUIVARCH")
    expect(page.get_by_text("Vue", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Accepter").click()
    expect(heading(page)).to_have_text("Accepter l'orientation")
    assert_accessible(page)
    when = (timezone.localtime() + timedelta(days=3)).replace(hour=10, minute=0)
    field(page, "Date et heure du rendez-vous").fill(when.strftime("%Y-%m-%dT%H:%M"))
    field(page, "Lieu du rendez-vous").fill("Agence de Quimper, bureau 3")
    page.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("status")).to_contain_text("L'orientation est acceptée")
    expect(page.get_by_text("Acceptée", exact=True)).to_be_visible()
    assert_accessible(page)

    person = Person.objects.get(first_name="Maël")
    appointment = Appointment.objects.get(person=person)
    assert timezone.localtime(appointment.at).strftime("%d/%m %H:%M") == when.strftime(
        "%d/%m %H:%M"
    )
    page.goto(f"/personnes/{person.pk}/")
    expect(heading(page)).to_have_text("Maël GUIVARCH")
    timeline = page.locator("#chronologie ~ *")
    expect(
        timeline.get_by_text(re.compile("Orientation acceptée par Gwenaël Le Bihan"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile("diagnostic partagé")).first).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # Sophie, who holds the file, learns the answer and sees every step in the timeline.
    log_in(page, live_personas["sophie"])
    expect(heading(page)).to_have_text("Bonjour Sophie")
    assert_accessible(page)
    # The header's unread count arrives after the page (htmx).
    expect(
        page.get_by_role("link", name=re.compile(r"^Notifications \d+ non lues?$"))
    ).to_be_visible()
    page.get_by_role("link", name=re.compile("Notifications")).click()
    expect(
        page.get_by_role("link", name="Orientation acceptée par France Travail Quimper")
    ).to_be_visible()
    assert_accessible(page)
    page.goto(f"/personnes/{person.pk}/")
    timeline = page.locator("#chronologie ~ *")
    for step in (
        "Orientation envoyée vers France Travail Quimper par Sophie Le Gall",
        "Orientation vers France Travail Quimper vue par Gwenaël Le Bihan",
        "Orientation acceptée par Gwenaël Le Bihan",
    ):
        expect(timeline.get_by_text(re.compile(step))).to_be_visible()
    assert_accessible(page)


def test_ines_orients_nadia_to_a_mobility_service_then_it_is_reminded_and_expires(
    page: Page, live_personas: dict[str, Any]
) -> None:
    load_demo_directory()
    nadia = Person.objects.get(user=live_personas["nadia"])
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    assert_accessible(page)
    page.get_by_role("link", name="Orienter", exact=True).click()
    expect(heading(page)).to_have_text("Orienter la personne")
    assert_accessible(page)
    tick(page.locator("main"), "Vers un service de l'annuaire")
    field(page, "Motif de l'orientation").fill("Pas de véhicule pour aller en formation.")
    # The service is searched in the directory; the results replace the previous ones only,
    # what was typed stays.
    field(page, "Rechercher le service").fill("garage")
    page.locator("main").get_by_role("button", name="Rechercher", exact=True).click()
    garage = page.get_by_role("radio", name=re.compile(r"^Location de véhicules et garage"))
    expect(garage).to_have_count(1)
    expect(page.get_by_text("Garage solidaire Var Mobilité")).to_be_visible()
    expect(field(page, "Motif de l'orientation")).to_have_value(
        "Pas de véhicule pour aller en formation."
    )
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("label", has_text="Location de véhicules et garage solidaire").click()
    expect(garage).to_be_checked()
    tick(page.locator("main"), "Mobilité")
    # Sent without the consent: refused, nothing written.
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "n'a pas donné (ou a retiré) son consentement"
    )
    assert_accessible(page)
    field(page, "Consentement de la personne").select_option(
        label="Recueilli à l'oral aujourd'hui : l'enregistrer"
    )
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(heading(page)).to_have_text("Orientation de Nadia BELKACEM")
    expect(page.get_by_text("sans compte dans Binôme")).to_be_visible()
    assert_accessible(page)
    referral = Referral.objects.get(person=nadia, service__name__startswith="Location")

    # Nobody answers: the periodic job reminds, then expires it (twice: once each).
    today = timezone.localdate()
    for _ in range(2):
        run_deadlines(today + timedelta(days=10))
        run_deadlines(today + timedelta(days=40))
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED
    assert list(referral.events.values_list("action", flat=True)) == [
        "sent",
        "reminded",
        "expired",
    ]
    page.reload()
    expect(page.get_by_text("Expirée", exact=True)).to_be_visible()
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    timeline = page.locator("#chronologie ~ *")
    expect(
        timeline.get_by_text(re.compile("Orientation envoyée vers Location de véhicules"))
    ).to_be_visible()
    expect(timeline.get_by_text(re.compile("Location de véhicules .* relancée"))).to_be_visible()
    expect(
        timeline.get_by_text(re.compile("Location de véhicules .* expirée sans réponse"))
    ).to_be_visible()
    assert_accessible(page)
