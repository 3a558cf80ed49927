"""A small known territory for the dashboard: four global accompaniments, two diagnostics
of one of them, two referrals — each number of the dashboard is counted by hand below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from binome.accounts.models import User
from binome.organisations.models import Role
from binome.people.models import HouseholdMember, Person
from binome.referrals.models import Referral, ReferralEvent
from binome.steering.periods import Period
from binome.support import actions as support_actions
from binome.support.models import (
    Accompaniment,
    Diagnostic,
    DiagnosticTheme,
    Kind,
    State,
    TeamRole,
)
from tests.factories import SmallTerritory, make_member

PARIS = ZoneInfo("Europe/Paris")
# The period the tests choose: 90 days; the previous one runs from 3 Oct. to 31 Dec. 2025.
PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
QUERY = {"periode": "dates", "du": "2026-01-01", "au": "2026-03-31"}


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=PARIS)


@dataclass
class Known:
    var: SmallTerritory
    p1: Person
    p2: Person
    p3: Person
    p4: Person
    dep_admin: User


def _person(var: SmallTerritory, first_name: str, birth: date, sex: str = "") -> Person:
    return support_actions.create_person(
        data={"first_name": first_name, "last_name": "Test", "birth_date": birth, "sex": sex},
        by=var.alice,
        organisation=var.france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )


def _set(person: Person, **fields: Any) -> Accompaniment:
    Accompaniment.objects.filter(person=person).update(**fields)
    return Accompaniment.objects.get(person=person)


def _diagnostic(
    var: SmallTerritory, accompaniment: Accompaniment, made_on: date, levels: dict[str, str]
) -> Diagnostic:
    diagnostic = Diagnostic.objects.create(
        person=accompaniment.person,
        accompaniment=accompaniment,
        made_on=made_on,
        recorded_by=var.alice,
        organisation=var.france_travail,
        status="validated",
        validated_at=at(made_on),
    )
    for theme, level in levels.items():
        DiagnosticTheme.objects.create(diagnostic=diagnostic, theme=theme, level=level)
    return diagnostic


def _referral(
    var: SmallTerritory, person: Person, kind: str, sent: date, answer: str, after: int
) -> Referral:
    sender, sender_org, to = (
        (var.carol, var.caf, var.france_travail)
        if kind == "global"
        else (var.alice, var.france_travail, var.departement)
    )
    referral = Referral.objects.create(
        kind=kind,
        status=answer,
        person=person,
        department_id="83",
        sender=sender,
        sender_organisation=sender_org,
        to_organisation=to,
        reason="Motif.",
        decline_reason="no_place" if answer == "declined" else "",
        sent_at=at(sent),
        due_on=sent,
        expires_on=sent,
    )
    ReferralEvent.objects.create(referral=referral, action="sent", to_status="sent", at=at(sent))
    ReferralEvent.objects.create(
        referral=referral,
        action=answer,
        to_status=answer,
        at=at(date.fromordinal(sent.toordinal() + after)),
    )
    return referral


@pytest.fixture
def known(small_var: SmallTerritory) -> Known:
    var = small_var
    # P1 (Zoé, 35 at entry, a woman): oriented by the CAF on 5 Jan., entered on 10 Jan.,
    # diagnosed on 20 Jan. (15 days), activated on 25 Jan. (20 days), left for a durable job
    # on 20 Mar. (54 days after activation). Alice (France Travail) and Bob (Département).
    p1 = var.person
    Person.objects.filter(pk=p1.pk).update(sex="F")
    a1 = _set(
        p1,
        started_on=date(2026, 1, 10),
        activated_on=date(2026, 1, 25),
        state=State.ENDED,
        ended_on=date(2026, 3, 20),
        exit_reason="emploi_durable",
    )
    _referral(var, p1, "global", date(2026, 1, 5), "accepted", after=2)
    _diagnostic(var, a1, date(2026, 1, 20), {"logement": "blocking", "mobilite": "to_lift"})
    _diagnostic(var, a1, date(2026, 3, 15), {"logement": "none", "mobilite": "to_lift"})
    # P2 (23, a man, a single parent): entered on 1 Feb. without a referral, diagnosed on
    # 1 Mar. (28 days), still accompanied; a social referral declined after 12 days.
    p2 = _person(var, "Paulo", date(2003, 2, 1), sex="M")
    a2 = _set(p2, started_on=date(2026, 2, 1), state=State.ACTIVE)
    HouseholdMember.objects.create(person=p2, relation="child", first_name="Léo")
    _diagnostic(var, a2, date(2026, 3, 1), {"logement": "to_lift"})
    _referral(var, p2, "social", date(2026, 2, 10), "declined", after=12)
    # P3 (57): entered on 15 Nov. 2025 (the previous period), activated on 1 Dec., dropped
    # out on 15 Feb. (76 days after activation).
    p3 = _person(var, "Pia", date(1968, 6, 1))
    _set(
        p3,
        started_on=date(2025, 11, 15),
        activated_on=date(2025, 12, 1),
        state=State.ENDED,
        ended_on=date(2026, 2, 15),
        exit_reason="abandon",
    )
    # P4 (41): entered on 1 Mar., « non pertinent » on 10 Mar.
    p4 = _person(var, "Quentin", date(1985, 1, 1))
    _set(
        p4,
        started_on=date(2026, 3, 1),
        state=State.ENDED,
        ended_on=date(2026, 3, 10),
        exit_reason="non_pertinent",
    )
    dep_admin = make_member("Dora", var.departement, role=Role.ADMIN)
    return Known(var, p1, p2, p3, p4, dep_admin)
