"""Joining a team is granted, never taken: a request the team accepts (its referent first,
any member after 48 hours), an invitation the invitee accepts, or a referral accepted. What a
member sees of the file (NIR, health) follows from the function their organisation declared."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification
from binome.organisations.models import MemberFunction, Membership
from binome.people.models import Person
from binome.support import access as file_rules
from binome.support.demo import NADIA_NIR
from binome.support.models import JoinRequest, JoinRequestStatus, TeamMember, TeamRole

IDENTITY = {
    "first_name": "Nadia",
    "last_name": "Belkacem",
    "birth_date": "1988-04-12",
    "sex": "F",
    "kind": "global",
    "role": "member",
}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _search_identity(client: Any) -> Any:
    """The identity search of « Nouvelle personne »: names and birth date."""
    return client.post(reverse("people:create"), IDENTITY)


def test_karim_cannot_reach_nadia_by_typing_her_id(client_for: Any, nadia_file: Person) -> None:
    karim = client_for("karim")
    accompaniment = nadia_file.accompaniments.get()
    join_url = reverse("support:join", args=[nadia_file.pk])
    open_url = reverse("support:accompaniment_open", args=[nadia_file.pk])
    assert karim.get(join_url).status_code == 404
    assert karim.get(open_url).status_code == 404
    posted = karim.post(
        join_url,
        {"accompaniment": accompaniment.pk, "role": "referent", "reason": "Je veux voir"},
    )
    assert posted.status_code == 404
    opened = karim.post(
        open_url,
        {"kind": "professional", "started_on": timezone.localdate().isoformat(), "reason": "x"},
    )
    assert opened.status_code == 404
    assert karim.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    assert not TeamMember.objects.filter(user__email="karim.haddad@caf83.test").exists()
    assert not JoinRequest.objects.exists()


def test_karim_asks_the_team_which_accepts_and_nadia_sees_why(
    personas: dict[str, Any],
    client_for: Any,
    nadia_file: Person,
    django_capture_on_commit_callbacks: Any,
) -> None:
    karim = client_for("karim")
    accompaniment = nadia_file.accompaniments.get()
    found = _search_identity(karim)
    assert found.status_code == 200
    assert "Nadia BELKACEM" in found.content.decode()
    search = AuditEvent.objects.get(kind=AuditKind.PERSON_FOUND, actor=personas["karim"])
    assert search.details["candidates"] == [nadia_file.pk]

    join_url = reverse("support:join", args=[nadia_file.pk])
    page = karim.get(join_url)
    assert page.status_code == 200
    assert "role" not in page.context["form"].fields  # the role is not his to choose
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = karim.post(
            join_url,
            {
                "accompaniment": accompaniment.pk,
                "role": "social_worker",
                "reason": "Vérifier les critères AVIP pour la garde de Yanis",
            },
        )
    assert asked.status_code == 302
    request = JoinRequest.objects.get(user=personas["karim"])
    assert request.status == JoinRequestStatus.PENDING
    # Asking opens nothing: no NIR, no health, no notes.
    assert karim.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    assert not accompaniment.team.current().filter(user=personas["karim"]).exists()
    # The team is told (in Binôme and by e-mail), without the person's name.
    told = Notification.objects.filter(title="Demande pour rejoindre une équipe")
    assert {n.recipient_id for n in told} == {personas["ines"].pk, personas["marc"].pk}
    assert {m.to[0] for m in mail.outbox} >= {personas["ines"].email, personas["marc"].email}
    assert all("Belkacem" not in m.body and "BELKACEM" not in m.body for m in mail.outbox)

    # Karim cannot grant his own request.
    decide = reverse("support:join_request_decide", args=[request.pk])
    karim.post(decide, {"decision": "accept"})
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.PENDING

    # The team has no referent: any member answers. Inès accepts.
    ines = client_for("ines")
    listed = _text(ines.get(reverse("support:join_requests")))
    assert "Vérifier les critères AVIP" in listed and "Karim Haddad" in listed
    assert ines.post(decide, {"decision": "accept"}).status_code == 302
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.ACCEPTED and request.decided_by == personas["ines"]
    member = accompaniment.team.current().get(user=personas["karim"])
    assert member.role == TeamRole.MEMBER  # a CAF agent, as his organisation declared

    file_page = karim.get(reverse("people:detail", args=[nadia_file.pk]))
    assert file_page.status_code == 200
    assert file_page.context["can_view_nir"] is False
    assert NADIA_NIR not in _digits(file_page.content.decode())
    access = file_rules.file_access(personas["karim"], nadia_file)
    assert not file_rules.can_view_nir(access)
    assert not file_rules.can_view_health_details(access)

    # Nadia sees in her space that he joined, when and why.
    space = _text(client_for("nadia").get(reverse("space:home")))
    assert "Karim Haddad" in space
    assert "Vérifier les critères AVIP pour la garde de Yanis" in space
    assert f"{timezone.localdate():%d/%m/%Y}" in space


def test_the_referent_answers_first_then_any_member_after_48_hours(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    TeamMember.objects.filter(accompaniment=accompaniment, user=personas["ines"]).update(
        role=TeamRole.REFERENT
    )
    karim = client_for("karim")
    _search_identity(karim)
    karim.post(
        reverse("support:join", args=[nadia_file.pk]),
        {"accompaniment": accompaniment.pk, "reason": "Critères AVIP"},
    )
    request = JoinRequest.objects.get(user=personas["karim"])
    decide = reverse("support:join_request_decide", args=[request.pk])
    marc = client_for("marc")
    assert "vous pourrez répondre à partir du" in _text(marc.get(reverse("support:join_requests")))
    marc.post(decide, {"decision": "accept"})
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.PENDING
    JoinRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(hours=49)
    )
    marc.post(decide, {"decision": "decline", "reason": ""})
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.PENDING  # a refusal needs its reason
    marc.post(decide, {"decision": "decline", "reason": "Le dossier n'a pas de volet AVIP."})
    request.refresh_from_db()
    assert request.status == JoinRequestStatus.DECLINED
    assert request.decline_reason == "Le dossier n'a pas de volet AVIP."
    assert Notification.objects.filter(recipient=personas["karim"], title="Demande refusée")
    assert (
        client_for("karim").get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404
    )


def test_a_role_follows_the_declared_function_not_the_team_row(
    personas: dict[str, Any], client_for: Any, nadia_file: Person, orgs: dict[str, Any]
) -> None:
    """Even a team row that says « travailleur social » gives a CAF agent no NIR: what his
    organisation's administrator declared decides; once declared social worker, it does."""
    accompaniment = nadia_file.accompaniments.get()
    TeamMember.objects.create(
        accompaniment=accompaniment,
        person=nadia_file,
        user=personas["karim"],
        organisation=orgs["caf83"],
        role=TeamRole.SOCIAL_WORKER,
        join_reason="Ligne ancienne",
    )
    access = file_rules.file_access(personas["karim"], nadia_file)
    assert access is not None and access.team_roles == {"member"}
    assert not file_rules.can_view_nir(access)
    membership = Membership.objects.get(user=personas["karim"], organisation=orgs["caf83"])
    # Claire administers the Var's territory: she manages its organisations' members.
    page = client_for("claire").post(
        reverse("organisations:member_function", args=[orgs["caf83"].pk, membership.pk]),
        {"function": MemberFunction.SOCIAL_WORKER},
    )
    assert page.status_code == 302
    membership.refresh_from_db()
    assert membership.function == MemberFunction.SOCIAL_WORKER
    assert AuditEvent.objects.filter(kind=AuditKind.ROLE_CHANGED, target_id=str(membership.pk))
    access = file_rules.file_access(personas["karim"], nadia_file)
    assert access is not None and file_rules.can_view_nir(access)


