"""Paul, the Var's steering officer, from his home page to the territory's dashboard: he
chooses the last three months, reads the charts' tables and exports one as XLSX. At the
comité de pilotage, Marc brings Nadia's situation and Paul's recommendation comes back to
her file."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from binome.people.models import Person
from binome.steering.demo import load_demo_fse, operation_name
from binome.steering.fse import pseudonym
from binome.steering.models import FseOperation
from binome.support.models import Accompaniment
from binome.territories.models import Commune
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import heading, log_in
from tests.browser.test_small_screens import PHONE

pytestmark = pytest.mark.browser


def test_paul_reads_and_exports_the_var_dashboard(
    page: Page, live_personas: dict[str, Any]
) -> None:
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.get_by_role("link", name="Tableau de bord du territoire (83)").click()
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    assert_accessible(page)

    page.get_by_role("combobox", name="Période").select_option(label="Les trois derniers mois")
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"periode=trois_mois"))
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    table = page.get_by_role("table", name="Par organisation")
    expect(table).to_be_visible()
    expect(page.get_by_role("table", name="Orientations par type")).to_be_visible()
    expect(page.locator("bar-chart canvas").first).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger « Orientations par type » (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    assert sheet["A1"].value == "Orientations par type"
    assert sheet["A4"].value == "Type d'orientation"
    assert sheet["A5"].value == "Vers l'accompagnement global (binôme)"


def test_paul_opens_a_long_table_whole_on_a_computer_and_on_a_phone(
    page: Page, live_personas: dict[str, Any]
) -> None:
    # 25 Var communes with accompaniments started this month: more than the dashboard shows.
    started = timezone.localdate().replace(day=1)
    for index, commune in enumerate(
        Commune.objects.filter(department_id="83").order_by("insee_code")[:25]
    ):
        person = Person.objects.create(
            first_name=f"P{index}",
            last_name="Test",
            birth_date=date(1980, 1, 1),
            department_id="83",
            organisation=live_personas["ines"].memberships.first().organisation,
            commune_id=commune.insee_code,
        )
        Accompaniment.objects.create(
            person=person, kind="global", state="active", started_on=started
        )
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.goto("/pilotage/territoires/83/?periode=trois_mois")
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    expect(
        page.get_by_text(re.compile(r"20 communes sur \d+, celles qui comptent"))
    ).to_be_visible()
    table = page.get_by_role("table", name="Par commune de la personne")
    expect(table.locator("tbody tr")).to_have_count(20)
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role(
            "link",
            name=re.compile(r"Voir les \d+ lignes du tableau « Par commune de la personne »"),
        ).click()
    expect(heading(page)).to_have_text("Par commune de la personne — Var")
    expect(page).to_have_url(re.compile(r"/tableaux/support/by_commune/\?periode=trois_mois"))
    rows = page.get_by_role("table", name="Par commune de la personne").locator("tbody tr")
    expect(rows).not_to_have_count(20)
    assert rows.count() > 25
    assert_accessible(page)
    page.set_viewport_size(PHONE)
    page.reload()
    expect(heading(page)).to_have_text("Par commune de la personne — Var")
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name="Retour au tableau de bord").click()
    expect(heading(page)).to_have_text("Tableau de bord — Var")
    assert_accessible(page)


def test_marc_brings_nadia_s_situation_and_paul_s_recommendation_comes_back(
    page: Page, live_personas: dict[str, Any]
) -> None:
    nadia = Person.objects.get(user=live_personas["nadia"])
    held_on = timezone.localdate() + timedelta(days=14)
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.goto("/pilotage/territoires/83/comite/")
    expect(heading(page)).to_have_text("Comité de pilotage — Var")
    assert_accessible(page)
    page.get_by_label("Date de la séance").fill(held_on.isoformat())
    page.get_by_label("Paul Giraud").check()
    with page.expect_event("load"):
        page.get_by_role("button", name="Planifier la séance").click()
    expect(heading(page)).to_have_text(f"Comité de pilotage du {held_on:%d/%m/%Y}")
    agenda = page.url
    assert_accessible(page)

    page.context.clear_cookies()
    log_in(page, live_personas["marc"])
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/")
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name="Présenter la situation au comité de pilotage").click()
    expect(heading(page)).to_have_text("Présenter la situation au comité de pilotage")
    assert_accessible(page)
    page.get_by_label("Ce qui a été tenté").fill("Deux demandes de logement social.")
    page.get_by_label("La question posée au comité").fill("Un hébergement temporaire ?")
    page.locator("label[for=id_agreement]").click()
    with page.expect_event("load"):
        page.get_by_role("button", name="Inscrire à l'ordre du jour").click()
    expect(
        page.get_by_text("La situation est inscrite à l'ordre du jour du comité.")
    ).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.goto(agenda)
    expect(page.get_by_text("Un hébergement temporaire ?")).to_be_visible()
    expect(page.get_by_text("Belkacem")).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Décision ou recommandation du comité").fill("Saisir le SIAO.")
    with page.expect_event("load"):
        page.get_by_role("button", name="Enregistrer la recommandation").click()
    expect(page.get_by_text("La recommandation est enregistrée")).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    log_in(page, live_personas["marc"])
    assert_accessible(page)
    page.goto(f"/personnes/{nadia.pk}/#chronologie")
    expect(page.get_by_text("Saisir le SIAO.")).to_be_visible()
    assert_accessible(page)


def test_marc_completes_nadia_s_entry_and_paul_exports_the_fse_operation(
    page: Page, live_personas: dict[str, Any], live_orgs: dict[str, Any]
) -> None:
    load_demo_fse(live_personas, live_orgs)
    nadia = Person.objects.get(user=live_personas["nadia"])
    operation = FseOperation.objects.get(name=operation_name(timezone.localdate().year))

    log_in(page, live_personas["marc"])
    assert_accessible(page)
    page.goto(f"/pilotage/fse/operations/{operation.pk}/")
    expect(heading(page)).to_have_text(f"Opération FSE+ : {operation.name}")
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name="Nadia BELKACEM").click()
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name="Renseigner les données FSE+ : entrée").click()
    expect(heading(page)).to_have_text("Questionnaire FSE+ : entrée")
    assert_accessible(page)
    expect(page.locator("#id_gender_0")).to_be_checked()  # « Femme », from the file
    for name, label in (
        ("labour_status", "Demandeur ou demandeuse d'emploi de longue durée"),
        ("education", "Lycée ou post-bac"),
        ("disability", "Non"),
        ("third_country", "Non"),
        ("foreign_background", "Refuse de répondre"),
        ("minority", "Refuse de répondre"),
        ("homeless", "Non"),
        ("rural", "Non"),
    ):
        page.locator(f"#id_{name} label", has_text=label).first.click()
    with page.expect_event("load"):
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le questionnaire FSE+ (entrée) est enregistré.")).to_be_visible()
    assert_accessible(page)

    page.context.clear_cookies()
    log_in(page, live_personas["paul"])
    assert_accessible(page)
    page.goto("/pilotage/territoires/83/")
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name="Opérations FSE+").click()
    assert_accessible(page)
    with page.expect_event("load"):
        page.get_by_role("link", name=operation.name).click()
    table = page.get_by_role("table", name="Questionnaires FSE+ complets, par organisation")
    expect(table.get_by_role("row", name="Département du Var")).to_contain_text("1 / 1")
    expect(page.get_by_text("Belkacem")).to_have_count(0)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les participants (XLSX)").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    assert sheet["A4"].value == "Identifiant du participant"
    values = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]
    assert pseudonym(nadia.pk, "83") in values
    assert not any("Belkacem" in value or "Nadia" in value for value in values)
