"""API tests: tokens of the demo organisations and a client that sends them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from binome.api import actions


class ApiClient:
    """A test client that sends ``Authorization: Bearer <secret>``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.client = Client()

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:
        extra.setdefault("headers", {"Authorization": f"Bearer {self.secret}"})
        return self.client.get(path, data, **extra)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(path, data, headers={"Authorization": f"Bearer {self.secret}"})


@pytest.fixture
def api_token(personas: dict[str, Any], orgs: dict[str, Any]) -> tuple[Any, str]:
    """A token of France Travail Toulon, created by Claire, and its secret."""
    return actions.create_token(
        organisation=orgs["ft_toulon"], name="Logiciel de l'agence", by=personas["claire"]
    )


@pytest.fixture
def api(api_token: tuple[Any, str]) -> ApiClient:
    return ApiClient(api_token[1])
