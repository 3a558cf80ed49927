"""The intermediate archive in a real browser: Agnès, the Var's archivist, finds the archive
from her home page, lists the archived files and reads one after giving her reason; the
read is a line of the audit log. Every page visited goes through axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.retention.demo import load_demo_retention
from binome.site.demo import demo_organisations
from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in

pytestmark = pytest.mark.browser


def test_agnes_lists_the_archive_and_reads_a_file_with_her_reason(
    page: Page, live_personas: dict[str, Any]
) -> None:
    load_demo_retention(live_personas, demo_organisations())
    gerard = Person.objects.get(first_name="Gérard", last_name="Pons")
    agnes = live_personas["agnes"]
    log_in(page, agnes)  # the archive is read with a second factor, as administration is
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(agnes))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Agnès")
    assert_accessible(page)

    page.get_by_role("link", name="archive intermédiaire").click()
    expect(heading(page)).to_have_text("Archive intermédiaire — Var")
    expect(page.locator("main")).to_contain_text("archivés 3 ans")
    expect(page.locator("main")).not_to_contain_text("Gérard")  # numbers, never a name
    assert_accessible(page)

    page.get_by_role("link", name=f"Consulter le dossier n° {gerard.pk}").click()
    expect(heading(page)).to_have_text(f"Dossier archivé n° {gerard.pk} — Var")
    expect(page.locator("main")).not_to_contain_text("Gérard")
    assert_accessible(page)
    page.get_by_role("button", name="Consulter le dossier").click()
    expect(page.locator("main")).to_contain_text("Indiquez le motif de la consultation.")
    assert_accessible(page)
    assert not AuditEvent.objects.filter(kind=AuditKind.ARCHIVE_READ).exists()

    field(page, "Motif de la consultation").fill("Demande d'accès de M. Pons du 3 décembre")
    page.get_by_role("button", name="Consulter le dossier").click()
    expect(page.locator("main")).to_contain_text("Gérard Pons")
    expect(page.locator("main")).to_contain_text("Lecture seule")
    expect(page.locator("main")).to_contain_text("Emploi durable (CDI")
    assert_accessible(page)
    line = AuditEvent.objects.get(kind=AuditKind.ARCHIVE_READ)
    assert (line.actor_id, line.person_id) == (live_personas["agnes"].pk, gerard.pk)
    assert line.details == {"reason": "Demande d'accès de M. Pons du 3 décembre"}
