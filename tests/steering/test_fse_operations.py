"""FSE+ operations: creation, participants counted once, completeness per organisation, the
files a professional has to complete, the pseudonymous export."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from binome.access.models import AuditEvent
from binome.retention.actions import erase_mistaken_file
from binome.steering import actions, operations
from binome.steering.fse import pseudonym
from binome.steering.models import FseOperation
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, Kind, State, TeamRole
from tests.steering.conftest import Known, _person, _set

ENTRY = {
    "gender": "femme",
    "labour_status": "chomeur_longue_duree",
    "education": "cite_0_2",
    "disability": "non",
    "third_country": "refus",
    "foreign_background": "non",
    "minority": "refus",
    "homeless": "oui",
    "rural": "non",
}


def _operation(known: Known, *organisations: object) -> FseOperation:
    var = known.var
    operation = FseOperation.objects.create(
        department_id="83",
        name="Accompagnement global du Var 2026",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        created_by=var.dan,
    )
    operation.organisations.set(organisations or (var.france_travail, var.departement))
    return operation


@pytest.fixture
def operation(known: Known) -> FseOperation:
    """P1 (activated on 25 Jan., ended on 20 Mar., Alice and Bob on the team) and P2
    (activated on 5 Feb., Alice) take part; P3 entered in 2025; P4 was never activated; P5
    was activated and ended the same day; P1's second accompaniment counts her no more."""
    var = known.var
    _set(known.p2, activated_on=date(2026, 2, 5))
    p5 = _person(var, "Rémi", date(1999, 9, 9))
    _set(
        p5,
        started_on=date(2026, 4, 1),
        activated_on=date(2026, 4, 1),
        state=State.ENDED,
        ended_on=date(2026, 4, 1),
        exit_reason="abandon",
    )
    again = support_actions.open_accompaniment(
        person=known.p1,
        kind=Kind.GLOBAL,
        started_on=date(2026, 5, 1),
        by=var.alice,
        organisation=var.france_travail,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    Accompaniment.objects.filter(pk=again.pk).update(
        state=State.ACTIVE, activated_on=date(2026, 5, 10)
    )
    return _operation(known)


def _first(known: Known) -> Accompaniment:
    return Accompaniment.objects.filter(person=known.p1).order_by("started_on").first()  # type: ignore[return-value]


def test_a_participant_counts_once_and_the_export_names_nobody(
    known: Known, operation: FseOperation
) -> None:
    var = known.var
    support_actions.record_fse_answers(
        accompaniment=_first(known),
        stage="entree",
        answers=ENTRY,
        by=var.alice,
        organisation=var.france_travail,
    )
    response = var.client(var.dan).get(
        reverse("steering:fse_operation_export", args=[operation.pk, "csv"])
    )
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff")), delimiter=";"))
    header, rows = lines[0], lines[1:]
    assert header[:3] == ["Identifiant du participant", "Entrée le", "Genre"]
    assert [row[0] for row in rows] == [pseudonym(known.p1.pk, "83"), pseudonym(known.p2.pk, "83")]
    p1 = dict(zip(header, rows[0], strict=True))
    assert p1["Entrée le"] == "2026-01-25"
    assert p1["Genre"] == "Femme" and p1["Âge à l'entrée"] == "35"
    assert p1["Chômeur (y compris de longue durée)"] == "oui"
    assert p1["Chômeur de longue durée"] == "oui" and p1["Inactif"] == "non"
    assert p1["CITE 0 à 2"] == "oui" and p1["CITE 3 et 4"] == "non"
    assert p1["Ressortissant d'un pays tiers"] == "refuse de répondre"
    assert p1["Sans domicile ou exclu du logement"] == "oui"
    assert p1["Entrée complète"] == "oui"
    assert p1["Sortie le"] == "2026-03-20" and p1["Sortie complète"] == "non"
    assert p1["Six mois complets"] == "sans objet"
    p2 = dict(zip(header, rows[1], strict=True))
    assert p2["18 à 29 ans"] == "oui" and p2["Entrée complète"] == "non"
    assert p2["Handicap"] == "" and p2["Sortie complète"] == "sans objet"
    text = response.content.decode()
    for name in ("Zoé", "Paulo", "Exemple", "EXEMPLE", "Test", "Rémi"):
        assert name not in text
    audit = AuditEvent.objects.get(kind="fse_exported")
    assert "2 participants" in audit.what


def test_the_identifier_survives_the_anonymisation(known: Known, operation: FseOperation) -> None:
    before = operations.export_table(operation).rows
    with transaction.atomic():
        erase_mistaken_file(person=known.p1, reason="Test de l'identifiant.", by=known.dep_admin)
    after = operations.export_table(operation).rows
    assert [row[0] for row in after] == [row[0] for row in before]


def test_the_xlsx_export_and_who_may_export(known: Known, operation: FseOperation) -> None:
    var = known.var
    url = reverse("steering:fse_operation_export", args=[operation.pk, "xlsx"])
    response = var.client(var.dan).get(url)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet["A4"].value == "Identifiant du participant"
    assert sheet["A5"].value == pseudonym(known.p1.pk, "83")
    assert var.client(var.bob).get(url).status_code == 403  # a member, not the steering
    assert var.client(var.carol).get(url).status_code == 403  # not covered
    assert var.client(var.charlie).get(url).status_code == 404
    bad = reverse("steering:fse_operation_export", args=[operation.pk, "pdf"])
    assert var.client(var.dan).get(bad).status_code == 404


def test_completeness_per_organisation_and_the_files_to_complete(
    known: Known, operation: FseOperation
) -> None:
    var = known.var
    support_actions.record_fse_answers(
        accompaniment=_first(known),
        stage="entree",
        answers=ENTRY,
        by=var.bob,
        organisation=var.departement,
    )
    rows = {row.organisation: row for row in operations.completeness(operation)}
    ft, dep = rows["France Travail Toulon"], rows["Département du Var"]
    assert (ft.participants, ft.entry_complete, ft.exits, ft.exit_complete) == (2, 1, 1, 0)
    assert (dep.participants, dep.entry_complete, dep.exits) == (1, 1, 1)
    # The steering sees every organisation's figures, and no file.
    page = var.client(var.dan).get(reverse("steering:fse_operation", args=[operation.pk]))
    text = page.content.decode()
    assert "France Travail Toulon" in text and "1 / 2" in text
    assert "Zoé" not in text and "Vos dossiers à compléter" not in text
    # Bob (the Département's social worker) sees his organisation and his own file to complete.
    page = var.client(var.bob).get(reverse("steering:fse_operation", args=[operation.pk]))
    text = page.content.decode()
    assert '<th scope="row">France Travail Toulon</th>' not in text
    assert '<th scope="row">Département du Var</th>' in text
    assert "Vos dossiers à compléter" in text and "Zoé" in text and "Paulo" not in text
    assert "à compléter : sortie" in text  # her entry is complete
    assert AuditEvent.objects.filter(kind="read", actor=var.bob, person_ids=[known.p1.pk]).exists()
    # Alice has both files to complete.
    page = var.client(var.alice).get(reverse("steering:fse_operation", args=[operation.pk]))
    assert "Paulo" in page.content.decode()
    assert (
        var.client(var.carol)
        .get(reverse("steering:fse_operation", args=[operation.pk]))
        .status_code
        == 403
    )
    assert (
        var.client(var.charlie)
        .get(reverse("steering:fse_operation", args=[operation.pk]))
        .status_code
        == 404
    )


def test_creating_an_operation(known: Known) -> None:
    var = known.var
    url = reverse("steering:fse_operations", args=["83"])
    client = var.client(var.dan)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "Var 2026",
            "starts_on": "2026-01-01",
            "ends_on": "2025-12-31",
            "organisations": [var.france_travail.pk],
        },
    )
    assert "La fin de l&#x27;opération doit suivre son début." in response.content.decode()
    response = client.post(
        url, {"name": "Var 2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    )
    assert "Choisissez au moins une organisation couverte." in response.content.decode()
    assert not FseOperation.objects.exists()
    response = client.post(
        url,
        {
            "name": "Var 2026",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "organisations": [var.france_travail.pk, var.departement.pk],
        },
    )
    created = FseOperation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "steering:fse_operation", args=[created.pk]
    )
    assert AuditEvent.objects.filter(kind="fse_operation_created", actor=var.dan).exists()
    assert var.client(var.bob).get(url).status_code == 403
    assert var.client(var.charlie).get(url).status_code == 404
    # An organisation of another territory is refused by the action itself.
    evry = var.charlie.memberships.get().organisation
    with pytest.raises(ValidationError, match="territoire"):
        actions.create_fse_operation(
            department_id="83",
            name="Mauvais",
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate(),
            organisations=[evry],
            by=var.dan,
        )
