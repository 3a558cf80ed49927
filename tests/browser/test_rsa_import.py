"""Claire imports a département's spreadsheet of RSA beneficiaries: upload → mapping of its
columns → preview row by row → import by the worker → report; axe on each page."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from procrastinate.contrib.django import app

from tests.browser.accessibility import assert_accessible
from tests.browser.test_foundation_journeys import current_code, field, heading, log_in
from tests.rsa.test_spreadsheets import ROWS, csv_bytes

pytestmark = pytest.mark.browser


def run_worker_until_idle() -> None:
    """What ``binome worker`` runs, until the RSA queue is empty."""
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:  # type: ignore[attr-defined]
        worker_app.run_worker(
            queues=["rsa"], wait=False, install_signal_handlers=False, listen_notify=False
        )


def test_claire_maps_previews_and_imports_a_spreadsheet(
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

    page.get_by_role("link", name="Imports RSA").click()
    expect(heading(page)).to_have_text("Imports RSA — Var")
    assert_accessible(page)
    rows = [list(row) for row in ROWS]
    rows[2][4] = "31/02/1970"
    sheet = tmp_path / "beneficiaires-decembre.csv"
    sheet.write_bytes(csv_bytes(rows, encoding="cp1252"))
    field(page, "Flux XML de la CAF ou de la MSA, ou tableur du département").set_input_files(sheet)
    page.get_by_role("button", name="Lancer l'import").click()

    # The mapping: a select per field listing the file's headers, the usual ones guessed.
    expect(heading(page)).to_have_text("Correspondance des colonnes")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Nom")
    assert_accessible(page)
    field(page, "Nom de la correspondance").fill("Tableau mensuel")
    field(page, "N° de dossier ou n° allocataire").select_option("N° allocataire")
    field(page, "Rôle dans le foyer").select_option("Qualité")
    field(page, "Date de naissance").select_option("Né(e) le")
    field(page, "NIR").select_option("NIR")
    page.get_by_role("button", name="Enregistrer et voir l'aperçu").click()

    # The preview: the first rows mapped, then each row's status.
    expect(heading(page)).to_have_text("Aperçu avant import")
    first_rows = page.get_by_role("table", name="Les premières lignes lues avec la correspondance")
    expect(first_rows).to_contain_text("Hélène")
    statuses = page.get_by_role("table", name="État de chaque ligne")
    expect(statuses.get_by_role("row").nth(1)).to_contain_text("À créer")
    faulty = statuses.get_by_role("row").nth(3)
    expect(faulty).to_contain_text("Erreur")
    expect(faulty).to_contain_text("ligne 4, colonne « Né(e) le » : « 31/02/1970 »")
    assert_accessible(page)
    page.get_by_role("button", name="Appliquer l'import (1 foyer)").click()

    # Queued: the progress bar, polled; the worker runs the job, the next poll shows the report.
    expect(heading(page)).to_contain_text("Import RSA du")
    expect(page.get_by_role("status")).to_contain_text("En attente")
    assert_accessible(page)
    worker = threading.Thread(target=run_worker_until_idle)
    worker.start()
    worker.join(timeout=60)
    expect(page.get_by_role("heading", name="Import terminé en partie")).to_be_visible()
    expect(page.get_by_role("table", name="Résultat de l'import")).to_contain_text("1")
    expect(page.get_by_text("dossier n° 7654321 (ligne 4, colonne « Né(e) le »)")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Imports RSA — Var").click()
    expect(
        page.get_by_role("table", name="Les 50 derniers imports RSA du territoire")
    ).to_contain_text("Appliqué")
    expect(page.get_by_text("« Tableau mensuel »")).to_be_visible()
    assert_accessible(page)
