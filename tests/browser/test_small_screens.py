"""On a phone's width: the tables wider than the screen scroll sideways, and a keyboard user
reaches them to scroll them (axe-core's scrollable-region-focusable); nothing spills over."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations, load_demo_directory
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_ines_s_tables_scroll_and_take_the_keyboard_on_a_phone(
    page: Page, live_personas: dict[str, Any]
) -> None:
    load_demo_directory()
    load_demo_referrals(live_personas, demo_organisations())
    page.set_viewport_size(PHONE)
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_contain_text("Bonjour")
    assert_accessible(page)

    # The inbox's table holds no link when nothing awaits: without a tab stop of its own, a
    # keyboard could not scroll it (axe-core: scrollable-region-focusable).
    page.goto("/orientations/")
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
    scroller = page.locator("[data-binome-scrollable]").first
    expect(scroller).to_have_attribute("tabindex", "0")
    # Reached with the keyboard, it scrolls with the arrow keys.
    scroller.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(scroller).not_to_have_js_property("scrollLeft", 0)

    # On a wide screen the same table does not scroll: no tab stop is added.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
    expect(page.locator("[data-binome-scrollable]")).to_have_count(0)
