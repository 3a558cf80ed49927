"""The directory's pages: search (shareable GET URL) and a service's page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from binome.directory.models import PublicationStatus
from tests.directory.test_search import DRAGUIGNAN, LA_SEYNE, TOULON, make_service

SEARCH = reverse("directory:search")


@pytest.fixture
def services(personas: dict[str, Any]) -> dict[str, Any]:
    return {
        "creche": make_service(
            "Crèche AVIP Les Petits Pas",
            thematiques=["famille--garde-denfants"],
            mobilisation_modes=["telephoner"],
            mobilisation_details="Appeler la directrice avant 10 h.",
            opening_hours="Mo-Fr 07:30-18:30",
        ),
        "permis": make_service(
            "Aide au permis de conduire",
            at=LA_SEYNE,
            thematiques=["mobilite--preparer-un-permis"],
            updated_on=timezone.localdate() - timedelta(days=400),
        ),
        "far": make_service("Crèche de Draguignan", at=DRAGUIGNAN),
        "draft": make_service("Brouillon", status=PublicationStatus.DRAFT),
    }


def test_the_search_page_without_criteria_shows_the_form(client_for: Any) -> None:
    response = client_for("ines").get(SEARCH)
    assert response.status_code == 200
    assert "Rechercher" in response.content.decode()
    assert response.context["result"] is None


def test_a_first_visit_proposes_the_commune_of_the_user_s_organisation(
    client_for: Any, personas: dict[str, Any]
) -> None:
    html = client_for("ines").get(SEARCH).content.decode()
    assert 'value="Toulon (83000)"' in html  # France Travail Toulon
    assert re.search(r'name="commune"\s+value="83137"', html)


def test_a_commune_typed_in_full_without_choosing_it_is_searched_around(
    client_for: Any, services: dict[str, Any]
) -> None:
    response = client_for("ines").get(
        SEARCH,
        {"commune_recherche": "toulon", "commune": "", "categorie": "famille", "rayon": "20"},
    )
    assert [s.name for s in response.context["result"].services] == ["Crèche AVIP Les Petits Pas"]
    assert 'value="Toulon (83000)"' in response.content.decode()
    assert re.search(rf'name="commune"\s+value="{TOULON}"', response.content.decode())


def test_a_commune_typed_but_not_found_is_explained_and_kept(
    client_for: Any, services: dict[str, Any]
) -> None:
    response = client_for("ines").get(
        SEARCH, {"commune_recherche": "Touln", "commune": "", "categorie": "famille"}
    )
    page = html.unescape(response.content.decode())
    assert response.context["result"] is None  # no silent search of the whole country
    assert "Aucune commune ne s'appelle « Touln »" in page
    assert 'value="Touln"' in page
    assert re.search(r'name="commune"\s+value=""', page)


def test_ines_searches_childcare_around_toulon_within_20_km(
    client_for: Any, services: dict[str, Any]
) -> None:
    response = client_for("ines").get(
        SEARCH, {"categorie": "famille", "commune": TOULON, "rayon": "20"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert [s.name for s in response.context["result"].services] == ["Crèche AVIP Les Petits Pas"]
    assert "1 service trouvé" in html
    assert "à 0,0 km" in html
    assert "Téléphoner" in html or "téléphoner" in html
    # The commune picker shows the chosen commune: the URL can be shared as is.
    assert "Toulon" in html


def test_a_stale_service_has_the_badge(client_for: Any, services: dict[str, Any]) -> None:
    html = client_for("ines").get(SEARCH, {"q": "permi de conduir"}).content.decode()
    assert "Aide au permis de conduire" in html
    assert "À vérifier" in html
    stale_on = date_format(services["permis"].updated_on, "j F Y")
    assert f"Informations à vérifier : mises à jour le {stale_on}" in html


def test_each_result_says_when_it_was_updated(client_for: Any, services: dict[str, Any]) -> None:
    html = client_for("ines").get(SEARCH, {"categorie": "famille"}).content.decode()
    assert f"Mis à jour le {date_format(timezone.localdate(), 'j F Y')}" in html
    assert "À vérifier" not in html


def test_no_result_says_so_in_french(client_for: Any, services: dict[str, Any]) -> None:
    html = client_for("ines").get(SEARCH, {"q": "xylophone quantique"}).content.decode()
    assert "Aucun service ne correspond à ces critères." in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "'\"%😀" * 300},
        {"commune": "99999"},
        {"rayon": "7"},
        {"categorie": "pas-une-categorie"},
        {"q": "crèche", "page": "abc"},
        {"q": "crèche", "page": "-4"},
        {"q": "crèche", "page": "999999999999"},
    ],
)
def test_bad_input_never_fails(
    client_for: Any, services: dict[str, Any], params: dict[str, str]
) -> None:
    assert client_for("ines").get(SEARCH, params).status_code == 200


def test_an_unknown_commune_is_explained(client_for: Any) -> None:
    html = client_for("ines").get(SEARCH, {"commune": "99999"}).content.decode()
    assert "Commune inconnue" in html


def test_results_are_paginated(client_for: Any, personas: dict[str, Any]) -> None:
    for i in range(25):
        make_service(f"Crèche {i:02d}")
    client = client_for("ines")
    first = client.get(SEARCH, {"q": "crèche"})
    second = client.get(SEARCH, {"q": "crèche", "page": "2"})
    assert len(first.context["result"].services) == 20
    assert len(second.context["result"].services) == 5
    assert "Page suivante" in first.content.decode()
    assert "q=cr%C3%A8che&amp;page=2" in first.content.decode()


def test_the_search_page_makes_a_bounded_number_of_queries(
    client_for: Any, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        make_service(f"Crèche {i:02d}", at=[TOULON, LA_SEYNE][i % 2])
    client = client_for("ines")
    search = {"categorie": "famille", "commune": TOULON, "q": "crèche"}
    # Set up once: the session and the second factor.
    client.get(SEARCH, search)
    with django_assert_max_num_queries(8):
        response = client.get(SEARCH, search)
    assert len(response.context["result"].services) == 20


def test_the_service_page_says_how_to_mobilise_it(
    client_for: Any, services: dict[str, Any]
) -> None:
    creche = services["creche"]
    html = client_for("ines").get(reverse("directory:service_detail", args=[creche.pk]))
    text = html.content.decode()
    assert "Appeler la directrice avant 10 h." in text
    assert "04 94 00 00 00" in text
    assert "Aujourd&#x27;hui" in text or "Aujourd'hui" in text
    assert "7 h 30\u2009\u2013\u200918 h 30" in text


def test_from_a_result_the_service_page_leads_back_to_the_same_search(
    client_for: Any, services: dict[str, Any]
) -> None:
    client = client_for("ines")
    search = {"categorie": "famille", "commune": TOULON, "rayon": "20"}
    page = html.unescape(client.get(SEARCH, search).content.decode())
    link = re.search(r'href="(/annuaire/services/\d+/\?recherche=[^"]+)"', page)
    assert link is not None

    service_page = html.unescape(client.get(link[1]).content.decode())
    back = re.search(r'href="([^"]*)">Retour à l\'annuaire', service_page)
    assert back is not None
    assert back[1] == f"{SEARCH}?commune={TOULON}&rayon=20&categorie=famille"


def test_the_way_back_keeps_only_the_search_s_own_parameters(
    client_for: Any, services: dict[str, Any]
) -> None:
    creche = services["creche"]
    came_from = "next=https://exemple.test/&q=crèche&javascript:alert(1)=x&page=2"
    response = client_for("ines").get(
        reverse("directory:service_detail", args=[creche.pk]), {"recherche": came_from}
    )
    page = html.unescape(response.content.decode())
    back = re.search(r'href="([^"]*)">Retour à l\'annuaire', page)
    assert back is not None
    assert back[1] == f"{SEARCH}?q=cr%C3%A8che&page=2"
    plain = client_for("ines").get(reverse("directory:service_detail", args=[creche.pk]))
    assert f'href="{SEARCH}">Retour' in plain.content.decode()


def test_the_service_page_names_the_places_of_its_eligibility_zone(
    client_for: Any, personas: dict[str, Any]
) -> None:
    service = make_service(
        "Accueil de jour", eligibility_zone=["83137", "29", "248300543", "france", "00000"]
    )
    page = html.unescape(
        client_for("ines")
        .get(reverse("directory:service_detail", args=[service.pk]))
        .content.decode()
    )
    assert (
        "Pour les habitants de : Toulon (83), Finistère (29), "
        "Métropole Toulon-Provence-Méditerranée, toute la France, 00000" in page
    )


def test_the_service_page_of_a_draft_or_unknown_service_is_a_404(
    client_for: Any, services: dict[str, Any]
) -> None:
    client = client_for("ines")
    assert (
        client.get(reverse("directory:service_detail", args=[services["draft"].pk])).status_code
        == 404
    )
    assert client.get(reverse("directory:service_detail", args=[10**9])).status_code == 404


def test_anonymous_users_are_sent_to_the_login_page(client: Any) -> None:
    response = client.get(SEARCH, {"q": "crèche"})
    assert response.status_code == 302
    assert "/connexion/" in response["Location"]


def test_each_result_card_offers_to_orient_whoever_may_orient(
    client_for: Any, services: dict[str, Any]
) -> None:
    params = {"categorie": "famille", "commune": TOULON, "rayon": "100"}
    body = client_for("ines").get(SEARCH, params).content.decode()
    for service in (services["creche"], services["far"]):
        orient = reverse("referrals:create_for_service", args=[service.pk])
        assert f'href="{orient}">Orienter<span class="fr-sr-only">' in body
    # A steering officer orients nobody: no button, the whole card is the service's link.
    paul = client_for("paul").get(SEARCH, params).content.decode()
    assert "Crèche AVIP Les Petits Pas" in paul
    assert "referrals/" not in paul and ">Orienter<" not in paul
    assert "fr-enlarge-link" in paul


def test_nothing_around_the_commune_offers_the_next_distances(
    client_for: Any, services: dict[str, Any]
) -> None:
    client = client_for("ines")
    # Draguignan's crèche is about 70 km from Toulon.
    params = {"q": "Draguignan", "commune": TOULON, "rayon": "20", "categorie": "famille"}
    body = html.unescape(client.get(SEARCH, params).content.decode())
    assert "Aucun service ne correspond à ces critères." in body
    links = re.findall(r'href="\?([^"]*)">Élargir la recherche à (\d+) km', body)
    assert [km for _, km in links] == ["30", "50", "100"]
    # Each link keeps the other criteria and changes the distance only.
    assert links[0][0] == "q=Draguignan&commune=83137&rayon=30&categorie=famille"
    wider = client.get(f"{SEARCH}?{links[-1][0]}")
    assert [s.name for s in wider.context["result"].services] == ["Crèche de Draguignan"]
    assert "Élargir la recherche" not in wider.content.decode()
    # At the largest distance, or without a commune, there is nothing wider to offer.
    assert (
        "Élargir la recherche"
        not in client.get(SEARCH, {**params, "rayon": "100", "q": "x"}).content.decode()
    )
    assert "Élargir la recherche" not in client.get(SEARCH, {"q": "xylophone"}).content.decode()


def test_the_criteria_fold_on_a_phone_once_there_are_results(
    client_for: Any, services: dict[str, Any]
) -> None:
    client = client_for("ines")
    folded = re.compile(r'aria-expanded="false"\s+aria-controls="filtres-recherche"')
    assert folded.search(client.get(SEARCH, {"q": "crèche"}).content.decode())
    # A first visit, or criteria to correct: the form is open.
    assert not folded.search(client.get(SEARCH).content.decode())
    assert not folded.search(client.get(SEARCH, {"commune": "99999"}).content.decode())
