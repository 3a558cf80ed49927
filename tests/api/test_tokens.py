"""Organisation administrators create and revoke their organisation's API tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.api import actions
from binome.api.models import ApiToken, hash_secret
from tests.api.conftest import ApiClient


def tokens_url(org: Any) -> str:
    return reverse("api_pages:tokens", args=[org.pk])


def test_an_admin_creates_a_token_shown_once_that_works_on_the_api(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    creche = orgs["creche_toulon"]
    client = client_for("lea")

    response = client.post(tokens_url(creche), {"name": "  Logiciel   de la crèche "})

    assert response.status_code == 200
    token = ApiToken.objects.get(organisation=creche)
    secret = response.context["secret"]
    html = response.content.decode()
    assert secret in html
    assert "il ne sera plus jamais affiché" in html
    assert "no-store" in response["Cache-Control"]
    assert token.name == "Logiciel de la crèche"
    assert token.key_hash == hash_secret(secret)
    assert token.created_by == personas["lea"]
    event = AuditEvent.objects.get(kind=AuditKind.API_TOKEN_CREATED)
    assert (event.actor, event.organisation, event.target_id) == (
        personas["lea"],
        creche,
        str(token.pk),
    )
    assert secret not in str(event.details) + event.what

    again = client.get(tokens_url(creche)).content.decode()
    assert secret not in again
    assert token.prefix in again
    assert ApiClient(secret).get("/api/v1/services").status_code == 200


def test_a_token_needs_a_name(client_for: Any, orgs: dict[str, Any]) -> None:
    response = client_for("lea").post(tokens_url(orgs["creche_toulon"]), {"name": "  "})
    assert response.status_code == 200
    assert "Donnez un nom au jeton" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_organisation_has_at_most_twenty_active_tokens(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    creche = orgs["creche_toulon"]
    for i in range(actions.MAX_ACTIVE_TOKENS):
        actions.create_token(organisation=creche, name=f"Jeton {i}", by=personas["lea"])
    response = client_for("lea").post(tokens_url(creche), {"name": "Un de trop"})
    assert "révoquez ceux qui ne servent plus" in response.content.decode()
    assert ApiToken.objects.filter(organisation=creche).count() == actions.MAX_ACTIVE_TOKENS


@pytest.mark.parametrize(("persona", "status"), [("marc", 403), ("ines", 403), ("charlie", 404)])
def test_a_member_gets_403_and_an_outsider_404(
    persona: str, status: int, client_for: Any, orgs: dict[str, Any]
) -> None:
    client = client_for(persona)
    assert client.get(tokens_url(orgs["dep83"])).status_code == status
    assert client.post(tokens_url(orgs["dep83"]), {"name": "Pirate"}).status_code == status
    assert not ApiToken.objects.exists()


def test_an_admin_revokes_a_token_and_it_stops_working(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    dep83 = orgs["dep83"]
    token, secret = actions.create_token(organisation=dep83, name="SI", by=personas["claire"])
    url = reverse("api_pages:token_revoke", args=[dep83.pk, token.pk])

    response = client_for("claire").post(url, follow=True)

    assert "Le jeton « SI » est révoqué." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == personas["claire"]
    assert AuditEvent.objects.filter(
        kind=AuditKind.API_TOKEN_REVOKED, target_id=str(token.pk)
    ).exists()
    assert ApiClient(secret).get("/api/v1/services").status_code == 401
    twice = client_for("claire").post(url, follow=True)
    assert "Ce jeton est déjà révoqué." in twice.content.decode()
    assert AuditEvent.objects.filter(kind=AuditKind.API_TOKEN_REVOKED).count() == 1


def test_only_the_organisation_s_admins_revoke_its_tokens(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    token, secret = actions.create_token(
        organisation=orgs["dep83"], name="SI", by=personas["claire"]
    )
    url = reverse("api_pages:token_revoke", args=[orgs["dep83"].pk, token.pk])
    assert client_for("marc").post(url).status_code == 403
    assert client_for("charlie").post(url).status_code == 404
    # Léa administers another organisation: the token is not reachable through hers.
    other = reverse("api_pages:token_revoke", args=[orgs["creche_toulon"].pk, token.pk])
    assert client_for("lea").post(other).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiClient(secret).get("/api/v1/services").status_code == 200


def test_the_organisation_page_links_to_the_tokens_for_its_admins_only(
    client_for: Any, orgs: dict[str, Any]
) -> None:
    page = reverse("organisations:detail", args=[orgs["dep83"].pk])
    link = tokens_url(orgs["dep83"])
    assert link in client_for("claire").get(page).content.decode()
    assert link not in client_for("marc").get(page).content.decode()
