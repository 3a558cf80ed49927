"""Query helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

# What ``User.get_full_name`` reads: the columns of a user named on a page.
USER_NAME = ("first_name", "last_name")


def select_related_only[Q: QuerySet](queryset: Q, **related: Sequence[str]) -> Q:
    """``select_related`` that reads, of each related row, only the named columns (and its
    key); the rows of the queryset's own model keep all of theirs.

    ``select_related_only(consents, structure=["name"], recorded_by=["first_name",
    "last_name"])``. Each column selected is also a column the ORM compiles on every
    request, and some related rows are wide (a directory structure has 33 columns, a user
    its password hash): on the busy pages the join reads what the page shows. Reading
    another column of a related row later costs one query per row — the pinned query
    counts of those pages catch it.
    """
    own = [field.name for field in queryset.model._meta.concrete_fields]
    columns = [f"{path}__{name}" for path, names in related.items() for name in names]
    return queryset.select_related(*related).only(*own, *columns)
