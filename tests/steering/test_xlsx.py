"""The XLSX writer of the exports: what a spreadsheet reads back from it."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from binome.steering import xlsx


def test_what_a_spreadsheet_reads_back() -> None:
    rows = [
        (("Titre & <sous-titre>",), xlsx.BOLD),
        ((), xlsx.PLAIN),
        (("Nom", "Nombre", "Part", "Montant", "Vrai", "Le", "À", "Vide", "Rien"), xlsx.BOLD),
        (
            (
                "Texte\x01 « accentué »",
                12,
                33.5,
                Decimal("7.25"),
                True,
                datetime.date(2026, 3, 31),
                datetime.datetime(2026, 3, 31, 13, 30, tzinfo=ZoneInfo("UTC")),
                "",
                None,
            ),
            xlsx.PLAIN,
        ),
        (("Texte\x01 « accentué »", 0, -1.0), xlsx.PLAIN),
    ]
    content = xlsx.workbook("Données", rows)
    book = load_workbook(io.BytesIO(content))
    sheet = book["Données"]
    assert sheet["A1"].value == "Titre & <sous-titre>"
    assert sheet["A1"].font.b and sheet["B3"].font.b and not sheet["A4"].font.b
    assert sheet["A2"].value is None
    assert [cell.value for cell in sheet[4]] == [
        "Texte « accentué »",
        12,
        33.5,
        7.25,
        True,
        datetime.datetime(2026, 3, 31),
        datetime.datetime(2026, 3, 31, 15, 30),  # in the project's time zone (Paris)
        None,
        None,
    ]
    assert sheet["F4"].is_date and sheet["G4"].is_date
    assert [cell.value for cell in sheet[5]][:3] == ["Texte « accentué »", 0, -1]
    # Texts stay texts: a leading zero, a formula, an address are not reinterpreted.
    content = xlsx.workbook("Données", [(("0612", "=1+1", "https://exemple.fr", "1e3"), 0)])
    sheet = load_workbook(io.BytesIO(content))["Données"]
    assert [cell.value for cell in sheet[1]] == ["0612", "=1+1", "https://exemple.fr", "1e3"]
    assert all(cell.data_type == "s" for cell in sheet[1])
