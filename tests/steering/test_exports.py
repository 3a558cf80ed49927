"""Every table of the dashboard as CSV and XLSX: the same rows as the page."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from binome.referrals.models import ReferralKind
from tests.steering.conftest import QUERY, Known


def _export(known: Known, section: str, table: str, extension: str, query: dict[str, str]) -> bytes:
    url = reverse("steering:territory_export", args=["83", section, table, extension])
    response = known.var.client(known.var.dan).get(url, query)
    assert response.status_code == 200
    return response.content


def test_a_table_as_xlsx(known: Known) -> None:
    content = _export(known, "support", "by_organisation", "xlsx", QUERY)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Par organisation"
    assert sheet["A2"].value == "Var, du 01/01/2026 au 31/03/2026"
    assert [c.value for c in sheet[4]] == [
        "Organisation",
        "En cours en fin de période",
        "Entrées",
        "Sorties",
    ]
    assert [c.value for c in sheet[5]] == ["France Travail Toulon", 1, 3, 2]
    assert [c.value for c in sheet[6]] == ["Département du Var", 0, 1, 1]
    assert sheet["A8"].value.startswith("Définition : Un accompagnement compte")


def test_the_key_figures_as_xlsx(known: Known) -> None:
    content = _export(known, "steering", "chiffres", "xlsx", QUERY)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = {row[0]: row[1:3] for row in sheet.iter_rows(min_row=5, max_row=8, values_only=True)}
    assert rows["Délai médian de l'orientation au diagnostic partagé"] == (21.5, "jours")
    assert rows["Diagnostics faits dans l'objectif de 21 jours"] == (50, "%")


def test_a_table_as_csv(known: Known) -> None:
    content = _export(known, "referrals", "by_kind", "csv", QUERY).decode("utf-8")
    assert content.startswith("\ufeffType d'orientation;Envoyées;Répondues;")
    lines = content.splitlines()
    assert "Vers l'accompagnement social;1;1;12,0;0,0;0,0;" in lines
    assert len(lines) == 1 + len(ReferralKind)  # the header and each kind


def test_the_period_follows_the_query(known: Known) -> None:
    content = _export(
        known, "support", "by_organisation", "csv", {"periode": "annee", "annee": "2025"}
    )
    lines = content.decode("utf-8").splitlines()
    assert lines[1:] == ["France Travail Toulon;1;1;0"]  # P3, in 2025


def test_an_unknown_table_or_format_is_a_404(known: Known) -> None:
    client = known.var.client(known.var.dan)
    for args in (
        ["83", "support", "nope", "csv"],
        ["83", "nope", "by_organisation", "csv"],
        ["83", "support", "by_organisation", "pdf"],
    ):
        assert client.get(reverse("steering:territory_export", args=args)).status_code == 404
    url = reverse("steering:territory_export", args=["83", "support", "by_organisation", "csv"])
    assert known.var.client(known.var.carol).get(url).status_code == 403
    assert known.var.client(known.var.charlie).get(url).status_code == 404


def test_the_page_links_each_table_to_its_exports(known: Known) -> None:
    response = known.var.client(known.var.dan).get(
        reverse("steering:territory", args=["83"]), QUERY
    )
    body = response.content.decode()
    export = reverse("steering:territory_export", args=["83", "support", "by_organisation", "xlsx"])
    assert f'href="{export}?periode=dates&amp;du=2026-01-01&amp;au=2026-03-31"' in body
