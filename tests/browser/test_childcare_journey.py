"""The AVIP journey of issue 17 in a real browser, as new users would try it.

In the Essonne, Charlie (France Travail Évry) files an emergency for Awa's interview
tomorrow and sends it to two providers, who both receive it; Yasmina (the home-care
service) accepts it from her « Mes accueils » page, and Hélène, the CAF agent of the
Essonne, checks its criteria after. In the Var, Léa publishes a free place
at her crèche, Inès files a place request for Inaya's daughter, Léa accepts it with a start
eleven days later (a placement of six months, its review shown), and Karim (CAF du Var)
checks the criteria after; each CAF agent finds the answer in the territory's figures.
Both acceptances appear in the parents' timelines; a request left
unanswered is escalated when the deadlines job finds its 24 hours past. Every page visited
goes through axe-core."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from binome.accounts.models import User
from binome.childcare import actions
from binome.childcare.deadlines import run_deadlines
from binome.childcare.demo import load_demo_providers
from binome.childcare.models import Placement, Provider
from binome.notifications.models import Notification
from binome.people.models import HouseholdRelation, Person
from binome.support import actions as support_actions
from binome.support.models import Kind, TeamRole
from binome.territories.models import Commune
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser

HOME_CARE = "Garde d'enfants à domicile d'urgence — Essonne"
CRECHE = "Crèche AVIP Les Petits Pas — Toulon"


def parent(
    first_name: str, last_name: str, insee: str, child: str, days: int, by: User, at: Any
) -> Person:
    person = support_actions.create_person(
        data={
            "first_name": first_name,
            "last_name": last_name,
            "birth_date": date(1996, 5, 1),
            "commune": Commune.objects.get(insee_code=insee),
        },
        by=by,
        organisation=at,
        kind=Kind.GLOBAL,
        role=TeamRole.REFERENT,
    )
    support_actions.add_household_member(
        person=person,
        relation=HouseholdRelation.CHILD,
        first_name=child,
        birth_date=timezone.localdate() - timedelta(days=days),
        by=by,
        organisation=at,
    )
    return person


def arrive(page: Page, title: str) -> None:
    expect(heading(page)).to_contain_text(title)
    assert_accessible(page)


def file_request(
    page: Page, person: Person, child: str, reason: str, on: date, urgency: str
) -> None:
    """From the person's file, the request form, filled and sent to the search."""
    page.goto(f"/personnes/{person.pk}/")
    arrive(page, person.first_name)
    page.get_by_role("link", name="Demander une garde d'enfant (AVIP)").click()
    arrive(page, "Demande de garde d'enfant")
    page.get_by_label(re.compile(rf"^\s*{child}, né")).check()
    field(page, "Motif").select_option(label=reason)
    field(page, "Date de l'entretien").fill(on.isoformat())
    field(page, "Accueil nécessaire à partir du").fill(on.isoformat())
    field(page, "Jours et horaires").fill("Du lundi au vendredi, de 8 h 30 à 17 h")
    page.get_by_label(urgency).check()
    page.locator("label[for=id_consent_now]").click()
    page.get_by_role("button", name="Chercher les accueils").click()
    expect(page.get_by_text("La demande est enregistrée")).to_be_visible()
    assert_accessible(page)


def log_in_with_code(page: Page, user: User, first_name: str) -> None:
    log_in(page, user)
    arrive(page, "Double authentification")
    field(page, "Code à 6 chiffres").fill(current_code(user))
    page.get_by_role("button", name="Valider").click()
    arrive(page, f"Bonjour {first_name}")


