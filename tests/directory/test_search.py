"""search_services: need, place, words, ranking and what a user may type."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.directory import search
from binome.directory.models import PublicationStatus, SearchWord, Service, Structure
from binome.directory.search import (
    _ranking_sql,
    corrected_query,
    search_services,
    wanted_thematiques,
    words_query,
)
from binome.territories.models import Commune

pytestmark = pytest.mark.django_db

_ids = count(1)

TOULON, LA_SEYNE, DRAGUIGNAN, QUIMPER, LYON = "83137", "83126", "83050", "29232", "69123"


def commune(code: str) -> Commune:
    return Commune.objects.get(insee_code=code)


def make_service(
    name: str,
    *,
    at: str = TOULON,
    thematiques: list[str] | None = None,
    description: str = "Un service du territoire.",
    structure_name: str = "Association du territoire",
    **fields: Any,
) -> Service:
    place = commune(at)
    n = next(_ids)
    structure = Structure.objects.create(
        name=structure_name,
        source="test",
        source_id=f"s{n}",
        updated_on=timezone.localdate(),
        commune=place,
        department_id=place.department_id,
        latitude=place.latitude,
        longitude=place.longitude,
    )
    values: dict[str, Any] = {
        "structure": structure,
        "name": name,
        "description": description,
        "thematiques": thematiques or ["famille--garde-denfants"],
        "source": "test",
        "source_id": f"v{n}",
        "updated_on": timezone.localdate(),
        "commune": place,
        "department_id": place.department_id,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "reception_modes": ["en-presentiel"],
        "phone": "04 94 00 00 00",
    }
    values.update(fields)
    return Service.objects.create(**values)


def names(result: Any) -> list[str]:
    return [s.name for s in result.services]


def test_a_category_selects_all_its_sub_thematiques() -> None:
    make_service("Crèche", thematiques=["famille--garde-denfants"])
    make_service("Parentalité", thematiques=["famille--soutien-a-la-parentalite-et-a-leducation"])
    make_service("Auto-école sociale", thematiques=["mobilite--preparer-un-permis"])

    result = search_services(categories=["famille"])

    assert sorted(names(result)) == ["Crèche", "Parentalité"]
    assert result.total == 2


def test_a_diagnostic_theme_selects_its_resource_categories() -> None:
    make_service("Épicerie solidaire", thematiques=["equipement-et-alimentation--alimentation"])
    make_service("Crèche", thematiques=["famille--garde-denfants"])

    assert names(search_services(themes=["difficultes_financieres"])) == ["Épicerie solidaire"]
    assert "mobilite--preparer-un-permis" in wanted_thematiques(themes=["mobilite"])


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="inconnue"):
        search_services(categories=["pas-une-categorie"])
    with pytest.raises(ValueError, match="inconnu"):
        search_services(themes=["pas-un-theme"])


def test_the_radius_keeps_near_services_and_remote_ones_whatever_the_distance() -> None:
    make_service("À Toulon", at=TOULON)
    make_service("À La Seyne", at=LA_SEYNE)  # about 6 km
    make_service("À Draguignan", at=DRAGUIGNAN)  # about 65 km
    make_service("À Quimper", at=QUIMPER)
    make_service("En ligne depuis Lyon", at=LYON, reception_modes=["a-distance"])

    within_20 = search_services(commune=commune(TOULON), radius_km=20)
    within_100 = search_services(commune=commune(TOULON), radius_km=100)

    assert names(within_20) == ["À Toulon", "À La Seyne", "En ligne depuis Lyon"]
    assert names(within_100) == ["À Toulon", "À La Seyne", "À Draguignan", "En ligne depuis Lyon"]
    toulon, seyne, *_ = within_20.services
    assert toulon.distance_km == pytest.approx(0, abs=0.01)  # type: ignore[attr-defined]
    assert 3 < seyne.distance_km < 10  # type: ignore[attr-defined]


def test_the_eligibility_zone_is_respected() -> None:
    make_service("Sans restriction", eligibility_zone=[])
    make_service("Pour le Var", eligibility_zone=["83"])
    make_service("Pour Toulon", eligibility_zone=[TOULON])
    make_service("Pour la France", eligibility_zone=["france"])
    make_service("Pour le Finistère", eligibility_zone=["29"])
    make_service("Pour La Seyne", eligibility_zone=[LA_SEYNE])

    found = names(search_services(commune=commune(TOULON)))

    assert sorted(found) == sorted(
        ["Pour la France", "Pour le Var", "Pour Toulon", "Sans restriction"]
    )


def test_the_eligibility_zone_of_remote_services_is_respected_with_words() -> None:
    # Near a commune with words, the remote services are read by their own SELECTs: those
    # open to the whole country by their words' partial index, the others by their zone's
    # codes and their words together. The same services as without words.
    remote = {"reception_modes": ["a-distance"], "at": LYON}
    make_service("Crèche sans restriction", eligibility_zone=[], **remote)
    make_service("Crèche pour le Var", eligibility_zone=["83"], **remote)
    make_service("Crèche pour Toulon", eligibility_zone=[TOULON], **remote)
    make_service("Crèche pour la métropole", eligibility_zone=["248300543"], **remote)
    make_service("Crèche pour la France", eligibility_zone=["france"], **remote)
    make_service("Crèche pour le Finistère", eligibility_zone=["29"], **remote)
    make_service("Crèche pour La Seyne", eligibility_zone=[LA_SEYNE], **remote)
    make_service("Halte pour le Var", eligibility_zone=["83"], **remote)
    make_service(
        "Crèche pour la France et le Finistère", eligibility_zone=["29", "france"], **remote
    )
    make_service("Crèche pour le Finistère et le Var", eligibility_zone=["29", "83"], **remote)
    make_service("Crèche pour le Finistère et Brest", eligibility_zone=["29", "29019"], **remote)

    found = names(search_services(text="crèche", commune=commune(TOULON), radius_km=30))

    assert sorted(found) == [
        "Crèche pour Toulon",
        "Crèche pour la France",
        "Crèche pour la France et le Finistère",
        "Crèche pour la métropole",
        "Crèche pour le Finistère et le Var",
        "Crèche pour le Var",
        "Crèche sans restriction",
    ]
    without_words = names(search_services(commune=commune(TOULON), radius_km=30))
    assert sorted(found) == sorted(name for name in without_words if "Crèche" in name)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("creche", "Crèche AVIP Les Petits Pas"),  # no accent
        ("CRÈCHES", "Crèche AVIP Les Petits Pas"),  # plural, capitals
        ("permi de conduir", "Aide au permis de conduire"),  # typos
        ("permis", "Aide au permis de conduire"),
        ("garde d'enfants", "Crèche AVIP Les Petits Pas"),  # the thématique's label
        ("mobilité solidaire", "Aide au permis de conduire"),  # the structure's name
        ("endettement", "Point conseil budget"),  # in the description
    ],
)
def test_words_are_accent_insensitive_stemmed_and_typo_tolerant(typed: str, expected: str) -> None:
    make_service("Crèche AVIP Les Petits Pas", thematiques=["famille--garde-denfants"])
    make_service(
        "Aide au permis de conduire",
        thematiques=["mobilite--preparer-un-permis"],
        structure_name="Mobilité Solidaire Var",
    )
    make_service(
        "Point conseil budget",
        thematiques=["difficultes-financieres--situation-dendettement-surendettement"],
        description="Aide en cas de surendettement ou d'endettement, gestion du budget.",
    )

    assert names(search_services(text=typed))[:1] == [expected]


def test_nothing_matches_words_that_are_nowhere() -> None:
    make_service("Crèche AVIP")
    result = search_services(text="xylophone quantique")
    assert result.services == []
    assert result.total == 0


@pytest.mark.parametrize(
    "typed",
    [
        '"crèche',
        "crèche\" OR -'",
        "100 %",
        "%_\\",
        "crèche 👶🏽",
        "\x00crèche\x1f",
        "a" * 1000,
        "crèche " * 200,
        "!!! & | <-> :* ()",
        "de la le",  # only stop words
        "   ",
    ],
)
def test_any_text_a_user_types_is_accepted(typed: str) -> None:
    make_service("Crèche AVIP")
    result = search_services(text=typed, commune=commune(TOULON))
    assert result.total == len(result.services)


def test_stale_services_are_ranked_lower() -> None:
    old = timezone.localdate() - timedelta(days=400)
    make_service("Crèche ancienne", updated_on=old, update_frequency_days=183)
    make_service("Crèche à jour")

    result = search_services(commune=commune(TOULON), text="crèche")

    assert names(result) == ["Crèche à jour", "Crèche ancienne"]
    assert result.services[1].needs_checking()


def test_complete_services_come_before_those_without_contact() -> None:
    make_service("Sans contact", phone="", email="")
    make_service("Avec contact", mobilisation_details="Appeler le matin.")
    assert names(search_services(commune=commune(TOULON))) == ["Avec contact", "Sans contact"]


def test_only_published_services_are_found() -> None:
    make_service("Publié")
    make_service("Brouillon", status=PublicationStatus.DRAFT)
    make_service("En attente", status=PublicationStatus.PENDING)
    assert names(search_services()) == ["Publié"]


def test_a_departement_keeps_the_services_whose_address_is_in_it() -> None:
    make_service("Garage solidaire de Toulon", at=TOULON)
    make_service("Garage solidaire de Draguignan", at=DRAGUIGNAN)
    make_service("Garage solidaire de Quimper", at=QUIMPER)
    make_service("Brouillon de garage solidaire", status=PublicationStatus.DRAFT)
    found = search_services(text="garage", department="83")
    assert sorted(names(found)) == ["Garage solidaire de Draguignan", "Garage solidaire de Toulon"]
    assert found.total == 2
    assert names(search_services(text="garage", department="29")) == ["Garage solidaire de Quimper"]
    assert len(names(search_services(text="garage"))) == 3


def test_other_filters() -> None:
    make_service("Gratuit pour les jeunes", fees="gratuit", publics=["jeunes"], type="atelier")
    make_service("Payant pour tous", fees="payant", publics=["tous-publics"], type="formation")
    make_service("Pour les seniors", fees="gratuit", publics=["seniors"], type="atelier")

    assert sorted(names(search_services(publics=["jeunes"]))) == [
        "Gratuit pour les jeunes",
        "Payant pour tous",
    ]
    assert sorted(names(search_services(fees=["gratuit"], types=["atelier"]))) == [
        "Gratuit pour les jeunes",
        "Pour les seniors",
    ]
    make_service("En ligne", reception_modes=["a-distance"])
    assert names(search_services(reception_modes=["a-distance"])) == ["En ligne"]


def test_pages_and_total(django_assert_max_num_queries: Any) -> None:
    for i in range(25):
        make_service(f"Crèche {i:02d}")

    toulon = commune(TOULON)
    # One query: the page's services ranked, with their structure, commune and the total.
    with django_assert_max_num_queries(1):
        first = search_services(commune=toulon, per_page=10)
        shown = {(service.structure.name, service.commune.name) for service in first.services}
    assert shown == {("Association du territoire", "Toulon")}

    second = search_services(commune=commune(TOULON), per_page=10, page=2)
    third = search_services(commune=commune(TOULON), per_page=10, page=3)
    beyond = search_services(commune=commune(TOULON), per_page=10, page=9)

    assert (first.total, second.total, third.total, beyond.total) == (25, 25, 25, 25)
    assert [len(r.services) for r in (first, second, third, beyond)] == [10, 10, 5, 0]
    seen = names(first) + names(second) + names(third)
    assert sorted(seen) == [f"Crèche {i:02d}" for i in range(25)]
    assert first.num_pages == 3
    assert first.page_obj.has_next() and not third.page_obj.has_next()


def test_a_renamed_structure_is_found_by_its_new_name() -> None:
    service = make_service("Crèche", structure_name="Ancien nom")
    Structure.objects.filter(pk=service.structure_id).update(name="Maison des familles")
    assert names(search_services(text="maison des familles")) == ["Crèche"]


def test_a_ligature_is_found_typed_either_way() -> None:
    make_service("Cœur de femmes", description="Accueil de jour.")
    make_service("Crèche AVIP")

    assert names(search_services(text="coeur de femmes"))[:1] == ["Cœur de femmes"]
    assert names(search_services(text="cœur"))[:1] == ["Cœur de femmes"]
    assert names(search_services(text="cœurr de femme"))[:1] == ["Cœur de femmes"]  # typo


def test_remote_services_without_coordinates_are_kept_without_a_distance() -> None:
    make_service("À Toulon", at=TOULON)
    make_service("En ligne", reception_modes=["a-distance"], latitude=None, longitude=None)
    make_service("Sans coordonnées", latitude=None, longitude=None)

    result = search_services(commune=commune(TOULON), radius_km=10)

    assert names(result) == ["À Toulon", "En ligne"]
    assert result.services[1].distance_km is None  # type: ignore[attr-defined]


def test_the_place_index_serves_the_search() -> None:
    """The earth point is inlined by PostgreSQL (migration 0003): a call per row would be
    slow, and the query's expression must still match the GiST index's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (VERBOSE) SELECT directory_earth_point(latitude, longitude)"
            " FROM directory_service"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "directory_earth_point" not in plan
        assert "cube(cube(cube(" in plan

        make_service("À Toulon", at=TOULON)
        cursor.execute("SET LOCAL enable_seqscan = off")
    # The plan the search runs: generic, its status a parameter.
    assert "service_earth_point" in _generic_plan(words="")