def test_a_function_not_of_the_organisation_kind_is_refused(
    personas: dict[str, Any], client_for: Any, orgs: dict[str, Any]
) -> None:
    """The crèche's administrator cannot declare anyone a France Travail counselor."""
    lea = client_for("lea")
    membership = Membership.objects.get(user=personas["lea"], organisation=orgs["creche_toulon"])
    lea.post(
        reverse("organisations:member_function", args=[orgs["creche_toulon"].pk, membership.pk]),
        {"function": MemberFunction.DEDICATED_COUNSELOR},
    )
    membership.refresh_from_db()
    assert membership.function == MemberFunction.CHILDCARE
    # A member who is not an administrator may not declare functions at all.
    marc_membership = Membership.objects.get(user=personas["marc"], organisation=orgs["dep83"])
    refused = client_for("marc").post(
        reverse("organisations:member_function", args=[orgs["dep83"].pk, marc_membership.pk]),
        {"function": MemberFunction.OTHER},
    )
    assert refused.status_code == 403


def test_an_invitation_is_accepted_by_the_invitee(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    marc = client_for("marc")
    invite_url = reverse("support:team_invite", args=[accompaniment.pk])
    unknown = marc.post(invite_url, {"email": "personne@nulle-part.test", "reason": "AVIP"})
    assert "Aucun professionnel d'une organisation du département" in _text(unknown)
    sent = marc.post(
        invite_url, {"email": " Karim.Haddad@CAF83.test ", "reason": "Critères AVIP de Yanis"}
    )
    assert sent.status_code == 302
    invitation = JoinRequest.objects.get(user=personas["karim"])
    assert invitation.invited_by == personas["marc"]
    # Marc cannot accept the invitation in Karim's place.
    decide = reverse("support:join_request_decide", args=[invitation.pk])
    marc.post(decide, {"decision": "accept"})
    invitation.refresh_from_db()
    assert invitation.status == JoinRequestStatus.PENDING
    karim = client_for("karim")
    page = _text(karim.get(reverse("support:join_requests")))
    assert "Nadia BELKACEM" in page and "Critères AVIP de Yanis" in page
    karim.post(decide, {"decision": "accept"})
    invitation.refresh_from_db()
    assert invitation.status == JoinRequestStatus.ACCEPTED
    assert accompaniment.team.current().filter(user=personas["karim"]).exists()


def test_opening_an_accompaniment_does_not_bypass_the_team(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    karim = client_for("karim")
    _search_identity(karim)
    response = karim.post(
        reverse("support:accompaniment_open", args=[nadia_file.pk]),
        {
            "kind": "professional",
            "started_on": timezone.localdate().isoformat(),
            "role": "member",
            "reason": "Ouvrir pour voir",
        },
    )
    assert response.status_code == 200
    assert "demandez à rejoindre l'équipe" in _text(response)
    assert nadia_file.accompaniments.count() == 1
    assert karim.get(reverse("people:detail", args=[nadia_file.pk])).status_code == 404


def test_the_identity_search_is_limited_per_user_and_logged(
    personas: dict[str, Any], client_for: Any, settings: Any
) -> None:
    settings.IDENTITY_SEARCHES_PER_HOUR = 2
    karim = client_for("karim")
    persons = Person.objects.count()
    for _ in range(2):
        assert "Nadia BELKACEM" in _search_identity(karim).content.decode()
    refused = _text(_search_identity(karim))
    assert "Vous avez fait 2 recherches de personnes en une heure" in refused
    assert "Nadia BELKACEM" not in refused
    # Nor does a confirmed creation slip through once the limit is reached.
    _search_identity_confirmed = karim.post(
        reverse("people:create"), {**IDENTITY, "confirm_new": "on"}
    )
    assert _search_identity_confirmed.status_code == 200
    assert Person.objects.count() == persons
    assert (
        AuditEvent.objects.filter(kind=AuditKind.PERSON_FOUND, actor=personas["karim"]).count() == 2
    )
    assert (
        AuditEvent.objects.filter(
            kind=AuditKind.IDENTITY_SEARCH_REFUSED, actor=personas["karim"]
        ).count()
        == 2
    )


@pytest.mark.parametrize("persona", ["paul", "lea", "charlie"])
def test_steering_crèche_and_other_départements_cannot_search_their_way_in(
    persona: str, client_for: Any, nadia_file: Person
) -> None:
    client = client_for(persona)
    client.post(reverse("people:create"), IDENTITY)
    assert client.get(reverse("support:join", args=[nadia_file.pk])).status_code == 404


def test_an_invalid_join_request_shown_again_is_a_read(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    """The join page shown again after a request without its reason shows Nadia's minimal
    identity again: it is a read of her file, like the GET."""
    karim = client_for("karim")
    _search_identity(karim)
    reads = AuditEvent.objects.reads_of_person(nadia_file.pk).filter(actor=personas["karim"])
    before = reads.count()
    page = karim.post(
        reverse("support:join", args=[nadia_file.pk]),
        {"accompaniment": nadia_file.accompaniments.get().pk, "reason": ""},
    )
    assert page.status_code == 200 and "Nadia BELKACEM" in page.content.decode()
    assert reads.count() == before + 1
    assert not JoinRequest.objects.exists()


def test_a_request_for_an_organisation_of_another_département_is_refused(
    personas: dict[str, Any], nadia_file: Person, orgs: dict[str, Any]
) -> None:
    """The action holds the rule itself, whatever page calls it: Charlie (Essonne) cannot ask
    to join a Var team for his agency."""
    from django.core.exceptions import ValidationError

    from binome.support import actions

    with pytest.raises(ValidationError, match="pas une organisation du département"):
        actions.request_to_join(
            accompaniment=nadia_file.accompaniments.get(),
            user=personas["charlie"],
            organisation=orgs["ft_evry"],
            reason="Curiosité",
        )
    assert not JoinRequest.objects.exists()


def test_the_join_requests_page_logs_the_persons_it_names(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    """Inès sees Nadia's name among the requests to answer: a read line names Nadia."""
    karim = client_for("karim")
    _search_identity(karim)
    karim.post(
        reverse("support:join", args=[nadia_file.pk]),
        {"accompaniment": nadia_file.accompaniments.get().pk, "reason": "Critères AVIP"},
    )
    client_for("ines").get(reverse("support:join_requests"))
    line = AuditEvent.objects.filter(
        kind=AuditKind.READ, actor=personas["ines"], what__startswith="Liste : demandes"
    ).get()
    assert line.person_ids == [nadia_file.pk]
