"""Léa creates a token for her crèche's software, copies it, revokes it; the API's
documentation page. axe-core checks each page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from binome.api.models import ApiToken
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in

pytestmark = pytest.mark.browser


def test_lea_creates_a_token_for_her_creche_then_revokes_it(
    page: Page, live_personas: dict[str, Any]
) -> None:
    lea = live_personas["lea"]
    log_in(page, lea)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(lea))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_contain_text("Bonjour")
    assert_accessible(page)

    organisation = lea.memberships.get().organisation
    page.goto(f"/organisations/{organisation.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Accès à l'API")).click()
    expect(heading(page)).to_have_text("Accès à l'API")
    assert_accessible(page)

    field(page, "Nom du jeton").fill("Logiciel de la crèche")
    page.get_by_role("button", name="Créer le jeton").click()
    expect(page.get_by_text("Copiez-le maintenant")).to_be_visible()
    assert_accessible(page)
    secret = page.get_by_label("Jeton d'API").input_value()
    assert secret.startswith("binome_")
    headers = {"Authorization": f"Bearer {secret}"}
    assert Client().get("/api/v1/services", headers=headers).status_code == 200

    page.get_by_role("button", name="Révoquer le jeton Logiciel de la crèche").click()
    expect(page.get_by_text("Le jeton « Logiciel de la crèche » est révoqué.")).to_be_visible()
    expect(page.get_by_text("Révoqué", exact=True)).to_be_visible()
    assert_accessible(page)
    assert ApiToken.objects.get().revoked_at is not None
    assert Client().get("/api/v1/services", headers=headers).status_code == 401


def test_the_documentation_page_is_accessible_without_an_account(
    page: Page, live_personas: dict[str, Any]
) -> None:
    page.goto("/api/")
    expect(heading(page)).to_have_text("Documentation de l'API")
    assert_accessible(page)
    link = page.get_by_role("link", name=re.compile("openapi.json"))
    assert link.get_attribute("href") == "/api/v1/openapi.json"
