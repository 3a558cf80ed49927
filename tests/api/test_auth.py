"""Tokens on the API side: Bearer authentication, revocation, rate limit, JSON errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from binome.api import actions
from binome.api.models import ApiRateWindow, ApiToken
from tests.api.conftest import ApiClient

SERVICES = "/api/v1/services"


def error_of(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["erreur"]


def test_without_a_token_the_api_answers_401_in_french(db: None) -> None:
    response = Client().get(SERVICES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    error = error_of(response)
    assert error["code"] == "jeton_absent"
    assert "Authorization: Bearer" in error["message"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Basic dXNlcjpwYXNz", "jeton_invalide"),
        ("Bearer", "jeton_invalide"),
        ("Bearer binome_unknown-token", "jeton_invalide"),
        ("Bearer not-even-our-format", "jeton_invalide"),
        ("Bearer " + "binome_" + "x" * 5000, "jeton_invalide"),
    ],
)
def test_a_wrong_token_is_refused(header: str, code: str, db: None) -> None:
    response = Client().get(SERVICES, headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == code


def test_a_valid_token_works_and_its_use_is_noted(api_token: tuple[Any, str]) -> None:
    token, secret = api_token
    assert token.last_used_at is None

    response = ApiClient(secret).get(SERVICES)

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    # Only the hash is stored.
    assert secret not in {token.key_hash, token.prefix, token.name}
    assert secret.startswith(token.prefix)


def test_a_revoked_token_stops_at_once(api_token: tuple[Any, str], personas: Any) -> None:
    token, secret = api_token
    api = ApiClient(secret)
    assert api.get(SERVICES).status_code == 200

    actions.revoke_token(token=token, by=personas["claire"])

    response = api.get(SERVICES)
    assert response.status_code == 401
    assert error_of(response)["code"] == "jeton_revoque"


def test_the_token_of_a_deactivated_organisation_is_refused(api_token: tuple[Any, str]) -> None:
    token, secret = api_token
    token.organisation.is_active = False
    token.organisation.save(update_fields=["is_active"])

    response = ApiClient(secret).get(SERVICES)
    assert response.status_code == 401
    assert error_of(response)["code"] == "organisation_inactive"


def test_past_the_rate_limit_a_token_gets_429_with_retry_after(
    api_token: tuple[Any, str], personas: Any, orgs: Any, settings: Any
) -> None:
    settings.API_RATE_LIMIT = 3
    token, secret = api_token
    api = ApiClient(secret)

    statuses = [api.get(SERVICES).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = api.get(SERVICES)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    error = error_of(limited)
    assert error["code"] == "trop_de_requetes"
    assert "3 requêtes par minute" in error["message"]
    # The counter is a row of the database, shared by every web process.
    assert ApiRateWindow.objects.get(token=token).hits == 5
    # Another token has its own counter.
    _other, other_secret = actions.create_token(
        organisation=orgs["dep83"], name="Autre", by=personas["claire"]
    )
    assert ApiClient(other_secret).get(SERVICES).status_code == 200


def test_the_counter_keeps_only_the_current_window(api_token: tuple[Any, str]) -> None:
    token, secret = api_token
    ApiRateWindow.objects.create(
        token=token, window_start=timezone.now() - timedelta(minutes=5), hits=42
    )

    ApiClient(secret).get(SERVICES)
    ApiClient(secret).get(SERVICES)

    assert list(ApiRateWindow.objects.filter(token=token).values_list("hits", flat=True)) == [2]


def test_the_rate_table_is_unlogged(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'api_apiratewindow'")
        assert cursor.fetchone() == ("u",)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nulle-part", 404, "introuvable"),
        ("get", "/api/v1/", 404, "introuvable"),
        ("get", "/api/v1/services/abc", 404, "introuvable"),
        ("post", SERVICES, 405, "methode_non_autorisee"),
        ("delete", "/api/v1/services/1", 405, "methode_non_autorisee"),
    ],
)
def test_errors_outside_the_endpoints_are_json_too(
    method: str, path: str, status: int, code: str, api: ApiClient
) -> None:
    response = getattr(api.client, method)(path, headers={"Authorization": f"Bearer {api.secret}"})
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_a_final_slash_is_pointed_out(api: ApiClient) -> None:
    response = api.get(SERVICES + "/")
    assert response.status_code == 404
    assert "retirez la barre oblique finale (/api/v1/services)" in error_of(response)["message"]


def test_a_crash_is_a_json_500_and_is_logged(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    # A real failure: the table the search reads is gone (the test's transaction is
    # rolled back afterwards).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE directory_service RENAME TO directory_service_gone")

    response = api.get(SERVICES)

    assert response.status_code == 500
    assert error_of(response)["code"] == "erreur_interne"
    assert "directory_service" not in response.content.decode()
    assert "Erreur interne de l'API" in caplog.text


def test_the_tokens_store_hashes_only(api_token: tuple[Any, str]) -> None:
    _token, secret = api_token
    assert not ApiToken.objects.filter(key_hash=secret).exists()
    assert ApiToken.objects.filter(prefix=secret[:15]).count() == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("beaucoup", "BINOME_API_RATE_LIMIT doit être un nombre entier"),
        ("0", "BINOME_API_RATE_LIMIT doit être un nombre entier positif"),
    ],
)
def test_a_wrong_rate_limit_stops_the_start_with_its_name(value: str, message: str) -> None:
    from tests.core.test_settings import load_settings

    result = load_settings(BINOME_API_RATE_LIMIT=value)
    assert result.returncode != 0
    assert message in result.stderr
    assert load_settings(BINOME_API_RATE_LIMIT="1200").returncode == 0
