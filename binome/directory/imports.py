"""Imports started from the territory administrator's page, run by the background worker.

``start_import`` stores the uploaded files with a new ``ImportRun`` and queues the job, in
one transaction; the worker calls ``run_import``, which runs ``import_directory`` (one
transaction: an interrupted or failed import leaves the directory as it was) and writes the
progress as it goes — through a connection of its own, since the import's transaction is
invisible to the page until it commits — then the report.

A worker killed in the middle of an import (a deployment, the machine restarted) leaves
its run "En cours": ``fail_stale_imports`` marks such a run failed, with a French message,
once it has been silent for ``STALE_AFTER`` and no live worker runs its job. It is called
by the pages of the imports (so that a territory never waits on a dead run, even when no
worker is left to run periodic jobs) and every few minutes by the worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.core.background import ProgressWriter, runs_with_a_live_job
from binome.directory.importer import ImportReport, import_directory
from binome.directory.models import ImportFile, ImportRun, ImportStatus
from binome.territories.models import Department

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024  # per file: a département's structures or services
MAX_REJECTIONS_KEPT = 5000  # rejected rows kept in the report (all are counted)
# A running import reports its progress at least at each stage; its longest stage (the
# writing of 150,000 services) takes a few minutes. Silent longer, and with no live
# worker on its job, it was interrupted.
STALE_AFTER = timedelta(minutes=15)
RUN_IMPORT_TASK = "binome.directory.run_import"
STALE_MESSAGE = (
    "Import interrompu : le traitement s'est arrêté avant la fin (serveur de tâches arrêté "
    "ou redémarré). L'annuaire n'a pas été modifié ; vous pouvez relancer l'import."
)

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
        self.side = ProgressWriter(ImportRun, run.pk)

    def __call__(self, stage: str, done: int, total: int) -> None:
        checking = stage == "contrôle des lignes"
        if checking and 0 < done < total and self.side.throttled():
            return
        start, width = _STAGES.get(stage, (0, 0))
        fraction = done / total if checking and total else 0
        percent = int(start + width * fraction)
        checked = done if checking else None
        self.side.execute(
            f"UPDATE {ImportRun._meta.db_table} SET stage = %s, percent = %s, "  # noqa: S608
            "progress_at = now(), "
            "rows_total = CASE WHEN %s THEN %s ELSE rows_total END, "
            "rows_checked = coalesce(%s, rows_checked) WHERE id = %s",
            [stage, percent, checking, total, checked, self.run_id],
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
            # Rows applied without a faulty optional field, rows ignored for a newer one,
            # empty pages: the import went through, the producer may want to know.
            "warnings": [
                {"file": w.file, "line": w.line, "field": w.field, "reason": w.reason}
                for w in report.warnings[:MAX_REJECTIONS_KEPT]
            ],
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
    run.started_at = run.progress_at = timezone.now()
    run.stage = "lecture des fichiers"
    run.save(update_fields=["status", "started_at", "progress_at", "stage"])
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


def fail_stale_imports(*, department_id: str | None = None) -> list[int]:
    """Mark failed the runs left "En cours" by a worker that died (see the module's
    docstring): silent for ``STALE_AFTER`` and without a live job. Their import's
    transaction died with the worker: the directory is as it was. Returns their ids."""
    now = timezone.now()
    silent = ImportRun.objects.filter(
        status=ImportStatus.RUNNING, progress_at__lt=now - STALE_AFTER
    )
    if department_id is not None:
        silent = silent.for_department(department_id)
    candidates = list(silent.values_list("pk", flat=True))
    if not candidates:
        return []
    stale = sorted(set(candidates) - runs_with_a_live_job(RUN_IMPORT_TASK, candidates, now))
    failed: list[int] = []
    for run_id in stale:
        with transaction.atomic():
            run = ImportRun.objects.select_for_update().get(pk=run_id)
            if run.status != ImportStatus.RUNNING:  # finished meanwhile
                continue
            run.status = ImportStatus.FAILED
            run.errors = [*run.errors, STALE_MESSAGE]
            run.finished_at = now
            run.save(update_fields=["status", "errors", "finished_at"])
            _audit_interrupted(run)
        failed.append(run_id)
        logger.warning("Import de l'annuaire %s interrompu : marqué en échec.", run_id)
    return failed


def _audit_interrupted(run: ImportRun) -> None:
    silent_since = timezone.localtime(run.progress_at) if run.progress_at else None
    record(
        AuditKind.DIRECTORY_IMPORT,
        actor_label="système",
        department_id=run.department_id,
        target=run,
        what=(
            f"Import du {timezone.localtime(run.created_at):%d/%m/%Y %H:%M} interrompu "
            f"(sans nouvelles depuis {silent_since:%d/%m/%Y %H:%M}) : marqué en échec"
            if silent_since
            else "Import interrompu : marqué en échec"
        ),
        details={"import": run.pk, "étape": run.stage},
    )


def unfinished_import(department_id: str) -> ImportRun | None:
    """The territory's import waiting or running, if any (stale ones failed first).

    One query when nothing is stale: the unfinished runs are read, and the procrastinate
    jobs looked at only when one of them has been silent for long."""
    unfinished = list(
        ImportRun.objects.for_department(department_id)
        .filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])
        .order_by("created_at")
    )
    silent_since = timezone.now() - STALE_AFTER
    if any(
        run.status == ImportStatus.RUNNING and run.progress_at and run.progress_at < silent_since
        for run in unfinished
    ):
        failed = set(fail_stale_imports(department_id=department_id))
        unfinished = [run for run in unfinished if run.pk not in failed]
    return unfinished[0] if unfinished else None
