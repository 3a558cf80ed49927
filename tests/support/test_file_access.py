"""Who sees Nadia's file, and what of it: the rules of shared professional secrecy."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Consent, ConsentScope, Person
from binome.support import actions
from binome.support.access import file_access
from binome.support.models import Appointment, JoinRequest, Note, TimelineEvent, Visibility
from tests.factories import SmallTerritory

# What Karim types in « Nouvelle personne »: the identity search that shows him Nadia's file.
FOUND_BY_IDENTITY = {
    "first_name": "Nadia",
    "last_name": "Belkacem",
    "birth_date": "1988-04-12",
    "kind": "global",
    "role": "member",
}
MARC_SECRET = "dette de loyer de 1 800"
INES_TEAM_NOTE = "Diagnostic partagé avec Marc"
NIR_SHOWN = "2880483137123"

# persona → (status of the file page, sees Marc's organisation-only note)
FILE_MATRIX = {
    "ines": (200, False),
    "marc": (200, True),
    "claire": (200, False),  # administrator of Marc's organisation: the basics only
    "karim": (404, False),
    "paul": (404, False),  # steering: never a named file, though a member of Marc's organisation
    "lea": (404, False),
    "sophie": (404, False),
    "charlie": (404, False),
    "nadia": (404, False),  # her own space comes later; the professionals' page is not hers
}


@pytest.mark.parametrize("persona", sorted(FILE_MATRIX))
def test_who_sees_nadias_file(persona: str, client_for: Any, nadia_file: Person) -> None:
    status, sees_secret = FILE_MATRIX[persona]
    response = client_for(persona).get(reverse("people:detail", args=[nadia_file.pk]))
    assert response.status_code == status
    body = response.content.decode() if status == 200 else ""
    assert (MARC_SECRET in body) is sees_secret
    if persona == "claire":
        assert "Nadia BELKACEM" in body and "Accompagnement global" in body
        assert INES_TEAM_NOTE not in body and "3456789B" not in body


@pytest.mark.parametrize("persona", sorted(FILE_MATRIX))
def test_who_reads_marcs_private_note(
    persona: str, client_for: Any, marc_private_note: Note
) -> None:
    response = client_for(persona).get(reverse("support:note_detail", args=[marc_private_note.pk]))
    expected = {"marc": 200, "ines": 404, "claire": 403}.get(persona, 404)
    assert response.status_code == expected
    if expected == 200:
        assert MARC_SECRET in response.content.decode()


def test_the_timeline_hides_marcs_private_note_from_ines(
    personas: dict[str, Any], nadia_file: Person, marc_private_note: Note
) -> None:
    for persona, sees in (("ines", False), ("marc", True)):
        access = file_access(personas[persona], nadia_file)
        assert access is not None
        events = TimelineEvent.objects.filter(person=nadia_file).visible_to(access)
        assert events.filter(target_id=marc_private_note.pk, kind="note").exists() is sees


def test_nir_only_for_the_social_worker_and_referent(client_for: Any, nadia_file: Person) -> None:
    url = reverse("people:detail", args=[nadia_file.pk])
    assert NIR_SHOWN in client_for("marc").get(url).content.decode()  # social worker
    ines_page = client_for("ines").get(url).content.decode()  # dedicated counselor
    assert NIR_SHOWN not in ines_page
    assert "Renseigné (visible du référent et du travailleur social)" in ines_page


def test_the_nir_is_never_in_clear_in_the_database(nadia_file: Person) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_person WHERE id = %s", [nadia_file.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert NIR_SHOWN not in row
    assert nadia_file.nir.startswith(NIR_SHOWN)


def test_withdrawing_the_share_consent_closes_the_shared_items_at_once(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    """Marc (another organisation than the holder's) sees Inès's team notes only while the
    share consent is active; Inès, of the holding organisation, keeps seeing Marc's."""
    url = reverse("people:detail", args=[nadia_file.pk])
    marc, ines = client_for("marc"), client_for("ines")
    actions.write_note(
        person=nadia_file,
        author=personas["marc"],
        organisation=personas["marc"].memberships.get().organisation,
        date=nadia_file.created_at.date(),
        medium="phone",
        text="Note commune de Marc",
        visibility=Visibility.TEAM,
    )
    assert INES_TEAM_NOTE in marc.get(url).content.decode()
    ines_note = reverse(
        "support:note_detail", args=[Note.objects.get(text__startswith=INES_TEAM_NOTE).pk]
    )
    assert marc.get(ines_note).status_code == 200  # the link Marc's open page holds
    consent = Consent.objects.get(person=nadia_file, scope=ConsentScope.SHARE_FILE)
    response = ines.post(reverse("people:consent_withdraw", args=[nadia_file.pk, consent.pk]))
    assert response.status_code == 302
    page = marc.get(url).content.decode()
    assert INES_TEAM_NOTE not in page
    assert "Note commune de Marc" in page  # his own organisation's items stay
    assert marc.get(ines_note).status_code == 404  # the stale page's link no longer opens
    assert "Note commune de Marc" in ines.get(url).content.decode()
    # A stale page withdrawing it again: a clear message, nothing changes.
    again = ines.post(
        reverse("people:consent_withdraw", args=[nadia_file.pk, consent.pk]), follow=True
    )
    assert "Ce consentement a déjà été retiré" in again.content.decode()
    assert Consent.objects.get(pk=consent.pk).withdrawn_by == personas["ines"]
    # Given again: shared again.
    actions.record_consent(
        person=nadia_file,
        scope=ConsentScope.SHARE_FILE,
        method="oral",
        given_on=consent.given_on,
        by=personas["ines"],
        organisation=consent.person.organisation,
    )
    assert INES_TEAM_NOTE in marc.get(url).content.decode()


def test_a_health_note_defaults_to_the_authors_organisation(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    response = client_for("marc").post(
        reverse("support:note_add", args=[nadia_file.pk]),
        {
            "date": "2026-01-05",
            "medium": "in_person",
            "text": "Suivi psychologique",
            "is_health": "on",
        },
    )
    assert response.status_code == 302
    note = Note.objects.get(text="Suivi psychologique")
    assert note.visibility == Visibility.ORGANISATION
    page = client_for("ines").get(reverse("people:detail", args=[nadia_file.pk])).content
    assert "Suivi psychologique" not in page.decode()


def test_leaving_the_team_closes_the_file_and_keeps_history(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    marc = client_for("marc")
    response = marc.post(reverse("support:team_leave", args=[accompaniment.pk]))
    assert response.status_code == 302
    assert marc.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    member = accompaniment.team.get(user=personas["marc"])
    assert member.left_at is not None and member.join_reason


def test_karim_finds_nadia_and_joins_with_a_reason(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    karim = client_for("karim")
    join_url = reverse("support:join", args=[nadia_file.pk])
    # Nadia is reached through the identity search (names and birth date), not by her id.
    assert karim.get(join_url).status_code == 404
    karim.post(reverse("people:create"), FOUND_BY_IDENTITY)
    page = karim.get(join_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nadia BELKACEM" in body and "1988" in body
    assert "3456789B" not in body and "06 12 34 56 78" not in body
    accompaniment = nadia_file.accompaniments.get()
    refused = karim.post(join_url, {"accompaniment": accompaniment.pk, "role": "member"})
    assert "Indiquez pourquoi vous rejoignez ce dossier." in refused.content.decode()
    joined = karim.post(
        join_url,
        {"accompaniment": accompaniment.pk, "role": "member", "reason": "Critères AVIP"},
    )
    assert joined.status_code == 302
    # A request, which the team grants (tests/support/test_join_requests.py).
    assert karim.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    request = JoinRequest.objects.get(user=personas["karim"])
    # The designated referent (Inès, who opened the accompaniment) answers first.
    client_for("ines").post(
        reverse("support:join_request_decide", args=[request.pk]), {"decision": "accept"}
    )
    assert karim.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 200
    event = AuditEvent.objects.get(
        kind=AuditKind.TEAM_JOINED,
        person_id=nadia_file.pk,
        target_id=str(accompaniment.team.get(user=personas["karim"]).pk),
    )
    assert event.details["reason"] == "Critères AVIP" and event.person_id == nadia_file.pk


@pytest.mark.parametrize("persona", ["paul", "lea", "charlie", "sophie", "nadia"])
def test_others_cannot_even_find_nadia(persona: str, client_for: Any, nadia_file: Person) -> None:
    assert client_for(persona).get(reverse("support:join", args=[nadia_file.pk])).status_code == 404


def _person_routes(nadia: Person, note: Note) -> list[str]:
    accompaniment = nadia.accompaniments.get()
    return [
        reverse("people:detail", args=[nadia.pk]),
        reverse("people:household_add", args=[nadia.pk]),
        reverse("people:consent_add", args=[nadia.pk]),
        reverse("support:note_add", args=[nadia.pk]),
        reverse("support:note_detail", args=[note.pk]),
        reverse("support:appointment_add", args=[nadia.pk]),
        reverse("support:accompaniment_open", args=[nadia.pk]),
        reverse("support:accompaniment_transition", args=[accompaniment.pk]),
        reverse("support:accompaniment_extend", args=[accompaniment.pk]),
        reverse("support:accompaniment_exit", args=[accompaniment.pk]),
    ]


def test_every_read_of_the_file_is_logged(
    personas: dict[str, Any], client_for: Any, nadia_file: Person, marc_private_note: Note
) -> None:
    marc = client_for("marc")
    for path in _person_routes(nadia_file, marc_private_note):
        before = AuditEvent.objects.reads_of_person(nadia_file.pk).count()
        assert marc.get(path).status_code == 200, path
        reads = AuditEvent.objects.reads_of_person(nadia_file.pk)
        assert reads.count() == before + 1, path
        assert reads.first().actor == personas["marc"]  # type: ignore[union-attr]
    # The join page (minimal identity) of someone not on the team is a read too.
    karim = client_for("karim")
    karim.post(reverse("people:create"), FOUND_BY_IDENTITY)
    karim_reads = AuditEvent.objects.reads_of_person(nadia_file.pk).filter(actor=personas["karim"])
    before = karim_reads.count()
    karim.get(reverse("support:join", args=[nadia_file.pk]))
    assert karim_reads.count() == before + 1


def test_file_page_query_count_does_not_grow_with_the_timeline(
    personas: dict[str, Any],
    client_for: Any,
    nadia_file: Person,
    django_assert_max_num_queries: Any,
) -> None:
    ines = client_for("ines")
    url = reverse("people:detail", args=[nadia_file.pk])
    ines.get(url)
    for i in range(40):
        actions.write_note(
            person=nadia_file,
            author=personas["ines"],
            organisation=nadia_file.organisation,
            date=nadia_file.created_at.date(),
            medium="phone",
            text=f"Appel {i}",
            visibility=Visibility.TEAM,
        )
    # 14, 4 for the diagnostic and the plan (see tests/support/test_plan.py), 1 for the
    # referrals section (the header's counts come after the page).
    with django_assert_max_num_queries(19):
        assert ines.get(url).status_code == 200
    with django_assert_max_num_queries(19):
        assert ines.get(url + "?evenements=note&page=2").status_code == 200


def test_worklist_lists_my_persons_with_alerts(
    client_for: Any, nadia_file: Person, django_assert_max_num_queries: Any
) -> None:
    marc = client_for("marc")
    marc.get(reverse("support:worklist"))
    with django_assert_max_num_queries(8):
        response = marc.get(reverse("support:worklist") + "?tri=fin")
    body = response.content.decode()
    assert "Nadia BELKACEM" in body
    # The demo's shared diagnostic is made, and one action of its plan is overdue.
    assert "Pas encore de diagnostic" not in body
    assert "1 action en retard" in body
    assert "Nadia" not in client_for("karim").get(reverse("support:worklist")).content.decode()


def test_a_file_with_empty_sections_reads_none_of_them(
    small_var: SmallTerritory, django_assert_num_queries: Any
) -> None:
    """A file with one accompaniment and nothing else (no household, consent, note,
    appointment, diagnostic or plan): its sections cost no statement of their own; each
    one's rows show again as soon as it has some."""
    client = small_var.client(small_var.bob)
    url = reverse("people:detail", args=[small_var.person.pk])
    client.get(url)
    # Session, user, devices, memberships, roles; the person (with her sections' flags),
    # her team, the read's audit row; her accompaniments, the timeline; the referrals
    # section: 11 (17 before the flags).
    with django_assert_num_queries(11):
        body = client.get(url).content.decode()
    for empty in (
        "Aucun membre du foyer renseigné.",
        "Aucun consentement enregistré.",
        "Aucune note que vous puissiez lire.",
        "Aucun rendez-vous.",
    ):
        assert empty in body
    Appointment.objects.create(
        person=small_var.person,
        accompaniment=small_var.accompaniment,
        at=timezone.now(),
        place="Agence de Toulon",
        with_whom="Alice",
        created_by=small_var.alice,
        organisation=small_var.france_travail,
    )
    with django_assert_num_queries(12):
        body = client.get(url).content.decode()
    assert "Agence de Toulon" in body
