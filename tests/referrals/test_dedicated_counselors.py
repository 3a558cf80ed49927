"""An orientation « vers l'accompagnement global » at France Travail reaches the agency's
dedicated counselors, from outside and from inside the agency (« et inversement »)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from binome.accounts.models import User
from binome.notifications.models import Notification, NotificationKind
from binome.organisations.models import MemberFunction, Membership, Organisation, OrganisationKind
from binome.people.models import ConsentMethod, Person
from binome.referrals import actions
from binome.referrals.access import can_answer_referral, referral_access
from binome.referrals.models import Referral, ReferralKind, Status
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, Kind, TeamMember, TeamRole
from tests.factories import SmallTerritory, make_member, make_organisation


@pytest.fixture(autouse=True)
def demo_referrals() -> None:
    """Not the demo territory here: the small one of ``tests.factories`` is enough."""


@dataclass
class Quimper:
    """Alice is the agency's dedicated counselor; Fanny and Gilles its counselors; Sophie
    the CCAS's social worker who follows the person; Fanny joined her team."""

    small: SmallTerritory
    ccas: Organisation
    sophie: User
    fanny: User
    gilles: User
    person: Person


@pytest.fixture
def quimper(small_var: SmallTerritory) -> Quimper:
    ccas = make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    sophie = make_member("Sophie", ccas, function=MemberFunction.SOCIAL_WORKER)
    fanny = make_member("Fanny", small_var.france_travail, function=MemberFunction.FT_COUNSELOR)
    gilles = make_member("Gilles", small_var.france_travail, function=MemberFunction.FT_COUNSELOR)
    person = support_actions.create_person(
        data={"first_name": "Erwan", "last_name": "Exemple", "birth_date": date(1979, 9, 23)},
        by=sophie,
        organisation=ccas,
        kind=Kind.SOCIAL,
        role=TeamRole.SOCIAL_WORKER,
    )
    support_actions.join_team(
        accompaniment=person.accompaniments.get(),
        user=fanny,
        organisation=small_var.france_travail,
        role=TeamRole.MEMBER,
        reason="Inscrit à l'agence",
        by=fanny,
    )
    return Quimper(small_var, ccas, sophie, fanny, gilles, person)


def _submit(q: Quimper, kind: str = ReferralKind.GLOBAL) -> Referral:
    return actions.send_referral(
        person=q.person,
        kind=kind,
        by=q.fanny,
        organisation=q.small.france_travail,
        to_organisation=q.small.france_travail,
        reason="Freins sociaux importants : proposition d'accompagnement global.",
        consent_method=ConsentMethod.ORAL,
    )


def _notified(kind: str = NotificationKind.REFERRAL_RECEIVED) -> set[User]:
    return {n.recipient for n in Notification.objects.filter(kind=kind).select_related("recipient")}


def test_a_counselor_submits_the_situation_to_the_dedicated_counselors_of_the_agency(
    quimper: Quimper,
) -> None:
    q, alice = quimper, quimper.small.alice
    referral = _submit(q)
    assert referral.to_organisation == q.small.france_travail
    assert _notified() == {alice}
    assert can_answer_referral(referral_access(alice, referral), referral)
    for colleague in (q.fanny, q.gilles):
        side = referral_access(colleague, referral)
        assert side.sender and not side.receiver
        assert not can_answer_referral(side, referral)
    referral = actions.accept(referral=referral, by=alice, first_step="Diagnostic partagé")
    assert referral.status == Status.ACCEPTED
    accompaniment = Accompaniment.objects.get(person=q.person, kind=Kind.GLOBAL)
    member = accompaniment.team.current().get(user=alice)
    assert member.role == TeamRole.DEDICATED_COUNSELOR
    assert accompaniment.referent == member


