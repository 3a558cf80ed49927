"""What the home page shows of RSA: the persons the user has to orient (one query)."""

from __future__ import annotations

from typing import Any

from django.db.models import Subquery

from binome.access.predicates import roles_of
from binome.core.pagination import count_query
from binome.organisations.models import TerritoryRoleKind
from binome.rsa.models import Beneficiary


def managed_departments(user: Any) -> list[str]:
    """The départements whose RSA beneficiaries the user orients."""
    return sorted(
        code
        for code, kinds in roles_of(user).territory.items()
        if TerritoryRoleKind.ORIENTATION_MANAGER in kinds
    )


def to_orient_first(user: Any, limit: int = 5) -> tuple[int, list[Beneficiary]]:
    """(how many persons the user has to orient, the first ``limit`` by their deadline), in
    one query: the first rows on the partial index ``rsa_beneficiary_to_orient``, each with
    the count of the same index's entries (a sub-query, computed once); (0, []) for a user
    who orients nobody."""
    departments = managed_departments(user)
    if not departments:
        return 0, []
    to_orient = Beneficiary.objects.to_orient().filter(department_id__in=departments)
    rows = list(
        to_orient.select_related("person")
        .only(
            "orientation_due_on",
            "person_id",
            "person__first_name",
            "person__last_name",
        )
        .annotate(total=Subquery(count_query(to_orient)))
        .order_by("orientation_due_on", "id")[:limit]
    )
    return (rows[0].total if rows else 0), rows  # type: ignore[attr-defined]
