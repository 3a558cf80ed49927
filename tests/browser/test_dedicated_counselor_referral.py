"""The Quimper convention, « et inversement », in a real browser: Yann, a France Travail
Quimper counselor, submits the situation of Loïc (followed by the CCAS) to his agency's
dedicated counselor with Loïc's agreement; Gwenaël finds it in his inbox, accepts it and is
on the team of the global accompaniment; the team then changes its referent with a reason,
and the timeline shows it. Every page visited goes through axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.accounts.models import User
from binome.people.models import Person
from binome.site.demo import QUIMPER_COUNSELOR, load_demo_quimper_file
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, Kind, TeamRole
from tests.browser.accessibility import assert_accessible
from tests.browser.test_diagnostic_plan import tick
from tests.browser.test_foundation_journeys import field, heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser


def test_a_counselor_submits_a_ccas_followed_person_to_the_agency_dedicated_counselor(
    page: Page, live_personas: dict[str, Any]
) -> None:
    load_demo_quimper_file()
    yann = User.objects.get(email=QUIMPER_COUNSELOR[2])
    gwenael, sophie = live_personas["gwenael"], live_personas["sophie"]
    loic = Person.objects.get(first_name="Loïc", last_name="Tanguy")

    log_in(page, yann)
    expect(heading(page)).to_have_text("Bonjour Yann")
    assert_accessible(page)
    page.goto(f"/personnes/{loic.pk}/")
    expect(heading(page)).to_have_text("Loïc TANGUY")
    assert_accessible(page)
    page.get_by_role("link", name="Orienter", exact=True).click()
    expect(heading(page)).to_have_text("Orienter la personne")
    assert_accessible(page)
    tick(page.locator("main"), "Vers l'accompagnement global (binôme)")
    field(page, "Organisation destinataire").select_option(
        label="France Travail Quimper (mon organisation : ses conseillers dédiés)"
    )
    field(page, "Motif de l'orientation").fill(
        "Suivi par le CCAS : logement précaire et mobilité ; accompagnement global proposé."
    )
    field(page, "Consentement de la personne").select_option(
        label="Recueilli à l'oral aujourd'hui : l'enregistrer"
    )
    page.get_by_role("button", name="Envoyer l'orientation").click()
    expect(page.get_by_role("status")).to_contain_text(
        "L'orientation vers France Travail Quimper est envoyée."
    )
    expect(page.get_by_role("link", name="Accepter")).to_have_count(0)
    assert_accessible(page)
    log_out(page)

    log_in(page, gwenael)
    expect(heading(page)).to_have_text("Bonjour Gwenaël")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^\s*Orientations")).first.click()
    expect(heading(page)).to_have_text("Orientations reçues")
    assert_accessible(page)
    page.get_by_role("link", name="Loïc TANGUY").click()
    expect(heading(page)).to_have_text("Orientation de Loïc TANGUY")
    assert_accessible(page)
    page.get_by_role("link", name="Accepter").click()
    expect(heading(page)).to_have_text("Accepter l'orientation")
    assert_accessible(page)
    field(page, "Ou : première étape prévue").fill("Diagnostic partagé avec le CCAS")
    page.get_by_role("button", name="Accepter").click()
    expect(page.get_by_role("status")).to_contain_text("L'orientation est acceptée")
    assert_accessible(page)

    accompaniment = Accompaniment.objects.get(person=loic, kind=Kind.GLOBAL)
    member = accompaniment.team.current().get(user=gwenael)
    assert member.role == TeamRole.DEDICATED_COUNSELOR
    # Sophie, on the person's social support team, joins the binôme at once.
    support_actions.join_team(
        accompaniment=accompaniment,
        user=sophie,
        organisation=sophie.memberships.get().organisation,
        role=TeamRole.SOCIAL_WORKER,
        reason="Binôme de l'accompagnement global",
        by=sophie,
    )

    page.goto(f"/personnes/{loic.pk}/")
    expect(heading(page)).to_have_text("Loïc TANGUY")
    expect(
        page.get_by_text("Gwenaël Le Bihan — Conseiller ou conseillère dédié(e)")
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Changer de référent").click()
    expect(heading(page)).to_have_text("Changer de référent ou référente")
    assert_accessible(page)
    field(page, "Membre de l'équipe").select_option(
        label="Sophie Le Gall — Travailleur ou travailleuse sociale (CCAS de Quimper)"
    )
    field(page, "Motif du changement").fill("Le CCAS reste l'interlocuteur principal de Loïc.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Le ou la référente de l'accompagnement")
    expect(heading(page)).to_have_text("Loïc TANGUY")
    timeline = page.locator("#chronologie ~ *")
    expect(
        timeline.get_by_text(
            re.compile(
                r"Sophie Le Gall \(CCAS de Quimper\) est désigné\(e\) référent\(e\).*"
                r"Le CCAS reste l'interlocuteur principal de Loïc\."
            )
        )
    ).to_be_visible()
    assert_accessible(page)
    accompaniment.refresh_from_db()
    assert accompaniment.referent is not None and accompaniment.referent.user == sophie
