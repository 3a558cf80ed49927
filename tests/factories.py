"""Small persona factories for unit tests: a territory in a few lines, built with the
product's own actions (no hand-made rows), much faster than the whole demo.

The demo territory (``personas`` fixture) stays for journeys, the access matrix and the
link-following test; a unit test that needs « a counselor, a social worker and a person
they accompany » asks for ``small_var`` instead::

    def test_it(small_var):
        alice, person = small_var.alice, small_var.person
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client

from binome.accounts.models import User
from binome.childcare import actions as childcare_actions
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.people.models import Person
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, Kind, TeamRole
from binome.territories.models import Commune


def make_organisation(name: str, kind: str, *, department: str = "83") -> Organisation:
    insee = {"83": "83137", "91": "91228", "29": "29232", "04": "04070"}[department]
    return Organisation.objects.create(
        name=name,
        kind=kind,
        department_id=department,
        commune=Commune.objects.get(insee_code=insee),
    )


def make_member(
    first_name: str,
    organisation: Organisation,
    *,
    function: str = "",
    role: str = Role.PROFESSIONAL,
) -> User:
    """A professional of ``organisation`` whose administrator declared ``function``."""
    user = User.objects.create_user(
        email=f"{first_name.lower()}@{organisation.kind}.test",
        password=None,
        first_name=first_name,
        last_name="Test",
    )
    Membership.objects.create(user=user, organisation=organisation, role=role, function=function)
    return user


@dataclass
class SmallTerritory:
    """The Var in miniature. Alice: France Travail dedicated counselor; Bob: the
    département's social worker; Carol: CAF agent; Dan: steering officer; Charlie: a
    counselor of the Essonne. ``person`` is accompanied by Alice (global, proposed) and
    Bob joined her team."""

    france_travail: Organisation
    departement: Organisation
    caf: Organisation
    alice: User
    bob: User
    carol: User
    dan: User
    charlie: User
    person: Person
    accompaniment: Accompaniment

    def client(self, user: User) -> Client:
        """A test client logged in as ``user`` (none of them has a second factor)."""
        client = Client()
        client.force_login(user)
        return client


def build_small_territory() -> SmallTerritory:
    france_travail = make_organisation("France Travail Toulon", OrganisationKind.FRANCE_TRAVAIL)
    departement = make_organisation("Département du Var", OrganisationKind.DEPARTMENT)
    caf = make_organisation("CAF du Var", OrganisationKind.CAF)
    evry = make_organisation(
        "France Travail Évry", OrganisationKind.FRANCE_TRAVAIL, department="91"
    )
    alice = make_member("Alice", france_travail, function=MemberFunction.DEDICATED_COUNSELOR)
    bob = make_member("Bob", departement, function=MemberFunction.SOCIAL_WORKER)
    carol = make_member("Carol", caf, function=MemberFunction.CAF_AGENT)
    dan = make_member("Dan", departement, function=MemberFunction.OTHER)
    TerritoryRole.objects.create(user=dan, department_id="83", role=TerritoryRoleKind.STEERING)
    charlie = make_member("Charlie", evry, function=MemberFunction.FT_COUNSELOR)
    person = support_actions.create_person(
        data={"first_name": "Zoé", "last_name": "Exemple", "birth_date": date(1990, 5, 4)},
        by=alice,
        organisation=france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    accompaniment = person.accompaniments.get()
    support_actions.join_team(
        accompaniment=accompaniment,
        user=bob,
        organisation=departement,
        role=TeamRole.SOCIAL_WORKER,
        reason="Binôme",
        by=bob,
    )
    return SmallTerritory(
        france_travail, departement, caf, alice, bob, carol, dan, charlie, person, accompaniment
    )


@pytest.fixture
def small_var(db: Any) -> SmallTerritory:
    return build_small_territory()


def make_childcare_provider(
    name: str,
    *,
    department: str = "91",
    kind: str = "creche",
    member: str = "",
    **places: Any,
) -> tuple[Any, User | None]:
    """A childcare organisation with its declared places (``binome.childcare``), and one
    member of it named ``member`` when given."""
    organisation = make_organisation(name, OrganisationKind.CHILDCARE, department=department)
    user = make_member(member, organisation, function=MemberFunction.CHILDCARE) if member else None
    values: dict[str, Any] = {
        "kind": kind,
        "capacity": 20,
        "avip_places": 4,
        "free_places": 2,
        "free_from": date(2020, 1, 1),
        "min_age_months": 3,
        "max_age_months": 36,
        **places,
    }
    by = user or make_member(f"Admin{organisation.pk}", organisation, role=Role.ADMIN)
    provider = childcare_actions.save_provider(organisation=organisation, values=values, by=by)
    return provider, user
