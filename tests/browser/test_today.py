"""« À traiter » and the file's sections in a real browser, on a desktop and on a phone:
each line opens where the thing is dealt with; the summary of the file leads to its
sections; every page through axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["bureau", "telephone"])
def test_sophie_goes_from_her_home_page_to_the_file_s_sections(
    page: Page, live_personas: dict[str, Any], viewport: dict[str, int]
) -> None:
    load_demo_referrals(live_personas, demo_organisations())
    page.set_viewport_size(viewport)
    log_in(page, live_personas["sophie"])
    expect(heading(page)).to_have_text("Bonjour Sophie")
    block = page.locator("#bloc-to_activate")
    expect(block.get_by_role("heading")).to_contain_text("Accompagnements à activer")
    assert_accessible(page)

    block.get_by_role("link", name="Erwan LE FLOCH").click()
    expect(heading(page)).to_have_text("Erwan LE FLOCH")
    summary = page.get_by_role("navigation", name="Sommaire du dossier")
    expect(summary).to_be_visible()
    assert_accessible(page)

    for label, anchor in [("Orientations", "orientations"), ("Historique", "chronologie")]:
        summary.get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(f"{page.url.split('#')[0]}#{anchor}")
        expect(page.locator(f"#{anchor}")).to_be_in_viewport()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["bureau", "telephone"])
def test_gwenael_opens_the_urgent_referral_from_his_home_page(
    page: Page, live_personas: dict[str, Any], viewport: dict[str, int]
) -> None:
    load_demo_referrals(live_personas, demo_organisations())
    page.set_viewport_size(viewport)
    log_in(page, live_personas["gwenael"])
    expect(heading(page)).to_have_text("Bonjour Gwenaël")
    block = page.locator("#bloc-received")
    expect(block).to_contain_text("Urgente")
    assert_accessible(page)

    block.get_by_role("link", name="Tout voir").click()
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
