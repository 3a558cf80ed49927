"""API tests: tokens of the demo organisations and a client that sends them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from binome.api import actions
from binome.directory.models import PublicationStatus
from tests.directory.test_search import DRAGUIGNAN, LA_SEYNE, QUIMPER, make_service


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


@pytest.fixture
def services(personas: dict[str, Any]) -> dict[str, Any]:
    stale = timezone.localdate() - timedelta(days=400)
    return {
        "creche": make_service(
            "Crèche AVIP Les Petits Pas",
            thematiques=["famille--garde-denfants"],
            mobilisation_details="Appeler la directrice avant 10 h.",
        ),
        "creche_seyne": make_service(
            "Crèche Les Moussaillons", at=LA_SEYNE, thematiques=["famille--garde-denfants"]
        ),
        "parent": make_service(
            "Lieu d'accueil parents-enfants",
            thematiques=["famille--soutien-a-la-parentalite-et-a-leducation"],
            description="Accueil des parents et de leurs enfants, crèche parentale le mardi.",
        ),
        "permis": make_service(
            "Aide au permis de conduire",
            at=LA_SEYNE,
            thematiques=["mobilite--preparer-un-permis"],
            updated_on=stale,
        ),
        "garage": make_service(
            "Garage solidaire",
            at=DRAGUIGNAN,
            thematiques=["mobilite--entretenir-reparer-son-vehicule"],
        ),
        "remote": make_service(
            "Permis en ligne",
            at=QUIMPER,
            thematiques=["mobilite--preparer-un-permis"],
            reception_modes=["a-distance"],
        ),
        "quimper": make_service("Crèche de Quimper", at=QUIMPER),
        "draft": make_service("Crèche brouillon", status=PublicationStatus.DRAFT),
    }
