"""Claire imports the Var's directory files: upload → progress → report; axe on each page."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from procrastinate.contrib.django import app

from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in
from tests.directory.test_import import SERVICES, STRUCTURES, service_row

pytestmark = pytest.mark.browser


def run_worker_until_idle() -> None:
    """What ``binome worker`` runs, until the directory queue is empty."""
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:  # type: ignore[attr-defined]
        worker_app.run_worker(
            queues=["directory"], wait=False, install_signal_handlers=False, listen_notify=False
        )


def test_claire_uploads_files_follows_the_progress_and_reads_the_report(
    page: Page, live_personas: dict[str, Any], tmp_path: Path
) -> None:
    claire = live_personas["claire"]
    log_in(page, claire)
    expect(heading(page)).to_have_text("Double authentification")
    assert_accessible(page)
    field(page, "Code à 6 chiffres").fill(current_code(claire))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Claire")
    assert_accessible(page)

    page.get_by_role("link", name="Imports de l'annuaire").click()
    expect(heading(page)).to_have_text("Imports de l'annuaire — Var")
    expect(page.get_by_text("Aucun import pour l'instant.")).to_be_visible()
    assert_accessible(page)
    services = json.loads(SERVICES.read_text())
    # Applied without its coordinates, with a warning.
    services.append(service_row(id="dora--hors-france", latitude=40.4168, longitude=-3.7038))
    services.append(service_row(id="dora--sans-date", date_maj=None))
    services_file = tmp_path / "services.json"
    services_file.write_text(json.dumps(services, ensure_ascii=False), encoding="utf-8")
    field(page, "Fichier des structures").set_input_files(STRUCTURES)
    field(page, "Fichier des services").set_input_files(services_file)
    page.get_by_role("button", name="Lancer l'import").click()

    # Queued: the page shows the progress bar and polls.
    expect(heading(page)).to_contain_text("Import du")
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("En attente")
    assert_accessible(page)

    # The worker runs the job (in a thread: Playwright's event loop holds this one); the
    # next poll shows the report.
    worker = threading.Thread(target=run_worker_until_idle)
    worker.start()
    worker.join(timeout=60)
    expect(page.get_by_role("heading", name="Import terminé en partie")).to_be_visible()
    expect(progress).to_have_count(0)
    rejected = page.get_by_role("table", name="Lignes rejetées")
    row = rejected.get_by_role("row").nth(1)
    expect(row).to_contain_text("services.json")
    expect(row).to_contain_text(str(len(services)))
    expect(row).to_contain_text("date_maj")
    expect(row).to_contain_text("champ obligatoire absent")
    warned = page.get_by_role("table", name="Avertissements (lignes appliquées ou ignorées)")
    expect(warned.get_by_role("row").nth(1)).to_contain_text("hors de France")
    counts = page.get_by_role("table", name="Résultat par type de fiche")
    expect(counts.get_by_role("row", name="Structures")).to_contain_text("3")
    assert_accessible(page)

    page.get_by_role("link", name="Imports de l'annuaire — Var").click()
    expect(page.get_by_role("table", name="Les 50 derniers imports du territoire")).to_contain_text(
        "Terminé"
    )
    assert_accessible(page)
