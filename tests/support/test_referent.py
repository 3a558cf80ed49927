"""One designated referent per accompaniment, changed by the team with a reason; roles
changed without leaving and re-joining, within the declared function."""

from __future__ import annotations

import html
import importlib
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification
from binome.organisations.models import MemberFunction, OrganisationKind
from binome.people.models import ConsentMethod, ConsentScope
from binome.support import actions
from binome.support.access import can_decide_join_request
from binome.support.diagnostic import ThemeAnswer
from binome.support.forms import team_role_choices
from binome.support.models import (
    Accompaniment,
    BarrierLevel,
    JoinRequest,
    Kind,
    State,
    TeamMember,
    TeamRole,
    TimelineEvent,
)
from binome.support.referential import themes
from tests.factories import SmallTerritory, make_member, make_organisation


def _member(small_var: SmallTerritory, user: Any) -> TeamMember:
    return small_var.accompaniment.team.current().get(user=user)


def _referent_user(accompaniment: Accompaniment) -> Any:
    accompaniment.refresh_from_db()
    return accompaniment.referent.user if accompaniment.referent else None


def test_whoever_opens_the_accompaniment_is_its_referent(small_var: SmallTerritory) -> None:
    assert _referent_user(small_var.accompaniment) == small_var.alice


def test_a_ccas_social_worker_keeping_the_role_referent_still_completes_the_binome(
    small_var: SmallTerritory,
) -> None:
    """The CCAS worker opened the file as « référent »: she is the binôme's social worker
    all the same (her declared function), so the binôme can be activated."""
    ccas = make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    sophie = make_member("Sophie", ccas, function=MemberFunction.SOCIAL_WORKER)
    person = actions.create_person(
        data={"first_name": "Léo", "last_name": "Exemple", "birth_date": date(1985, 1, 2)},
        by=sophie,
        organisation=ccas,
        kind=Kind.GLOBAL,
        role=TeamRole.REFERENT,
    )
    accompaniment = person.accompaniments.get()
    actions.join_team(
        accompaniment=accompaniment,
        user=small_var.alice,
        organisation=small_var.france_travail,
        role=TeamRole.DEDICATED_COUNSELOR,
        reason="Binôme",
        by=small_var.alice,
    )
    assert actions.binome_is_complete(accompaniment)
    # A global accompaniment is activated after the diagnostic validated by both sides.
    actions.record_consent(
        person=person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=sophie,
        organisation=ccas,
    )
    diagnostic = actions.record_diagnostic(
        person=person,
        by=sophie,
        organisation=ccas,
        made_on=timezone.localdate(),
        accompaniment=accompaniment,
        answers=[ThemeAnswer(theme=theme.code, level=BarrierLevel.NONE) for theme in themes()],
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=diagnostic, by=small_var.alice)
    actions.change_state(
        accompaniment=accompaniment, to_state=State.ACTIVE, by=sophie, organisation=ccas
    )
    accompaniment.refresh_from_db()
    assert accompaniment.state == State.ACTIVE
    assert accompaniment.referent.user == sophie


def test_a_role_the_declared_function_does_not_allow_does_not_fill_the_binome(
    small_var: SmallTerritory,
) -> None:
    """A CAF agent recorded as « travailleur social » is not the binôme's social worker."""
    carol = small_var.carol
    accompaniment = small_var.accompaniment
    actions.leave_team(member=_member(small_var, small_var.bob), by=small_var.bob)
    actions.join_team(
        accompaniment=accompaniment,
        user=carol,
        organisation=small_var.caf,
        role=TeamRole.SOCIAL_WORKER,
        reason="Droits CAF",
        by=carol,
    )
    TeamMember.objects.filter(user=carol).update(role=TeamRole.SOCIAL_WORKER)
    assert not actions.binome_is_complete(accompaniment)


def test_the_role_offered_first_is_the_one_the_function_gives() -> None:
    assert team_role_choices(MemberFunction.SOCIAL_WORKER)[0][0] == TeamRole.SOCIAL_WORKER
    assert team_role_choices(MemberFunction.DEDICATED_COUNSELOR)[0][0] == (
        TeamRole.DEDICATED_COUNSELOR
    )
    assert team_role_choices(MemberFunction.FT_COUNSELOR)[0][0] == TeamRole.MEMBER


