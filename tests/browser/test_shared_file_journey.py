"""The shared file, start to end, as new users do it on the demo data (the "done when" of
the shared file): Inès and Marc make the diagnostic with Nadia, open a global
accompaniment, build its plan with a suggested directory service; Marc writes a note for
his organisation that Inès cannot read; Nadia logs in with a link received by e-mail and
sees her plan and who accessed her file; the accompaniment ends with an outcome; Charlie
gets a 404 on Nadia's file. Every page visited goes through axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from binome.people.models import Person
from binome.support.models import Accompaniment, Action, Diagnostic, Kind, State, TeamRole
from tests.browser.accessibility import assert_accessible
from tests.browser.test_diagnostic_plan import tick
from tests.browser.test_foundation_journeys import field, heading, log_in
from tests.browser.test_person_file import log_out
from tests.directory.test_search import TOULON, make_service

pytestmark = pytest.mark.browser

SERVICE = "Garage solidaire de Toulon"
MARC_NOTE = "Entretien au service social : difficultés familiales, à garder dans le service."


def open_file(page: Page, nadia: Person) -> None:
    """From the home page, as a professional does: "Mes personnes", then her name."""
    page.get_by_role("link", name="Mes personnes").first.click()
    expect(heading(page)).to_have_text("Mes personnes")
    assert_accessible(page)
    # One line per accompaniment the professional is on: two once the binôme is formed.
    page.get_by_role("link", name="Nadia BELKACEM").first.click()
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    assert_accessible(page)
    assert page.url.endswith(f"/personnes/{nadia.pk}/")


def card_of(page: Page, accompaniment: Accompaniment) -> Any:
    """The card of one accompaniment on the file page (the newest is first)."""
    started = accompaniment.started_on.strftime("%d/%m/%Y")
    return (
        page.locator(".fr-card")
        .filter(has_text=f"Depuis le {started}")
        .filter(has_text=accompaniment.get_kind_display())
    )


def test_the_shared_file_from_the_diagnostic_to_the_exit(
    page: Page, live_personas: dict[str, Any]
) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    service = make_service(
        SERVICE,
        at=TOULON,
        thematiques=["mobilite--acceder-a-un-vehicule"],
        publics=["demandeurs-emploi"],
        mobilisation_details="Réparations à prix solidaire sur orientation du conseiller.",
    )
    # Until now Nadia has been in a social accompaniment (Axe 3) with Marc and Inès; the
    # re-evaluation concludes a global one. (The demo's is global: a person has one open
    # accompaniment of each kind.)
    Accompaniment.objects.open().filter(person=nadia, kind=Kind.GLOBAL).update(kind=Kind.SOCIAL)
    before = set(Accompaniment.objects.filter(person=nadia).values_list("pk", flat=True))

    # 1. Inès and Marc make the diagnostic with Nadia (the demo has an earlier one).
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    open_file(page, nadia)
    page.get_by_role("link", name="Réévaluer le diagnostic").click()
    expect(heading(page)).to_have_text("Réévaluer le diagnostic partagé")
    # A dedicated counselor records the level of the health barrier, not its situations.
    expect(page.locator("#theme-sante")).to_contain_text(
        "situations de santé sont réservées au travailleur social"
    )
    assert_accessible(page)
    field(page, "Fait avec").select_option(label="Marc Lefèvre")
    mobility = page.locator("#theme-mobilite")
    tick(mobility, "Permis et/ou code en cours")  # the others are those of the last one
    tick(mobility, "Frein bloquant")
    field(page, "Accompagnement préconisé").select_option(
        label="Socio-professionnelle (accompagnement global, binôme)"
    )
    field(page, "Pourquoi").fill("Projet d'aide-soignante clair ; mobilité et garde à lever.")
    page.get_by_role("button", name="Enregistrer et valider").click()
    # Inès's validation: the diagnostic counts once Marc validated it too (step 3).
    expect(page.get_by_role("status")).to_contain_text("Votre validation est enregistrée")
    assert_accessible(page)
    diagnostic = Diagnostic.objects.filter(person=nadia).latest("id")
    assert (diagnostic.recorded_by, diagnostic.co_author) == (
        live_personas["ines"],
        live_personas["marc"],
    )
    open_file(page, nadia)

    # 2. The conclusion: a global accompaniment, opened by Inès as dedicated counselor.
    page.get_by_role("link", name="Ouvrir un autre accompagnement").click()
    expect(heading(page)).to_have_text("Ouvrir un accompagnement")
    assert_accessible(page)
    field(page, "Type d'accompagnement").select_option(label="Accompagnement global")
    field(page, "Votre rôle dans l'équipe").select_option(
        label="Conseiller ou conseillère dédié(e)"
    )
    page.get_by_role("button", name=re.compile("^(Ouvrir|Enregistrer)")).click()
    expect(page.get_by_role("status")).to_contain_text("L'accompagnement est ouvert (proposé).")
    assert_accessible(page)
    (accompaniment,) = Accompaniment.objects.filter(person=nadia).exclude(pk__in=before)
    assert (accompaniment.kind, accompaniment.state) == (Kind.GLOBAL, State.PROPOSED)
    log_out(page)

    # 3. Marc joins it as the social worker of the binôme, and writes a note for his
    #    organisation only.
    log_in(page, live_personas["marc"])
    expect(heading(page)).to_have_text("Bonjour Marc")
    assert_accessible(page)
    open_file(page, nadia)
    card_of(page, accompaniment).get_by_role(
        "link", name="Rejoindre l'équipe de cet accompagnement"
    ).click()
    expect(heading(page)).to_have_text("Rejoindre l'équipe de Nadia BELKACEM")
    assert_accessible(page)
    # His role on the team follows the function the Département declared for him (travailleur
    # social): the join form does not ask for it.
    expect(page.get_by_label(re.compile(r"^\s*Votre rôle dans l'équipe"))).to_have_count(0)
    field(page, "Pourquoi rejoignez-vous ce dossier ?").fill(
        "Binôme de l'accompagnement global décidé au diagnostic partagé."
    )
    page.get_by_role("button", name="Rejoindre l'équipe").click()
    expect(page.get_by_role("status")).to_contain_text("Vous faites partie de l'équipe")
    assert_accessible(page)
    assert (
        accompaniment.team.current()
        .filter(user=live_personas["marc"], role=TeamRole.SOCIAL_WORKER)
        .exists()
    )
    # He validates the diagnostic made with Inès: the second validation makes it count.
    page.get_by_role("link", name="Compléter et valider le brouillon").click()
    expect(heading(page)).to_contain_text("Diagnostic du")
    assert_accessible(page)
    page.get_by_role("button", name="Valider le diagnostic").click()
    expect(page.get_by_role("status")).to_contain_text("validé par les deux professionnels")
    assert_accessible(page)
    diagnostic.refresh_from_db()
    assert not diagnostic.is_draft
    open_file(page, nadia)
    page.get_by_role("link", name="Nouvelle note").click()
    expect(heading(page)).to_have_text("Nouvelle note d'entretien")
    assert_accessible(page)
    field(page, "Modalité").select_option(label="Entretien physique")
    field(page, "Note").fill(MARC_NOTE)
    field(page, "Visible par").select_option(label="Mon organisation")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La note est enregistrée.")
    expect(page.get_by_text(MARC_NOTE)).to_be_visible()
    assert_accessible(page)
    log_out(page)

    # 4. Inès starts the accompaniment and builds its plan with a suggested service; she
    #    does not see Marc's note.
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    open_file(page, nadia)
    expect(page.locator("main")).not_to_contain_text(MARC_NOTE)
    card_of(page, accompaniment).get_by_role("link", name="Changer l'état").click()
    expect(heading(page)).to_contain_text("état")
    assert_accessible(page)
    field(page, "Nouvel état").select_option(label="En cours")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()
    assert_accessible(page)
    accompaniment.refresh_from_db()
    assert accompaniment.state == State.ACTIVE
    expect(page.locator("#plan")).to_contain_text("Plan de l'accompagnement global (en cours)")
    suggestion = page.locator("#plan").get_by_role("link", name=SERVICE)
    expect(suggestion).to_be_visible()
    page.get_by_role("button", name=f"Ajouter au plan : {SERVICE}").click()
    expect(page.locator("#plan").get_by_role("status")).to_contain_text(
        f"Ajouté au plan : Mobiliser le service « {SERVICE} »"
    )
    assert_accessible(page)
    action = Action.objects.get(service=service)
    assert action.objective.accompaniment == accompaniment
    log_out(page)

    # 5. Nadia logs in with the link she receives by e-mail, sees her plan and who
    #    accessed her file.
    mail.outbox.clear()
    page.goto("/connexion/")
    assert_accessible(page)
    page.get_by_role("link", name="Recevoir un lien de connexion par e-mail").click()
    expect(heading(page)).to_have_text("Recevoir un lien de connexion")
    assert_accessible(page)
    field(page, "Adresse e-mail").fill(live_personas["nadia"].email)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert_accessible(page)
    (message,) = mail.outbox
    assert message.to == [live_personas["nadia"].email]
    found = re.search(r"https?://\S+(/connexion/lien/\S+/)", message.body)
    assert found, message.body
    page.goto(found.group(1))
    expect(heading(page)).to_have_text("Se connecter à mon espace")
    assert_accessible(page)
    page.get_by_role("button", name="Ouvrir mon espace").click()
    expect(heading(page)).to_have_text("Mon espace")
    expect(page.locator("main")).to_contain_text(f"Mobiliser le service « {SERVICE} »")
    reads = page.get_by_role("table", name=re.compile("Consultations de mon dossier"))
    expect(reads).to_contain_text("Inès Benali")
    expect(reads).to_contain_text("Marc Lefèvre")
    expect(page.locator("main")).not_to_contain_text(MARC_NOTE)
    assert_accessible(page)
    log_out(page)

    # 6. The accompaniment ends with an outcome.
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    open_file(page, nadia)
    card_of(page, accompaniment).get_by_role("link", name="Enregistrer la sortie").click()
    expect(heading(page)).to_have_text("Enregistrer la sortie")
    assert_accessible(page)
    field(page, "Motif de sortie").select_option(
        label="Emploi durable (CDI ou CDD de plus de 6 mois)"
    )
    field(page, "Situation à la sortie").fill("CDI d'aide-soignante à l'hôpital de Toulon.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La sortie est enregistrée.")
    expect(card_of(page, accompaniment)).to_contain_text("Emploi durable")
    assert_accessible(page)
    accompaniment.refresh_from_db()
    assert (accompaniment.state, accompaniment.exit_reason) == (State.ENDED, "emploi_durable")
    log_out(page)

    # 7. Charlie, of another département, gets a 404 on Nadia's file.
    log_in(page, live_personas["charlie"])
    expect(heading(page)).to_have_text("Bonjour Charlie")
    assert_accessible(page)
    response = page.goto(f"/personnes/{nadia.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("BELKACEM")
    assert_accessible(page)
