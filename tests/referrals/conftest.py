from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from binome.directory.models import Service
from binome.organisations.models import Organisation
from binome.people.models import Consent, ConsentMethod, ConsentScope, Person
from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations, load_demo_directory
from binome.support import actions as support_actions

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def nadia_file(personas: dict[str, Any]) -> Person:
    """Nadia's shared file of the demo: Inès (France Travail Toulon) and Marc (Var)."""
    return Person.objects.get(user=personas["nadia"])


@pytest.fixture
def directory(personas: dict[str, Any]) -> dict[str, Service]:
    load_demo_directory()
    return {s.source_id: s for s in Service.objects.filter(source="demo")}


@pytest.fixture
def personas(db: None) -> dict[str, Any]:
    """The demo's personas; the départements and communes loaded again first when a
    transactional test (they run last) emptied them."""
    from django.db import connection, transaction

    from binome.site.demo import load_demo
    from binome.territories.models import Department
    from binome.territories.referential import load_referential

    if not Department.objects.exists():
        with transaction.atomic():
            load_referential(connection)
    return load_demo()


@pytest.fixture(autouse=True)
def demo_referrals(personas: dict[str, Any], directory: dict[str, Service]) -> None:
    """The demo's referrals (``binome demo`` loads them; the personas alone do not)."""
    load_demo_referrals(personas, demo_organisations())


@pytest.fixture
def garage(directory: dict[str, Service]) -> Service:
    """A mobility service of the Var whose structure has no account (its e-mail only)."""
    service = directory["garage-location"]
    assert service.structure.owner_id is None
    return service


def consent_to(
    person: Person,
    user: Any,
    organisation: Organisation,
    *,
    recipient: Organisation | None = None,
    structure: Any = None,
) -> Consent:
    return support_actions.record_consent(
        person=person,
        scope=ConsentScope.REFER,
        method=ConsentMethod.ORAL,
        given_on=timezone.localdate(),
        by=user,
        organisation=organisation,
        recipient=recipient,
        structure=structure,
    )
