"""A one-sheet XLSX file written row by row with XlsxWriter.

An FSE+ export of a département-year is 600,000 cells. XlsxWriter writes each row out as it
comes (its ``constant_memory`` mode) with one call per cell chosen by the value's type; it is
two to three times faster than openpyxl's write-only mode for the same cells, and what a
spreadsheet reads back is the same: texts, numbers, booleans, dates as dates, and the lines in
bold that the caller asks for.
"""

from __future__ import annotations

import datetime
import io
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

PLAIN, BOLD = 0, 1
# Control characters XML 1.0 cannot carry: a text that holds one is written without it.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def workbook(sheet_name: str, rows: Iterable[tuple[Sequence[object], int]]) -> bytes:
    """The XLSX file of one sheet named ``sheet_name``: each row given with its style
    (:data:`PLAIN` or :data:`BOLD`); an empty row leaves a blank line. Empty texts and
    ``None`` leave their cell empty."""
    buffer = io.BytesIO()
    # Texts stay texts: never read as numbers, formulas or links.
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    sheet = book.add_worksheet(sheet_name)
    formats = {PLAIN: None, BOLD: book.add_format({"bold": True})}
    date_format = book.add_format({"num_format": 14})  # Excel's short date, in the reader's locale
    datetime_format = book.add_format({"num_format": 22})
    write_string, write_number = sheet.write_string, sheet.write_number
    write_boolean, write_datetime = sheet.write_boolean, sheet.write_datetime
    for number, (values, style) in enumerate(rows):
        cell_format = formats[style]
        for column, value in enumerate(values):
            if isinstance(value, str):
                if value:
                    text = _ILLEGAL.sub("", value) if _ILLEGAL.search(value) else value
                    write_string(number, column, text, cell_format)
            elif value is None:
                continue
            elif isinstance(value, bool):  # before int: a bool is an int
                write_boolean(number, column, value, cell_format)
            elif isinstance(value, int | Decimal) or (
                isinstance(value, float) and math.isfinite(value)
            ):
                write_number(number, column, value, cell_format)
            elif isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value).replace(tzinfo=None)
                write_datetime(number, column, value, datetime_format)
            elif isinstance(value, datetime.date):
                write_datetime(number, column, value, date_format)
            else:
                write_string(number, column, _ILLEGAL.sub("", str(value)), cell_format)
    book.close()
    return buffer.getvalue()
