"""« Mes personnes » searched and filtered: name, commune, kind of accompaniment, alert."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.people.models import Person
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, ExitReason, Kind, State, TeamMember, TeamRole
from binome.territories.models import Commune
from tests.factories import SmallTerritory

URL = reverse("support:worklist")
TOULON, HYERES = "83137", "83069"

# Each alert filter, and how the worklist spells the alert it keeps.
ALERT_SHOWN = {
    "sans-contact": lambda alert: alert == "Aucun contact depuis 30 jours",
    "fin-proche": lambda alert: alert.startswith("Fin prévue le "),
    "sans-diagnostic": lambda alert: alert == "Pas encore de diagnostic",
    "actions-en-retard": lambda alert: alert.endswith(" en retard"),
    "situation-6-mois": lambda alert: alert == "Situation à 6 mois à renseigner",
}


def add_person(
    territory: SmallTerritory,
    first_name: str,
    last_name: str,
    *,
    kind: str = Kind.GLOBAL,
    commune: str = "",
    last_contact_on: date | None = None,
) -> Person:
    """A person Alice accompanies."""
    person = support_actions.create_person(
        data={"first_name": first_name, "last_name": last_name, "birth_date": date(1985, 1, 2)},
        by=territory.alice,
        organisation=territory.france_travail,
        kind=kind,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    Person.objects.filter(pk=person.pk).update(
        commune=Commune.objects.get(insee_code=commune) if commune else None,
        last_contact_on=last_contact_on,
    )
    return person


def names(response: Any) -> list[str]:
    return [item["row"].person.last_name for item in response.context["items"]]


@pytest.fixture
def alice_list(small_var: SmallTerritory) -> SmallTerritory:
    """Alice's worklist: Zoé Exemple (global, opened 40 days ago, no contact yet) and four
    more."""
    today = timezone.localdate()
    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    add_person(small_var, "Nadia", "Belkacem", commune=TOULON, last_contact_on=today)
    add_person(small_var, "Hélène", "Éluard", kind=Kind.SOCIAL, commune=HYERES)
    add_person(
        small_var,
        "Jean",
        "Durand",
        kind=Kind.PROFESSIONAL,
        commune=TOULON,
        last_contact_on=today - timedelta(days=10),
    )
    ended = add_person(small_var, "Paul", "Martin", last_contact_on=today)
    Accompaniment.objects.filter(person=ended).update(
        state=State.ENDED,
        exit_reason=ExitReason.DURABLE_JOB,
        ended_on=today - timedelta(days=200),
        followup_due_on=today - timedelta(days=10),
    )
    return small_var


def test_the_name_search_ignores_case_and_accents(alice_list: SmallTerritory) -> None:
    client = alice_list.client(alice_list.alice)
    assert names(client.get(URL, {"q": "belkacem"})) == ["Belkacem"]
    assert names(client.get(URL, {"q": "ELUARD"})) == ["Éluard"]
    assert names(client.get(URL, {"q": "hélène éluard"})) == ["Éluard"]
    assert names(client.get(URL, {"q": "nadia"})) == ["Belkacem"]
    assert names(client.get(URL, {"q": "nadia durand"})) == []


def test_the_commune_and_kind_filters(alice_list: SmallTerritory) -> None:
    client = alice_list.client(alice_list.alice)
    assert names(client.get(URL, {"commune": TOULON})) == ["Belkacem", "Durand"]
    # A commune typed in full without choosing it in the list is understood too.
    assert names(client.get(URL, {"commune_recherche": "Hyères"})) == ["Éluard"]
    assert names(client.get(URL, {"type": "social"})) == ["Éluard"]
    assert names(client.get(URL, {"type": "professional"})) == ["Durand"]
    assert names(client.get(URL, {"type": "global"})) == ["Belkacem", "Exemple", "Martin"]


def test_the_filters_combine_and_keep_the_sort(alice_list: SmallTerritory) -> None:
    client = alice_list.client(alice_list.alice)
    response = client.get(URL, {"commune": TOULON, "type": "global", "tri": "contact"})
    assert names(response) == ["Belkacem"]
    assert names(client.get(URL, {"commune": TOULON, "alerte": "sans-contact"})) == []
    assert names(client.get(URL, {"type": "global", "alerte": "sans-contact"})) == ["Exemple"]
    body = html.unescape(
        client.get(URL, {"commune": TOULON, "q": "jean", "tri": "contact"}).content.decode()
    )
    # The sort links keep the filters, the form keeps the sort.
    assert 'href="?commune=83137&q=jean&tri=fin"' in body
    assert 'name="tri" value="contact"' in body


def test_the_pager_keeps_the_filters(small_var: SmallTerritory) -> None:
    for number in range(26):
        add_person(small_var, "Sam", f"Social{number:02}", kind=Kind.SOCIAL)
    client = small_var.client(small_var.alice)
    response = client.get(URL, {"type": "social", "tri": "nom"})
    assert response.context["page"].paginator.count == 26
    body = html.unescape(response.content.decode())
    assert "type=social&tri=nom&page=2" in body
    second = client.get(URL, {"type": "social", "tri": "nom", "page": 2})
    assert names(second) == ["Social25"]


@pytest.mark.parametrize("alert", sorted(ALERT_SHOWN))
def test_each_alert_filter_keeps_exactly_the_rows_showing_that_alert(
    alert: str, client_for: Any, personas: dict[str, Any]
) -> None:
    """On Inès's worklist: Nadia (diagnostic made, one action overdue), and three more
    persons without diagnostic, varied so that every alert is met and missed."""
    today = timezone.localdate()
    ines = personas["ines"]
    organisation = TeamMember.objects.get(user=ines, person__user=personas["nadia"]).organisation
    rows = []
    for first_name in ("Anne", "Bruno", "Chloé"):
        person = support_actions.create_person(
            data={"first_name": first_name, "last_name": "Var", "birth_date": date(1980, 3, 4)},
            by=ines,
            organisation=organisation,
            kind=Kind.GLOBAL,
            role=TeamRole.DEDICATED_COUNSELOR,
        )
        rows.append(person.accompaniments.get())
    Person.objects.filter(pk=rows[0].person_id).update(last_contact_on=today - timedelta(days=31))
    Accompaniment.objects.filter(pk=rows[0].pk).update(planned_end_on=today + timedelta(days=61))
    Accompaniment.objects.filter(pk=rows[1].pk).update(
        state=State.ENDED,
        exit_reason=ExitReason.DURABLE_JOB,
        ended_on=today - timedelta(days=190),
        followup_due_on=today,
        planned_end_on=today,
    )
    Accompaniment.objects.filter(pk=rows[2].pk).update(planned_end_on=today + timedelta(days=62))
    Person.objects.filter(pk=rows[2].person_id).update(last_contact_on=today - timedelta(days=30))
    client = client_for("ines")
    everything = client.get(URL)
    assert everything.context["page"].paginator.count <= 25
    expected = {
        item["row"].pk
        for item in everything.context["items"]
        if any(ALERT_SHOWN[alert](shown) for shown in item["alerts"])
    }
    kept = {item["row"].pk for item in client.get(URL, {"alerte": alert}).context["items"]}
    assert kept == expected
    assert expected  # each alert is met in the demo (varied above) ...
    assert len(everything.context["items"]) > len(expected)  # ... and missed


def test_bad_values_get_a_french_message_not_an_error(alice_list: SmallTerritory) -> None:
    client = alice_list.client(alice_list.alice)
    response = client.get(
        URL,
        {"type": "aucun", "alerte": "x", "commune": "99999", "q": "a" * 101, "page": "x"},
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Ce type d'accompagnement n'existe pas" in body
    assert "Cette alerte n'existe pas" in body
    assert "Commune inconnue" in body
    assert "Tapez au plus 100 caractères" in body
    # A bad value does not filter; the valid ones do.
    assert len(names(response)) == 5
    response = client.get(URL, {"type": "social", "alerte": "x", "tri": "n'importe"})
    assert names(response) == ["Éluard"]
    assert response.status_code == 200


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(
    alice_list: SmallTerritory,
) -> None:
    client = alice_list.client(alice_list.alice)
    body = html.unescape(client.get(URL, {"q": "personne inconnue"}).content.decode())
    assert "Aucune personne ne correspond à ces filtres." in body
    assert "Vous n'accompagnez encore personne" not in body
    assert f'href="{URL}?tri=nom">Effacer les filtres' in body
    assert "Effacer les filtres" not in html.unescape(client.get(URL).content.decode())


def test_the_read_line_names_only_the_persons_shown(alice_list: SmallTerritory) -> None:
    client = alice_list.client(alice_list.alice)
    client.get(URL, {"q": "belkacem"})
    read = AuditEvent.objects.filter(actor=alice_list.alice).order_by("-pk").first()
    assert read is not None
    assert read.person_ids == [Person.objects.get(last_name="Belkacem").pk]


def test_the_filtered_worklist_keeps_its_query_count(
    client_for: Any, nadia_file: Person, django_assert_max_num_queries: Any
) -> None:
    marc = client_for("marc")
    marc.get(URL)
    filters = {
        "q": "belkacem",
        "commune": nadia_file.commune.insee_code if nadia_file.commune else "",
        "type": "global",
        "alerte": "actions-en-retard",
        "tri": "fin",
    }
    with django_assert_max_num_queries(8):
        response = marc.get(URL, filters)
    assert "Nadia BELKACEM" in response.content.decode()


def test_no_contact_alert_counts_from_the_opening_when_there_was_no_contact(
    small_var: SmallTerritory,
) -> None:
    """A file opened today is not « sans contact depuis 30 jours »; opened 31 days ago with
    no contact since, it is."""
    client = small_var.client(small_var.alice)

    response = client.get(URL)
    assert response.context["items"][0]["alerts"] == ["Pas encore de diagnostic"]
    assert names(client.get(URL, {"alerte": "sans-contact"})) == []

    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    response = client.get(URL)
    assert "Aucun contact depuis 30 jours" in response.context["items"][0]["alerts"]
    assert names(client.get(URL, {"alerte": "sans-contact"})) == ["Exemple"]
