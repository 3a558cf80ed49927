"""Childcare (AVIP) in a real browser: Charlie (France Travail Évry) files an emergency for a
parent's job interview tomorrow and sends it to two Essonne providers; Sylvie (a labelled
childminder) opens it, Yasmina (the home-care service) accepts it first; Sylvie's acceptance
is then refused with a clear message, and Charlie sees the place found. Every page visited
goes through axe-core."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from binome.accounts.models import User
from binome.childcare.demo import load_demo_providers
from binome.people.models import HouseholdRelation
from binome.support import actions as support_actions
from binome.support.models import Kind, TeamRole
from binome.territories.models import Commune
from tests.browser.accessibility import Visits, assert_accessible
from tests.browser.test_foundation_journeys import field, heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser


def test_charlie_files_an_emergency_two_providers_receive_it_the_first_to_accept_wins(
    page: Page,
    browser: Browser,
    live_server: Any,
    live_personas: dict[str, Any],
    live_orgs: dict[str, Any],
) -> None:
    load_demo_providers(live_personas, live_orgs)
    charlie = live_personas["charlie"]
    today = timezone.localdate()
    awa = support_actions.create_person(
        data={
            "first_name": "Awa",
            "last_name": "Diallo",
            "birth_date": date(1996, 5, 1),
            "commune": Commune.objects.get(insee_code="91228"),
        },
        by=charlie,
        organisation=live_orgs["ft_evry"],
        kind=Kind.GLOBAL,
        role=TeamRole.REFERENT,
    )
    support_actions.add_household_member(
        person=awa,
        relation=HouseholdRelation.CHILD,
        first_name="Léo",
        birth_date=today - timedelta(days=800),
        by=charlie,
        organisation=live_orgs["ft_evry"],
    )
    tomorrow = (today + timedelta(days=1)).isoformat()

    log_in(page, charlie)
    expect(heading(page)).to_have_text("Bonjour Charlie")
    assert_accessible(page)
    page.goto(f"/personnes/{awa.pk}/")
    expect(heading(page)).to_contain_text("Awa")
    assert_accessible(page)
    page.get_by_role("link", name="Demander une garde d'enfant (AVIP)").click()
    expect(heading(page)).to_have_text("Demande de garde d'enfant")
    assert_accessible(page)
    page.get_by_label(re.compile(r"^\s*Léo, né")).check()
    field(page, "Motif").select_option(label="Entretien d'embauche")
    field(page, "Date de l'entretien").fill(tomorrow)
    field(page, "Accueil nécessaire à partir du").fill(tomorrow)
    field(page, "Jours et horaires").fill("Demain de 8 h 30 à 12 h")
    page.get_by_label("Urgence : réponse sous 24 heures").check()
    # The DSFR draws the box on the label: click it, as a user does.
    page.locator("label[for=id_consent_now]").click()
    expect(field(page, "La personne accepte aujourd'hui")).to_be_checked()
    page.get_by_role("button", name="Chercher les accueils").click()

    expect(page.get_by_text("La demande est enregistrée")).to_be_visible()
    expect(heading(page)).to_have_text("Demande de garde d'enfant")
    assert_accessible(page)
    page.get_by_label(re.compile(r"^\s*Garde d'enfants à domicile d'urgence")).check()
    page.get_by_label(re.compile(r"^\s*Assistantes maternelles labellisées AVIP — Évry")).check()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("La demande est envoyée aux accueils choisis.")).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # Sylvie, the labelled childminder of Évry, opens the request in her own browser.
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    sylvie_tab = context.new_page()
    Visits(sylvie_tab).attach(sylvie_tab)
    sylvie = User.objects.get(email="sylvie.moreau@am-evry.test")
    yasmina = User.objects.get(email="yasmina.benhamou@garde-essonne.test")
    log_in(sylvie_tab, sylvie)
    expect(heading(sylvie_tab)).to_have_text("Bonjour Sylvie")
    assert_accessible(sylvie_tab)
    sylvie_tab.goto("/garde-enfants/accueils/")
    expect(heading(sylvie_tab)).to_have_text("Garde d'enfants : mes accueils")
    assert_accessible(sylvie_tab)
    sylvie_tab.get_by_role(
        "link", name="Assistantes maternelles labellisées AVIP — Évry-Courcouronnes"
    ).click()
    expect(heading(sylvie_tab)).to_contain_text("Places d'accueil")
    assert_accessible(sylvie_tab)
    sylvie_tab.get_by_role("link", name="Urgence : réponse sous 24 heures").click()
    expect(sylvie_tab.get_by_text("Awa D.")).to_be_visible()
    expect(sylvie_tab.get_by_text("Diallo")).to_have_count(0)
    assert_accessible(sylvie_tab)

    # Yasmina, of the home-care service, accepts first.
    log_in(page, yasmina)
    expect(heading(page)).to_have_text("Bonjour Yasmina")
    assert_accessible(page)
    page.goto("/garde-enfants/accueils/")
    expect(heading(page)).to_have_text("Garde d'enfants : mes accueils")
    assert_accessible(page)
    page.get_by_role("link", name="Garde d'enfants à domicile d'urgence — Essonne").click()
    expect(heading(page)).to_contain_text("Places d'accueil")
    assert_accessible(page)
    page.get_by_role("link", name="Urgence : réponse sous 24 heures").click()
    expect(heading(page)).to_have_text("Demande de garde d'enfant")
    assert_accessible(page)
    field(page, "Début de l'accueil").fill(tomorrow)
    field(page, "La place proposée").fill("Garde au domicile de 8 h à 12 h 30")
    page.get_by_role("button", name="Accepter la demande").click()
    expect(page.get_by_text("Vous avez accepté la demande")).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # Sylvie's acceptance comes second: refused, clearly.
    field(sylvie_tab, "Début de l'accueil").fill(tomorrow)
    field(sylvie_tab, "La place proposée").fill("Chez moi, de 8 h à 12 h")
    sylvie_tab.get_by_role("button", name="Accepter la demande").click()
    expect(sylvie_tab.get_by_text("Un autre accueil a déjà accepté cette demande")).to_be_visible()
    assert_accessible(sylvie_tab)
    context.close()

    # Charlie sees the place found.
    log_in(page, charlie)
    expect(heading(page)).to_have_text("Bonjour Charlie")
    assert_accessible(page)
    page.goto(f"/personnes/{awa.pk}/")
    expect(heading(page)).to_contain_text("Awa")
    assert_accessible(page)
    page.get_by_role("link", name="Urgence : réponse sous 24 heures").click()
    expect(page.get_by_text("Place trouvée", exact=True)).to_be_visible()
    expect(
        page.get_by_text(re.compile("Garde d'enfants à domicile d'urgence — Essonne — Acceptée"))
    ).to_be_visible()
    assert_accessible(page)
