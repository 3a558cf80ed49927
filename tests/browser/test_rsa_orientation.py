"""RSA orientation in a real browser: Claire, the Var's orientation manager, finds the persons
to orient on her home page, orients Sandrine Martin towards France Travail Toulon, then Yves
Lambert and Manon Petit together towards the CCAS of Toulon; Inès, at France Travail Toulon,
designates herself as Sandrine's référent de parcours and records the signature of her
contrat d'engagement. Every page visited goes through axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from binome.rsa.demo import load_demo_rsa
from binome.rsa.models import Orientation
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser


def test_claire_orients_three_beneficiaries_and_ines_records_the_contract(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    load_demo_rsa(live_personas, live_orgs)
    claire, ines = live_personas["claire"], live_personas["ines"]

    log_in(page, claire)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(claire))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Claire")
    assert_accessible(page)
    block = page.locator("#bloc-rsa_to_orient")
    expect(block).to_contain_text("Sandrine MARTIN")
    block.get_by_role("link", name=re.compile("Tout voir")).click()
    expect(heading(page)).to_contain_text("À orienter")
    assert_accessible(page)

    page.get_by_role("link", name="Orienter Sandrine Martin").click()
    expect(heading(page)).to_have_text("Orienter Sandrine MARTIN")
    assert_accessible(page)
    # The DSFR draws the radio buttons and boxes on their labels: click them, as a user does.
    page.locator("label", has_text="Professionnelle (emploi)").click()
    field(page, "Organisme référent").select_option(label="France Travail Toulon")
    field(page, "Situation vis-à-vis de l'emploi").select_option(
        label="En recherche d'emploi depuis moins d'un an"
    )
    page.get_by_role("button", name="Notifier l'orientation").click()
    expect(page.get_by_text("Sandrine MARTIN : orientation notifiée.")).to_be_visible()
    expect(page.get_by_role("link", name="Orienter Sandrine Martin")).to_have_count(0)
    assert_accessible(page)

    page.locator("label", has_text="Choisir Yves Lambert").click()
    page.locator("label", has_text="Choisir Manon Petit").click()
    expect(page.get_by_label("Choisir Manon Petit")).to_be_checked()
    page.get_by_role("button", name="Orienter les personnes cochées").click()
    expect(heading(page)).to_have_text("Orienter 2 personne(s)")
    assert_accessible(page)
    page.locator("label[for=id_kind_2]").click()
    field(page, "Organisme référent").select_option(label="CCAS de Toulon")
    page.get_by_role("button", name="Notifier l'orientation").click()
    expect(page.get_by_text("2 orientation(s) notifiée(s).")).to_be_visible()
    assert_accessible(page)
    log_out(page)

    sandrine = Orientation.objects.get(beneficiary__first_name="Sandrine")
    assert sandrine.referent_body == live_orgs["ft_toulon"]
    assert Orientation.objects.filter(referent_body=live_orgs["ccas_toulon"]).count() == 3

    log_in(page, ines)
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/rsa/organisations/{live_orgs['ft_toulon'].pk}/orientations/")
    expect(heading(page)).to_contain_text("Orientations RSA reçues")
    assert_accessible(page)
    page.get_by_role("link", name="Sandrine MARTIN").click()
    expect(heading(page)).to_contain_text("Sandrine MARTIN")
    assert_accessible(page)
    field(page, "Référent de parcours").select_option(label=ines.get_full_name())
    page.get_by_role("button", name="Désigner le référent").click()
    expect(page.get_by_text("Référent de parcours désigné.")).to_be_visible()
    assert_accessible(page)
    field(page, "Contrat d'engagement signé le").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Enregistrer la signature").click()
    expect(page.get_by_text("Signature du contrat d'engagement enregistrée.")).to_be_visible()
    assert_accessible(page)

    sandrine.refresh_from_db()
    assert sandrine.referent == ines and sandrine.contract_signed_on == timezone.localdate()
