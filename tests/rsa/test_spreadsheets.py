"""A département's spreadsheet, read with its mapping: households by role, rows in error with
their line and column, a file refused whole when it cannot be used, and the import through the
same action as the CAF/MSA flows."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from stdnum.fr import nir as stdnum_nir

from binome.people.models import Person
from binome.rsa.actions import import_flux, open_source, planned_changes
from binome.rsa.flux import DossierRefused, FluxRefused, RightState, Role, RsaDossier
from binome.rsa.models import Beneficiary, Dossier, ImportStatus, SpreadsheetMapping
from binome.rsa.spreadsheets import guess_mapping, open_spreadsheet, read_table
from binome.territories.models import Department

HEADERS = ["N° allocataire", "Qualité", "Nom", "Prénom", "Né(e) le", "NIR", "Téléphone"]
COLUMNS = {
    "number": "N° allocataire",
    "role": "Qualité",
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Né(e) le",
    "nir": "NIR",
    "phone": "Téléphone",
}
NIR = "2850583123456"
NIR_WITH_KEY = NIR + stdnum_nir.calc_check_digits(NIR)
ROWS = [
    ["1234567", "Demandeuse", "Lefèvre", "Hélène", "03/05/1985", NIR_WITH_KEY, "06 12 34 56 78"],
    ["1234567", "Concubin", "Martin", "Noël", "09/02/1983", "", ""],
    ["7654321", "DEM", "Durand", "Paul", "02/01/1970", "", ""],
]
TODAY = datetime.date(2026, 12, 7)


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    lines = [delimiter.join(HEADERS), *(delimiter.join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read(content: bytes, name: str = "beneficiaires.csv", columns: dict[str, str] = COLUMNS):
    return open_spreadsheet(
        io.BytesIO(content), name, columns=columns, mapping_name="Var", today=TODAY
    )


def test_a_couple_is_one_dossier_by_its_roles_in_a_csv_sniffed_and_in_windows_1252() -> None:
    sheet = read(csv_bytes(ROWS, encoding="cp1252"))

    couple, single = sheet.dossiers()
    assert isinstance(couple, RsaDossier) and isinstance(single, RsaDossier)
    assert [(p.role, p.first_name, p.line) for p in couple.persons] == [
        (Role.APPLICANT, "Hélène", 2),
        (Role.SPOUSE, "Noël", 3),
    ]
    helene = couple.persons[0]
    assert helene.nir == NIR and helene.birth_date == datetime.date(1985, 5, 3)
    assert helene.phone == "06 12 34 56 78" and helene.subject_to_rights_and_duties
    assert couple.state == RightState.OPEN and couple.matricule == "1234567"
    assert [row.error for row in sheet.rows] == ["", "", ""]


def test_an_xlsx_is_read_with_its_dates_and_numbers_as_cells() -> None:
    rows: list[list[object]] = [
        [1234567, "DEM", "Lefèvre", "Hélène", datetime.datetime(1985, 5, 3), int(NIR_WITH_KEY), ""]
    ]
    (dossier,) = read(xlsx_bytes(rows), "beneficiaires.xlsx").dossiers()
    assert isinstance(dossier, RsaDossier)
    assert dossier.number == "1234567"
    assert dossier.persons[0].birth_date == datetime.date(1985, 5, 3)
    assert dossier.persons[0].nir == NIR


def test_a_comma_delimited_file_is_sniffed() -> None:
    sheet = read(csv_bytes(ROWS, delimiter=","))
    assert len(list(sheet.dossiers())) == 2


@pytest.mark.parametrize(
    ("line", "column", "value", "reason"),
    [
        (4, 4, "31/02/1970", "« 31/02/1970 » n'est pas une date valide (attendu : JJ/MM/AAAA)."),
        (4, 5, NIR[:-1] + "7" + "00", "la clé du NIR de Paul Durand ne correspond pas"),
        (4, 1, "Cousin", "« Cousin » n'est pas un rôle reconnu"),
    ],
)
def test_a_faulty_row_names_its_line_and_column_and_leaves_out_its_household_only(
    line: int, column: int, value: str, reason: str
) -> None:
    rows = [list(row) for row in ROWS]
    rows[line - 2][column] = value
    sheet = read(csv_bytes(rows))

    couple, refused = sheet.dossiers()
    assert isinstance(couple, RsaDossier)
    assert isinstance(refused, DossierRefused)
    assert str(refused).startswith(f"dossier n° 7654321 (ligne 4, colonne « {HEADERS[column]} »)")
    assert reason in str(refused)
    assert sheet.rows[2].error.startswith(f"ligne 4, colonne « {HEADERS[column]} » : ")


def test_the_same_nir_in_two_households_refuses_the_second() -> None:
    rows = [list(row) for row in ROWS]
    rows[2][5] = NIR_WITH_KEY
    _couple, refused = read(csv_bytes(rows)).dossiers()
    assert isinstance(refused, DossierRefused)
    assert "figure déjà dans le dossier n° 1234567" in str(refused)


def test_two_applicants_in_one_household_are_a_fault_of_the_second_row() -> None:
    rows = [list(row) for row in ROWS]
    rows[1][1] = "demandeur"
    sheet = read(csv_bytes(rows))
    refused, _single = sheet.dossiers()
    assert isinstance(refused, DossierRefused)
    assert str(refused) == (
        "dossier n° 1234567 (ligne 3, colonne « Qualité ») : le dossier n° 1234567 a déjà un "
        "demandeur (ligne 2)."
    )
    assert sheet.rows[0].error == "ligne 2 : le dossier n° 1234567 est rejeté à cause de la ligne 3"


@pytest.mark.parametrize(
    ("content", "name", "columns", "message"),
    [
        (b"", "vide.csv", COLUMNS, "vide.csv : le fichier est vide."),
        (
            csv_bytes(ROWS),
            "b.csv",
            {**COLUMNS, "birth_date": "Date de naissance"},
            "b.csv : la colonne « Date de naissance » (Date de naissance) de la correspondance "
            "« Var » est absente du fichier",
        ),
        (
            csv_bytes(ROWS),
            "b.csv",
            {k: v for k, v in COLUMNS.items() if k != "first_name"},
            "n'indique pas la colonne du champ obligatoire « Prénom »",
        ),
        (b"\x81\x8d\x8f\x90\x9d;x\n", "c.csv", COLUMNS, "ni en UTF-8 ni en Windows-1252"),
        (b"PK\x03\x04 pas un classeur", "d.xlsx", COLUMNS, "d.xlsx : ce n'est pas un classeur"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(
    content: bytes, name: str, columns: dict[str, str], message: str
) -> None:
    with pytest.raises(FluxRefused) as refusal:
        read(content, name, columns)
    assert message in str(refusal.value)


def test_a_mapping_is_guessed_from_usual_headers() -> None:
    table = read_table(io.BytesIO(csv_bytes(ROWS)), "a.csv")
    assert table.headers == tuple(HEADERS)
    assert guess_mapping(("Nom", "Prénom", "Date de naissance", "N° dossier", "Rôle")) == {
        "number": "N° dossier",
        "role": "Rôle",
        "last_name": "Nom",
        "first_name": "Prénom",
        "birth_date": "Date de naissance",
    }


def test_the_spreadsheet_goes_through_the_same_import_and_a_second_time_changes_nothing(
    small_var,
) -> None:
    var = Department.objects.get(code="83")
    mapping = SpreadsheetMapping.objects.create(department=var, name="Var", columns=COLUMNS)
    content = csv_bytes(ROWS)

    sheet = open_source(io.BytesIO(content), "b.csv", mapping=mapping)
    assert planned_changes(var, sheet.dossiers(), sheet.header) == {
        "1234567": "create",
        "7654321": "create",
    }
    first = import_flux(
        io.BytesIO(content), department=var, by=None, file_name="b.csv", mapping=mapping
    )
    assert first.status == ImportStatus.APPLIED, first.message
    assert (first.created, first.rejected) == (2, 0) and first.mapping == mapping
    helene = Beneficiary.objects.get(first_name="Hélène")
    assert helene.role == Role.APPLICANT and helene.person is not None
    assert helene.person.phone == "06 12 34 56 78"
    # The files written in bulk are found as any other: by NIR, and by name and birth date.
    assert helene.person.nir == NIR_WITH_KEY
    assert list(
        Person.objects.matching(
            department_id="83",
            first_name="Helene",
            last_name="LEFEVRE",
            birth_date=datetime.date(1985, 5, 3),
        )
    ) == [helene.person]
    assert Beneficiary.objects.get(first_name="Noël").role == Role.SPOUSE
    assert helene.orientation_due_on == datetime.date.today() + datetime.timedelta(weeks=6)

    sheet = open_source(io.BytesIO(content), "b.csv", mapping=mapping)
    assert set(planned_changes(var, sheet.dossiers(), sheet.header).values()) == {"unchanged"}
    second = import_flux(
        io.BytesIO(content), department=var, by=None, file_name="b.csv", mapping=mapping
    )
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert Dossier.objects.count() == 2


def test_a_spreadsheet_without_a_mapping_is_refused(small_var) -> None:
    result = import_flux(
        io.BytesIO(csv_bytes(ROWS)),
        department=Department.objects.get(code="83"),
        by=None,
        file_name="b.csv",
    )
    assert result.status == ImportStatus.REFUSED
    assert "un tableur s'importe avec une correspondance de colonnes" in result.message
    assert not Dossier.objects.exists()


def test_the_command_imports_a_spreadsheet_with_a_saved_mapping(small_var, tmp_path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    SpreadsheetMapping.objects.create(department_id="83", name="Var", columns=COLUMNS)
    rows = [list(row) for row in ROWS]
    rows[2][4] = "31/02/1970"
    sheet = tmp_path / "beneficiaires.csv"
    sheet.write_bytes(csv_bytes(rows))
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command(
            "rsa", "import", "--departement", "83", "--mapping", "Var", str(sheet), stdout=out
        )

    assert failure.value.returncode == 1  # a household rejected, the others imported
    printed = out.getvalue()
    assert f"{sheet} : 1 dossier(s) créé(s)" in printed and "1 dossier(s) rejeté(s)" in printed
    assert (
        "dossier n° 7654321 (ligne 4, colonne « Né(e) le ») : « 31/02/1970 » n'est pas une date"
        in printed
    )
    assert Dossier.objects.count() == 1

    with pytest.raises(CommandError) as unknown:
        call_command("rsa", "import", "--departement", "83", "--mapping", "Autre", str(sheet))
    assert unknown.value.returncode == 2
    assert "Aucune correspondance « Autre » pour le 83 (enregistrées : « Var »)" in str(
        unknown.value
    )
