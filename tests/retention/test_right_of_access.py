"""The person's right of access: she downloads all Binôme holds about her from her space;
her team records her request (due within a month) and hands over the same files."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import record_read
from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.retention.models import DataAccessRequest
from binome.support import actions as support_actions
from binome.support.models import Medium, Visibility
from tests.factories import SmallTerritory

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoe(small_var: SmallTerritory) -> SmallTerritory:
    """Zoé has her space; her team wrote a note shared with her and one for the team."""
    person = small_var.person
    person.user = User.objects.create_user(
        email="zoe@exemple.test", password=None, first_name="Zoé", last_name="Exemple"
    )
    person.save(update_fields=["user"])
    for text, visibility in (
        ("Point sur la recherche de logement", Visibility.TEAM_AND_PERSON),
        ("Réservé à l'équipe : dettes", Visibility.TEAM),
    ):
        support_actions.write_note(
            person=person,
            author=small_var.alice,
            organisation=small_var.france_travail,
            date=timezone.localdate(),
            medium=Medium.IN_PERSON,
            text=text,
            visibility=visibility,
        )
    return small_var


def read_by_bob(small_var: SmallTerritory) -> None:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = small_var.bob
    record_read(
        request=request, obj=small_var.person, person_id=small_var.person.pk, what="Dossier"
    )


def test_she_downloads_her_data_from_her_space(zoe: SmallTerritory) -> None:
    read_by_bob(zoe)
    client = Client()
    client.force_login(zoe.person.user)
    assert "Télécharger mes données" in client.get(reverse("retention:my_data")).content.decode()
    response = client.get(reverse("retention:my_data_download", args=["json"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["identite"]["prenom"] == "Zoé"
    assert data["identite"]["date_de_naissance"] == "1990-05-04"
    assert [n["texte"] for n in data["notes_partagees"]] == ["Point sur la recherche de logement"]
    assert "dettes" not in response.content.decode()
    assert data["accompagnements"][0]["type"] == "Accompagnement global"
    assert {r["professionnel"] for r in data["consultations_du_dossier"]} == {
        f"Bob Test <{zoe.bob.email}>"
    }
    pdf = client.get(reverse("retention:my_data_download", args=["pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    access_request = DataAccessRequest.objects.get(person=zoe.person)  # one a day
    assert access_request.by_person and access_request.answered_at is not None
    assert (
        AuditEvent.objects.filter(
            kind=AuditKind.DATA_ACCESS_ANSWERED, person_id=zoe.person.pk
        ).count()
        == 2
    )
    assert client.get(reverse("retention:my_data_download", args=["xml"])).status_code == 404


def test_a_professional_has_no_space_data(zoe: SmallTerritory) -> None:
    page = zoe.client(zoe.alice).get(reverse("retention:my_data_download", args=["json"]))
    assert page.status_code == 404


def test_the_team_records_the_request_and_hands_over_the_data(zoe: SmallTerritory) -> None:
    client = zoe.client(zoe.bob)
    path = reverse("retention:file_access", args=[zoe.person.pk])
    future = client.post(path, {"requested_on": (date.today() + timedelta(days=3)).isoformat()})
    assert future.status_code == 400
    assert "ne peut pas être future" in future.content.decode()
    bad = client.post(path, {"requested_on": "31/02/2026"})
    assert bad.status_code == 400
    assert not DataAccessRequest.objects.exists()
    requested_on = timezone.localdate() - timedelta(days=40)
    assert client.post(path, {"requested_on": requested_on.isoformat()}).status_code == 302
    access_request = DataAccessRequest.objects.get()
    page = client.get(path).content.decode()
    assert access_request.due_on.strftime("%d/%m/%Y") in page
    assert "En retard" in page
    download = client.get(
        reverse("retention:file_access_download", args=[zoe.person.pk, access_request.pk, "pdf"])
    )
    assert download.content.startswith(b"%PDF")
    access_request.refresh_from_db()
    assert access_request.answered_by == zoe.bob
    assert "En retard" not in client.get(path).content.decode()
    assert AuditEvent.objects.filter(
        kind=AuditKind.DATA_ACCESS_REQUESTED, person_id=zoe.person.pk, actor=zoe.bob
    ).exists()


def test_outside_the_team_it_is_a_404(zoe: SmallTerritory) -> None:
    path = reverse("retention:file_access", args=[zoe.person.pk])
    assert zoe.client(zoe.charlie).get(path).status_code == 404
