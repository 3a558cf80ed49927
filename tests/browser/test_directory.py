"""The directory in a real browser, on the demo data: Inès finds and mobilises services; an
organisation publishes its own service. axe-core checks every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.site.demo import load_demo_directory
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_directory(live_personas: dict[str, Any]) -> dict[str, Any]:
    """The demo territory with its directory, committed for the live server."""
    load_demo_directory()
    return live_personas


def choose_commune(page: Page, typed: str, proposal: str) -> None:
    commune = page.locator("#commune-recherche")
    commune.fill("")
    commune.focus()
    page.keyboard.type(typed)
    choice = page.get_by_role("list", name="Communes proposées").get_by_role(
        "button", name=re.compile(rf"^{re.escape(proposal)}")
    )
    expect(choice).to_be_visible()
    choice.click()


def result_titles(page: Page) -> list[str]:
    return page.locator("#resultats ~ ul .fr-card__title").all_inner_texts()


def test_ines_finds_the_avip_creches_around_toulon_then_the_driving_licence_help(
    page: Page, live_directory: dict[str, Any]
) -> None:
    log_in(page, live_directory["ines"])
    expect(heading(page)).to_contain_text("Bonjour")
    assert_accessible(page)

    page.get_by_role("link", name="Annuaire").click()
    expect(heading(page)).to_have_text("Annuaire des solutions du territoire")
    assert_accessible(page)
    # Her agency's commune is proposed; a commune typed in full without choosing it in the
    # list is understood too.
    expect(page.locator("#commune-recherche")).to_have_value("Toulon (83000)")
    page.locator("#commune-recherche").fill("Draguignan")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#commune-recherche")).to_have_value("Draguignan (83300)")
    assert_accessible(page)
    field(page, "Besoin (catégorie)").select_option(label="Famille")
    choose_commune(page, "Toulon", "Toulon — 83000")
    field(page, "Distance").select_option(label="20 km")
    page.get_by_role("button", name="Rechercher").click()
    expect(
        page.get_by_role("heading", level=2, name=re.compile(r"services? trouvés?"))
    ).to_be_visible()
    assert_accessible(page)
    titles = result_titles(page)
    assert [t.split(" — ")[-1] for t in titles[:3]] == [
        "Toulon",
        "La Seyne-sur-Mer",
        "Sanary-sur-Mer",
    ], titles
    assert all("crèche AVIP" in t for t in titles[:3]), titles

    # A few letters are enough, with a typo: "permi".
    field(page, "Besoin (catégorie)").select_option(label="Toutes les catégories")
    field(page, "Mots-clés").fill("permi")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#resultats")).to_be_visible()
    assert_accessible(page)
    assert result_titles(page)[0] == "Aide au permis de conduire — auto-école sociale"

    # The card's title link, not its « Orienter une personne vers … » button.
    page.get_by_role(
        "link", name="Aide au permis de conduire — auto-école sociale", exact=True
    ).click()
    expect(heading(page)).to_have_text("Aide au permis de conduire — auto-école sociale")
    expect(page.get_by_role("heading", name="Comment le mobiliser")).to_be_visible()
    expect(page.get_by_text("Fiche de prescription envoyée par le conseiller")).to_be_visible()
    expect(page.get_by_text("Téléphone : 04 94 22 18 90")).to_be_visible()
    assert_accessible(page)

    # Back to her search as she left it.
    page.get_by_role("link", name="Retour à l'annuaire").click()
    expect(field(page, "Mots-clés")).to_have_value("permi")
    assert result_titles(page)[0] == "Aide au permis de conduire — auto-école sociale"
    assert_accessible(page)


def test_an_organisation_publishes_a_service_that_counselors_then_find(
    page: Page, live_directory: dict[str, Any]
) -> None:
    lea = live_directory["lea"]
    log_in(page, lea)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(lea))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Léa")
    assert_accessible(page)

    page.get_by_role("link", name="Annuaire").click()
    assert_accessible(page)
    page.get_by_role("link", name="Nos services dans l'annuaire").click()
    expect(heading(page)).to_have_text("Nos services")
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un service à Crèche AVIP Les Petits Pas").click()
    expect(heading(page)).to_have_text("Nouveau service")
    assert_accessible(page)

    page.get_by_role("textbox", name="Nom", exact=True).fill(
        "Halte-garderie pour les entretiens d'embauche"
    )
    field(page, "Description").fill(
        "Accueil de deux heures pour permettre à un parent de se rendre à un entretien."
    )
    page.get_by_role("button", name="Famille").click()
    childcare = "Garde d\u2019enfants"  # the referential's label, with a typographic apostrophe
    page.locator("label.fr-label", has_text=re.compile(f"^{childcare}$")).click()
    expect(page.get_by_label(childcare)).to_be_checked()
    page.get_by_role("button", name="Publier").click()

    # Saved as a draft; what is missing to publish is named.
    expect(heading(page)).to_have_text(re.compile("^Modifier"))
    missing = page.locator("#manque-pour-publier")
    expect(missing).to_contain_text("un moyen de contact")
    expect(missing).to_contain_text("un lieu d'accueil (commune et adresse)")
    expect(missing).to_contain_text("une zone d'éligibilité")
    assert_accessible(page)

    page.get_by_role("textbox", name="Téléphone").fill("04 94 41 20 10")
    field(page, "Adresse du lieu d'accueil").fill("12 rue Picot")
    choose_commune(page, "83000", "Toulon — 83000")
    field(page, "Zone d'éligibilité").fill("83")
    page.get_by_role("button", name="Publier").click()
    expect(heading(page)).to_have_text("Nos services")
    expect(page.get_by_text("est publié dans l'annuaire")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Annuaire").click()
    expect(heading(page)).to_have_text("Annuaire des solutions du territoire")
    assert_accessible(page)
    field(page, "Mots-clés").fill("halte-garderie entretien")
    page.get_by_role("button", name="Rechercher").click()
    expect(
        page.get_by_role("link", name="Halte-garderie pour les entretiens d'embauche")
    ).to_be_visible()
    assert_accessible(page)