def test_only_the_binome_may_be_sent_inside_ones_own_organisation(quimper: Quimper) -> None:
    q = quimper
    with pytest.raises(ValidationError) as refused:
        actions.send_referral(
            person=q.person,
            kind=ReferralKind.SOCIAL,
            by=q.sophie,
            organisation=q.ccas,
            to_organisation=q.ccas,
            reason="Accompagnement social",
            consent_method=ConsentMethod.ORAL,
        )
    assert refused.value.messages[0] == (
        "Vous ne pouvez pas orienter vers votre propre organisation, sauf vers les conseillers "
        "dédiés de votre agence France Travail (accompagnement global)."
    )
    assert not Referral.objects.exists()


def test_an_agency_without_dedicated_counselors_is_named_with_the_ones_that_have_some(
    quimper: Quimper,
) -> None:
    q = quimper
    Membership.objects.filter(user=q.small.alice).update(function=MemberFunction.FT_COUNSELOR)
    other = make_organisation("France Travail Hyères", OrganisationKind.FRANCE_TRAVAIL)
    make_member("Hélène", other, function=MemberFunction.DEDICATED_COUNSELOR)
    with pytest.raises(ValidationError) as refused:
        _submit(q)
    assert refused.value.messages[0] == (
        "« France Travail Toulon » n'a déclaré aucun conseiller dédié à l'accompagnement "
        "global : son administrateur déclare cette fonction dans la liste de ses membres. "
        "Agences du territoire qui en ont : France Travail Hyères."
    )
    with pytest.raises(ValidationError, match="n'a déclaré aucun conseiller dédié"):
        actions.send_referral(
            person=q.person,
            kind=ReferralKind.GLOBAL,
            by=q.sophie,
            organisation=q.ccas,
            to_organisation=q.small.france_travail,
            reason="Accompagnement global",
            consent_method=ConsentMethod.ORAL,
        )
    assert not Referral.objects.exists()


def test_from_outside_the_binome_reaches_the_dedicated_counselors_only(quimper: Quimper) -> None:
    q, alice = quimper, quimper.small.alice
    referral = actions.send_referral(
        person=q.person,
        kind=ReferralKind.GLOBAL,
        by=q.sophie,
        organisation=q.ccas,
        to_organisation=q.small.france_travail,
        reason="Accompagnement global",
        consent_method=ConsentMethod.ORAL,
    )
    assert _notified() == {alice}
    gilles = referral_access(q.gilles, referral)
    assert gilles.any and not can_answer_referral(gilles, referral)
    assert can_answer_referral(referral_access(alice, referral), referral)


def test_the_dedicated_counselor_finds_it_in_the_inbox_and_the_form_offers_the_agency(
    quimper: Quimper,
) -> None:
    q = quimper
    _submit(q)
    inbox = html.unescape(
        q.small.client(q.small.alice).get(reverse("referrals:inbox")).content.decode()
    )
    assert "Erwan" in inbox
    fanny = q.small.client(q.fanny)
    form = html.unescape(
        fanny.get(reverse("referrals:create", args=[q.person.pk])).content.decode()
    )
    assert "France Travail Toulon (mon organisation : ses conseillers dédiés)" in form
    detail = fanny.get(reverse("referrals:detail", args=[Referral.objects.get().pk]))
    assert detail.status_code == 200
    assert "Accepter" not in html.unescape(detail.content.decode())
    assert TeamMember.objects.filter(person=q.person, user=q.small.alice).count() == 0


def test_the_dedicated_counselor_alone_in_the_agency_opens_it_herself(
    quimper: Quimper, small_var: SmallTerritory
) -> None:
    q, alice = quimper, small_var.alice
    support_actions.join_team(
        accompaniment=q.person.accompaniments.get(),
        user=alice,
        organisation=small_var.france_travail,
        role=TeamRole.DEDICATED_COUNSELOR,
        reason="Binôme",
        by=alice,
    )
    with pytest.raises(ValidationError, match="Vous êtes le seul conseiller dédié"):
        actions.send_referral(
            person=q.person,
            kind=ReferralKind.GLOBAL,
            by=alice,
            organisation=small_var.france_travail,
            to_organisation=small_var.france_travail,
            reason="Accompagnement global",
            consent_method=ConsentMethod.ORAL,
        )
