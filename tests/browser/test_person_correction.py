"""Correcting a typo in a person's name in a real browser: Inès corrects it from the file
page and sees it there and in the timeline. Every page visited goes through axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.people.models import Person
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import field, heading, log_in

pytestmark = pytest.mark.browser


def test_ines_corrects_a_typo_in_nadias_name(page: Page, live_personas: dict[str, Any]) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    assert_accessible(page)

    page.get_by_role("link", name="Corriger l'identité ou les coordonnées").click()
    expect(heading(page)).to_have_text("Corriger l'identité ou les coordonnées")
    expect(field(page, "Nom d'usage")).to_have_value("Belkacem")
    expect(page.locator("main")).not_to_contain_text("NIR")  # a dedicated counselor
    assert_accessible(page)
    field(page, "Nom d'usage").fill("Belkacim")
    page.get_by_role("button", name="Enregistrer la correction").click()

    expect(page.get_by_role("status")).to_contain_text("Le dossier est corrigé.")
    expect(heading(page)).to_have_text("Nadia BELKACIM")
    expect(page.locator(".binome-timeline")).to_contain_text(
        "Dossier corrigé : Nom : Belkacem → Belkacim"
    )
    assert_accessible(page)
    nadia.refresh_from_db()
    assert nadia.last_name == "Belkacim"
