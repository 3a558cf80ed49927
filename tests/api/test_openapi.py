"""The OpenAPI document and the documentation page."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def test_the_openapi_document_describes_every_endpoint_in_french(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "API de l'annuaire Binôme"
    assert document["info"]["version"] == "1.0.0"
    assert set(document["paths"]) == {
        "/api/v1/services",
        "/api/v1/services/{id}",
        "/api/v1/structures",
        "/api/v1/structures/{id}",
    }
    assert document["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    for path, methods in document["paths"].items():
        operation = methods["get"]
        assert set(methods) == {"get"}, path
        assert operation["security"] == [{"TokenAuth": []}], path
        for parameter in operation["parameters"]:
            assert parameter["description"], (path, parameter["name"])
        for status in ("401", "429"):
            assert "jeton" in operation["responses"][status]["description"], (path, status)
            assert operation["responses"][status]["content"]
    search = document["paths"]["/api/v1/services"]["get"]
    names = [p["name"] for p in search["parameters"]]
    assert names == [
        "q", "commune", "rayon", "categorie", "thematique", "public", "frais", "type",
        "accueil", "page", "taille",
    ]  # fmt: skip
    thematique = next(p for p in search["parameters"] if p["name"] == "thematique")
    assert "famille--garde-denfants" in thematique["schema"]["enum"]
    assert "paramètre" in search["responses"]["400"]["description"].lower()
    service = document["components"]["schemas"]["Service"]["properties"]
    assert {"id", "id_source", "nom", "thematiques", "structure", "distance_km"} <= set(service)
    assert service["nom"]["description"].startswith("Nom du service")


def test_the_documentation_page_explains_tokens_and_links_the_document(client: Any) -> None:
    response = client.get(reverse("api_pages:documentation"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Documentation de l'API</h1>" in html
    assert 'href="/api/v1/openapi.json"' in html
    assert "Authorization: Bearer" in html
    assert "curl -H" in html
    assert "600 requêtes" in html