def test_the_team_designates_another_referent_with_a_reason(small_var: SmallTerritory) -> None:
    accompaniment, alice, bob = small_var.accompaniment, small_var.alice, small_var.bob
    actions.designate_referent(
        accompaniment=accompaniment,
        member=_member(small_var, bob),
        reason="Suivi social prioritaire (logement)",
        by=alice,
    )
    assert _referent_user(accompaniment) == bob
    event = TimelineEvent.objects.filter(person=small_var.person).first()
    assert event is not None
    assert "Bob Test (Département du Var) est désigné(e) référent(e)" in event.summary
    assert "Suivi social prioritaire (logement)" in event.summary
    audit = AuditEvent.objects.filter(kind=AuditKind.TEAM_CHANGED).get()
    assert audit.actor == alice
    assert audit.person_id == small_var.person.pk
    notice = Notification.objects.get(recipient=bob)
    assert notice.title == "Vous êtes désigné(e) référent(e)"
    assert "Zoé" not in notice.body
    assert not Notification.objects.filter(recipient=alice).exists()


@pytest.mark.parametrize(
    ("who", "whom", "reason", "message"),
    [
        ("alice", "bob", "  ", "Indiquez le motif du changement."),
        ("carol", "bob", "Je veux", "Seule l'équipe de l'accompagnement modifie son équipe."),
        ("alice", "alice", "Déjà", "est déjà le ou la référente"),
    ],
)
def test_a_referent_change_is_refused_in_french(
    small_var: SmallTerritory, who: str, whom: str, reason: str, message: str
) -> None:
    accompaniment = small_var.accompaniment
    with pytest.raises(ValidationError, match=message):
        actions.designate_referent(
            accompaniment=accompaniment,
            member=_member(small_var, getattr(small_var, whom)),
            reason=reason,
            by=getattr(small_var, who),
        )
    assert _referent_user(accompaniment) == small_var.alice
    assert not AuditEvent.objects.filter(kind=AuditKind.TEAM_CHANGED).exists()


def test_a_member_who_left_cannot_be_designated(small_var: SmallTerritory) -> None:
    bob_member = _member(small_var, small_var.bob)
    actions.leave_team(member=bob_member, by=small_var.bob)
    with pytest.raises(ValidationError, match="ne fait plus partie de l'équipe"):
        actions.designate_referent(
            accompaniment=small_var.accompaniment,
            member=bob_member,
            reason="Retour",
            by=small_var.alice,
        )


def test_a_leaving_referent_passes_it_on_to_the_earliest_remaining_member(
    small_var: SmallTerritory,
) -> None:
    accompaniment = small_var.accompaniment
    actions.leave_team(member=_member(small_var, small_var.alice), by=small_var.alice)
    assert _referent_user(accompaniment) == small_var.bob
    event = TimelineEvent.objects.filter(person=small_var.person).first()
    assert event is not None
    assert event.summary == "Alice Test quitte l'équipe ; Bob Test devient référent(e)"


def test_a_role_changes_without_leaving_within_the_declared_function(
    small_var: SmallTerritory,
) -> None:
    bob_member = _member(small_var, small_var.bob)
    changed = actions.change_team_role(
        member=bob_member, role=TeamRole.REFERENT, reason="Référent RSA", by=small_var.alice
    )
    assert changed.pk == bob_member.pk
    bob_member.refresh_from_db()
    assert bob_member.role == TeamRole.REFERENT
    assert bob_member.left_at is None
    event = TimelineEvent.objects.filter(person=small_var.person).first()
    assert event is not None
    assert "rôle « travailleur ou travailleuse sociale » → « référent ou référente »" in (
        event.summary
    )
    with pytest.raises(ValidationError, match="ne correspond pas à la fonction"):
        actions.change_team_role(
            member=bob_member,
            role=TeamRole.DEDICATED_COUNSELOR,
            reason="Essai",
            by=small_var.alice,
        )
    bob_member.refresh_from_db()
    assert bob_member.role == TeamRole.REFERENT


