"""A table of the dashboard as CSV or XLSX: the same rows as the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from django.http import HttpResponse
from django.utils.text import slugify

from binome.core.figures import FigureTable
from binome.steering import xlsx
from binome.steering.periods import Period

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def filename(table: FigureTable, place: str, period: Period, extension: str) -> str:
    dates = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return f"{slugify(table.title)}-{slugify(place)}-{dates}.{extension}"


def _cell(value: object) -> object:
    return "" if value is None else value


def as_csv(table: FigureTable, *, place: str, period: Period) -> HttpResponse:
    """Semicolons and a byte order mark: what a French spreadsheet opens as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(
            [
                str(value).replace(".", ",") if isinstance(value, float) else _cell(value)
                for value in row
            ]
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{filename(table, place, period, "csv")}"'
    )
    return response


def as_xlsx(table: FigureTable, *, place: str, period: Period) -> HttpResponse:
    """One sheet: the title and the period on the first two lines, then the table. Written
    row by row (``steering/xlsx.py``, XlsxWriter): an FSE+ export has tens of thousands of
    lines."""

    def rows() -> Iterator[tuple[Sequence[object], int]]:
        yield (table.title,), xlsx.BOLD
        yield (f"{place}, {period.label}",), xlsx.PLAIN
        yield (), xlsx.PLAIN
        yield table.columns, xlsx.BOLD
        for row in table.rows:
            yield row, xlsx.PLAIN
        if table.definition:
            yield (), xlsx.PLAIN
            yield (f"Définition : {table.definition}",), xlsx.PLAIN

    response = HttpResponse(xlsx.workbook("Données", rows()), content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="{filename(table, place, period, "xlsx")}"'
    )
    return response
