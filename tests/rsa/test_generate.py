"""The generator's RSA step: the département's share of the country's persons bound by the
rights and duties, their dossiers and states, orientations in time, late and pending,
deterministic, removed by --reset."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from binome.core.generation import GENERATED_DOMAIN, SCALES
from binome.people.models import Person
from binome.rsa import rollup
from binome.rsa.models import (
    ACTIVE_STATES,
    Beneficiary,
    Dossier,
    DossierState,
    FlowImport,
    MatchStatus,
    Orientation,
)
from binome.rsa.rollup import FiguresCoverage
from binome.territories.models import Commune

pytestmark = pytest.mark.django_db
COUNTRY = 20_000  # persons bound nationally, for the test (the national scale: 2 million)


@pytest.fixture(autouse=True)
def rsa_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SCALES["tiny"], "rsa_persons", COUNTRY)


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[object, ...]]:
    return list(
        Beneficiary.objects.order_by("dossier__number", "role").values_list(
            "dossier__number", "role", "first_name", "right_opened_on", "oriented_on"
        )
    )


def test_the_departements_share_with_dossiers_states_and_orientations() -> None:
    output = run()
    assert "orientations RSA" in output
    # The steering's RSA figures per month, as the nightly job would leave them.
    assert "mois de chiffres RSA" in output
    assert FiguresCoverage.objects.filter(department_id="83").exists() and rollup.check() == []
    country = Commune.objects.aggregate(n=Sum("population"))["n"]
    var = Commune.objects.filter(department_id="83").aggregate(n=Sum("population"))["n"]
    beneficiaries = Beneficiary.objects.select_related("dossier")
    assert beneficiaries.count() == round(COUNTRY * var / country)
    assert {b.dossier.department_id for b in beneficiaries} == {"83"}
    assert all(b.subject_to_rights_and_duties for b in beneficiaries)
    # Each dossier's state is its last known one; the clock starts with the first flow.
    for dossier in Dossier.objects.prefetch_related("states", "beneficiaries"):
        states = sorted(dossier.states.all(), key=lambda s: (s.known_on, s.pk))
        assert states and states[-1].state == dossier.state
        assert dossier.first_import_id == states[0].flow_id
        assert dossier.last_import_id == states[-1].flow_id
        for beneficiary in dossier.beneficiaries.all():
            assert beneficiary.right_opened_on == states[0].known_on
            assert beneficiary.orientation_due_on == states[0].known_on + timedelta(weeks=6)
    # Files: some already in Binôme, most created by the import, a few to reconcile.
    matches = Counter(beneficiaries.values_list("match_status", flat=True))
    assert matches[MatchStatus.CREATED] > matches[MatchStatus.MATCHED] > 0
    assert matches[MatchStatus.TO_RECONCILE] > 0
    created = Person.objects.filter(
        pk__in=beneficiaries.filter(match_status=MatchStatus.CREATED).values("person")
    )
    assert created.count() == matches[MatchStatus.CREATED]
    assert not created.exclude(organisation__email__endswith=GENERATED_DOMAIN).exists()
    linked = beneficiaries.filter(match_status=MatchStatus.MATCHED)
    assert linked.values("person").distinct().count() == linked.count()
    # One current orientation per oriented person, notified on the day the list shows;
    # some within six weeks, some late, some still to orient (listed « à orienter »).
    current = {o.beneficiary_id: o for o in Orientation.objects.current()}
    in_time = late = 0
    for beneficiary in beneficiaries:
        orientation = current.get(beneficiary.pk)
        if beneficiary.oriented_on is None:
            assert orientation is None
            continue
        assert orientation is not None and orientation.notified_on == beneficiary.oriented_on
        assert orientation.person_id == beneficiary.person_id
        first = min(o.notified_on for o in Orientation.objects.filter(beneficiary=beneficiary))
        if first <= beneficiary.orientation_due_on:
            in_time += 1
        else:
            late += 1
    assert in_time > late > 0
    to_orient = Beneficiary.objects.to_orient()
    assert to_orient.count() > 0
    assert to_orient.filter(dossier__state__in=ACTIVE_STATES).count() == to_orient.count()
    orientations = Orientation.objects.all()
    assert orientations.filter(replaced_at__isnull=False).exists()  # reoriented once
    assert {o.kind for o in orientations} >= {"emploi", "socio_pro", "sociale"}
    assert orientations.filter(delegated=True).exists()
    assert orientations.filter(referent__isnull=False).count() > orientations.count() // 2
    signed = orientations.filter(contract_signed_on__isnull=False)
    assert signed.exists() and orientations.filter(contract_late_on__isnull=False).exists()
    for orientation in orientations.select_related("referent_body"):
        if orientation.referent_id is not None:
            assert orientation.referent.memberships.filter(
                organisation=orientation.referent_body
            ).exists()


def test_the_same_seed_gives_the_same_rows_and_reset_removes_them() -> None:
    run()
    first = snapshot()
    persons = Person.objects.count()
    run("--reset")
    assert snapshot() == first
    assert Person.objects.count() == persons
    call_command("generate", "--scale", "tiny", "--seed", "8", "--reset", stdout=StringIO())
    assert snapshot() != first
    assert not FlowImport.objects.exclude(by__email__endswith=GENERATED_DOMAIN).exists()
    assert not DossierState.objects.exclude(flow__by__email__endswith=GENERATED_DOMAIN).exists()
