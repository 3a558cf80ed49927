"""The territory administrator's import page: upload, the job on a real worker, the report."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from binome.access.models import AuditEvent, AuditKind
from binome.directory import imports
from binome.directory.imports import run_import, start_import
from binome.directory.models import ImportRun, ImportStatus, Service, Structure
from binome.territories.models import Department
from tests.directory.test_import import SERVICES, STRUCTURES, service_row

pytestmark = pytest.mark.django_db


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def test_claire_uploads_files_and_the_import_is_queued(client_for: Any) -> None:
    client = client_for("claire")
    url = reverse("directory:import_list", args=["83"])

    response = client.post(url, {"structures": upload(STRUCTURES), "services": upload(SERVICES)})

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:import_detail", args=["83", run.pk])
    assert run.status == ImportStatus.QUEUED and run.department_id == "83"
    assert [f.name for f in run.files.all()] == ["structures.json", "services.json"]
    assert bytes(run.files.first().content) == STRUCTURES.read_bytes()  # type: ignore[union-attr]
    job = ProcrastinateJob.objects.get(task_name="binome.directory.run_import", args__run_id=run.pk)
    assert job.args == {"run_id": run.pk} and job.status == "todo"
    assert not Service.objects.exists()  # nothing imported before the worker runs it

    page = client.get(response["Location"])
    assert b"every 1s" in page.content and b"En attente" in page.content


def test_the_job_writes_the_report_and_the_page_shows_it(client_for: Any, personas: Any) -> None:
    bad = [service_row(id="dora--sans-nom", nom=None)]
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[
            ("structures.json", STRUCTURES.read_bytes()),
            ("services.json", json.dumps(bad).encode()),
        ],
        by=personas["claire"],
    )

    run = run_import(run_id=run.pk)

    assert run.status == ImportStatus.DONE and run.percent == 100
    assert run.counts["structures"]["created"] == 3
    assert run.rejected == [
        {"file": "services.json", "line": 1, "field": "nom", "reason": "champ obligatoire absent"}
    ]
    event = AuditEvent.objects.get(kind=AuditKind.DIRECTORY_IMPORT)
    assert event.actor == personas["claire"] and event.department_id == "83"
    page = (
        client_for("claire")
        .get(reverse("directory:import_progress", args=["83", run.pk]))
        .content.decode()
    )
    assert "every 1s" not in page
    assert "Import terminé en partie" in page
    assert "3 lignes appliquées ; 1 ligne rejetée" in page
    assert "<td>services.json</td>" in page and "champ obligatoire absent" in page
    listing = client_for("claire").get(reverse("directory:import_list", args=["83"]))
    assert "structures.json" in listing.content.decode()


def test_the_report_shows_the_warnings_of_the_rows_applied(client_for: Any, personas: Any) -> None:
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[
            ("structures.json", STRUCTURES.read_bytes()),
            ("services.json", json.dumps([service_row(code_insee="83999")]).encode()),
            ("page-2.json", b'{"items": [], "total": 1, "page": 2, "size": 1, "pages": 1}'),
        ],
        by=personas["claire"],
    )

    run = run_import(run_id=run.pk)

    assert run.status == ImportStatus.DONE and run.rejected == []
    assert run.counts["services"]["created"] == 1
    assert [(w["file"], w["line"], w["field"]) for w in run.counts["warnings"]] == [
        ("page-2.json", 0, "items"),
        ("services.json", 1, "code_insee"),
    ]
    page = html.unescape(
        client_for("claire")
        .get(reverse("directory:import_progress", args=["83", run.pk]))
        .content.decode()
    )
    assert "<caption>Avertissements (lignes appliquées ou ignorées)</caption>" in page
    assert "code INSEE inconnu « 83999 » ; valeur ignorée, ligne importée sans elle" in page
    assert "page vide : aucune structure ni aucun service" in page


@pytest.mark.parametrize(
    ("services", "title", "text"),
    [
        ([], "Import terminé", "Les 3 lignes des fichiers ont été appliquées."),
        (
            [service_row(id="a", nom=None), service_row(id="b", structure_id="x")],
            "Import terminé en partie",
            "3 lignes appliquées ; 2 lignes rejetées",
        ),
    ],
)
def test_the_report_says_how_much_was_applied(
    services: list[Any], title: str, text: str, client_for: Any, personas: Any
) -> None:
    files = [("structures.json", STRUCTURES.read_bytes())]
    if services:
        files.append(("services.json", json.dumps(services).encode()))
    run = start_import(
        department=Department.objects.get(code="83"), files=files, by=personas["claire"]
    )
    run = run_import(run_id=run.pk)
    page = html.unescape(
        client_for("claire")
        .get(reverse("directory:import_progress", args=["83", run.pk]))
        .content.decode()
    )
    assert f'<h3 class="fr-alert__title">{title}</h3>' in page
    assert text in page


def test_a_report_with_every_row_rejected_says_nothing_was_applied(
    client_for: Any, personas: Any
) -> None:
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[("services.json", json.dumps([service_row(nom=None)]).encode())],
        by=personas["claire"],
    )
    run = run_import(run_id=run.pk)
    assert run.applied_rows == 0
    page = html.unescape(
        client_for("claire")
        .get(reverse("directory:import_progress", args=["83", run.pk]))
        .content.decode()
    )
    assert "Aucune ligne appliquée" in page
    assert "La ligne des fichiers a été rejetée" in page
    assert "fr-alert--success" not in page


def test_an_unreadable_file_fails_the_import_and_changes_nothing(personas: Any) -> None:
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[("structures.json", STRUCTURES.read_bytes()), ("services.csv", b"\x00\x01")],
        by=personas["claire"],
    )

    run = run_import(run_id=run.pk)

    assert run.status == ImportStatus.FAILED
    assert run.errors == [
        "services.csv : format non reconnu (fichier binaire) ; attendu : JSON ou CSV."
    ]
    assert not Structure.objects.exists()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "Choisissez au moins un fichier à importer."),
        ({"services": SimpleUploadedFile("services.xlsx", b"x")}, "un fichier .json ou .csv"),
        ({"services": SimpleUploadedFile("services.json", b"[" + b" " * 2000 + b"]")}, "trop gros"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(
    files: dict[str, Any], message: str, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr("binome.directory.import_views.MAX_FILE_BYTES", 1000)

    response = client_for("claire").post(reverse("directory:import_list", args=["83"]), files)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportRun.objects.exists()


def test_the_file_fields_are_the_dsfr_upload_component_offering_json_and_csv(
    client_for: Any,
) -> None:
    html = client_for("claire").get(reverse("directory:import_list", args=["83"])).content.decode()
    for name in ("structures", "services"):
        assert (
            f'<input type="file" name="{name}" class="fr-upload" accept=".json,.csv" '
            f'aria-describedby="id_{name}_helptext" id="id_{name}">' in html
        )
    assert html.count('class="fr-upload-group"') == 2


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_queued_import() -> None:
    """The job goes through procrastinate: queued in the database, run by a worker."""
    from tests.database import ensure_referential

    ensure_referential()
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[
            ("structures.json", STRUCTURES.read_bytes()),
            ("services.json", SERVICES.read_bytes()),
        ],
        by=None,
    )

    # What ``binome worker`` runs (``manage.py procrastinate worker``): the worker's own
    # psycopg connector, in this process, until the queue is empty.
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:  # type: ignore[attr-defined]
        worker_app.run_worker(
            queues=["directory"], wait=False, install_signal_handlers=False, listen_notify=False
        )

    run.refresh_from_db()
    assert run.status == ImportStatus.DONE, run.errors
    assert run.started_at is not None and run.finished_at is not None
    assert run.counts["services"]["created"] == Service.objects.count() > 0
    job = ProcrastinateJob.objects.get(task_name="binome.directory.run_import", args__run_id=run.pk)
    assert job.status == "succeeded"


def test_the_list_of_past_imports_costs_the_same_queries_for_many_runs(
    client_for: Any, personas: Any, django_assert_max_num_queries: Any
) -> None:
    department = Department.objects.get(code="83")
    for number in range(12):
        start_import(
            department=department,
            files=[(f"services-{number}.json", b"[]"), ("structures.json", b"[]")],
            by=personas["claire"],
        )
    client = client_for("claire")
    url = reverse("directory:import_list", args=["83"])
    client.get(url)  # session, roles: the first request warms them

    with django_assert_max_num_queries(10):
        response = client.get(url)

    assert response.content.decode().count("services-") == 12


def _picked_by_a_worker(run: ImportRun, *, silent_for: timedelta, worker_alive: bool) -> None:
    """What ``run_import`` leaves when its worker is killed in the middle: the run "En
    cours" since its last progress, its job "doing" for a worker whose heartbeat stopped
    (procrastinate's own SQL functions, as a worker calls them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT procrastinate_register_worker_v1()")
        (worker_id,) = cursor.fetchone()
        cursor.execute(
            "SELECT id FROM procrastinate_fetch_job_v2(%s, %s)", [["directory"], worker_id]
        )
        assert cursor.fetchone() is not None
        if not worker_alive:
            cursor.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '10 minutes'"
                " WHERE id = %s",
                [worker_id],
            )
    since = timezone.now() - silent_for
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.RUNNING,
        started_at=since,
        progress_at=since,
        stage="écriture des services",
    )


