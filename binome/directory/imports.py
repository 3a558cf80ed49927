"""Imports started from the territory administrator's page, run by the background worker.

``start_import`` stores the uploaded files with a new ``ImportRun`` and queues the job, in
one transaction; the worker calls ``run_import``, which runs ``import_directory`` (one
transaction: an interrupted or failed import leaves the directory as it was) and writes the
progress as it goes — through a connection of its own, since the import's transaction is
invisible to the page until it commits — then the report.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from binome.directory.importer import ImportReport, import_directory
from binome.directory.models import ImportFile, ImportRun, ImportStatus
from binome.territories.models import Department

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024  # per file: a département's structures or services
MAX_REJECTIONS_KEPT = 5000  # rejected rows kept in the report (all are counted)

# Where each stage starts on the progress bar (percent).
_STAGES = {
    "lecture des fichiers": (0, 5),
    "contrôle des lignes": (5, 60),
    "écriture des structures": (65, 10),
    "écriture des services": (75, 20),
    "validation": (95, 4),
}


def start_import(*, department: Department, files: list[tuple[str, bytes]], by: Any) -> ImportRun:
    """Store the files, create the import and queue it for the worker."""
    from binome.directory.tasks import run_directory_import

    with transaction.atomic():
        run = ImportRun.objects.create(department=department, created_by=by)
        ImportFile.objects.bulk_create(
            ImportFile(run=run, name=name, size=len(content), content=content)
            for name, content in files
        )
        run_directory_import.defer(run_id=run.pk)
    return run


class _ProgressWriter:
    """Writes the run's progress through its own autocommit connection, twice a second at most."""

    def __init__(self, run: ImportRun) -> None:
        self.run_id = run.pk
        self.last = 0.0
        self.side = connection.get_new_connection(connection.get_connection_params())
        self.side.autocommit = True

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == "contrôle des lignes" and 0 < done < total and now - self.last < 0.5:
            return
        self.last = now
        start, width = _STAGES.get(stage, (0, 0))
        fraction = done / total if stage == "contrôle des lignes" and total else 0
        percent = int(start + width * fraction)
        checked = done if stage == "contrôle des lignes" else None
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportRun._meta.db_table} SET stage = %s, percent = %s, "  # noqa: S608
                "rows_total = CASE WHEN %s THEN %s ELSE rows_total END, "
                "rows_checked = coalesce(%s, rows_checked) WHERE id = %s",
                [stage, percent, stage == "contrôle des lignes", total, checked, self.run_id],
            )

    def close(self) -> None:
        self.side.close()


def _report_fields(report: ImportReport) -> dict[str, Any]:
    return {
        "counts": {
            "structures": {
                "created": report.structures.created,
                "updated": report.structures.updated,
                "unchanged": report.structures.unchanged,
                "kept": report.structures.kept,
            },
            "services": {
                "created": report.services.created,
                "updated": report.services.updated,
                "unchanged": report.services.unchanged,
                "kept": report.services.kept,
            },
            "seconds": round(report.seconds, 1),
        },
        "rejected": [
            {"file": r.file, "line": r.line, "field": r.field, "reason": r.reason}
            for r in report.rejected[:MAX_REJECTIONS_KEPT]
        ],
        "rejected_rows": report.rejected_rows,
        "errors": report.file_errors,
    }


def run_import(*, run_id: int) -> ImportRun:
    """Run a queued import (the worker's job). A run already started is left alone."""
    run = ImportRun.objects.select_related("created_by").get(pk=run_id)
    if run.status != ImportStatus.QUEUED:
        return run
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.stage = "lecture des fichiers"
    run.save(update_fields=["status", "started_at", "stage"])
    files = [(f.name, bytes(f.content)) for f in run.files.all()]
    writer = _ProgressWriter(run)
    try:
        report = import_directory(
            files, by=run.created_by, department_id=run.department_id, progress=writer
        )
    except Exception:
        logger.exception("Import de l'annuaire %s en échec", run.pk)
        run.status = ImportStatus.FAILED
        run.errors = [
            "Erreur inattendue pendant l'import : il a été annulé, l'annuaire n'a pas changé."
        ]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "errors", "finished_at"])
        raise
    finally:
        writer.close()
    for name, value in _report_fields(report).items():
        setattr(run, name, value)
    run.status = ImportStatus.FAILED if report.file_errors else ImportStatus.DONE
    run.stage = "terminé"
    run.percent = 100
    run.finished_at = timezone.now()
    run.save()
    return run
