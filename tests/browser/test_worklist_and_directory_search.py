"""Inès filters « Mes personnes », then searches the directory on her phone: the results
come before the folded search criteria."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.site.demo import load_demo_directory
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_ines_filters_her_persons_then_searches_the_directory_on_her_phone(
    page: Page, live_personas: dict[str, Any]
) -> None:
    load_demo_directory()
    page.set_viewport_size(DESKTOP)
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_contain_text("Bonjour")
    assert_accessible(page)

    page.goto("/suivi/mes-personnes/")
    expect(heading(page)).to_have_text("Mes personnes")
    assert_accessible(page)
    page.get_by_label("Nom ou prénom").fill("belkacem")
    page.get_by_label("Type d'accompagnement").select_option(label="Accompagnement global")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Nadia BELKACEM")).to_be_visible()
    expect(page.get_by_label("Nom ou prénom")).to_have_value("belkacem")
    assert_accessible(page)

    # Nothing matches: the page says so and clears the filters in one click.
    page.get_by_label("Alerte").select_option(label="Situation 6 mois après la sortie à renseigner")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucune personne ne correspond à ces filtres.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Effacer les filtres").first.click()
    expect(page.get_by_role("link", name="Nadia BELKACEM")).to_be_visible()
    expect(page.get_by_label("Nom ou prénom")).to_have_value("")
    assert_accessible(page)

    # On her phone, the directory: a first visit shows the criteria to fill.
    page.set_viewport_size(PHONE)
    page.goto("/annuaire/")
    expect(heading(page)).to_have_text("Annuaire des solutions du territoire")
    assert_accessible(page)
    page.get_by_label("Mots-clés").fill("crèche")
    page.get_by_role("button", name="Rechercher").click()
    results = page.locator("#resultats")
    expect(results).to_contain_text("trouvé")
    # The criteria are folded behind their button: the results are on the first screen.
    toggle = page.get_by_role("button", name="Critères de recherche")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_label("Mots-clés")).to_be_hidden()
    box = results.bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"]
    expect(page.get_by_role("link", name="Orienter").first).to_be_visible()
    assert_accessible(page)
    toggle.click()
    expect(page.get_by_label("Mots-clés")).to_be_visible()
    expect(page.get_by_label("Mots-clés")).to_have_value("crèche")
    assert_accessible(page)

    # On a wide screen the criteria are always shown, without the button.
    page.set_viewport_size(DESKTOP)
    page.reload()
    expect(results).to_contain_text("trouvé")
    expect(page.get_by_label("Mots-clés")).to_be_visible()
    expect(page.get_by_role("button", name="Critères de recherche")).to_be_hidden()
    assert_accessible(page)
