"""The FSE+ participant export: one line per participant, pseudonymous, no name."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from binome.access.models import AuditEvent
from binome.steering.fse import pseudonym
from tests.steering.conftest import QUERY, Known


def test_one_line_per_participant_without_a_name(known: Known) -> None:
    url = reverse("steering:fse_export", args=["83", "xlsx"])
    response = known.var.client(known.var.dan).get(url, QUERY)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    lines = [row for row in rows if row and row[0] and not str(row[0]).startswith("Définition")]
    # P1 and P2 started in the period; P4 was « non pertinent » (never entered), P3 in 2025.
    assert [line[0] for line in lines] == [
        pseudonym(known.p1.pk, "83"),
        pseudonym(known.p2.pk, "83"),
    ]
    p1, p2 = lines
    assert p1[2:7] == ("Femme", 35, "non", "non", "non")
    assert p1[8] == "Emploi durable (CDI ou CDD de plus de 6 mois)"
    assert p2[2:7] == ("Homme", 23, "non", "oui", "non")
    assert p2[7] is None and p2[8] is None
    text = str(rows)
    assert "Zoé" not in text and "Paulo" not in text and "Test" not in text
    assert AuditEvent.objects.filter(kind="fse_exported", actor=known.var.dan).exists()


def test_who_exports_it(known: Known) -> None:
    url = reverse("steering:fse_export", args=["83", "csv"])
    assert known.var.client(known.var.carol).get(url).status_code == 403
    assert known.var.client(known.var.charlie).get(url).status_code == 404
    bad = reverse("steering:fse_export", args=["83", "pdf"])
    assert known.var.client(known.var.dan).get(bad).status_code == 404
