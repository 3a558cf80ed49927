"""The shared diagnostic and the plan in a real browser: Inès re-evaluates Nadia's diagnostic
with Marc, adds a suggested directory service to the plan in one click, marks an action
done, reads the barriers lifted over time, and the accompaniment ends with an outcome.
Every page visited goes through axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from binome.people.models import Person
from binome.support import actions
from binome.support.models import Action, Diagnostic
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in
from tests.directory.test_search import TOULON, make_service

pytestmark = pytest.mark.browser

SERVICE = "Auto-école sociale de Toulon"


def tick(scope: Locator, label: str) -> None:
    """Check a DSFR checkbox or radio button as a user does: on its label."""
    scope.locator("label", has_text=re.compile(f"^\\s*{re.escape(label)}\\s*$")).click()
    expect(scope.get_by_label(label, exact=True)).to_be_checked()


def test_ines_makes_the_diagnostic_and_builds_the_plan_with_a_suggested_service(
    page: Page, live_personas: dict[str, Any]
) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    service = make_service(
        SERVICE,
        at=TOULON,
        thematiques=["mobilite--preparer-un-permis"],
        publics=["demandeurs-emploi"],
        mobilisation_details="Orientation par le conseiller, places réservées.",
    )
    log_in(page, live_personas["ines"])
    expect(heading(page)).to_have_text("Bonjour Inès")
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    expect(heading(page)).to_have_text("Nadia BELKACEM")
    assert_accessible(page)

    # The diagnostic, made with Nadia and Marc (a re-evaluation of the demo's).
    page.get_by_role("link", name="Réévaluer le diagnostic").click()
    expect(heading(page)).to_have_text("Réévaluer le diagnostic partagé")
    assert_accessible(page)
    field(page, "Fait avec").select_option(label="Marc Lefèvre")
    mobility = page.locator("#theme-mobilite")
    tick(mobility, "Permis et/ou code en cours")
    tick(mobility, "Frein à lever")
    mobility.get_by_role("textbox", name=re.compile("^Commentaire")).fill(
        "Code en cours à l'auto-école."
    )
    family = page.locator("#theme-contraintes_familiales")
    tick(family, "Frein bloquant")
    field(page, "Rayon de mobilité").fill("20")
    field(page, "Accompagnement préconisé").select_option(
        label="Socio-professionnelle (accompagnement global, binôme)"
    )
    page.get_by_role("button", name="Enregistrer et valider").click()
    expect(page.get_by_role("status")).to_contain_text("Votre validation est enregistrée")
    assert_accessible(page)
    latest = Diagnostic.objects.filter(person=nadia).latest("id")
    assert latest.co_author == live_personas["marc"]
    assert latest.answers.get(theme="mobilite").level == "to_lift"
    # Marc validates it too (the other side of the binôme): it now counts on the file.
    actions.validate_diagnostic(diagnostic=latest, by=live_personas["marc"])
    page.goto(f"/personnes/{nadia.pk}/")

    # A suggested service, added to the plan in one click (htmx).
    suggestion = page.locator("#plan").get_by_role("link", name=SERVICE)
    expect(suggestion).to_be_visible()
    page.get_by_role("button", name=f"Ajouter au plan : {SERVICE}").click()
    expect(page.locator("#plan").get_by_role("status")).to_contain_text(
        f"Ajouté au plan : Mobiliser le service « {SERVICE} »"
    )
    expect(
        page.get_by_role("cell", name=re.compile(f"^Mobiliser le service « {SERVICE} »"))
    ).to_be_visible()
    assert_accessible(page)
    action = Action.objects.get(service=service)
    assert action.carried_by == live_personas["ines"]

    # Marked done from the file.
    page.get_by_role("button", name=f"Réalisée : « {action.label} »").click()
    expect(page.get_by_role("status").first).to_contain_text("est mise à jour")
    assert_accessible(page)
    action.refresh_from_db()
    assert action.status == "done"

    # A new action, with its due date.
    page.get_by_role(
        "link", name="Ajouter une action à l'objectif « Trouver des solutions de garde d'enfant »"
    ).click()
    expect(heading(page)).to_have_text("Ajouter une action")
    assert_accessible(page)
    field(page, "Action").fill("Visiter la crèche AVIP du quartier")
    field(page, "Échéance").fill("2000-01-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("précède le début de l'accompagnement")).to_be_visible()
    expect(field(page, "Action")).to_have_value("Visiter la crèche AVIP du quartier")
    assert_accessible(page)
    field(page, "Échéance").fill("")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("L'action est ajoutée au plan.")
    assert_accessible(page)

    # The barriers over time.
    page.get_by_role("link", name="Historique et freins levés").click()
    expect(heading(page)).to_have_text("Diagnostics et freins levés")
    expect(
        page.get_by_role("row", name=re.compile("Mobilité")).get_by_text("Frein levé")
    ).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile("Difficultés financières"))).to_contain_text(
        "Frein levé"
    )
    assert_accessible(page)
    page.get_by_role("link", name=latest.made_on.strftime("%d/%m/%Y")).first.click()
    expect(heading(page)).to_contain_text("Diagnostic du")
    expect(page.get_by_text("Code en cours à l'auto-école.")).to_be_visible()
    assert_accessible(page)

    # The accompaniment ends with an outcome; the plan stays, read only.
    page.goto(f"/personnes/{nadia.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Enregistrer la sortie").click()
    expect(heading(page)).to_have_text("Enregistrer la sortie")
    assert_accessible(page)
    field(page, "Motif de sortie").select_option(label="Formation qualifiante")
    field(page, "Situation à la sortie").fill("Entrée en formation d'aide-soignante.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("La sortie est enregistrée.")
    expect(page.locator("#plan")).to_contain_text("lecture seule")
    assert_accessible(page)


def test_claire_adds_a_situation_of_the_var_to_the_diagnostic(
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
    page.get_by_role("link", name="Situations du diagnostic").click()
    expect(heading(page)).to_contain_text("Situations du diagnostic")
    assert_accessible(page)
    field(page, "Thème").select_option(label="Mobilité")
    field(page, "Situation").fill("Zone sans transport à la demande")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_role("status")).to_contain_text(
        "La situation « Zone sans transport à la demande » est ajoutée au thème « Mobilité »."
    )
    assert_accessible(page)
    page.get_by_role("button", name="Ajouter").click()  # empty: refused in French
    expect(page.get_by_text("Indiquez la situation.").first).to_be_visible()
    assert_accessible(page)