def test_the_remote_services_words_are_read_from_their_own_index() -> None:
    # Near a commune, the remote services are found by the partial indexes of their words
    # (those open to the whole country; the others with their zone's codes): their predicates
    # match the remote services' own SELECTs. Which of them and the list of every
    # remote service (service_reception_modes) the planner prefers on a test's few rows
    # depends on the statistics other tests leave; the bench measures it at volume. Here
    # that other index is dropped for this transaction (rolled back with it): the partial
    # indexes must then serve, and a plan never falls back to reading the table.
    for i in range(30):
        make_service(f"Crèche {i}", description="Accueil des enfants.")
    make_service("Crèche en ligne", at=LYON, reception_modes=["a-distance"])
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX service_reception_modes")
        cursor.execute("ANALYZE directory_service")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _generic_plan(words="crèche")
    assert "service_remote_open_words" in plan, plan
    assert "service_remote_zoned_words" in plan, plan
    assert "Seq Scan on directory_service" not in plan, plan


def test_a_remote_service_is_found_once_near_or_far() -> None:
    make_service("Crèche à Toulon", at=TOULON)
    make_service("Crèche à La Seyne, aussi en ligne", at=LA_SEYNE, reception_modes=["a-distance"])
    make_service("Crèche en ligne depuis Lyon", at=LYON, reception_modes=["a-distance"])
    make_service("Crèche en ligne", reception_modes=["a-distance"], latitude=None, longitude=None)
    make_service("Crèche à Quimper", at=QUIMPER)

    for text in ("crèche", ""):
        result = search_services(text=text, commune=commune(TOULON), radius_km=30)
        assert sorted(names(result)) == [
            "Crèche en ligne",
            "Crèche en ligne depuis Lyon",
            "Crèche à La Seyne, aussi en ligne",
            "Crèche à Toulon",
        ]
        assert result.total == 4
        seyne = next(s for s in result.services if s.name.startswith("Crèche à La Seyne"))
        assert 3 < seyne.distance_km < 10  # type: ignore[attr-defined]


