from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations
from tests.conftest import login_as


@pytest.mark.django_db
def test_landing_page_invites_to_log_in(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Se connecter" in response.content.decode()


def test_home_greets_the_professional_with_her_organisation(client_for):
    response = client_for("ines").get("/")
    body = response.content.decode()
    assert "Bonjour Inès" in body
    assert "France Travail" in body


@pytest.fixture
def demo_day(personas: dict[str, Any]) -> dict[str, Any]:
    """The demo territory with its referrals (sent, received, urgent, to activate)."""
    load_demo_referrals(personas, demo_organisations())
    return personas


# What each persona of the demo has to do, as their home page says it.
TO_DO = {
    # Her referral of Nadia to the CCAS of Toulon is unanswered past its due date.
    "ines": ["Orientations envoyées sans réponse", "Nadia BELKACEM"],
    # Erwan's accompaniment, proposed after his orientation, waits to be activated.
    "sophie": ["Accompagnements à activer", "Erwan LE FLOCH"],
    # The CCAS's urgent orientation of Erwan waits for his answer.
    "gwenael": ["Orientations reçues à traiter", "Erwan LE FLOCH", "Urgente"],
    # Steering: the territory's figures, never a named file.
    "paul": ["Pilotage de votre territoire", "Chiffres des orientations (83)"],
    # The territory's tasks.
    "claire": ["Imports de l'annuaire", "Délais et partenaires des orientations"],
    "marc": ["Rien à traiter pour l'instant"],
    "karim": ["Rien à traiter pour l'instant"],
    "lea": ["Rien à traiter pour l'instant"],
    "charlie": ["Rien à traiter pour l'instant"],
}


@pytest.mark.parametrize("persona", sorted(TO_DO))
def test_each_persona_sees_what_they_have_to_do(persona: str, demo_day: dict[str, Any]) -> None:
    body = login_as(Client(), demo_day[persona]).get("/").content.decode()

    assert '<h2 id="a-traiter">À traiter</h2>' in body or persona == "paul"
    for text in TO_DO[persona]:
        assert text in body, f"{persona} : « {text} » manque"


def test_paul_sees_no_named_file(demo_day: dict[str, Any]) -> None:
    body = login_as(Client(), demo_day["paul"]).get("/").content.decode()
    assert "Erwan" not in body and "Nadia" not in body


def test_nadia_lands_on_her_own_space(demo_day: dict[str, Any]) -> None:
    response = login_as(Client(), demo_day["nadia"]).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("space:home")
