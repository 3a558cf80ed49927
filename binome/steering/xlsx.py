"""A one-sheet XLSX file written straight from rows: the strings shared, the XML streamed into
the zip archive, nothing per cell but a dictionary look-up and a string.

An FSE+ export of a département-year is 600,000 cells; openpyxl, even in its write-only mode,
builds a cell object per value and serialises it through lxml (about 10 s for those cells on
our machine). Writing the few XML elements an XLSX needs is ten times faster, and what a
spreadsheet reads back is the same: texts, numbers, booleans, dates as dates, and the lines
in bold that the caller asks for.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Styles by index: 0 plain, 1 bold, 2 a date, 3 a date and time (Excel's built-in formats
# 14 and 22, shown in the reader's own locale).
PLAIN, BOLD, DATE, DATETIME = 0, 1, 2, 3
_STYLES = (
    f'{_HEADER}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_OPENXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    f"{_HEADER}"
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OPENXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OPENXML}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OPENXML}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OPENXML}.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_HEADER}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'{_HEADER}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId3" Type="{_RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
# The characters XML 1.0 refuses (control characters but tab, line feed, carriage return).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EPOCH = datetime.datetime(1899, 12, 30)  # Excel's day zero, no time zone
_ROWS_PER_CHUNK = 1000


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Sheet:
    def __init__(self) -> None:
        self.strings: dict[str, int] = {}
        self.letters: list[str] = []

    def string(self, text: str) -> int:
        index = self.strings.get(text)
        if index is None:
            index = self.strings[text] = len(self.strings)
        return index

    def row(self, number: int, values: Sequence[object], style: int) -> str:
        letters = self.letters
        while len(letters) < len(values):
            letters.append(_column_letter(len(letters)))
        cells = []
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{letters[column]}{number}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" s="{style}" t="s"><v>{self.string(value)}</v></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | Decimal) or (
                isinstance(value, float) and math.isfinite(value)
            ):
                cells.append(f'<c r="{ref}" s="{style}"><v>{value}</v></c>')
            elif isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.localtime(value).replace(tzinfo=None)
                days = (value - _EPOCH) / datetime.timedelta(days=1)
                cells.append(f'<c r="{ref}" s="{DATETIME}"><v>{days}</v></c>')
            elif isinstance(value, datetime.date):
                days = (value - _EPOCH.date()).days
                cells.append(f'<c r="{ref}" s="{DATE}"><v>{days}</v></c>')
            else:
                cells.append(f'<c r="{ref}" s="{style}" t="s"><v>{self.string(str(value))}</v></c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    def shared_strings(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{escape(_ILLEGAL.sub("", text))}</t></si>'
            for text in self.strings
        )
        count = len(self.strings)
        return f'{_HEADER}<sst xmlns="{_MAIN}" count="{count}" uniqueCount="{count}">{items}</sst>'


def workbook(sheet_name: str, rows: Iterable[tuple[Sequence[object], int]]) -> bytes:
    """The XLSX file of one sheet named ``sheet_name``: each row given with its style
    (:data:`PLAIN` or :data:`BOLD`); an empty row leaves a blank line. Empty texts and
    ``None`` leave their cell empty."""
    sheet = _Sheet()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr(
            "xl/workbook.xml",
            f'{_HEADER}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheets>'
            f'<sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(f'{_HEADER}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            chunk: list[str] = []
            for number, (values, style) in enumerate(rows, start=1):
                chunk.append(sheet.row(number, values, style))
                if len(chunk) == _ROWS_PER_CHUNK:
                    part.write("".join(chunk).encode())
                    chunk.clear()
            part.write(("".join(chunk) + "</sheetData></worksheet>").encode())
        archive.writestr("xl/sharedStrings.xml", sheet.shared_strings())
    return buffer.getvalue()