def test_the_vocabulary_follows_every_writer_of_the_services() -> None:
    service = make_service("Épicerie solidaire", description="Colis alimentaires.")
    assert {"epicer", "solidair", "colis", "alimentair"} <= set(
        SearchWord.objects.values_list("word", flat=True)
    )
    Service.objects.filter(pk=service.pk).update(description="Bons d'achat mensuels.")
    assert SearchWord.objects.filter(word__in=["bon", "achat", "mensuel"]).count() == 3


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("formaton", "Formation aux métiers du numérique"),
        ("alimantaire", "Épicerie solidaire"),
        ("epicerie solidare", "Épicerie solidaire"),
        ("numerique formaton", "Formation aux métiers du numérique"),
    ],
)
def test_an_unknown_word_stands_for_its_closest_known_words(typed: str, expected: str) -> None:
    make_service(
        "Formation aux métiers du numérique",
        thematiques=["numerique--maitriser-les-fondamentaux-du-numerique"],
    )
    make_service("Épicerie solidaire", description="Colis alimentaires.")

    assert names(search_services(text=typed)) == [expected]


def test_a_typo_stands_only_for_the_words_nearly_as_close_as_the_closest() -> None:
    make_service("Accueil de jour", description="Accueil en urgence.")
    make_service("Conseil budgétaire", description="Gérer son argent.")
    # « urgente » (urgent) is unknown here: « urgence » is its closest known word (0.56);
    # « argent » (0.40) is farther than four fifths of that, and is not searched.
    assert corrected_query("urgente") == "('urgen':*)"
    assert names(search_services(text="urgente")) == ["Accueil de jour"]


