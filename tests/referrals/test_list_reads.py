"""The referral lists name persons: each page view leaves one read line naming them, found
by each person's « Qui a consulté mon dossier »."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.referrals import actions
from binome.referrals.models import Referral, ReferralKind
from binome.support.models import Accompaniment, Kind
from binome.support.space import reads_of_file


@pytest.fixture
def reorientation(personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person) -> Referral:
    accompaniment = Accompaniment.objects.filter(person=nadia_file).open().get()
    return actions.send_referral(
        person=nadia_file,
        kind=ReferralKind.REORIENTATION,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        accompaniment=accompaniment,
        requested_kind=next(k for k in Kind.values if k != accompaniment.kind),
        reason="Les difficultés sociales prennent le pas sur la recherche d'emploi.",
    )


@pytest.mark.parametrize(
    ("persona", "url", "what"),
    [
        ("gwenael", reverse("referrals:inbox"), "Nom dans la liste des orientations reçues"),
        ("ines", reverse("referrals:sent"), "Nom dans la liste des orientations envoyées"),
        (
            "claire",
            reverse("referrals:reorientations", args=["83"]),
            "Nom dans la liste des demandes de réorientation",
        ),
    ],
)
def test_a_list_page_leaves_one_line_naming_the_persons_shown(
    persona: str,
    url: str,
    what: str,
    personas: dict[str, Any],
    client_for: Any,
    reorientation: Referral,
) -> None:
    client = client_for(persona)
    lines_before = AuditEvent.objects.count()
    response = client.get(url)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    line = AuditEvent.objects.get(actor=personas[persona], kind=AuditKind.READ)
    assert AuditEvent.objects.count() == lines_before + 1  # one line for the page view
    assert line.what == what and line.person_id is None
    listed = list(Person.objects.filter(pk__in=line.person_ids))
    assert listed and len(listed) == len(line.person_ids)
    for person in listed:
        assert person.full_name in page
        assert line in reads_of_file(person)
