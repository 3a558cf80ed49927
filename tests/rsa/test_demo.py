"""The demo's RSA households: the shipped flows are the generator's, their import and
orientations are idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from binome.people.models import Person
from binome.rsa.demo import DEMO_DIR, FLOWS, load_demo_rsa, write_demo_flows
from binome.rsa.home import to_orient_first
from binome.rsa.models import Beneficiary, FlowImport, MatchStatus, Orientation
from binome.support.models import TimelineEvent


def test_the_shipped_flows_are_the_generators(tmp_path: Path) -> None:
    for path in write_demo_flows(tmp_path):
        assert path.read_bytes() == (DEMO_DIR / path.name).read_bytes(), path.name


def test_the_demo_households_are_imported_and_oriented_once(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    load_demo_rsa(personas, orgs)
    assert FlowImport.objects.filter(status="applied").count() == len(FLOWS)
    karim = Orientation.objects.get(beneficiary__first_name="Karim")
    assert karim.referent_body == orgs["ft_toulon"] and karim.referent == personas["ines"]
    assert karim.contract_signed_on is not None
    assert Orientation.objects.count() == 3
    count, rows = to_orient_first(personas["claire"])
    assert count == 5  # Sandrine, Yves, Manon, Thomas, Élodie (Sylvie is not subject)
    assert rows[0].orientation_due_on < rows[-1].orientation_due_on  # October's first
    state = (
        FlowImport.objects.count(),
        Beneficiary.objects.count(),
        Orientation.objects.count(),
        TimelineEvent.objects.count(),
    )
    load_demo_rsa(personas, orgs)
    assert state == (
        FlowImport.objects.count(),
        Beneficiary.objects.count(),
        Orientation.objects.count(),
        TimelineEvent.objects.count(),
    )


def test_the_demo_leaves_nadya_belkacem_to_reconcile(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    load_demo_rsa(personas, orgs)
    nadya = Beneficiary.objects.get(dossier__number="83000108")
    assert nadya.match_status == MatchStatus.TO_RECONCILE and nadya.person is None
    nadia = Person.objects.get(user=personas["nadia"])
    assert list(nadya.candidates.all()) == [nadia]
    assert FlowImport.objects.get(file_name=FLOWS[1][0]).to_reconcile == 1
