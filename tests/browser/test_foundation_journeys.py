"""The foundation's journeys in a real browser: logging in (password, second factor),
switching organisation, the outsider's 404, keyboard use and the commune autocomplete.
Every page visited goes through axe-core."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

from binome.organisations.models import Organisation
from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
BAD_CODE = "Ce code est incorrect ou a expiré."


def field(page: Page, label: str) -> Locator:
    """The form field whose label starts with ``label`` (the DSFR adds a required marker)."""
    return page.get_by_label(re.compile(r"^\s*" + re.escape(label)))


def log_in(page: Page, user: Any, password: str = settings.DEMO_PASSWORD) -> None:
    page.goto("/connexion/")
    assert_accessible(page)
    field(page, "Adresse e-mail").fill(user.email)
    field(page, "Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def _totp(user: Any) -> tuple[TOTPDevice, TOTP]:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return device, TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)


def current_code(user: Any) -> str:
    """The code the device shows now. A code is accepted once: when this step's code was
    already used (a second log-in within the same 30 seconds), wait for the next one, as a
    person would."""
    device, totp = _totp(user)
    while totp.t() <= device.last_t:
        time.sleep(0.5)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(user: Any) -> str:
    """A code the device refuses now: none of those it accepts around the current time."""
    device, totp = _totp(user)
    accepted = set()
    for offset in range(-device.tolerance - 1, device.tolerance + 2):
        totp.time = time.time() + offset * device.step
        accepted.add(totp.token())
    return next(f"{code:06d}" for code in range(10**6) if code not in accepted)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def test_claire_logs_in_with_her_second_factor_and_lands_on_her_dashboard(
    page: Page, live_personas: dict[str, Any]
) -> None:
    claire = live_personas["claire"]
    log_in(page, claire)
    expect(page).to_have_url(re.compile(r"/connexion/code/"))
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)

    field(page, "Code à 6 chiffres").fill(current_code(claire))
    page.get_by_role("button", name="Valider").click()

    expect(heading(page)).to_have_text("Bonjour Claire")
    expect(page).to_have_url(re.compile(r"/$"))
    assert_accessible(page)


def test_a_wrong_second_factor_code_is_refused_in_french(
    page: Page, live_personas: dict[str, Any]
) -> None:
    claire = live_personas["claire"]
    log_in(page, claire)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)

    field(page, "Code à 6 chiffres").fill(wrong_code(claire))
    page.get_by_role("button", name="Valider").click()

    expect(page.get_by_text(BAD_CODE)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/connexion/code/"))
    assert_accessible(page)
    # Without the second factor, the dashboard stays closed.
    page.goto("/")
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)


def test_ines_switches_from_toulon_to_la_seyne(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Organisation]
) -> None:
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    lead = page.locator("main .fr-text--lead")
    switcher = page.get_by_label("Organisation courante")
    # She starts in her main agency, the first she joined.
    expect(lead).to_contain_text("Vous travaillez pour France Travail Toulon")
    expect(switcher).to_have_value(str(live_orgs["ft_toulon"].pk))

    switcher.select_option(label="France Travail La Seyne-sur-Mer")
    page.get_by_role("button", name="Changer").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Vous travaillez maintenant pour France Travail La Seyne-sur-Mer."
    )
    expect(lead).to_contain_text("Vous travaillez pour France Travail La Seyne-sur-Mer")
    assert_accessible(page)
    # The choice holds on the next pages.
    page.get_by_role("link", name="Organisations", exact=True).click()
    expect(page).to_have_url(re.compile(r"/organisations/$"))
    expect(switcher).to_have_value(str(live_orgs["ft_la_seyne"].pk))
    assert_accessible(page)


def test_charlie_gets_the_french_404_on_a_var_organisation(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Organisation]
) -> None:
    log_in(page, live_personas["charlie"])
    expect(heading(page)).to_have_text("Bonjour Charlie")
    assert_accessible(page)

    response = page.goto(f"/organisations/{live_orgs['dep83'].pk}/")

    assert response is not None
    assert response.status == 404
    expect(heading(page)).to_have_text("Page introuvable")
    expect(page.locator("body")).not_to_contain_text(live_orgs["dep83"].name)
    assert_accessible(page)


def test_a_wrong_password_is_refused_in_french_on_the_login_page(
    page: Page, live_personas: dict[str, Any]
) -> None:
    log_in(page, live_personas["ines"], password="pas-le-bon-mot-de-passe")

    expect(page.get_by_text(BAD_CREDENTIALS)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(heading(page)).to_have_text("Se connecter à Binôme")
    expect(field(page, "Adresse e-mail")).to_have_value(live_personas["ines"].email)
    assert_accessible(page)


def test_the_login_page_works_with_the_keyboard_alone(
    page: Page, live_personas: dict[str, Any]
) -> None:
    ines = live_personas["ines"]
    page.goto("/connexion/")
    assert_accessible(page)
    skip_link = page.get_by_role("link", name="Contenu", exact=True)

    # The e-mail field has the focus on arrival (autofocus), past the skip links: Tab goes
    # round the page (through the browser's own controls) back to them.
    for _ in range(30):
        page.keyboard.press("Tab")
        if skip_link.evaluate("link => link === document.activeElement"):
            break
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()

    page.keyboard.press("Tab")
    expect(field(page, "Adresse e-mail")).to_be_focused()
    page.keyboard.type(ines.email)
    page.keyboard.press("Tab")
    expect(field(page, "Mot de passe")).to_be_focused()
    page.keyboard.type(settings.DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)


def test_claire_chooses_the_commune_of_a_new_organisation_with_the_keyboard(
    page: Page, live_personas: dict[str, Any]
) -> None:
    claire = live_personas["claire"]
    log_in(page, claire)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(claire))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Claire")
    assert_accessible(page)

    page.get_by_role("link", name="Ajouter une organisation").click()
    expect(heading(page)).to_have_text("Ajouter une organisation — Var (83)")
    assert_accessible(page)
    field(page, "Nom").fill("Maison de l'emploi du littoral")
    field(page, "Type").select_option(label="Association")

    commune = field(page, "Commune")
    commune.focus()
    page.keyboard.type("Toul")
    proposals = page.get_by_role("list", name="Communes proposées")
    toulon = proposals.get_by_role("button", name=re.compile(r"^Toulon — 83000"))
    expect(toulon).to_be_visible()
    assert_accessible(page)
    for _ in range(10):  # Toulouse comes first (more populated): Tab down to Toulon.
        page.keyboard.press("Tab")
        if toulon.evaluate("button => button === document.activeElement"):
            break
    expect(toulon).to_be_focused()
    page.keyboard.press("Enter")
    expect(commune).to_have_value("Toulon (83000)")
    expect(commune).to_be_focused()
    expect(proposals).to_have_count(0)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Enregistrer")).to_be_focused()
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text("Maison de l'emploi du littoral")
    expect(page.get_by_role("main")).to_contain_text("Toulon")
    assert_accessible(page)
    created = Organisation.objects.select_related("commune").get(
        name="Maison de l'emploi du littoral"
    )
    assert created.commune is not None
    assert (created.commune.insee_code, created.department_id) == ("83137", "83")
