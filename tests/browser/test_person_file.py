"""The person's shared file in a real browser: creating a person proposes the existing
file, Marc writes a note for his organisation that Inès cannot read, Charlie gets a 404.
Every page visited goes through axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.people.models import Person
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import field, heading, log_in

pytestmark = pytest.mark.browser

MARC_NOTE = "Situation familiale confiée en entretien, réservée au service social."


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Se connecter")).to_be_visible()
    assert_accessible(page)


def test_ines_finds_nadia_and_marc_writes_a_note_ines_cannot_read(
    page: Page, live_personas: dict[str, Any]
) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)

    page.get_by_role("link", name="Mes personnes").first.click()
    expect(heading(page)).to_have_text("Mes personnes")
    expect(page.get_by_role("link", name="Nadia BELKACEM")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Nouvelle personne").click()
    expect(heading(page)).to_have_text("Nouvelle personne")
    assert_accessible(page)
    field(page, "Prénom").fill("Nadia")
    field(page, "Nom d'usage").fill("Belkassem")  # a typo: still proposed
    field(page, "Date de naissance").fill("1988-04-12")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_text("Cette personne a peut-être déjà un dossier")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Ouvrir ce dossier : Nadia BELKACEM").click()
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    expect(page.get_by_text("Accompagnement global").first).to_be_visible()
    assert_accessible(page)
    assert Person.objects.count() == 1
    log_out(page)

    log_in(page, live_personas["marc"])
    expect(heading(page)).to_have_text("Bonjour Marc")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Nouvelle note").click()
    expect(heading(page)).to_have_text("Nouvelle note d'entretien")
    assert_accessible(page)
    field(page, "Modalité").select_option(label="Visite à domicile")
    field(page, "Note").fill(MARC_NOTE)
    field(page, "Visible par").select_option(label="Mon organisation")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La note est enregistrée.")
    expect(page.get_by_text(MARC_NOTE)).to_be_visible()
    assert_accessible(page)
    log_out(page)

    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    expect(page.locator("main")).not_to_contain_text(MARC_NOTE)
    assert_accessible(page)


def test_charlie_gets_a_404_on_nadias_file(page: Page, live_personas: dict[str, Any]) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    log_in(page, live_personas["charlie"])
    expect(heading(page)).to_have_text("Bonjour Charlie")
    assert_accessible(page)
    response = page.goto(f"/personnes/{nadia.pk}/")
    assert response is not None and response.status == 404
    expect(heading(page)).to_have_text("Page introuvable")
    expect(page.locator("body")).not_to_contain_text("Belkacem")
    expect(page.locator("body")).not_to_contain_text("BELKACEM")
    assert_accessible(page)
