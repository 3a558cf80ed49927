"""The diagnostic partagé decides, in Quimper, in a real browser: Gwenaël (France Travail's
dedicated counselor) cannot validate an untouched diagnostic form, drafts Loïc's diagnostic
and validates it; Sophie (CCAS) validates it too, and the global support is activated, its 12
months counted from that day. Anne's diagnostic concludes « non pertinent »: her
accompaniment is closed, she is oriented to the CCAS's social support, and no six-month
situation is asked. Every page visited goes through axe-core."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.people.models import Person
from binome.support import actions
from binome.support.demo import quimper_file
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import (
    Accompaniment,
    BarrierLevel,
    Diagnostic,
    ExitOrientation,
    ExitReason,
    State,
    add_months,
)
from binome.support.referential import themes
from tests.browser.accessibility import assert_accessible
from tests.browser.test_diagnostic_plan import tick
from tests.browser.test_foundation_journeys import field, heading, log_in
from tests.browser.test_person_file import log_out

pytestmark = pytest.mark.browser


def open_file(page: Page, person: Person) -> None:
    page.goto(f"/personnes/{person.pk}/")
    expect(heading(page)).to_have_text(person.full_name)
    assert_accessible(page)


def test_the_diagnostic_decides_activation_or_orientation(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    loic = quimper_file("Loïc", "Tanguy", date(1985, 7, 2), live_personas, live_orgs)
    anne = quimper_file("Anne", "Riou", date(1969, 1, 30), live_personas, live_orgs)
    assert loic is not None and anne is not None
    gwenael, sophie = live_personas["gwenael"], live_personas["sophie"]

    # 1. Gwenaël: an untouched form cannot be validated; he drafts and validates.
    log_in(page, gwenael)
    expect(heading(page)).to_have_text("Bonjour Gwenaël")
    assert_accessible(page)
    open_file(page, loic)
    page.get_by_role("link", name="Faire le diagnostic").click()
    expect(heading(page)).to_have_text("Diagnostic partagé")
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer et valider").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Le diagnostic ne peut pas être validé")
    expect(alert).to_contain_text("Logement, Mobilité")
    assert_accessible(page)
    assert not Diagnostic.objects.filter(person=loic).exists()
    field(page, "Fait avec").select_option(label="Sophie Le Gall")
    levels = {"mobilite": "Frein à lever", "emploi": "Frein bloquant"}
    for theme in themes():
        tick(page.locator(f"#theme-{theme.code}"), levels.get(theme.code, "Non abordé"))
    field(page, "Accompagnement préconisé").select_option(
        label="Socio-professionnelle (accompagnement global, binôme)"
    )
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status")).to_contain_text("Le brouillon est enregistré")
    expect(heading(page)).to_contain_text("Diagnostic du")
    assert_accessible(page)
    page.get_by_role("button", name="Valider le diagnostic").click()
    expect(page.get_by_role("status")).to_contain_text("attend celle de l'autre professionnel")
    assert_accessible(page)
    diagnostic = Diagnostic.objects.get(person=loic)
    assert diagnostic.is_draft
    log_out(page)

    # 2. Sophie validates it too, and the global support is activated today.
    log_in(page, sophie)
    expect(heading(page)).to_have_text("Bonjour Sophie")
    assert_accessible(page)
    open_file(page, loic)
    expect(page.locator("#plan")).to_contain_text("attend sa validation")
    page.get_by_role("link", name="Compléter et valider le brouillon").click()
    expect(heading(page)).to_contain_text("Diagnostic du")
    assert_accessible(page)
    page.get_by_role("button", name="Valider le diagnostic").click()
    expect(page.get_by_role("status")).to_contain_text("validé par les deux professionnels")
    assert_accessible(page)
    open_file(page, loic)
    page.get_by_role("link", name="Décider de l'accompagnement global").click()
    expect(heading(page)).to_have_text("Décider de l'accompagnement global")
    assert_accessible(page)
    # The diagnostic recommended global support: that is the proposed decision.
    expect(page.get_by_label("L'accompagnement global est pertinent : l'activer")).to_be_checked()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    today = date.today()
    end = add_months(today, 12)
    expect(page.get_by_role("status")).to_contain_text(
        f"L'accompagnement global est activé : fin prévue le {end:%d/%m/%Y}"
    )
    assert_accessible(page)
    accompaniment = Accompaniment.objects.get(person=loic)
    assert (accompaniment.state, accompaniment.activated_on) == (State.ACTIVE, today)
    assert accompaniment.planned_end_on == end
    expect(page.locator("main")).to_contain_text(f"fin prévue le {end:%d/%m/%Y}")

    # 3. Anne's diagnostic (validated by both) concludes « non pertinent ».
    anne_diagnostic = actions.record_diagnostic(
        person=anne,
        by=gwenael,
        organisation=live_orgs["ft_quimper"],
        made_on=today,
        accompaniment=anne.accompaniments.get(),
        answers=[
            ThemeAnswer(
                theme=theme.code,
                level=BarrierLevel.BLOCKING if theme.code == "logement" else BarrierLevel.NONE,
            )
            for theme in themes()
        ],
        recommended_kind="social",
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=anne_diagnostic, by=sophie)
    open_file(page, anne)
    page.get_by_role("link", name="Décider de l'accompagnement global").click()
    expect(heading(page)).to_have_text("Décider de l'accompagnement global")
    expect(page.get_by_label("Accompagnement social (département, CCAS)")).to_be_checked()
    assert_accessible(page)
    field(page, "Ce qui a été décidé avec la personne").fill("Le logement d'abord, avec le CCAS.")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("aucune situation à 6 mois")
    # The referral form opens, ready to orient Anne to the social support.
    expect(heading(page)).to_contain_text("Orienter")
    assert_accessible(page)
    closed = Accompaniment.objects.get(person=anne)
    assert closed.state == State.ENDED
    assert closed.exit_reason == ExitReason.NOT_PERTINENT
    assert closed.exit_orientation == ExitOrientation.SOCIAL
    assert closed.followup_due_on is None
    open_file(page, anne)
    expect(page.locator("main")).to_contain_text("Non pertinent après diagnostic")
    expect(page.get_by_role("link", name="Situation à 6 mois")).to_have_count(0)
