"""RSA imports started from the territory administrator's page, run by the background worker.

``start_import`` stores the uploaded file with a new ``FlowImport`` « en attente » and queues
the job, in one transaction; the worker calls ``run_import``, which runs the import (one
transaction: a refused or failed import leaves nothing written but its refusal) and writes
the progress as it reads — through a connection of its own (``core.background``), since the
import's transaction is invisible to the page until it commits — then the report.

A worker killed in the middle of an import leaves it « en cours »: ``fail_stale_imports``
refuses such an import, with a French message, once it has been silent for ``STALE_AFTER``
and no live worker runs its job. The pages of the imports call it, and so does the worker
every few minutes.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.background import ProgressWriter, run_alone, runs_with_a_live_job
from binome.rsa.actions import import_flux
from binome.rsa.models import FlowImport, ImportStatus, SpreadsheetMapping
from binome.territories.models import Department

logger = logging.getLogger(__name__)

# A département's monthly flow: about 1.5 kB per dossier, tens of thousands of dossiers
# (the request's limit, ``REQUEST_BODY_MAX_BYTES_BY_URL`` in the settings, follows it).
MAX_FILE_BYTES = 100 * 1024 * 1024
STALE_AFTER = timedelta(minutes=15)
RUN_IMPORT_TASK = "binome.rsa.run_import"
FAILED_MESSAGE = (
    "Erreur inattendue pendant l'import : il a été annulé, aucun dossier n'a été modifié. "
    "Relancez-le ; si l'erreur revient, signalez-la à l'équipe de Binôme."
)
STALE_MESSAGE = (
    "Import interrompu : le traitement s'est arrêté avant la fin (serveur de tâches arrêté "
    "ou redémarré). Aucun dossier n'a été modifié ; vous pouvez relancer l'import."
)


def start_import(
    *,
    department: Department,
    file_name: str,
    content: bytes,
    by: User | None,
    mapping: SpreadsheetMapping | None = None,
) -> FlowImport:
    """Store the file, create its import « en attente » and queue it for the worker."""
    from binome.rsa.tasks import run_rsa_import

    with transaction.atomic():
        flow = FlowImport.objects.create(
            department=department,
            file_name=file_name,
            size=len(content),
            content=content,
            by=by,
            mapping=mapping,
            status=ImportStatus.QUEUED,
        )
        run_rsa_import.defer(run_id=flow.pk)
    return flow


def store_spreadsheet(
    *,
    department: Department,
    file_name: str,
    content: bytes,
    by: User,
    mapping: SpreadsheetMapping | None,
) -> FlowImport:
    """Keep an uploaded spreadsheet « à vérifier »: its mapping chosen and its rows previewed
    before it is queued (``queue_draft``)."""
    flow = FlowImport.objects.create(
        department=department,
        file_name=file_name,
        size=len(content),
        content=content,
        by=by,
        mapping=mapping,
        status=ImportStatus.DRAFT,
    )
    record(
        AuditKind.RSA_IMPORT,
        actor=by,
        department_id=department.pk,
        target=flow,
        what=f"{file_name} déposé, à vérifier avant import",
    )
    return flow


def set_draft_mapping(flow: FlowImport, mapping: SpreadsheetMapping) -> None:
    """The mapping a spreadsheet « à vérifier » will be read with."""
    flow.mapping = mapping
    flow.save(update_fields=["mapping"])


def queue_draft(flow: FlowImport) -> bool:
    """Queue a previewed spreadsheet for the worker; False if it was no longer « à vérifier »."""
    from binome.rsa.tasks import run_rsa_import

    with transaction.atomic():
        updated = FlowImport.objects.filter(pk=flow.pk, status=ImportStatus.DRAFT).update(
            status=ImportStatus.QUEUED
        )
        if updated:
            run_rsa_import.defer(run_id=flow.pk)
    return bool(updated)


def draft_content(flow: FlowImport) -> bytes:
    content = FlowImport.objects.values_list("content", flat=True).get(pk=flow.pk)
    return bytes(content or b"")


def run_import(*, run_id: int) -> FlowImport:
    """Run a queued import (the worker's job).

    An import « en cours » is run again from its start: its job was taken up again after its
    worker died (``core.background.retry_stalled_jobs``), and the import's transaction died
    with it — unless another process still runs it, which holds its lock. An import finished
    or refused (by ``fail_stale_imports`` meanwhile) is left alone."""
    with run_alone(RUN_IMPORT_TASK, run_id) as alone:
        flow = (
            FlowImport.objects.defer("content")
            .select_related("by", "department", "mapping")
            .get(pk=run_id)
        )
        if not alone or flow.status not in {ImportStatus.QUEUED, ImportStatus.RUNNING}:
            return flow
        if flow.status == ImportStatus.RUNNING:
            logger.warning(
                "Import RSA %s repris depuis le début : son worker s'est arrêté.", run_id
            )
        return _run(flow)


def _run(flow: FlowImport) -> FlowImport:
    run_id = flow.pk
    flow.status = ImportStatus.RUNNING
    flow.progress_at = timezone.now()
    flow.percent = 0
    flow.save(update_fields=["status", "progress_at", "percent"])
    content = draft_content(flow)
    writer = ProgressWriter(FlowImport, flow.pk)

    def progress(fraction: float) -> None:
        writer.write(throttle=True, percent=min(99, int(fraction * 100)))

    try:
        return import_flux(
            io.BytesIO(content),
            department=flow.department,
            by=flow.by,
            file_name=flow.file_name,
            flow=flow,
            mapping=flow.mapping,
            progress=progress,
        )
    except Exception:
        logger.exception("Import RSA %s en échec", run_id)
        _refuse(flow.pk, FAILED_MESSAGE)
        raise
    finally:
        writer.close()


def _refuse(run_id: int, message: str) -> None:
    with transaction.atomic():
        flow = FlowImport.objects.defer("content").select_for_update().get(pk=run_id)
        if flow.is_finished:
            return
        flow.status = ImportStatus.REFUSED
        flow.message = message
        flow.finished_at = timezone.now()
        flow.save(update_fields=["status", "message", "finished_at"])
        record(
            AuditKind.RSA_IMPORT,
            actor_label="système",
            department_id=flow.department_id,
            target=flow,
            what=f"{flow.file_name} refusé : {message}",
        )


def fail_stale_imports(*, department_id: str | None = None) -> list[int]:
    """Refuse the imports left « en cours » by a worker that died: silent for ``STALE_AFTER``
    and without a live job. Their transaction died with the worker. Returns their ids."""
    now = timezone.now()
    silent = FlowImport.objects.filter(
        status=ImportStatus.RUNNING, progress_at__lt=now - STALE_AFTER
    )
    if department_id is not None:
        silent = silent.for_department(department_id)
    candidates = list(silent.values_list("pk", flat=True))
    if not candidates:
        return []
    stale = sorted(set(candidates) - runs_with_a_live_job(RUN_IMPORT_TASK, candidates, now))
    for run_id in stale:
        _refuse(run_id, STALE_MESSAGE)
        logger.warning("Import RSA %s interrompu : refusé.", run_id)
    return stale


def unfinished_import(department_id: str) -> FlowImport | None:
    """The territory's import waiting or running, if any (stale ones refused first)."""
    unfinished = list(
        FlowImport.objects.for_department(department_id)
        .unfinished()
        .defer("content")
        .order_by("started_at")
    )
    silent_since = timezone.now() - STALE_AFTER
    if any(
        flow.status == ImportStatus.RUNNING and flow.progress_at and flow.progress_at < silent_since
        for flow in unfinished
    ):
        refused = set(fail_stale_imports(department_id=department_id))
        unfinished = [flow for flow in unfinished if flow.pk not in refused]
    return unfinished[0] if unfinished else None
