"""The territory administrator's RSA import page: upload, the job on a real worker, the report,
the list of past imports."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from binome.access.models import AuditEvent, AuditKind
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from binome.rsa.imports import run_import, start_import, store_spreadsheet
from binome.rsa.models import Dossier, FlowImport, ImportStatus, SpreadsheetMapping
from binome.territories.models import Department
from tests.conftest import login_as
from tests.factories import SmallTerritory, make_member
from tests.rsa.test_import import NOVEMBER, flow, household

pytestmark = pytest.mark.django_db


def admin_of_the_var(small_var: SmallTerritory) -> Any:
    claire = make_member("Claire", small_var.departement)
    TerritoryRole.objects.create(
        user=claire, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=claire, confirmed=True)  # administrators need one
    return claire


def logged_in(user: Any) -> Client:
    return login_as(Client(), user)


def november(*numbers: str) -> bytes:
    return flow(NOVEMBER, *(household(n) for n in numbers)).getvalue()


def test_the_admin_uploads_a_flow_and_the_import_is_queued(small_var: SmallTerritory) -> None:
    client = logged_in(admin_of_the_var(small_var))
    content = november("0001")

    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile("novembre.xml", content)},
    )

    queued = FlowImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rsa_imports:import_detail", args=["83", queued.pk])
    assert queued.status == ImportStatus.QUEUED and bytes(queued.content) == content
    assert (queued.file_name, queued.size) == ("novembre.xml", len(content))
    job = ProcrastinateJob.objects.get(task_name="binome.rsa.run_import", args__run_id=queued.pk)
    assert job.args == {"run_id": queued.pk} and job.status == "todo"
    assert not Dossier.objects.exists()  # nothing imported before the worker runs it
    page = client.get(response["Location"]).content.decode()
    assert "every 1s" in page and "En attente" in page and "novembre.xml" in page


def test_the_job_writes_the_report_and_the_page_shows_it(small_var: SmallTerritory) -> None:
    claire = admin_of_the_var(small_var)
    data = november("0001", "0002").replace(b"1985-05-03", b"1985-02-31", 1)
    queued = start_import(
        department=Department.objects.get(code="83"),
        file_name="novembre.xml",
        content=data,
        by=claire,
    )

    done = run_import(run_id=queued.pk)

    assert done.status == ImportStatus.APPLIED and done.percent == 100
    assert (done.created, done.rejected) == (1, 1)
    assert len(done.file_hash) == 64
    event = AuditEvent.objects.get(kind=AuditKind.RSA_IMPORT)
    assert event.actor == claire and event.department_id == "83"
    client = logged_in(claire)
    page = html.unescape(
        client.get(reverse("rsa_imports:import_progress", args=["83", done.pk])).content.decode()
    )
    assert "every 1s" not in page
    assert "Import terminé en partie" in page
    assert "1 dossier(s) créé(s)" in page
    assert "dossier n° 0001 (ligne" in page and "élément DTNAI) : « 1985-02-31 »" in page
    detail = html.unescape(
        client.get(reverse("rsa_imports:import_detail", args=["83", done.pk])).content.decode()
    )
    assert done.file_hash in detail and "Lancé par Claire" in detail
    listing = client.get(reverse("rsa_imports:import_list", args=["83"])).content.decode()
    assert "novembre.xml" in listing and "Appliqué" in listing


def test_the_same_file_uploaded_again_changes_nothing_and_says_so(
    small_var: SmallTerritory,
) -> None:
    claire = admin_of_the_var(small_var)
    var = Department.objects.get(code="83")
    content = november("0001")
    first = run_import(
        run_id=start_import(department=var, file_name="a.xml", content=content, by=claire).pk
    )
    second = run_import(
        run_id=start_import(department=var, file_name="a.xml", content=content, by=claire).pk
    )

    assert (first.created, second.created, second.unchanged, second.updated) == (1, 0, 1, 0)
    assert Dossier.objects.get().last_import == first
    page = html.unescape(
        logged_in(claire)
        .get(reverse("rsa_imports:import_progress", args=["83", second.pk]))
        .content.decode()
    )
    assert "Ce fichier avait déjà été importé le" in page


def test_a_refused_file_writes_nothing_and_the_report_says_why(
    small_var: SmallTerritory,
) -> None:
    claire = admin_of_the_var(small_var)
    cut = november("0001", "0002")[:-200]
    queued = start_import(
        department=Department.objects.get(code="83"), file_name="coupé.xml", content=cut, by=claire
    )

    done = run_import(run_id=queued.pk)

    assert done.status == ImportStatus.REFUSED
    assert not Dossier.objects.exists()
    assert FlowImport.objects.count() == 1  # the queued import, refused: no second record
    page = html.unescape(
        logged_in(claire)
        .get(reverse("rsa_imports:import_progress", args=["83", done.pk]))
        .content.decode()
    )
    assert "Fichier refusé : aucun dossier n'a été modifié" in page
    assert "coupé.xml" in page and "coupé" in done.message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "flux.pdf",
            b"%PDF",
            "Format non accepté : un flux .xml ou un tableur .xlsx, .ods ou .csv est attendu.",
        ),
        ("flux.xml", b"", "Le fichier soumis est vide."),
    ],
)
def test_bad_uploads_are_refused_with_a_message(
    small_var: SmallTerritory, name: str, content: bytes, message: str
) -> None:
    client = logged_in(admin_of_the_var(small_var))
    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not FlowImport.objects.exists()


def test_a_file_over_the_cap_is_refused(small_var: SmallTerritory, monkeypatch: Any) -> None:
    from binome.rsa import import_views

    monkeypatch.setattr(import_views, "MAX_FILE_BYTES", 1000)
    client = logged_in(admin_of_the_var(small_var))
    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile("gros.xml", november("0001", "0002"))},
    )
    page = html.unescape(response.content.decode())
    assert "Fichier trop gros" in page and "1000\xa0octets au plus" in page
    assert not FlowImport.objects.exists()


def test_one_import_at_a_time_per_territory(small_var: SmallTerritory) -> None:
    claire = admin_of_the_var(small_var)
    queued = start_import(
        department=Department.objects.get(code="83"),
        file_name="a.xml",
        content=november("0001"),
        by=claire,
    )
    client = logged_in(claire)
    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile("b.xml", november("0002"))},
    )
    assert response.status_code == 200
    assert "Un import est en attente" in html.unescape(response.content.decode())
    assert list(FlowImport.objects.values_list("pk", flat=True)) == [queued.pk]


def test_the_steering_officer_may_not_import_and_another_territory_is_a_404(
    small_var: SmallTerritory,
) -> None:
    url = reverse("rsa_imports:import_list", args=["83"])
    assert logged_in(small_var.dan).get(url).status_code == 403
    assert logged_in(small_var.charlie).get(url).status_code == 404


def test_the_list_of_past_imports_costs_the_same_queries_for_many_imports(
    small_var: SmallTerritory, django_assert_max_num_queries: Any
) -> None:
    claire = admin_of_the_var(small_var)
    var = Department.objects.get(code="83")
    for number in range(12):
        FlowImport.objects.create(
            department=var, file_name=f"flux-{number}.xml", by=claire, status="applied"
        )
    client = logged_in(claire)
    url = reverse("rsa_imports:import_list", args=["83"])
    client.get(url)

    with django_assert_max_num_queries(10):
        response = client.get(url)

    assert response.content.decode().count("flux-") == 12


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_queued_import() -> None:
    """The job goes through procrastinate: queued in the database, run by a worker."""
    from tests.database import ensure_referential
    from tests.factories import build_small_territory

    ensure_referential()
    build_small_territory()
    queued = start_import(
        department=Department.objects.get(code="83"),
        file_name="novembre.xml",
        content=november("0001"),
        by=None,
    )

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:  # type: ignore[attr-defined]
        worker_app.run_worker(
            queues=["rsa"], wait=False, install_signal_handlers=False, listen_notify=False
        )

    queued.refresh_from_db()
    assert queued.status == ImportStatus.APPLIED, queued.message
    assert queued.created == 1 and Dossier.objects.count() == 1
    # Another transactional test of the same process may have left its own job behind
    # (procrastinate's tables are not flushed between tests): read this import's job.
    job = ProcrastinateJob.objects.get(task_name="binome.rsa.run_import", args__run_id=queued.pk)
    assert job.status == "succeeded"


# --- Spreadsheets: mapping, preview, import -------------------------------------------


def test_a_spreadsheet_is_mapped_previewed_row_by_row_then_imported(
    small_var: SmallTerritory,
) -> None:
    from tests.rsa.test_spreadsheets import ROWS, csv_bytes

    claire = admin_of_the_var(small_var)
    client = logged_in(claire)
    rows = [list(row) for row in ROWS]
    rows[2][4] = "31/02/1970"

    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile("beneficiaires.csv", csv_bytes(rows))},
    )
    draft = FlowImport.objects.get()
    assert draft.status == ImportStatus.DRAFT and draft.mapping is None
    assert response["Location"] == reverse("rsa_imports:import_mapping", args=["83", draft.pk])
    form = client.get(response["Location"]).content.decode()
    # One select per field, listing the file's headers; usual headers guessed.
    assert '<option value="Né(e) le">Né(e) le</option>' in html.unescape(form)
    assert '<option value="Nom" selected>Nom</option>' in form
    missing = client.post(response["Location"], {"name": "Tableau du Var", "column_nom": "Nom"})
    assert "Choisissez la colonne du champ « Date de naissance »." in html.unescape(
        missing.content.decode()
    )

    response = client.post(
        response["Location"],
        {
            "name": "Tableau du Var",
            "column_number": "N° allocataire",
            "column_role": "Qualité",
            "column_last_name": "Nom",
            "column_first_name": "Prénom",
            "column_birth_date": "Né(e) le",
            "column_nir": "NIR",
        },
    )
    mapping = SpreadsheetMapping.objects.get(department_id="83", name="Tableau du Var")
    assert mapping.columns["birth_date"] == "Né(e) le"
    assert response["Location"] == reverse("rsa_imports:import_preview", args=["83", draft.pk])
    preview = html.unescape(client.get(response["Location"]).content.decode())
    assert "À créer : 2 lignes" in preview and "Erreur : 1 ligne" in preview
    assert "ligne 4, colonne « Né(e) le » : « 31/02/1970 » n'est pas une date valide" in preview
    assert "<td>Hélène</td>" in preview
    assert not Dossier.objects.exists()

    response = client.post(reverse("rsa_imports:import_preview", args=["83", draft.pk]))
    assert response["Location"] == reverse("rsa_imports:import_detail", args=["83", draft.pk])
    done = run_import(run_id=draft.pk)
    assert done.status == ImportStatus.APPLIED, done.message
    assert (done.created, done.rejected) == (1, 1)
    assert Dossier.objects.get().number == "1234567"
    assert AuditEvent.objects.filter(
        kind=AuditKind.RSA_IMPORT, what__contains="Correspondance de colonnes « Tableau du Var »"
    ).exists()

    # The next file of the same shape is read with the saved mapping, straight to its preview.
    response = client.post(
        reverse("rsa_imports:import_list", args=["83"]),
        {"file": SimpleUploadedFile("decembre.csv", csv_bytes(ROWS)), "mapping": mapping.pk},
    )
    second = FlowImport.objects.get(file_name="decembre.csv")
    assert response["Location"] == reverse("rsa_imports:import_preview", args=["83", second.pk])
    preview = html.unescape(client.get(response["Location"]).content.decode())
    assert "À jour : 2 lignes" in preview and "À créer : 1 ligne" in preview


def test_a_spreadsheet_without_a_mapped_column_is_refused_whole_in_the_preview(
    small_var: SmallTerritory,
) -> None:
    from tests.rsa.test_spreadsheets import COLUMNS, ROWS, csv_bytes

    claire = admin_of_the_var(small_var)
    mapping = SpreadsheetMapping.objects.create(
        department_id="83", name="Ancien", columns={**COLUMNS, "birth_date": "Date naissance"}
    )
    draft = store_spreadsheet(
        department=Department.objects.get(code="83"),
        file_name="b.csv",
        content=csv_bytes(ROWS),
        by=claire,
        mapping=mapping,
    )
    page = html.unescape(
        logged_in(claire)
        .get(reverse("rsa_imports:import_preview", args=["83", draft.pk]))
        .content.decode()
    )
    assert "Le fichier ne peut pas être importé" in page
    assert "la colonne « Date naissance » (Date de naissance) de la correspondance" in page
    assert "Appliquer l'import" not in page


def test_an_import_left_running_by_a_dead_worker_is_refused_and_a_new_one_allowed(
    small_var: SmallTerritory,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from binome.rsa.imports import STALE_MESSAGE, fail_stale_imports, unfinished_import

    claire = admin_of_the_var(small_var)
    var = Department.objects.get(code="83")
    stale = FlowImport.objects.create(
        department=var,
        file_name="a.xml",
        by=claire,
        status=ImportStatus.RUNNING,
        progress_at=timezone.now() - timedelta(hours=1),
    )
    recent = FlowImport.objects.create(
        department=var,
        file_name="b.xml",
        by=claire,
        status=ImportStatus.RUNNING,
        progress_at=timezone.now(),
    )

    assert fail_stale_imports() == [stale.pk]

    stale.refresh_from_db()
    assert stale.status == ImportStatus.REFUSED and stale.message == STALE_MESSAGE
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_IMPORT, what__contains="a.xml").exists()
    assert unfinished_import("83") == recent
    periodic = {t.task.name for t in app.periodic_registry.periodic_tasks.values()}
    assert "binome.rsa.tasks.stale_rsa_imports" in periodic
