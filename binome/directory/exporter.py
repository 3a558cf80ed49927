"""Export of the directory in data·inclusion v1 JSON (lists of structures and services).

What ``import_directory`` reads, ``export_datainclusion`` writes back: importing an export
gives the same rows (import → export → import is tested). Only published rows are exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from django.db.models import F

from binome.directory import datainclusion as di
from binome.directory.datainclusion import Kind
from binome.directory.models import PublicationStatus, Service, Structure


def iter_datainclusion(kind: Kind | str) -> Iterator[dict[str, Any]]:
    """The rows of the schema, one by one, in (source, id) order."""
    kind = Kind(kind)
    fields = [ours for _theirs, ours in di.FIELDS[kind]]
    if kind == Kind.STRUCTURES:
        queryset = Structure.objects.values(*fields)
    else:
        fields = [name for name in fields if name != "structure_source_id"]
        queryset = Service.objects.values(*fields, structure_source_id=F("structure__source_id"))
    queryset = queryset.filter(status=PublicationStatus.PUBLISHED).order_by("source", "source_id")
    for record in queryset.iterator(chunk_size=5000):
        yield di.to_datainclusion(kind, record)


def export_datainclusion(kind: Kind | str) -> list[dict[str, Any]]:
    """The whole data·inclusion v1 list of structures or services."""
    return list(iter_datainclusion(kind))


def write_datainclusion(kind: Kind | str, out: IO[str]) -> int:
    """Write the JSON list to ``out`` row by row (a national export never sits in memory)."""
    count = 0
    out.write("[")
    for row in iter_datainclusion(kind):
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
