"""ProConnect login, end to end against a fake provider on 127.0.0.1.

The Django test client drives our views; our code makes real HTTP calls to the fake
provider (tests/accounts/fake_oidc.py), which signs its tokens with its own RSA key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.accounts import proconnect
from binome.accounts.models import User
from tests.accounts.fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeProConnect

INES_SUB = "sub-ines-4f1c"


@pytest.fixture
def provider(settings: Any) -> Iterator[FakeProConnect]:
    with FakeProConnect() as fake:
        settings.PROCONNECT_ISSUER = fake.issuer
        settings.PROCONNECT_CLIENT_ID = CLIENT_ID
        settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
        settings.PROCONNECT_ENABLED = True
        proconnect.reset_client()
        yield fake
    proconnect.reset_client()


def identity(sub: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "sub": sub,
        "email": email,
        "given_name": "Inès",
        "usual_name": "Benali",
        "uid": "1234",
        "siret": "13000548100010",
        "idp_id": "fia1v2",
    } | extra


def start(client: Client, next_url: str = "") -> str:
    """Click "S'identifier avec ProConnect"; return where Binôme sends the browser."""
    query = f"?next={next_url}" if next_url else ""
    response = client.get(reverse("accounts:proconnect_login") + query)
    assert response.status_code == 302
    return str(response["Location"])


def at_provider(authorize_url: str) -> str:
    """The browser at ProConnect: the provider sends it back; return the callback path."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    back = urlsplit(response.headers["Location"])
    return f"{back.path}?{back.query}"


def log_in(
    client: Client, provider: FakeProConnect, who: dict[str, Any], next_url: str = ""
) -> Any:
    provider.next_identity = who
    return client.get(at_provider(start(client, next_url)))


def logged_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


@pytest.mark.django_db
def test_login_redirects_to_provider_with_state_nonce_and_eidas1(
    provider: FakeProConnect,
) -> None:
    location = urlsplit(start(Client(), "/organisations/"))
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/authorize"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["acr_values"] == "eidas1"
    assert params["redirect_uri"] == "http://testserver/connexion/proconnect/retour/"
    assert set(params["scope"].split()) >= {"openid", "email", "given_name", "usual_name"}
    assert len(params["state"]) >= 20
    assert len(params["nonce"]) >= 20


def test_login_page_offers_proconnect_when_configured(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    page = Client().get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:proconnect_login") in page


def test_first_login_links_account_by_email_and_logs_in(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    ines = personas["ines"]
    client = Client()
    who = identity(INES_SUB, "Ines.Benali@FranceTravail.test")

    response = log_in(client, provider, who, next_url="/organisations/")

    assert response.status_code == 302
    assert response["Location"] == "/organisations/"
    assert logged_in_user(client) == ines
    ines.refresh_from_db()
    assert ines.proconnect_sub == INES_SUB
    assert AuditEvent.objects.filter(kind=AuditKind.PROCONNECT_LINKED, actor=ines).count() == 1
    login_line = AuditEvent.objects.get(kind=AuditKind.LOGIN, actor=ines)
    assert "ProConnect" in login_line.what
    # The code was exchanged with our credentials, and the userinfo JWT was read.
    assert provider.token_requests[0]["client_secret"] == CLIENT_SECRET
    assert provider.userinfo_requests == 1
    assert client.get("/").status_code == 200


def test_next_login_matches_by_sub_even_when_the_email_changed(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    ines = personas["ines"]
    log_in(Client(), provider, identity(INES_SUB, ines.email))

    client = Client()
    response = log_in(client, provider, identity(INES_SUB, "ines.benali@nouvelle-adresse.test"))

    assert response.status_code == 302
    assert logged_in_user(client) == ines
    assert AuditEvent.objects.filter(kind=AuditKind.PROCONNECT_LINKED).count() == 1
    assert AuditEvent.objects.filter(kind=AuditKind.LOGIN, actor=ines).count() == 2


def test_unknown_email_is_refused_with_a_clear_page(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    client = Client()
    response = log_in(client, provider, identity("sub-inconnu", "agent.inconnu@var.test"))

    assert response.status_code == 403
    page = response.content.decode()
    assert "Aucun compte Binôme n&#x27;est associé à l&#x27;adresse agent.inconnu@var.test" in page
    assert "demandez à l&#x27;administrateur de votre organisation de vous inviter" in page
    assert logged_in_user(client) is None
    refused = AuditEvent.objects.get(kind=AuditKind.PROCONNECT_REFUSED)
    assert refused.details["reason"] == "unknown_email"
    assert not User.objects.filter(proconnect_sub="sub-inconnu").exists()


def test_deactivated_account_is_refused(provider: FakeProConnect, personas: dict[str, Any]) -> None:
    marc = personas["marc"]
    marc.is_active = False
    marc.save(update_fields=["is_active"])
    client = Client()

    response = log_in(client, provider, identity("sub-marc", marc.email))

    assert response.status_code == 403
    assert "est désactivé" in response.content.decode()
    assert logged_in_user(client) is None
    marc.refresh_from_db()
    assert marc.proconnect_sub is None
    assert AuditEvent.objects.filter(kind=AuditKind.PROCONNECT_REFUSED, actor=marc).exists()


def test_email_the_provider_says_is_unverified_is_not_linked(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    ines = personas["ines"]
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, ines.email, email_verified=False))

    assert response.status_code == 403
    assert logged_in_user(client) is None
    ines.refresh_from_db()
    assert ines.proconnect_sub is None


@pytest.mark.parametrize("state", ["etat-forge", ""])
def test_forged_or_missing_state_is_refused(
    provider: FakeProConnect, personas: dict[str, Any], state: str
) -> None:
    client = Client()
    provider.next_identity = identity(INES_SUB, personas["ines"].email)
    callback = urlsplit(at_provider(start(client)))
    params = {k: v[0] for k, v in parse_qs(callback.query).items()}

    response = client.get(callback.path, {"code": params["code"], "state": state})

    assert response.status_code == 400
    assert "Demande de connexion non reconnue" in response.content.decode()
    assert logged_in_user(client) is None
    assert provider.token_requests == []


def test_state_serves_only_once(provider: FakeProConnect, personas: dict[str, Any]) -> None:
    client = Client()
    provider.next_identity = identity(INES_SUB, personas["ines"].email)
    callback = at_provider(start(client))
    assert client.get(callback).status_code == 302
    client.logout()

    assert client.get(callback).status_code == 400


def test_tampered_id_token_signature_is_refused(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    provider.tamper_id_token = True
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, personas["ines"].email))

    assert response.status_code == 502
    assert "Réponse de ProConnect refusée" in response.content.decode()
    assert logged_in_user(client) is None
    assert User.objects.get(pk=personas["ines"].pk).proconnect_sub is None
    assert provider.userinfo_requests == 0


def test_tampered_userinfo_signature_is_refused(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    provider.tamper_userinfo = True
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, personas["ines"].email))

    assert response.status_code == 502
    assert logged_in_user(client) is None
    assert User.objects.get(pk=personas["ines"].pk).proconnect_sub is None
    assert AuditEvent.objects.filter(kind=AuditKind.PROCONNECT_REFUSED).count() == 1


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "nonce-rejoue"},
        {"aud": "un-autre-service"},
        {"iss": "https://faux-proconnect.test"},
        {"exp": 1_000_000_000, "iat": 999_999_000},
    ],
    ids=["nonce", "aud", "iss", "exp"],
)
def test_id_token_with_wrong_claims_is_refused(
    provider: FakeProConnect, personas: dict[str, Any], claims: dict[str, Any]
) -> None:
    provider.id_token_claims = claims
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, personas["ines"].email))

    assert response.status_code == 502
    assert logged_in_user(client) is None