def test_a_known_word_is_not_corrected_and_every_word_must_match() -> None:
    make_service("Crèche AVIP", description="Accueil des enfants.")
    make_service("Crèche du port", description="Accueil des enfants.")

    assert corrected_query("crèches du port") == "('crech') & ('port')"
    assert names(search_services(text="crèches du port")) == ["Crèche du port"]


def test_a_typo_is_corrected_again_at_every_search() -> None:
    make_service("Atelier vélo", description="Réparer son vélo.")
    # « vell » (vel) is unknown: it stands for « vélo »; a query holding a correction is not
    # kept, the next import may bring the word itself.
    assert names(search_services(text="vell")) == ["Atelier vélo"]
    make_service("Atelier vell", description="Un atelier.")
    assert names(search_services(text="vell")) == ["Atelier vell"]


def test_a_known_words_query_is_kept_until_it_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_service("Accueil d'urgence", description="Un accueil de jour.")
    assert names(search_services(text="urgence")) == ["Accueil d'urgence"]
    # A service brings a new ending of « urgen »: the kept query searches the index for the
    # family it read (« urgence »), until WORDS_SECONDS have passed.
    make_service("Garde urgente", description="Une garde d'enfants.")
    assert names(search_services(text="urgence")) == ["Accueil d'urgence"]
    monkeypatch.setattr(search, "WORDS_SECONDS", -1.0)
    assert names(search_services(text="urgence")) == ["Accueil d'urgence", "Garde urgente"]


