"""« À rapprocher » in a real browser: Claire, the Var's orientation manager, finds Nadya
Belkacem, whom the November flow brought without a NIR, beside Nadia Belkacem's file; she
decides it is the same person, and Nadia then waits in « à orienter ». Every page visited
goes through axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.people.models import Person
from binome.rsa.demo import load_demo_rsa
from binome.rsa.models import Beneficiary, MatchStatus
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in

pytestmark = pytest.mark.browser


def test_claire_reconciles_nadya_with_nadias_file(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    load_demo_rsa(live_personas, live_orgs)
    claire = live_personas["claire"]

    log_in(page, claire)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(claire))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Claire")
    assert_accessible(page)
    page.goto("/rsa/83/a-orienter/")
    expect(heading(page)).to_contain_text("À orienter")
    expect(page.get_by_role("link", name="Orienter Nadya Belkacem")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="personnes à rapprocher").click()
    expect(heading(page)).to_contain_text("À rapprocher")
    section = page.get_by_role("region", name="Nadya BELKACEM — RSA CAF n° 83000108")
    expect(section).to_contain_text("Nadia BELKACEM")
    expect(section).to_contain_text("12/04/1988")
    assert_accessible(page)

    section.get_by_role("button", name="C'est la même personne").click()
    expect(
        page.get_by_text("Nadya Belkacem : rapprochée du dossier de Nadia BELKACEM.")
    ).to_be_visible()
    expect(page.get_by_text("Aucune personne à rapprocher.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Personnes à orienter").click()
    expect(page.get_by_role("link", name="Orienter Nadya Belkacem")).to_be_visible()
    assert_accessible(page)

    nadya = Beneficiary.objects.get(dossier__number="83000108")
    assert nadya.match_status == MatchStatus.MATCHED
    assert nadya.person == Person.objects.get(user=live_personas["nadia"])