def test_the_designated_referent_answers_a_join_request_first(small_var: SmallTerritory) -> None:
    accompaniment, alice, bob = small_var.accompaniment, small_var.alice, small_var.bob
    actions.designate_referent(
        accompaniment=accompaniment, member=_member(small_var, bob), reason="Relais", by=alice
    )
    join_request = actions.request_to_join(
        accompaniment=accompaniment,
        user=small_var.carol,
        organisation=small_var.caf,
        reason="Droits CAF",
    )
    join_request = JoinRequest.objects.select_related("accompaniment").get(pk=join_request.pk)
    assert can_decide_join_request(bob, join_request)
    assert not can_decide_join_request(alice, join_request)
    later = timezone.now() + timedelta(hours=49)
    assert can_decide_join_request(alice, join_request, now=later)


def test_the_migration_designates_the_referent_of_existing_accompaniments(
    small_var: SmallTerritory,
) -> None:
    migration = importlib.import_module("binome.support.migrations.0007_designated_referent")
    accompaniment = small_var.accompaniment
    Accompaniment.objects.filter(pk=accompaniment.pk).update(referent=None)
    with connection.cursor() as cursor:
        cursor.execute(migration.DESIGNATE_FROM_TEAM)
    assert _referent_user(accompaniment) == small_var.alice  # the earliest
    Accompaniment.objects.filter(pk=accompaniment.pk).update(referent=None)
    TeamMember.objects.filter(user=small_var.bob).update(role=TeamRole.REFERENT)
    with connection.cursor() as cursor:
        cursor.execute(migration.DESIGNATE_FROM_TEAM)
    assert _referent_user(accompaniment) == small_var.bob  # the one whose role is référent


def test_the_file_shows_the_referent_and_the_team_changes_it(small_var: SmallTerritory) -> None:
    accompaniment = small_var.accompaniment
    alice = small_var.client(small_var.alice)
    page = html.unescape(
        alice.get(reverse("people:detail", args=[small_var.person.pk])).content.decode()
    )
    assert "Référent(e) désigné(e)" in page
    url = reverse("support:team_referent", args=[accompaniment.pk])
    bob_member = _member(small_var, small_var.bob)
    refused = alice.post(url, {"member": bob_member.pk, "reason": ""})
    assert refused.status_code == 200
    assert "Indiquez le motif du changement." in html.unescape(refused.content.decode())
    assert _referent_user(accompaniment) == small_var.alice
    done = alice.post(url, {"member": bob_member.pk, "reason": "Relais social"})
    assert done.status_code == 302
    assert _referent_user(accompaniment) == small_var.bob
    assert small_var.client(small_var.charlie).get(url).status_code == 404
    role_url = reverse("support:team_role", args=[accompaniment.pk])
    refused = alice.post(
        role_url,
        {"member": bob_member.pk, "role": TeamRole.DEDICATED_COUNSELOR, "reason": "Essai"},
    )
    assert refused.status_code == 200
    assert "ne correspond pas à la fonction" in html.unescape(refused.content.decode())


def test_only_a_declared_social_worker_or_counselor_may_be_the_referent(
    small_var: SmallTerritory,
) -> None:
    accompaniment, carol = small_var.accompaniment, small_var.carol
    actions.join_team(
        accompaniment=accompaniment,
        user=carol,
        organisation=small_var.caf,
        role=TeamRole.MEMBER,
        reason="Droits CAF",
        by=carol,
    )
    with pytest.raises(ValidationError, match="Carol Test ne peut pas être référent"):
        actions.designate_referent(
            accompaniment=accompaniment,
            member=_member(small_var, carol),
            reason="Essai",
            by=small_var.alice,
        )
    # Alice leaves, then Bob: the CAF agent, left alone, is not made the referent.
    actions.leave_team(member=_member(small_var, small_var.alice), by=small_var.alice)
    assert _referent_user(accompaniment) == small_var.bob
    actions.leave_team(member=_member(small_var, small_var.bob), by=small_var.bob)
    assert _referent_user(accompaniment) is None
