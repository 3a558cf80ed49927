"""GET /api/v1/services and /services/{id}: the UI's search, as JSON."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from binome.api import schemas
from tests.directory.test_search import LA_SEYNE, TOULON

SERVICES = "/api/v1/services"


QUERIES = [
    {},
    {"categorie": "famille"},
    {"q": "crèche", "commune": TOULON, "rayon": "20"},
    {"commune": TOULON, "rayon": "50"},
    {"categorie": "mobilite", "commune": TOULON, "rayon": "100"},
    {"q": "permi de conduir"},
    {"thematique": "famille--garde-denfants", "accueil": "en-presentiel"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_the_api_returns_the_ui_search_s_services_in_the_same_order(
    query: dict[str, str], services: dict[str, Any], api: Any, client_for: Any
) -> None:
    ui = client_for("ines").get(reverse("directory:search"), {**query, "q": query.get("q", " ")})
    ui_ids = [s.pk for s in ui.context["result"].services]

    response = api.get(SERVICES, query)

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["resultats"]] == ui_ids
    assert response.json()["total"] == ui.context["result"].total
    assert services["draft"].pk not in ui_ids
    assert ui_ids, "a query that finds nothing compares nothing"


def test_an_item_speaks_data_inclusion_with_binome_s_id_distance_and_freshness(
    services: dict[str, Any], api: Any
) -> None:
    response = api.get(SERVICES, {"categorie": "mobilite", "commune": TOULON, "rayon": "20"})
    body = response.json()

    schemas.ServicePage.model_validate(body)  # the OpenAPI document describes what is sent
    # The remote service first: the stale one nearby is ranked lower ("à vérifier").
    assert [i["nom"] for i in body["resultats"]] == [
        "Permis en ligne",
        "Aide au permis de conduire",
    ]
    item = body["resultats"][1]
    permis = services["permis"]
    assert item["id"] == permis.pk
    assert item["id_source"] == permis.source_id
    assert item["nom"] == "Aide au permis de conduire"
    assert item["thematiques"] == ["mobilite--preparer-un-permis"]
    assert item["code_insee"] == LA_SEYNE
    assert item["structure"] == {
        "id": permis.structure_id,
        "id_source": permis.structure.source_id,
        "nom": "Association du territoire",
    }
    assert 3 < item["distance_km"] < 10
    assert item["a_verifier"] is True
    assert item["date_verification"] < timezone.localdate().isoformat()
    assert item["lien_binome"].endswith(f"/annuaire/services/{permis.pk}/")
    assert "structure_id" not in item
    assert body["resultats"][0]["a_verifier"] is False


def test_pages_link_to_each_other_and_a_page_past_the_end_is_empty(
    services: dict[str, Any], api: Any
) -> None:
    first = api.get(SERVICES, {"categorie": "famille", "taille": "3"}).json()
    assert (first["total"], first["nombre_pages"], first["page"], first["taille"]) == (4, 2, 1, 3)
    assert first["page_precedente"] is None
    assert first["page_suivante"].startswith("http://testserver/api/v1/services?")
    assert "categorie=famille" in first["page_suivante"]

    second = api.get(first["page_suivante"]).json()
    assert second["page_suivante"] is None
    assert api.get(second["page_precedente"]).json() == first
    ids = [i["id"] for page in (first, second) for i in page["resultats"]]
    assert len(ids) == len(set(ids)) == 4

    past = api.get(SERVICES, {"categorie": "famille", "taille": "3", "page": "9"}).json()
    assert past["resultats"] == [] and past["total"] == 4
    assert past["page_precedente"].endswith("page=2")


def test_a_service_by_its_id_and_unknown_or_unpublished_ones_are_404(
    services: dict[str, Any], api: Any
) -> None:
    creche = services["creche"]
    response = api.get(f"{SERVICES}/{creche.pk}")
    assert response.status_code == 200
    schemas.ServiceOut.model_validate(response.json())
    assert response.json()["mobilisation_precisions"] == "Appeler la directrice avant 10 h."
    assert response.json()["distance_km"] is None
    assert response.json()["a_verifier"] is False

    for pk in (services["draft"].pk, 999_999_999, 2**70):
        missing = api.get(f"{SERVICES}/{pk}")
        assert missing.status_code == 404, pk
        assert missing.json()["erreur"]["code"] == "introuvable"
        assert missing.json()["erreur"]["details"][0]["parametre"] == "id"


BAD = [
    ({"rayon": "abc"}, "rayon"),
    ({"rayon": "1000"}, "rayon"),
    ({"thematique": "pas-une-thematique"}, "thematique"),
    ({"categorie": "'; DROP TABLE"}, "categorie"),
    ({"commune": "99999"}, "commune"),
    ({"page": "-1"}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": "10001"}, "page"),
    ({"taille": "101"}, "taille"),
    ({"taille": "0"}, "taille"),
    ({"q": "crèche\x00"}, "q"),
    ({"themes": "logement"}, "themes"),
]


@pytest.mark.parametrize(("query", "parameter"), BAD, ids=[p for _q, p in BAD])
def test_a_bad_value_is_a_400_naming_the_parameter_in_french(
    query: dict[str, str], parameter: str, api: Any
) -> None:
    response = api.get(SERVICES, query)

    assert response.status_code == 400
    error = response.json()["erreur"]
    assert error["code"] == "parametre_invalide"
    assert parameter in error["message"]
    assert [d["parametre"] for d in error["details"]] == [parameter]
    assert error["details"][0]["message"]


def test_a_repeated_parameter_is_refused(api: Any) -> None:
    response = api.get(f"{SERVICES}?categorie=famille&categorie=mobilite")
    assert response.status_code == 400
    assert response.json()["erreur"]["details"] == [
        {"parametre": "categorie", "message": "une seule valeur est acceptée pour ce paramètre"}
    ]


def test_an_unknown_and_a_bad_parameter_are_named_in_one_answer(api: Any) -> None:
    response = api.get(SERVICES, {"rayon": "7", "ville": "Toulon"})
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert error["message"] == "Paramètre invalide : ville, rayon."
    assert [d["parametre"] for d in error["details"]] == ["ville", "rayon"]


@pytest.mark.parametrize(
    "text",
    [
        "x" * 1000,
        "crèche 👶🏽 pour mon fils",
        '"permis de conduire"',
        "l'aide d'urgence",
        "100 % gratuit",
        "%_%",
        "a & b | !c <-> (d",
        "\\",
        "-",
        " ",
    ],
)
def test_any_text_a_user_types_is_searched_without_error(
    text: str, services: dict[str, Any], api: Any, client_for: Any
) -> None:
    response = api.get(SERVICES, {"q": text, "commune": TOULON})
    assert response.status_code == 200
    ui = client_for("ines").get(reverse("directory:search"), {"q": text, "commune": TOULON})
    assert [i["id"] for i in response.json()["resultats"]] == [
        s.pk for s in ui.context["result"].services
    ]


def test_the_services_search_makes_five_queries(
    services: dict[str, Any], api: Any, django_assert_max_num_queries: Any
) -> None:
    api.get(SERVICES)  # the first request of a minute also notes the token's use
    # The token and the rate counter (1), the commune (1), the words corrected against the
    # vocabulary (1), the ranked page and its services (2).
    with django_assert_max_num_queries(5):
        response = api.get(
            SERVICES, {"q": "crèche", "commune": TOULON, "rayon": "30", "taille": "100"}
        )
    assert response.status_code == 200
    assert len(response.json()["resultats"]) == 3
