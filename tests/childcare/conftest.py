"""The Essonne of the childcare tests: Charlie (France Travail Évry) accompanies a parent of
Évry-Courcouronnes with a two-year-old; two providers nearby (a crèche and a home-care
service that takes emergencies), one far away in the Var."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from binome.accounts.models import User
from binome.childcare.models import Provider
from binome.people.models import ConsentMethod, ConsentScope, HouseholdRelation, Person
from binome.support import actions as support_actions
from binome.support.models import Kind, TeamRole
from binome.territories.models import Commune
from tests.database import ensure_referential
from tests.factories import SmallTerritory, build_small_territory, make_childcare_provider


@dataclass
class Essonne:
    var: SmallTerritory
    charlie: User
    parent: Person
    creche: Provider
    nina: User
    home_care: Provider
    omar: User


def months_ago(months: int) -> date:
    today = timezone.localdate()
    return today - timedelta(days=round(months * 30.44))


def record_childcare_consent(person: Person, by: User) -> None:
    support_actions.record_consent(
        person=person,
        scope=ConsentScope.CHILDCARE_CAF,
        method=ConsentMethod.ORAL,
        given_on=timezone.localdate(),
        by=by,
        organisation=by.memberships.get().organisation,
    )


@pytest.fixture
def essonne(db: None) -> Essonne:
    # A transactional test (they run last) empties the communes loaded by a migration.
    ensure_referential()
    small_var = build_small_territory()
    charlie = small_var.charlie
    evry = charlie.memberships.get().organisation
    parent = support_actions.create_person(
        data={
            "first_name": "Awa",
            "last_name": "Diallo",
            "birth_date": date(1999, 3, 2),
            "commune": Commune.objects.get(insee_code="91228"),
        },
        by=charlie,
        organisation=evry,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    support_actions.add_household_member(
        person=parent,
        relation=HouseholdRelation.CHILD,
        first_name="Léo",
        birth_date=months_ago(24),
        by=charlie,
        organisation=evry,
    )
    creche, nina = make_childcare_provider("Crèche des Tilleuls", member="Nina")
    home_care, omar = make_childcare_provider(
        "Garde à domicile Essonne",
        member="Omar",
        kind="garde_domicile",
        free_places=0,
        avip_places=0,
        capacity=0,
        emergency_capacity=3,
        max_age_months=120,
    )
    assert nina is not None and omar is not None
    return Essonne(small_var, charlie, parent, creche, nina, home_care, omar)


def request_data(**overrides: Any) -> dict[str, Any]:
    tomorrow = timezone.localdate() + timedelta(days=1)
    data: dict[str, Any] = {
        "reason": "entretien",
        "reason_on": tomorrow.isoformat(),
        "needed_on": tomorrow.isoformat(),
        "schedule": "De 9 h à 12 h",
        "urgency": "urgence",
        "radius_km": "15",
        "consent_now": "on",
    }
    data.update(overrides)
    return data
