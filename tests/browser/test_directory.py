"""Inès searches the directory and opens a service; axe-core checks each page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import field, log_in
from tests.directory.test_search import TOULON, make_service

pytestmark = pytest.mark.browser


def test_ines_finds_a_creche_around_toulon_and_sees_how_to_mobilise_it(
    page: Page, live_personas: dict[str, Any]
) -> None:
    make_service(
        "Crèche AVIP Les Petits Pas",
        at=TOULON,
        thematiques=["famille--garde-denfants"],
        mobilisation_details="Appeler la directrice avant 10 h.",
        opening_hours="Mo-Fr 07:30-18:30",
    )
    log_in(page, live_personas["ines"])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    assert_accessible(page)
    page.goto(f"/annuaire/?commune={TOULON}&rayon=20")
    assert_accessible(page)
    field(page, "Mots-clés").fill("creche")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", level=2, name="1 service trouvé")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Crèche AVIP Les Petits Pas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crèche AVIP Les Petits Pas")
    expect(page.get_by_text("Appeler la directrice avant 10 h.")).to_be_visible()
    assert_accessible(page)
