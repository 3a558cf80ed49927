"""Helpers on the test database shared by the suite's fixtures."""

from __future__ import annotations


def ensure_referential() -> None:
    """Load the départements and communes again if a transactional test emptied them."""
    from django.db import connection, transaction

    from binome.territories.models import Department
    from binome.territories.referential import load_referential

    if not Department.objects.exists():
        with transaction.atomic():
            load_referential(connection)
