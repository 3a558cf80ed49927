import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["core:accessibility", "core:legal", "core:privacy"])
def test_legal_pages_are_public(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.django_db
def test_privacy_page_states_retention(client):
    assert (
        "deux ans après le dernier contact" in client.get(reverse("core:privacy")).content.decode()
    )


@pytest.mark.django_db
def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