def test_access_denied_by_provider_shows_a_clear_page(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    provider.deny = True
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, personas["ines"].email))

    assert response.status_code == 400
    assert "Connexion ProConnect annulée" in response.content.decode()
    assert logged_in_user(client) is None
    assert provider.token_requests == []


def test_token_endpoint_failure_shows_a_clear_page(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    provider.token_status = 500
    client = Client()

    response = log_in(client, provider, identity(INES_SUB, personas["ines"].email))

    assert response.status_code == 502
    assert "ProConnect ne répond pas" in response.content.decode()
    assert logged_in_user(client) is None
    assert User.objects.get(pk=personas["ines"].pk).proconnect_sub is None


def test_unreachable_provider_shows_a_clear_page(settings: Any, personas: dict[str, Any]) -> None:
    with FakeProConnect() as gone:
        issuer = gone.issuer  # the port is free again once the server is stopped
    settings.PROCONNECT_ISSUER = issuer
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.PROCONNECT_ENABLED = True
    proconnect.reset_client()

    response = Client().get(reverse("accounts:proconnect_login"))

    assert response.status_code == 502
    assert "ProConnect ne répond pas" in response.content.decode()
    proconnect.reset_client()


@pytest.mark.parametrize("unsafe", ["https://evil.test/", "abc"])
def test_unsafe_next_is_ignored(
    provider: FakeProConnect, personas: dict[str, Any], unsafe: str
) -> None:
    response = log_in(Client(), provider, identity(INES_SUB, personas["ines"].email), unsafe)

    assert response.status_code == 302
    assert response["Location"] == reverse("site:home")


def test_administrator_still_gives_the_totp_code(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    claire = personas["claire"]
    client = Client()

    response = log_in(client, provider, identity("sub-claire", claire.email))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert logged_in_user(client) == claire
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"].startswith("/connexion/code/")


def test_logout_ends_the_proconnect_session_too(
    provider: FakeProConnect, personas: dict[str, Any]
) -> None:
    client = Client()
    log_in(client, provider, identity(INES_SUB, personas["ines"].email))
    id_token = client.session[proconnect.ID_TOKEN_SESSION_KEY]

    response = client.post(reverse("accounts:proconnect_logout"))

    assert logged_in_user(client) is None
    end = urlsplit(response["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{provider.issuer}/session/end"
    assert parse_qs(end.query)["id_token_hint"] == [id_token]
    back = urlsplit(
        requests.get(response["Location"], allow_redirects=False, timeout=5).headers["Location"]
    )
    done = client.get(f"{back.path}?{back.query}", follow=True)
    assert "Vous êtes déconnecté de Binôme et de ProConnect." in done.content.decode()


@pytest.mark.django_db
def test_views_are_absent_when_proconnect_is_not_configured(settings: Any) -> None:
    settings.PROCONNECT_ENABLED = False

    assert Client().get(reverse("accounts:proconnect_login")).status_code == 404
    assert Client().get(reverse("accounts:proconnect_callback")).status_code == 404
