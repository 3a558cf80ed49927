"""The demo's FSE+ operation: the Var's year, some participants complete, some not."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from binome.steering import operations
from binome.steering.demo import load_demo_fse, operation_name
from binome.steering.models import FseOperation
from binome.support.models import Accompaniment


def test_the_demo_operation_has_complete_and_incomplete_participants(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    load_demo_fse(personas, orgs)
    load_demo_fse(personas, orgs)  # idempotent
    operation = FseOperation.objects.get(name=operation_name(timezone.localdate().year))
    rows = {row.organisation: row for row in operations.completeness(operation)}
    toulon = rows[orgs["ft_toulon"].name]
    nadia = Accompaniment.objects.get(person__user=personas["nadia"])
    assert nadia.activated_on is not None
    if nadia.activated_on.year != timezone.localdate().year:  # the first weeks of a year
        pytest.skip("Nadia's accompaniment was activated last year")
    # Nadia (activated this year, Inès and Marc) and the three of the demo.
    assert toulon.participants == 4
    assert toulon.entry_complete == 2
    assert (toulon.exits, toulon.exit_complete) == (1, 1)
    assert rows[orgs["dep83"].name].participants == 1  # Nadia, with Marc
    files = operations.to_complete_for(operation, personas["marc"].pk)
    assert [accompaniment.person.first_name for accompaniment in files] == ["Nadia"]
