"""The generator's childcare step: labelled providers, requests with their consent, answers
coherent with the request's state, one acceptance and its placement, removed by --reset."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from binome.childcare.models import (
    ChildcareRequest,
    Placement,
    Provider,
    ProviderKind,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
)
from binome.core.generation import GENERATED_DOMAIN, SCALES
from binome.organisations.models import Organisation, Role
from binome.people.models import Consent, ConsentScope

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[object, ...]]:
    return list(
        ChildcareRequest.objects.order_by("created_at", "id").values_list(
            "urgency", "status", "created_at", "needed_on", "person__first_name", "eligibility"
        )
    )


def test_tiny_scale_generates_providers_requests_and_placements() -> None:
    output = run()
    assert "garde d'enfants" in output
    providers = Provider.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    assert providers.count() == SCALES["tiny"]["childcare_providers"]
    assert providers.filter(kind=ProviderKind.CHILDMINDER).exists()
    assert providers.exclude(kind=ProviderKind.CHILDMINDER).exists()
    # A childminder is an organisation of one person: her account, its administrator.
    for provider in providers.filter(kind=ProviderKind.CHILDMINDER):
        members = list(provider.organisation.memberships.values_list("role", "user__email"))
        assert len(members) == 1 and members[0][0] == Role.ADMIN
        assert members[0][1].endswith(".gen.binome.test") and "@assmat." in members[0][1]
    requests = ChildcareRequest.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    assert requests.count() == SCALES["tiny"]["childcare_requests"]
    # Every request has its children and the parent's consent to share with the CAF.
    assert not requests.filter(children__isnull=True).exists()
    assert not requests.exclude(consent__scope=ConsentScope.CHILDCARE_CAF).exists()
    assert not requests.exclude(consent__person=F("person")).exists()
    # The answers follow the request's state: one acceptance and its placement for an
    # accepted request, none otherwise; every solicitation of a declined one declined.
    for childcare_request in requests.prefetch_related("solicitations"):
        statuses = [s.status for s in childcare_request.solicitations.all()]
        accepted = statuses.count(SolicitationStatus.ACCEPTED)
        if childcare_request.status == RequestStatus.ACCEPTED:
            assert accepted == 1
            assert Placement.objects.filter(request=childcare_request).count() == 1
        else:
            assert accepted == 0
        if childcare_request.status == RequestStatus.DECLINED:
            assert set(statuses) == {SolicitationStatus.DECLINED}
        if childcare_request.status == RequestStatus.DRAFT:
            assert statuses == []
        if childcare_request.status == RequestStatus.SENT:
            assert set(statuses) == {SolicitationStatus.PENDING}
    # Solicitations go to providers of the request's département.
    assert not Solicitation.objects.exclude(
        provider__organisation__department=F("request__department")
    ).exists()
    placements = Placement.objects.filter(request__in=requests)
    assert not placements.exclude(ends_on__gt=F("started_on")).exists()
    assert not placements.filter(
        Q(status="terminee") & (Q(end_reason="") | Q(end_outcome=""))
    ).exists()


def test_the_same_seed_gives_the_same_requests_and_reset_removes_them() -> None:
    run()
    first = snapshot()
    run("--reset")
    assert snapshot() == first
    call_command("generate", "--scale", "tiny", "--seed", "8", "--reset", stdout=StringIO())
    assert snapshot() != first
    assert (
        ChildcareRequest.objects.filter(organisation__email__endswith=GENERATED_DOMAIN).count()
        == SCALES["tiny"]["childcare_requests"]
    )
    # Nothing of the first run is left: providers, childminders, consents.
    assert (
        Provider.objects.filter(organisation__email__endswith=GENERATED_DOMAIN).count()
        == SCALES["tiny"]["childcare_providers"]
    )
    assert (
        Consent.objects.filter(scope=ConsentScope.CHILDCARE_CAF).count()
        == (SCALES["tiny"]["childcare_requests"])
    )
    assert not (
        Organisation.objects.filter(email__contains="assmat.")
        .values("email")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
