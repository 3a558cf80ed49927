"""In the Var, Inès refers Nadia to a mobility service that has no account; the structure
accepts through its link, then reports the start and the completion; each step appears in
Nadia's timeline and in the figures. Every page goes through axe-core."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from binome.directory.models import Service
from binome.people.models import Person
from binome.referrals.models import Referral, Status
from binome.site.demo import load_demo_directory
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser
LINK = re.compile(r"https?://[^/\s]+(/orientations/lien/[^/\s]+/)")


def test_a_structure_without_account_answers_through_its_link(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    load_demo_directory()
    nadia = Person.objects.get(user=live_personas["nadia"])
    garage = Service.objects.get(source="demo", source_id="garage-location")
    assert garage.structure.owner_id is None
    mail.outbox = []

    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/orientations/personnes/{nadia.pk}/orienter/?kind=service&service={garage.pk}")
    assert_accessible(page)
    page.get_by_label("Motif de l'orientation").fill(
        "Entretien d'embauche à La Seyne : besoin d'un véhicule pendant deux mois."
    )
    page.get_by_label("Consentement de la personne à cette orientation").select_option("oral")
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(heading(page)).to_have_text(re.compile("Orientation de Nadia"))
    expect(page.get_by_text("Lien sécurisé de la structure")).to_be_visible()
    assert_accessible(page)
    referral = Referral.objects.get(person=nadia, service=garage, status__in=["sent", "seen"])
    log_out(page)

    # The structure's e-mail, then its page: no login, the person's first name and initial.
    sent = [m for m in mail.outbox if m.to == ["orientation@garage-solidaire-var.test"]]
    assert len(sent) == 1
    match = LINK.search(sent[0].body)
    assert match is not None
    link = match.group(1)
    page.goto(link)
    expect(heading(page)).to_have_text(f"Orientation de Nadia {nadia.last_name[0]}.")
    expect(page.get_by_text(nadia.last_name)).to_have_count(0)
    assert_accessible(page)
    when = timezone.localtime() + timedelta(days=4)
    page.get_by_label("Date et heure du premier rendez-vous").fill(when.strftime("%Y-%m-%dT10:00"))
    page.get_by_role("button", name="Accepter l'orientation").click()
    expect(page.get_by_role("heading", name="La personne a-t-elle commencé ?")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("La personne a commencé").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_role("heading", name="Comment l'accompagnement s'est-il terminé ?")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("La personne a terminé").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Il n'y a plus rien à indiquer")).to_be_visible()
    assert_accessible(page)
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED

    # Inès sees each step in Nadia's timeline, and in her organisation's figures.
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(page.get_by_text(re.compile("Orientation acceptée par .*lien sécurisé"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Location de véhicules.* : commencée"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Location de véhicules.* : terminée"))).to_be_visible()
    assert_accessible(page)
    page.goto(f"/organisations/{live_orgs['ft_toulon'].pk}/")
    sent_figures = page.get_by_role("table", name="Orientations envoyées par France Travail Toulon")
    expect(sent_figures).to_contain_text("1 début")
    expect(sent_figures.get_by_role("row", name=re.compile("Taux d'acceptation"))).to_contain_text(
        "100"
    )
    assert_accessible(page)
