"""Query helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
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


class PreparedQuery:
    """A ``values()`` queryset compiled to SQL once per process, run with named parameters.

    On a page that runs the same few queries on every request (the home page's blocks), the
    ORM spends more time building and compiling each queryset — filters, subqueries, window
    counts — than PostgreSQL spends executing it. A prepared query is written as an ordinary
    queryset, built once from *sentinel* values of its parameters and compiled; each run
    then sends the same SQL with the request's values in place of the sentinels, through
    Django's cursor (so it is counted and logged like any query), and returns one ``dict``
    per row, keyed by the ``values()`` names::

        late = PreparedQuery(
            lambda p: Referral.objects.filter(sender_id=p.user, due_on__lt=p.today)
            .values("id", "due_on", first=F("person__first_name")),
            user=int,
            today=date,
        )
        rows = late.run(user=request.user.pk, today=timezone.localdate())

    The builder must use each parameter as it is (not ``p.today + timedelta(…)``: pass the
    computed value as a parameter of its own) and with a fixed shape (no list of varying
    length): a sentinel that does not reach the SQL, or reaches it transformed, is refused
    when the query is first compiled, so a mistake shows on the first test that runs it.
    """

    def __init__(self, build: Callable[[Any], QuerySet[Any]], **parameters: type) -> None:
        self._build = build
        self._parameters = parameters
        self._compiled: dict[str, tuple[str, list[tuple[str | None, Any]]]] = {}

    @staticmethod
    def _sentinel(name: str, kind: type, index: int) -> Any:
        if kind is int:
            return -987_650_000 - index
        if kind is datetime:
            return datetime(1111, 1, 1, 0, 0, index, tzinfo=UTC)
        if kind is date:
            return date(1111, 1, 1 + index)
        if kind is str:
            return f"\x1fsentinel:{name}"
        raise TypeError(f"Type de paramètre non pris en charge : {kind!r} ({name}).")

    def _compile(self, using: str) -> tuple[str, list[tuple[str | None, Any]]]:
        sentinels = {
            name: self._sentinel(name, kind, index)
            for index, (name, kind) in enumerate(self._parameters.items())
        }
        queryset = self._build(SimpleNamespace(**sentinels))
        sql, params = queryset.query.get_compiler(using).as_sql()
        by_value = {value: name for name, value in sentinels.items()}
        slots: list[tuple[str | None, Any]] = []
        for value in params:
            name = by_value.get(value) if isinstance(value, int | str | date) else None
            slots.append((name, None) if name else (None, value))
        missing = set(sentinels) - {name for name, _ in slots if name}
        if missing:
            raise ValueError(
                f"Paramètres absents de la requête compilée : {', '.join(sorted(missing))} "
                "(utilisés transformés, ou pas du tout)."
            )
        return sql, slots

    def run(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[dict[str, Any]]:
        if set(values) != set(self._parameters):
            raise TypeError(
                f"Paramètres attendus : {sorted(self._parameters)}, reçus : {sorted(values)}."
            )
        if using not in self._compiled:
            self._compiled[using] = self._compile(using)
        sql, slots = self._compiled[using]
        params = [values[name] if name else value for name, value in slots]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
