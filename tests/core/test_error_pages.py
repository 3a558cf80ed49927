"""With DEBUG on (the demo), errors are answered with Binôme's French pages, never Django's
technical pages that list every URL of the service."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def debug(settings: Any) -> Any:
    settings.DEBUG = True
    return settings


def assert_french_page(page: str) -> None:
    assert '<html lang="fr"' in page
    assert "URLconf" not in page
    assert "Django" not in page
    assert "Traceback" not in page
    assert "Django tried these URL patterns" not in page


def test_an_unknown_address_gets_the_french_404(db: None, debug: Any) -> None:
    response = Client().get("/nulle-part/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert_french_page(page)


def test_an_object_out_of_reach_gets_the_french_404(client_for: Any, debug: Any) -> None:
    response = client_for("ines").get("/organisations/999999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert_french_page(page)


def test_an_address_without_its_final_slash_is_still_redirected(db: None, debug: Any) -> None:
    response = Client().get("/connexion")
    assert response.status_code == 301
    assert response["Location"] == "/connexion/"


@pytest.mark.urls("tests.core.error_urls")
def test_a_crash_gets_the_french_500_and_its_traceback_in_the_log(
    db: None, debug: Any, caplog: Any
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = Client().get("/test-erreurs/plantage/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du service" in page
    assert_french_page(page)
    assert "boom" not in page
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])


@pytest.mark.urls("tests.core.error_urls")
def test_a_refusal_gets_the_french_403(db: None, debug: Any) -> None:
    response = Client().get("/test-erreurs/interdit/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Accès refusé" in page
    assert_french_page(page)


def test_the_api_still_answers_its_errors_in_json(db: None, debug: Any) -> None:
    response = Client().get("/api/v1/nulle-part")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