def test_the_avip_journey_in_the_essonne_and_the_var(
    page: Page, live_server: Any, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    load_demo_providers(live_personas, live_orgs)
    today = timezone.localdate()
    tomorrow, in_eleven_days = today + timedelta(days=1), today + timedelta(days=11)
    charlie, ines = live_personas["charlie"], live_personas["ines"]
    lea, karim = live_personas["lea"], live_personas["karim"]
    helene = live_personas["helene"]
    yasmina = User.objects.get(email="yasmina.benhamou@garde-essonne.test")
    sylvie = User.objects.get(email="sylvie.moreau@am-evry.test")
    awa = parent("Awa", "Diallo", "91228", "Léo", 800, charlie, live_orgs["ft_evry"])
    inaya = parent("Inaya", "Mercier", "83137", "Lina", 600, ines, live_orgs["ft_toulon"])

    # Charlie files the emergency for Awa's interview tomorrow, sent to two providers.
    log_in(page, charlie)
    arrive(page, "Bonjour Charlie")
    file_request(
        page, awa, "Léo", "Entretien d'embauche", tomorrow, "Urgence : réponse sous 24 heures"
    )
    page.get_by_label(re.compile(rf"^\s*{HOME_CARE}")).check()
    page.get_by_label(re.compile(r"^\s*Assistantes maternelles labellisées AVIP — Évry")).check()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("La demande est envoyée aux accueils choisis.")).to_be_visible()
    assert_accessible(page)
    log_out(page)
    for provider_member in (yasmina, sylvie):
        assert Notification.objects.filter(recipient=provider_member, kind="childcare").exists()

    # Yasmina accepts it from her providers' page, reached from the header.
    log_in(page, yasmina)
    arrive(page, "Bonjour Yasmina")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes accueils"
    ).click()
    arrive(page, "Garde d'enfants : mes accueils")
    page.get_by_role("link", name=HOME_CARE).click()
    arrive(page, "Places d'accueil")
    page.get_by_role("link", name="Urgence : réponse sous 24 heures").click()
    arrive(page, "Demande de garde d'enfant")
    field(page, "Début de l'accueil").fill(tomorrow.isoformat())
    field(page, "La place proposée").fill("Garde au domicile de 8 h à 12 h 30")
    page.get_by_role("button", name="Accepter la demande").click()
    expect(page.get_by_text("Vous avez accepté la demande")).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # Hélène, of the CAF de l'Essonne, checks the emergency's criteria after the acceptance.
    log_in(page, helene)
    arrive(page, "Bonjour Hélène")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Garde d'enfants"
    ).click()
    arrive(page, "Garde d'enfants : demandes du territoire")
    page.get_by_role("link", name="Awa D.").click()
    arrive(page, "Garde d'enfants : critères de la demande")
    expect(page.get_by_text("Urgence : réponse sous 24 heures").first).to_be_visible()
    page.get_by_label("Éligible", exact=True).check()
    page.get_by_role("button", name="Enregistrer la vérification").click()
    expect(page.get_by_text("La vérification est enregistrée")).to_be_visible()
    assert_accessible(page)
    # The emergency, answered within the hour, is in the Essonne's figures.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Garde d'enfants"
    ).click()
    arrive(page, "Garde d'enfants : demandes du territoire")
    page.get_by_role("link", name="Les chiffres de la garde d'enfants du territoire").click()
    arrive(page, "Garde d'enfants : les chiffres du territoire")
    expect(
        page.get_by_role("row", name=re.compile("^Urgences répondues sous 24 heures"))
    ).to_contain_text("100 %")
    log_out(page)

    # In the Var, Léa publishes a free place at her crèche.
    log_in_with_code(page, lea, "Léa")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes accueils"
    ).click()
    arrive(page, "Garde d'enfants : mes accueils")
    page.get_by_role("link", name=CRECHE).click()
    arrive(page, "Places d'accueil")
    page.get_by_role("link", name="Modifier les places").click()
    arrive(page, "Modifier les places")
    field(page, "Places AVIP libres").fill("3")
    field(page, "Libres à partir du").fill(today.isoformat())
    page.get_by_role("button", name="Enregistrer et confirmer les places").click()
    expect(page.get_by_text("Les places sont enregistrées")).to_be_visible()
    expect(page.get_by_text("Places AVIP libres : 3")).to_be_visible()
    assert_accessible(page)
    assert Provider.objects.get(organisation=live_orgs["creche_toulon"]).free_places == 3
    log_out(page)

    # Inès asks a place for Inaya's daughter, at Léa's crèche.
    log_in(page, ines)
    arrive(page, "Bonjour Inès")
    file_request(
        page,
        inaya,
        "Lina",
        "Reprise d'emploi",
        in_eleven_days,
        "Place d'accueil : réponse sous 15 jours",
    )
    page.get_by_label(re.compile(rf"^\s*{CRECHE}")).check()
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.get_by_text("La demande est envoyée aux accueils choisis.")).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # Léa receives it and accepts, from eleven days on: a placement of six months.
    log_in_with_code(page, lea, "Léa")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes accueils"
    ).click()
    arrive(page, "Garde d'enfants : mes accueils")
    page.get_by_role("link", name=CRECHE).click()
    arrive(page, "Places d'accueil")
    page.get_by_role("link", name="Place d'accueil : réponse sous 15 jours").first.click()
    arrive(page, "Demande de garde d'enfant")
    expect(page.get_by_text("Inaya M.")).to_be_visible()
    field(page, "Début de l'accueil").fill(in_eleven_days.isoformat())
    field(page, "La place proposée").fill("Section des moyens, de 8 h 30 à 17 h")
    page.get_by_role("button", name="Accepter la demande").click()
    expect(page.get_by_text("Vous avez accepté la demande")).to_be_visible()
    expect(page.get_by_role("heading", name="L'accueil de l'enfant")).to_be_visible()
    assert_accessible(page)
    placement = Placement.objects.get(person=inaya)
    assert placement.started_on == in_eleven_days
    expect(page.get_by_text(f"{placement.ends_on:%d/%m/%Y}")).to_be_visible()
    log_out(page)

    # Karim, of the CAF du Var, checks the criteria after the acceptance.
    log_in(page, karim)
    arrive(page, "Bonjour Karim")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Garde d'enfants"
    ).click()
    arrive(page, "Garde d'enfants : demandes du territoire")
    page.get_by_role("link", name="Inaya M.").click()
    arrive(page, "Garde d'enfants : critères de la demande")
    page.get_by_label("Éligible", exact=True).check()
    page.get_by_role("button", name="Enregistrer la vérification").click()
    expect(page.get_by_text("La vérification est enregistrée")).to_be_visible()
    assert_accessible(page)
    # The place, answered within 15 days, is in the Var's figures.
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Garde d'enfants"
    ).click()
    arrive(page, "Garde d'enfants : demandes du territoire")
    page.get_by_role("link", name="Les chiffres de la garde d'enfants du territoire").click()
    arrive(page, "Garde d'enfants : les chiffres du territoire")
    expect(
        page.get_by_role("row", name=re.compile("^Demandes de place répondues sous 15 jours"))
    ).to_contain_text("100 %")
    log_out(page)

    # Both acceptances are in the parents' timelines.
    log_in(page, ines)
    arrive(page, "Bonjour Inès")
    page.goto(f"/personnes/{inaya.pk}/")
    arrive(page, "Inaya")
    expect(page.get_by_text(f"Garde d'enfant acceptée par {CRECHE}")).to_be_visible()
    expect(page.get_by_text("Critères AVIP vérifiés par CAF du Var : Éligible")).to_be_visible()
    log_out(page)

    # A request left unanswered: escalated when its 24 hours are past.
    awa_child = awa.household.get()
    assert awa_child.birth_date is not None
    unanswered = actions.create_request(
        person=awa,
        organisation=live_orgs["ft_evry"],
        accompaniment=awa.accompaniments.get(),
        children=[("Léo", awa_child.birth_date)],
        reason="formation",
        reason_on=tomorrow,
        needed_on=tomorrow,
        schedule="De 9 h à 17 h",
        urgency="urgence",
        single_parent=False,
        qpv=False,
        rsa=False,
        radius_km=15,
        by=charlie,
    )
    actions.send(
        childcare_request=unanswered,
        providers=[Provider.objects.get(organisation__name=HOME_CARE)],
        by=charlie,
        organisation=live_orgs["ft_evry"],
    )
    assert run_deadlines(unanswered.due_at + timedelta(minutes=1)) == (0, 1)

    log_in(page, charlie)
    arrive(page, "Bonjour Charlie")
    page.goto(f"/personnes/{awa.pk}/")
    arrive(page, "Awa")
    expect(page.get_by_text(f"Garde d'enfant acceptée par {HOME_CARE}")).to_be_visible()
    expect(
        page.get_by_text("Critères AVIP vérifiés par CAF de l'Essonne : Éligible")
    ).to_be_visible()
    expect(
        page.get_by_text(re.compile("sans réponse après 24 heures : signalée à la coordination"))
    ).to_be_visible()
