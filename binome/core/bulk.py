"""Inserting many model instances with PostgreSQL's ``COPY``.

``bulk_create`` builds one ``INSERT … VALUES`` whose every value goes through the query
compiler and the driver's placeholder conversion: for tens of thousands of rows that is most
of an import's time. ``copy_insert`` gives the instances their primary keys from the table's
sequence, then streams their columns with ``COPY``, each value prepared as ``bulk_create``
prepares it (``pre_save``, so ``auto_now_add`` is set, then ``get_db_prep_save``).
Triggers and constraints run as for an ``INSERT``; no signal is sent (as ``bulk_create``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models


def copy_insert[M: models.Model](objs: Sequence[M]) -> Sequence[M]:
    """Insert the (new) instances, all of one model, and set their primary keys."""
    if not objs:
        return objs
    model = type(objs[0])
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is read for every value
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, pk.column, len(objs)],
        )
        for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = value
        fields = [
            f for f in opts.concrete_fields if f.column and not getattr(f, "generated", False)
        ]
        columns = ", ".join(quote(str(f.column)) for f in fields)
        plain = [_is_plain(f) for f in fields]
        raw: Any = cursor.cursor  # the driver's cursor, under Django's wrapper
        with raw.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                obj._prepare_related_fields_for_save(  # type: ignore[attr-defined]
                    operation_name="copy_insert"
                )
                copy.write_row(
                    [
                        getattr(obj, f.attname)
                        if is_plain
                        else f.get_db_prep_save(f.pre_save(obj, True), connection)
                        for f, is_plain in zip(fields, plain, strict=True)
                    ]
                )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


# Fields whose Python value is what the driver writes, unchanged by ``pre_save`` and
# ``get_db_prep_save`` (a text, a number, a boolean, a date, a foreign key's id): read as is.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)


def _is_plain(field: models.Field[Any, Any]) -> bool:
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        return not (field.auto_now or field.auto_now_add)
    return isinstance(field, _PLAIN)


def copy_like[M: models.Model](
    proto: M, varying: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert one row per item of ``rows``, each the unsaved instance ``proto`` but for the
    fields named in ``varying`` (attnames: ``person_id``), whose values each row gives in that
    order, as the driver writes them (texts, numbers, booleans, dates, ids). Return the new
    primary keys, in the rows' order.

    No model instance is built per row: for tens of thousands of rows that is most of what
    ``copy_insert`` costs. The other fields are prepared once, from ``proto``, as
    ``copy_insert`` prepares them (``pre_save``: an ``auto_now_add`` is the time of the
    call); a field whose value must differ from row to row (unique, or a callable default
    such as a UUID) must be among ``varying``.
    """
    if not rows:
        return []
    model = type(proto)
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    fields = [f for f in opts.concrete_fields if f.column and not getattr(f, "generated", False)]
    by_attname = {f.attname: f for f in fields}
    given = [by_attname[name] for name in varying]
    named = set(varying)
    fixed = [f for f in fields if f is not pk and f.attname not in named]
    constants = tuple(_prepared(proto, f, connection) for f in fixed)
    for field, value in zip(fixed, constants, strict=True):
        per_row = field.has_default() and callable(field.default)
        if (field.unique and value is not None) or (per_row and field.default not in (list, dict)):
            raise ValueError(f"{opts.label}.{field.name} must be among the varying fields.")
    columns = ", ".join(quote(str(f.column)) for f in (pk, *given, *fixed))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, pk.column, len(rows)],
        )
        pks = [value for (value,) in cursor.fetchall()]
        raw: Any = cursor.cursor  # the driver's cursor, under Django's wrapper
        with raw.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for key, row in zip(pks, rows, strict=True):
                write((key, *row, *constants))
    return pks


def _prepared(obj: models.Model, field: models.Field[Any, Any], connection: Any) -> Any:
    """A field's value as ``copy_insert`` writes it; a related object must be saved."""
    if field.is_relation and field.is_cached(obj):  # type: ignore[attr-defined]
        related = field.get_cached_value(obj)  # type: ignore[attr-defined]
        if related is not None:
            if related.pk is None:
                raise ValueError(f"{field.name}: the related object is not saved.")
            return related.pk
    return field.get_db_prep_save(field.pre_save(obj, True), connection)
