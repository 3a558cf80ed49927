"""The home page « À traiter »: each block lists what the professional has to do, each line
a link, and the page costs a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind
from binome.directory.models import ImportRun, ImportStatus
from binome.organisations.models import MemberFunction, TerritoryRole, TerritoryRoleKind
from binome.people.models import Person
from binome.referrals import actions as referral_actions
from binome.referrals.models import Referral, ReferralKind, Urgency
from binome.site.today import BLOCKS
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, ExitReason, Kind, State, TeamRole
from tests.conftest import login_as
from tests.factories import SmallTerritory, make_member
from tests.rsa.conftest import build_rsa_territory


def _home(client: Any) -> str:
    response = client.get(reverse("site:home"))
    assert response.status_code == 200
    return response.content.decode()


def _block(body: str, key: str) -> str:
    """The HTML of one block of the page ('' when it is not shown)."""
    start = body.find(f'id="bloc-{key}"')
    if start == -1:
        return ""
    end = body.find("</section>", start)
    return body[start:end]


def _refer(small_var: SmallTerritory, person: Person, urgency: str = Urgency.NORMAL) -> Referral:
    return referral_actions.send_referral(
        person=person,
        kind=ReferralKind.SOCIAL,
        by=small_var.alice,
        organisation=small_var.france_travail,
        to_organisation=small_var.departement,
        reason="Des difficultés de logement à traiter.",
        urgency=urgency,
        consent_method="oral",
    )


def _other_person(small_var: SmallTerritory, first_name: str) -> Person:
    return support_actions.create_person(
        data={"first_name": first_name, "last_name": "Autre", "birth_date": date(1985, 1, 2)},
        by=small_var.alice,
        organisation=small_var.france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )


def test_the_registry_names_each_block_once() -> None:
    keys = [spec.key for spec in BLOCKS]
    assert len(keys) == len(set(keys))
    assert {"received", "sent", "appointments", "to_activate", "ending", "followups"} <= set(keys)


def test_a_proposed_accompaniment_is_to_activate(small_var: SmallTerritory) -> None:
    body = _home(small_var.client(small_var.alice))
    block = _block(body, "to_activate")
    assert "Zoé EXEMPLE" in block
    assert reverse("people:detail", args=[small_var.person.pk]) in block

    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(state=State.ACTIVE)
    assert "Zoé EXEMPLE" not in _block(_home(small_var.client(small_var.alice)), "to_activate")


def test_referrals_received_list_the_urgent_one_first(small_var: SmallTerritory) -> None:
    normal = _refer(small_var, small_var.person)
    urgent = _refer(small_var, _other_person(small_var, "Yanis"), Urgency.URGENT)

    block = _block(_home(small_var.client(small_var.bob)), "received")

    assert ">2</span>" in block
    first = block.find(reverse("referrals:detail", args=[urgent.pk]))
    second = block.find(reverse("referrals:detail", args=[normal.pk]))
    assert -1 < first < second
    assert "Urgente" in block
    assert reverse("referrals:inbox") in block


def test_a_sent_referral_is_shown_once_its_answer_is_late(small_var: SmallTerritory) -> None:
    referral = _refer(small_var, small_var.person)
    client = small_var.client(small_var.alice)
    assert _block(_home(client), "sent") == ""

    Referral.objects.filter(pk=referral.pk).update(due_on=timezone.localdate() - timedelta(days=1))

    block = _block(_home(client), "sent")
    assert reverse("referrals:detail", args=[referral.pk]) in block
    assert "Département du Var" in block


def test_the_appointments_of_the_week_today_first(small_var: SmallTerritory) -> None:
    now = timezone.now()
    # Later today, whatever the hour: halfway between now and the end of the local day.
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    later_today = now + (midnight + timedelta(days=1) - now) / 2
    for at, place in [
        (now + timedelta(days=3), "Agence de Toulon"),
        (later_today, "Mairie de Toulon"),
        (now + timedelta(days=10), "Trop tard"),
    ]:
        support_actions.record_appointment(
            person=small_var.person,
            by=small_var.alice,
            organisation=small_var.france_travail,
            at=at,
            place=place,
            with_whom="Alice",
        )

    block = _block(_home(small_var.client(small_var.bob)), "appointments")

    assert ">2</span>" in block
    assert -1 < block.find("Mairie de Toulon") < block.find("Agence de Toulon")
    assert "Trop tard" not in block
    assert "Aujourd&#x27;hui" in block or "Aujourd'hui" in block


def test_an_accompaniment_ending_within_30_days(small_var: SmallTerritory) -> None:
    today = timezone.localdate()
    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(
        state=State.ACTIVE, planned_end_on=today + timedelta(days=40)
    )
    client = small_var.client(small_var.alice)
    assert _block(_home(client), "ending") == ""

    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(
        planned_end_on=today + timedelta(days=20)
    )
    block = _block(_home(client), "ending")
    assert "Zoé EXEMPLE" in block
    assert f"{today + timedelta(days=20):%d/%m/%Y}" in block


def test_a_situation_at_six_months_to_record(small_var: SmallTerritory) -> None:
    today = timezone.localdate()
    support_actions.end_accompaniment(
        accompaniment=small_var.accompaniment,
        ended_on=today,
        reason=ExitReason.DURABLE_JOB,
        situation="CDI",
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    client = small_var.client(small_var.alice)
    assert _block(_home(client), "followups") == ""

    Accompaniment.objects.filter(pk=small_var.accompaniment.pk).update(
        followup_due_on=today - timedelta(days=1)
    )
    block = _block(_home(client), "followups")
    assert reverse("support:accompaniment_followup", args=[small_var.accompaniment.pk]) in block


def test_a_request_to_join_the_team(small_var: SmallTerritory) -> None:
    eve = make_member("Eve", small_var.departement, function=MemberFunction.SOCIAL_WORKER)
    support_actions.request_to_join(
        accompaniment=small_var.accompaniment,
        user=eve,
        organisation=small_var.departement,
        reason="Je suis sa travailleuse sociale.",
    )

    block = _block(_home(small_var.client(small_var.alice)), "join_requests")

    assert "Eve Test" in block
    assert reverse("support:join_requests") in block
    # Eve waits for the team's answer: nothing for her to do.
    assert _block(_home(small_var.client(eve)), "join_requests") == ""


def test_a_territory_admin_sees_a_failed_import_until_one_succeeds(
    small_var: SmallTerritory,
) -> None:
    admin = make_member("Gaby", small_var.departement, function=MemberFunction.OTHER)
    TerritoryRole.objects.create(
        user=admin, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    failed = ImportRun.objects.create(department_id="83", status=ImportStatus.FAILED)
    TOTPDevice.objects.create(user=admin, confirmed=True)  # administrators need one
    client = login_as(Client(), admin)

    block = _block(_home(client), "failed_imports")
    assert reverse("directory:import_detail", args=["83", failed.pk]) in block
    # Alice does not import.
    assert _block(_home(small_var.client(small_var.alice)), "failed_imports") == ""

    ImportRun.objects.create(department_id="83", status=ImportStatus.DONE)
    assert _block(_home(client), "failed_imports") == ""


def test_a_steering_officer_lands_on_the_figures_not_on_files(small_var: SmallTerritory) -> None:
    _refer(small_var, small_var.person)

    body = _home(small_var.client(small_var.dan))

    assert reverse("referral_figures:territory", args=["83"]) in body
    assert "Zoé" not in body
    assert _block(body, "received") == ""


def test_the_page_leaves_one_read_line_naming_the_persons_shown(
    small_var: SmallTerritory,
) -> None:
    _home(small_var.client(small_var.alice))

    line = AuditEvent.objects.filter(kind=AuditKind.READ, actor=small_var.alice).get()
    assert line.person_ids == [small_var.person.pk]


def test_the_page_costs_a_fixed_number_of_queries(
    small_var: SmallTerritory, django_assert_num_queries: Any
) -> None:
    """A busy user: something in every block; the same count with more of everything."""
    today = timezone.localdate()

    def busy(n: int) -> None:
        for i in range(n):
            person = _other_person(small_var, f"Personne{n}{i}")
            referral = _refer(small_var, person, Urgency.URGENT if i % 2 else Urgency.NORMAL)
            Referral.objects.filter(pk=referral.pk).update(due_on=F("due_on") - 30)
            support_actions.record_appointment(
                person=person,
                by=small_var.alice,
                organisation=small_var.france_travail,
                at=timezone.now() + timedelta(hours=1 + i),
                place="Agence",
                with_whom="Alice",
            )
            accompaniment = person.accompaniments.get()
            if i % 2:
                Accompaniment.objects.filter(pk=accompaniment.pk).update(
                    state=State.ACTIVE, planned_end_on=today + timedelta(days=5)
                )

    busy(3)
    client = small_var.client(small_var.alice)
    client.get(reverse("site:home"))  # the session's first touch
    with django_assert_num_queries(QUERIES):
        _home(client)
    busy(8)
    with django_assert_num_queries(QUERIES):
        body = _home(client)
    assert _block(body, "sent").count("<li") == 5  # the first five lines only


# Session, user, second-factor device, memberships, territory roles; the eight blocks of a
# file team's professional (one query each, two for the referrals received: the urgent
# ones, then by due date), whatever their number of rows; the read line; the territory
# roles the page lists.
QUERIES = 16


def test_an_orientation_manager_sees_the_persons_to_orient(
    small_var: SmallTerritory, django_assert_num_queries: Any
) -> None:
    rsa = build_rsa_territory(small_var)
    client = small_var.client(rsa.mia)
    client.get(reverse("site:home"))  # the session's first touch
    with django_assert_num_queries(MANAGER_QUERIES):
        body = _home(client)
    block = _block(body, "rsa_to_orient")
    assert "Hélène LEFÈVRE" in block and "Cette semaine" in block
    assert block.find("Hélène") < block.find("Noël") < block.find("Farid")
    assert reverse("rsa:to_orient", args=["83"]) in block
    assert _block(_home(small_var.client(small_var.alice)), "rsa_to_orient") == ""


# Session, user, second-factor device, memberships, territory roles; the blocks of the
# département's member (a file team's eight, nine queries) and of the orientation manager
# (one); the read line; the territory roles the page lists.
MANAGER_QUERIES = 17


@pytest.mark.parametrize("key", ["received", "sent", "appointments", "to_activate"])
def test_no_block_for_a_person_without_a_professional_account(
    key: str, small_var: SmallTerritory
) -> None:
    """A professional of another département sees none of the Var's referrals or files."""
    _refer(small_var, small_var.person)
    body = _home(small_var.client(small_var.charlie))
    assert "Zoé" not in _block(body, key)
