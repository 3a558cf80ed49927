import pytest


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
