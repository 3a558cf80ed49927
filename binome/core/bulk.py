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
