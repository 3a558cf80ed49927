"""Paul, the Var's steering officer, from his home page to the territory's dashboard: he
chooses the last three months, reads the charts' tables and exports one as XLSX."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in

pytestmark = pytest.mark.browser


def test_paul_reads_and_exports_the_var_dashboard(
    page: Page, live_personas: dict[str, Any]
) -> None:
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.get_by_role("link", name="Tableau de bord du territoire (83)").click()
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    assert_accessible(page)

    page.get_by_role("combobox", name="Période").select_option(label="Les trois derniers mois")
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"periode=trois_mois"))
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    table = page.get_by_role("table", name="Par organisation")
    expect(table).to_be_visible()
    expect(page.get_by_role("table", name="Orientations par type")).to_be_visible()
    expect(page.locator("bar-chart canvas").first).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger « Orientations par type » (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    assert sheet["A1"].value == "Orientations par type"
    assert sheet["A4"].value == "Type d'orientation"
    assert sheet["A5"].value == "Vers l'accompagnement global (binôme)"
