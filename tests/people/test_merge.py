"""Territory administrators merge duplicate files, keeping all history."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Consent, Person
from binome.support import actions
from binome.support import actions as support_actions
from binome.support.models import (
    Accompaniment,
    Medium,
    Note,
    TeamMember,
    TimelineEvent,
    Visibility,
)


@pytest.fixture
def duplicate(personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person) -> Person:
    """A second file of Nadia, opened by Karim (CAF du Var) with a typo in her name."""
    person = actions.create_person(
        data={
            "first_name": "Nadia",
            "last_name": "Belkacen",
            "birth_date": date(1988, 4, 12),
            "caf_number": "",
            "phone": "",
        },
        by=personas["karim"],
        organisation=orgs["caf83"],
        kind="social",
        role="referent",
    )
    support_actions.write_note(
        person=person,
        author=personas["karim"],
        organisation=orgs["caf83"],
        accompaniment=person.accompaniments.get(),
        date=timezone.localdate(),
        medium=Medium.PHONE,
        text="Appel CAF : dossier de prime d'activité en cours.",
        visibility=Visibility.TEAM_AND_PERSON,
    )
    return person


def test_claire_sees_the_probable_duplicates(
    client_for: Any, nadia_file: Person, duplicate: Person
) -> None:
    response = client_for("claire").get(reverse("people:duplicates", args=["83"]))
    assert response.status_code == 200
    pairs = response.context["pairs"]
    assert [(p.first.pk, p.second.pk) for p in pairs] == [(nadia_file.pk, duplicate.pk)]
    assert pairs[0].reasons == ["même date de naissance et noms proches"]
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ, person_id=duplicate.pk, what__contains="doublons probables"
    ).exists()


def test_merge_repoints_every_row_and_keeps_history(
    client_for: Any, personas: dict[str, Any], nadia_file: Person, duplicate: Person
) -> None:
    karim_file = reverse("people:detail", args=[duplicate.pk])
    assert client_for("karim").get(karim_file).status_code == 200  # a read of the duplicate
    dup_accompaniment = duplicate.accompaniments.get()
    dup_events = TimelineEvent.objects.filter(person=duplicate).count()
    assert dup_events > 0

    url = reverse("people:merge", args=["83", nadia_file.pk, duplicate.pk])
    claire = client_for("claire")
    page = claire.get(url)
    assert page.status_code == 200
    response = claire.post(url, {"kept": nadia_file.pk})
    assert response.status_code == 302

    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == nadia_file.pk  # marked, not deleted
    dup_accompaniment.refresh_from_db()
    assert dup_accompaniment.person_id == nadia_file.pk
    assert TeamMember.objects.filter(accompaniment=dup_accompaniment, person=nadia_file).exists()
    assert Note.objects.filter(person=nadia_file, text__startswith="Appel CAF").exists()
    for model in (Accompaniment, Note, TimelineEvent, Consent, TeamMember):
        assert not model.objects.filter(person=duplicate).exists(), model
    # The merge is in the kept file's timeline and in the audit log of both files.
    assert TimelineEvent.objects.filter(
        person=nadia_file, summary__startswith="Doublon fusionné"
    ).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.PERSONS_MERGED, person_id=duplicate.pk).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.PERSONS_MERGED, person_id=nadia_file.pk, actor=personas["claire"]
    ).exists()
    # The merged file's address leads Karim, now on Nadia's team, to her kept file.
    kept_file = reverse("people:detail", args=[nadia_file.pk])
    followed = client_for("karim").get(karim_file)
    assert (followed.status_code, followed["Location"]) == (302, kept_file)
    assert client_for("karim").get(kept_file).status_code == 200
    # Nadia sees Karim's read of the merged file, and the note he shared with her.
    space = client_for("nadia").get(reverse("space:home"))
    reads = list(space.context["reads"])
    assert any(r.person_id == duplicate.pk and r.actor_id == personas["karim"].pk for r in reads)
    assert "Appel CAF" in space.content.decode()
    # Nothing left to merge.
    assert (
        client_for("claire").get(reverse("people:duplicates", args=["83"])).context["pairs"] == []
    )
    assert claire.get(url).status_code == 404


def test_merge_refused_to_others(client_for: Any, nadia_file: Person, duplicate: Person) -> None:
    url = reverse("people:merge", args=["83", nadia_file.pk, duplicate.pk])
    assert client_for("ines").post(url, {"kept": nadia_file.pk}).status_code == 403
    assert client_for("paul").post(url, {"kept": nadia_file.pk}).status_code == 403
    assert client_for("charlie").post(url, {"kept": nadia_file.pk}).status_code == 404
    assert client_for("nadia").post(url, {"kept": nadia_file.pk}).status_code == 404
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


def test_merge_without_choice_or_with_a_stranger_says_why(
    client_for: Any, nadia_file: Person, duplicate: Person
) -> None:
    url = reverse("people:merge", args=["83", nadia_file.pk, duplicate.pk])
    response = client_for("claire").post(url, {"kept": "999999"})
    assert response.status_code == 400
    assert "Choisissez le dossier à conserver" in response.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("ines", 302),
        ("marc", 302),
        ("karim", 302),
        ("claire", 302),
        ("charlie", 404),
        ("paul", 404),
    ],
)
def test_the_merged_files_addresses_redirect_who_sees_the_kept_file(
    client_for: Any,
    personas: dict[str, Any],
    nadia_file: Person,
    duplicate: Person,
    persona: str,
    status: int,
) -> None:
    """Bookmarks and links to the merged file lead to the kept one; outsiders keep a 404."""
    actions.merge_persons(kept=nadia_file, merged=duplicate, by=personas["claire"])
    client = client_for(persona)
    for name, query, expected in (
        ("people:detail", "?evenements=note", status),
        ("support:diagnostic_history", "", 404 if persona == "claire" else status),
        ("people:engagement_pdf", "", 404 if persona == "claire" else status),
    ):
        response = client.get(reverse(name, args=[duplicate.pk]) + query)
        assert response.status_code == expected, (name, persona)
        if expected == 302:
            assert response["Location"] == reverse(name, args=[nadia_file.pk]) + query
    # A form posted from a page opened before the merge is not silently applied elsewhere.
    post = client.post(reverse("support:note_add", args=[duplicate.pk]), {"text": "x"})
    assert post.status_code == 404


def test_two_files_each_with_an_open_global_accompaniment_are_not_merged(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    """A merge would give Nadia two binômes: refused with the way out, nothing moved; once
    the duplicate's accompaniment is ended, the merge goes through."""
    second = actions.create_person(
        data={"first_name": "Nadia", "last_name": "Belkacem", "birth_date": date(1988, 4, 12)},
        by=personas["karim"],
        organisation=orgs["caf83"],
        kind="global",
        role="social_worker",
    )
    url = reverse("people:merge", args=["83", nadia_file.pk, second.pk])
    claire = client_for("claire")
    response = claire.post(url, {"kept": nadia_file.pk})
    assert response.status_code == 400
    assert "ont chacun un accompagnement global en cours" in response.content.decode()
    second.refresh_from_db()
    assert second.merged_into_id is None
    assert second.accompaniments.get().person_id == second.pk

    support_actions.end_accompaniment(
        accompaniment=second.accompaniments.get(),
        ended_on=timezone.localdate(),
        reason="autre",
        situation="Doublon du dossier de Nadia",
        by=personas["karim"],
        organisation=orgs["caf83"],
    )
    assert claire.post(url, {"kept": nadia_file.pk}).status_code == 302
    second.refresh_from_db()
    assert second.merged_into_id == nadia_file.pk
    assert Accompaniment.objects.open().filter(person=nadia_file, kind="global").count() == 1