def test_an_import_left_running_by_a_killed_worker_is_failed_and_a_new_one_allowed(
    client_for: Any, personas: Any
) -> None:
    department = Department.objects.get(code="83")
    run = start_import(
        department=department, files=[("structures.json", STRUCTURES.read_bytes())], by=None
    )
    _picked_by_a_worker(run, silent_for=timedelta(minutes=20), worker_alive=False)
    client = client_for("claire")
    url = reverse("directory:import_list", args=["83"])

    page = client.get(url).content.decode()

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.finished_at is not None
    assert run.errors == [imports.STALE_MESSAGE]
    assert "Lancer l'import" in page and "Un import est" not in page
    report = client.get(reverse("directory:import_detail", args=["83", run.pk])).content.decode()
    assert "Import interrompu" in report and "every 1s" not in report
    event = AuditEvent.objects.get(kind=AuditKind.DIRECTORY_IMPORT, target_id=str(run.pk))
    assert event.actor is None and "interrompu" in event.what
    response = client.post(url, {"structures": upload(STRUCTURES)})
    assert response.status_code == 302
    assert ImportRun.objects.filter(status=ImportStatus.QUEUED).count() == 1


@pytest.mark.parametrize(
    ("silent_for", "worker_alive"),
    [
        (timedelta(minutes=20), True),  # a long stage, its worker alive
        (timedelta(minutes=2), False),  # the worker just died, or the stage just began
    ],
)
def test_a_running_import_is_left_alone(
    client_for: Any, silent_for: timedelta, worker_alive: bool
) -> None:
    run = start_import(
        department=Department.objects.get(code="83"),
        files=[("structures.json", STRUCTURES.read_bytes())],
        by=None,
    )
    _picked_by_a_worker(run, silent_for=silent_for, worker_alive=worker_alive)
    client = client_for("claire")

    assert imports.fail_stale_imports() == []
    page = client.get(reverse("directory:import_list", args=["83"])).content.decode()

    run.refresh_from_db()
    assert run.status == ImportStatus.RUNNING
    assert "Un import est en cours" in page and "Lancer l'import" not in page
    response = client.post(
        reverse("directory:import_list", args=["83"]), {"structures": upload(STRUCTURES)}
    )
    assert response.status_code == 200
    assert ImportRun.objects.count() == 1


def test_the_periodic_job_fails_stale_imports_of_every_territory() -> None:
    run = start_import(
        department=Department.objects.get(code="29"),
        files=[("structures.json", STRUCTURES.read_bytes())],
        by=None,
    )
    _picked_by_a_worker(run, silent_for=timedelta(hours=1), worker_alive=False)

    # What the periodic job ``tasks.stale_imports`` runs (the task itself closes the
    # thread's connections, which would close the test's transaction).
    assert imports.fail_stale_imports() == [run.pk]

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert any(
        task.task.name == "binome.directory.tasks.stale_imports"
        for task in app.periodic_registry.periodic_tasks.values()
    )
