"""A form page of a person's file shown again after an invalid POST shows the person's
data: it leaves the same read line as its GET; a valid POST (a redirect) leaves none."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.support.models import Objective, Visibility


def _form_url(name: str, nadia: Person) -> str:
    if name == "support:objective_edit":
        objective = Objective.objects.filter(
            person=nadia, visibility=Visibility.TEAM_AND_PERSON
        ).first()
        assert objective is not None
        return reverse(name, args=[objective.pk])
    return reverse(name, args=[nadia.pk])


def _reads(user: Any, nadia: Person) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(kind=AuditKind.READ, actor=user, person_id=nadia.pk)
        .order_by("id")
        .values_list("what", "target_type", "target_id")
    )


@pytest.mark.parametrize(
    "name",
    [
        "people:household_add",
        "people:consent_add",
        "support:note_add",
        "support:appointment_add",
        "support:diagnostic_create",
        "support:objective_add",
        "support:objective_edit",
        "referrals:create",
    ],
)
def test_an_invalid_post_is_logged_like_the_get(
    name: str, client_for: Any, personas: dict[str, Any], nadia_file: Person
) -> None:
    ines = client_for("ines")
    url = _form_url(name, nadia_file)
    before = _reads(personas["ines"], nadia_file)
    assert ines.get(url).status_code == 200
    after_get = _reads(personas["ines"], nadia_file)
    read_by_get = after_get[len(before) :]
    assert len(read_by_get) == 1 and read_by_get[0][0]
    shown_again = ines.post(url, {"unknown": "1"})  # every required field missing
    assert shown_again.status_code in (200, 400)  # the orientation form says 400
    assert shown_again.context["form"].errors  # the form is shown again, with its errors
    assert nadia_file.first_name in shown_again.content.decode()
    assert _reads(personas["ines"], nadia_file)[len(after_get) :] == read_by_get


def test_a_valid_post_that_redirects_is_not_a_read(
    client_for: Any, personas: dict[str, Any], nadia_file: Person
) -> None:
    ines = client_for("ines")
    before = _reads(personas["ines"], nadia_file)
    saved = ines.post(
        reverse("support:note_add", args=[nadia_file.pk]),
        {"date": "2026-01-05", "medium": "phone", "text": "Appel : point sur la formation."},
    )
    assert saved.status_code == 302
    assert _reads(personas["ines"], nadia_file) == before


def test_a_refused_post_outside_the_file_writes_nothing(
    client_for: Any, personas: dict[str, Any], nadia_file: Person
) -> None:
    charlie = client_for("charlie")
    response = charlie.post(reverse("support:note_add", args=[nadia_file.pk]), {})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditKind.READ, actor=personas["charlie"]).exists()
