"""Nadia's own space in a real browser: after Inès opened her file, Nadia logs in, sees her
plan and who accessed her file, and withdraws a consent. Every page goes through axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.people.models import Consent, Person
from binome.support.models import Objective, Visibility
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser


def test_nadia_sees_her_plan_and_who_accessed_her_file_then_withdraws_a_consent(
    page: Page, live_personas: dict[str, Any]
) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    assert_accessible(page)
    log_out(page)

    log_in(page, live_personas["nadia"])
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(heading(page)).to_have_text("Mon espace")
    objective = Objective.objects.filter(
        person=nadia, visibility=Visibility.TEAM_AND_PERSON
    ).first()
    assert objective is not None
    expect(page.get_by_role("heading", name=objective.label)).to_be_visible()
    reads = page.get_by_role("table", name=re.compile("Consultations de mon dossier"))
    expect(reads.get_by_role("row").nth(1)).to_contain_text("Inès Benali")
    expect(reads.get_by_role("row").nth(1)).to_contain_text("France Travail")
    expect(reads).to_contain_text("Dossier : page de la personne")
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Retirer le consentement")).first.click()
    expect(heading(page)).to_have_text("Retirer mon consentement")
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_role("status")).to_contain_text("Votre consentement est retiré")
    expect(page.get_by_text(re.compile(r"Retiré le \d\d/\d\d/\d{4}"))).to_be_visible()
    assert_accessible(page)
    assert not Consent.objects.active().filter(person=nadia).exists()