def test_words_without_any_searchable_word_filter_nothing() -> None:
    make_service("Crèche AVIP")
    assert corrected_query("de la 👶🏽 !!") is None
    assert names(search_services(text="de la 👶🏽 !!")) == ["Crèche AVIP"]


def test_the_words_read_the_full_text_index_only() -> None:
    for i in range(30):
        make_service(f"Crèche {i}", description="Accueil des enfants de parents en insertion.")
    make_service("Aide au permis de conduire", thematiques=["mobilite--preparer-un-permis"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _generic_plan(commune=None, words="permi de conduir")
    assert "service_match_vector" in plan
    # No trigram operator over the services: the words are corrected beforehand, against
    # the vocabulary (``known_words``).
    assert [line for line in plan.splitlines() if "%" in line] == []


def test_a_long_word_finds_the_words_it_begins_a_short_one_does_not() -> None:
    make_service(
        "Conseil budgétaire",
        thematiques=["difficultes-financieres--ameliorer-sa-gestion-budgetaire"],
    )
    make_service("Permanence logement", thematiques=["logement-hebergement--changer-de-logement"])
    make_service("Aide au permis de conduire", thematiques=["mobilite--preparer-un-permis"])

    assert names(search_services(text="budget")) == ["Conseil budgétaire"]
    assert names(search_services(text="permis")) == ["Aide au permis de conduire"]


TPM = "248300543"  # Métropole Toulon-Provence-Méditerranée


def test_a_service_eligible_for_an_epci_is_found_from_its_member_communes() -> None:
    make_service("Pour la métropole de Toulon", at=TOULON, eligibility_zone=[TPM])
    make_service("Pour une autre intercommunalité", at=TOULON, eligibility_zone=["200000172"])
    make_service(
        "En ligne pour la métropole",
        at=LYON,
        eligibility_zone=[TPM],
        reception_modes=["a-distance"],
    )

    from_la_seyne = search_services(commune=commune(LA_SEYNE), radius_km=20)
    from_quimper = search_services(commune=commune(QUIMPER), radius_km=100)

    assert names(from_la_seyne) == ["Pour la métropole de Toulon", "En ligne pour la métropole"]
    assert names(from_quimper) == []


def test_the_communes_know_their_epci() -> None:
    seyne = commune(LA_SEYNE)
    assert seyne.epci_id == TPM
    assert seyne.epci is not None and seyne.epci.name == "Métropole Toulon-Provence-Méditerranée"
    assert commune(QUIMPER).epci_id == "200068120"  # CA Quimper Bretagne Occidentale
    assert Commune.objects.get(insee_code="29155").epci_id is None  # Ouessant, an island
    assert Commune.objects.filter(epci__isnull=False).count() == 34_871


def test_the_publics_are_checked_on_the_rows_found_not_through_their_index() -> None:
    # « tous publics » comes with every public searched, and half the services hold it: the
    # publics' index would gather most of the directory before the place narrows it.
    for i in range(30):
        make_service(f"Crèche {i}", publics=["familles"])
    make_service("Pour tous", publics=["tous-publics"])
    make_service("Pour les jeunes", publics=["jeunes"])
    make_service("Pour les seniors", publics=["seniors"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE directory_service")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = _generic_plan(publics=("jeunes",), words="")
    assert "service_earth_point" in plan
    assert "service_publics" not in plan
    found = names(search_services(publics=["jeunes"], commune=commune(TOULON)))
    assert sorted(found) == ["Pour les jeunes", "Pour tous"]


def test_the_index_is_searched_for_the_known_words_a_prefix_begins() -> None:
    make_service("Hébergement d'urgence", description="Un logement pour la nuit.")
    make_service("Logement urgent", description="Un logement tout de suite.")
    make_service("Permanence logement", description="Conseils.")

    query = words_query("logement d'urgence")
    assert query is not None
    assert query.match == "('log') & ('urgen':*)"
    assert query.indexed == "('log') & ('urgenc' | 'urgent')"  # the family of « urgence »
    assert sorted(names(search_services(text="logement d'urgence"))) == [
        "Hébergement d'urgence",
        "Logement urgent",
    ]
    # A short word has no family; a word whose family is too large keeps its prefix.
    assert words_query("logements").indexed == "('log')"  # type: ignore[union-attr]
    SearchWord.objects.bulk_create(
        SearchWord(word=f"urgen{i:02d}") for i in range(search.MAX_FAMILY)
    )
    assert words_query("urgence").indexed == "('urgen':*)"  # type: ignore[union-attr]


def test_the_page_services_are_what_the_orm_reads() -> None:
    made = make_service("Crèche du port", publics=["familles"], email="creche@example.org")

    [found] = search_services(text="crèche").services

    fresh = Service.objects.defer(*search.UNREAD_COLUMNS).get(pk=made.pk)
    read = {f.attname for f in search._SERVICE_FIELDS}
    assert {a: found.__dict__[a] for a in read} == {a: fresh.__dict__[a] for a in read}
    assert found.get_deferred_fields() == fresh.get_deferred_fields() == set(search.UNREAD_COLUMNS)
    assert not found._state.adding and found._state.db == "default"
    with CaptureQueriesContext(connection) as queries:
        assert (found.structure.name, found.commune.name) == ("Association du territoire", "Toulon")
        assert found.structure.pk == made.structure_id and found.commune_id == TOULON
    assert len(queries) == 0
    found.refresh_from_db(fields=["match_vector"])  # a column not read is loaded on demand
    assert found.match_vector


def test_the_search_statements_are_prepared_once_per_connection() -> None:
    make_service("Crèche du port", description="Accueil des enfants.")
    make_service("Crèche du cap", description="Accueil des enfants.", at=LA_SEYNE)

    def prepared() -> dict[str, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            )
            return {sql: (generic, custom) for sql, generic, custom in cursor.fetchall()}

    before = prepared()
    for place in (commune(TOULON), commune(LA_SEYNE), commune(TOULON)):
        with CaptureQueriesContext(connection) as queries:
            result = search_services(text="crèche", commune=place, radius_km=30)
        assert names(result) and result.total == 2
    after = {sql: runs for sql, runs in prepared().items() if sql not in before}
    # Two statements, each prepared once and run by its generic plan with the values of
    # each search as parameters, never planned again: the words' corrections, run once
    # (« crèche » is known: its query is kept), and the ranking, run three times.
    assert sorted(after.values()) == [(1, 0), (3, 0)]
    [words] = [sql for sql, runs in after.items() if runs == (1, 0)]
    [ranking] = [sql for sql, runs in after.items() if runs == (3, 0)]
    assert "directory_search_word" in words and "directory_service" not in words
    assert "directory_service" in ranking and "directory_search_word" not in ranking
    # The last search ran the ranking alone, logged with its values, as Django logs its own.
    [logged] = [query["sql"] for query in queries]
    assert "'crech'" in logged and "83137" in logged and "%(" not in logged


def _destination(
    latitude: float, longitude: float, bearing: float, metres: float
) -> tuple[float, float]:
    """The point ``metres`` away from a centre along the sphere the search measures on, in
    the direction ``bearing`` (degrees from north)."""
    d = metres / search.EARTH_RADIUS_M
    lat, lon, theta = math.radians(latitude), math.radians(longitude), math.radians(bearing)
    lat2 = math.asin(math.sin(lat) * math.cos(d) + math.cos(lat) * math.sin(d) * math.cos(theta))
    lon2 = lon + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(lat), math.cos(d) - math.sin(lat) * math.sin(lat2)
    )
    return math.degrees(lat2), (math.degrees(lon2) + 540.0) % 360.0 - 180.0


# Toulon, Saint-Pierre, Wallis, the 180th meridian in the Pacific, Cayenne, the equator at
# the prime meridian, the North Pole's neighbourhood.
CENTRES = [
    (43.1242, 5.928),
    (46.7811, -56.1764),
    (-13.2825, -176.1764),
    (-17.5, 179.95),
    (4.9372, -52.326),
    (0.0, 0.0),
    (89.9, 10.0),
]


@pytest.mark.parametrize("radius_m", [1_000.0, 30_000.0, 100_000.0, 200_000.0])
def test_the_grid_squares_hold_every_point_of_the_circle(radius_m: float) -> None:
    # The squares a search reads (Python) hold every point within its radius, as
    # PostgreSQL files each point (``directory_grid_cells``): on the circle itself, halfway,
    # at the centre, in every direction, across the 180th meridian and near a pole.
    for latitude, longitude in CENTRES:
        cells = set(search.grid_cells(latitude, longitude, radius_m))
        points = [(latitude, longitude)] + [
            _destination(latitude, longitude, bearing, radius_m * share)
            for bearing in range(0, 360, 3)
            for share in (0.5, 0.999999)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT directory_grid_cells(p.latitude, p.longitude) FROM"
                " unnest(%s::float8[], %s::float8[]) AS p(latitude, longitude)",
                [[lat for lat, _lon in points], [lon for _lat, lon in points]],
            )
            squares = [row[0] for row in cursor.fetchall()]
        for point, held in zip(points, squares, strict=True):
            assert cells & set(held), (latitude, longitude, radius_m, point)


def test_a_search_reads_the_finest_squares_it_can() -> None:
    toulon = commune(TOULON)
    # Within 30 km: three rows of four squares of 0.25° (numbered below 2,000,000).
    near = search.grid_cells(toulon.latitude, toulon.longitude, 30_000.0)
    assert len(near) == 12 and max(near) < 2_000_000
    # Within 200 km, squares of 1°: fewer lists to read in the index.
    far = search.grid_cells(toulon.latitude, toulon.longitude, 200_000.0)
    assert len(far) <= search.GRID_MOST_CELLS and min(far) >= 4_000_000
    assert search.grid_cells(None, None, 30_000.0) == []


@pytest.mark.parametrize("radius_km", [5, 30, 100, 200])
def test_words_near_a_commune_find_the_services_its_distance_finds(radius_km: int) -> None:
    # Words near a commune are read by the grid's squares, the place alone by the box
    # around the circle: the services holding the words are the same, to the metre.
    toulon = commune(TOULON)
    rng = random.Random(radius_km)
    for i in range(60):
        # Half of them within a few hundred metres of the radius, on either side.
        metres = radius_km * 1000 * (rng.uniform(0.98, 1.02) if i % 2 else rng.uniform(0, 1.5))
        latitude, longitude = _destination(
            toulon.latitude, toulon.longitude, rng.uniform(0, 360), metres
        )
        make_service(f"Crèche {i}", latitude=latitude, longitude=longitude)
    make_service("Crèche sans adresse", latitude=None, longitude=None)
    make_service("Crèche non publiée", status=PublicationStatus.DRAFT)

    def found(**words: Any) -> tuple[int, set[str]]:
        result = search_services(commune=toulon, radius_km=radius_km, per_page=100, **words)
        return result.total, set(names(result))

    total, near = found(text="crèche")
    assert (total, near) == found()
    assert 0 < total < 60 and "Crèche sans adresse" not in near


def _generic_plan(**options: Any) -> str:
    """The generic plan of the search's ranking statement, as the search runs it (its
    values, the status included, are parameters): by default, « crèche » within 30 km of
    Toulon."""
    arguments: dict[str, Any] = {
        "codes": (),
        "publics": (),
        "fees": (),
        "types": (),
        "reception_modes": (),
        "commune": commune(TOULON),
        "radius_m": 30_000.0,
        "words": "crèche",
        "today": timezone.localdate(),
    }
    arguments.update(options)
    arguments["words"] = words_query(arguments["words"])  # its values are not read here
    sql, _params = _ranking_sql(**arguments)
    statement, _names = search._positional(sql)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (GENERIC_PLAN) {statement}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_words_near_a_commune_are_read_from_the_squares_and_words_index() -> None:
    # The box's and the words' own indexes are dropped for this transaction (rolled back
    # with it), and the table may not be read whole: the statement must read the published
    # services' squares and words from their index, whatever the statistics of a test's
    # few rows.
    for i in range(30):
        make_service(f"Crèche {i}", description="Accueil des enfants.")
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX service_earth_point")
        cursor.execute("DROP INDEX service_match_vector")
        cursor.execute("ANALYZE directory_service")
        cursor.execute("SET LOCAL enable_seqscan = off")

    plan = _generic_plan()

    assert "service_published_cells_words" in plan, plan
