"""Query helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import IntegerField, Lookup, Model, QuerySet

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


@IntegerField.register_lookup
class AnyOf(Lookup):
    """``pk__any=ids``: ``column = ANY(%s)``, the values sent as one array parameter, so
    that the SQL does not change with their number (``pk__in`` writes one placeholder per
    value): what a :class:`PreparedQuery`'s ``list`` parameter needs."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return "%s::bigint[]", (value,)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


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
    computed value as a parameter of its own) and with a fixed shape: a sentinel that does
    not reach the SQL, or reaches it transformed, is refused when the query is first
    compiled, so a mistake shows on the first test that runs it. A ``list`` parameter (of
    integers) is used through the ``any`` lookup (``pk__any=p.ids``, one array parameter),
    not ``pk__in``, whose SQL has one placeholder per value.
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
        if kind is list:
            return [-987_650_000 - index]
        raise TypeError(f"Type de paramètre non pris en charge : {kind!r} ({name}).")

    def _compile(self, using: str) -> tuple[str, list[tuple[str | None, Any]]]:
        sentinels = {
            name: self._sentinel(name, kind, index)
            for index, (name, kind) in enumerate(self._parameters.items())
        }
        queryset = self._build(SimpleNamespace(**sentinels))
        sql, params = queryset.query.get_compiler(using).as_sql()
        by_value = {value: name for name, value in sentinels.items() if not isinstance(value, list)}
        # A list parameter is found by its sentinel's content (the ORM copies the list).
        lists = [(value, name) for name, value in sentinels.items() if isinstance(value, list)]
        slots: list[tuple[str | None, Any]] = []
        for value in params:
            if isinstance(value, list):
                name = next((name for sentinel, name in lists if sentinel == value), None)
            else:
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


def _related_model(model: type[Model], path: str) -> type[Model]:
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model  # type: ignore[assignment]
    return model


def instance_columns(model: type[Model], *related: str) -> list[str]:
    """The ``values()`` names of every column of ``model`` and of the models its foreign
    keys ``related`` lead to (``"organisation"``, ``"organisation__department"``): what
    ``select_related(*related)`` reads, for a :class:`PreparedQuery` whose rows
    :func:`instance_from_row` turns into instances."""
    columns = [field.attname for field in model._meta.concrete_fields]
    for path in related:
        columns += [
            f"{path}__{field.attname}"
            for field in _related_model(model, path)._meta.concrete_fields
        ]
    return columns


def instance_from_row(
    row: dict[str, Any], model: type[Model], *related: str, using: str = DEFAULT_DB_ALIAS
) -> Any:
    """The instance of ``model`` a row of :func:`instance_columns` holds, its related
    instances cached as ``select_related`` caches them (reading ``membership.organisation``
    sends no query). ``related`` in the same order, each path after the one it extends."""

    def build(kind: type[Model], prefix: str) -> Model | None:
        names = [field.attname for field in kind._meta.concrete_fields]
        values = [row[prefix + name] for name in names]
        if values[names.index(kind._meta.pk.attname)] is None:  # an empty LEFT JOIN
            return None
        return kind.from_db(using, names, values)

    root = build(model, "")
    built: dict[str, Model | None] = {"": root}
    for path in related:
        parent_path, _, name = path.rpartition("__")
        parent = built[parent_path]
        if parent is None:
            built[path] = None
            continue
        field = type(parent)._meta.get_field(name)
        built[path] = child = build(field.related_model, f"{path}__")  # type: ignore[arg-type]
        field.set_cached_value(parent, child)  # type: ignore[union-attr]
    return root
