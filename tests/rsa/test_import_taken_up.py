"""An RSA import whose job is taken up again after its worker died runs again from its start,
unless another process still runs it."""

from __future__ import annotations

import pytest
from django.db import connection

from binome.rsa.imports import RUN_IMPORT_TASK, run_import, start_import
from binome.rsa.models import Dossier, FlowImport, ImportStatus
from binome.territories.models import Department
from tests.factories import SmallTerritory
from tests.rsa.test_import_page import admin_of_the_var, november

pytestmark = pytest.mark.django_db


def _left_running_by_a_dead_worker(small_var: SmallTerritory) -> FlowImport:
    queued = start_import(
        department=Department.objects.get(code="83"),
        file_name="novembre.xml",
        content=november("0001", "0002"),
        by=admin_of_the_var(small_var),
    )
    FlowImport.objects.filter(pk=queued.pk).update(status=ImportStatus.RUNNING, percent=40)
    return queued


def test_an_import_left_running_by_a_dead_worker_runs_again_when_its_job_is_taken_up(
    small_var: SmallTerritory,
) -> None:
    run = _left_running_by_a_dead_worker(small_var)

    done = run_import(run_id=run.pk)

    assert done.status == ImportStatus.APPLIED and done.percent == 100
    assert done.created == Dossier.objects.count() > 0


def test_an_import_another_process_still_runs_is_left_alone(small_var: SmallTerritory) -> None:
    import zlib

    run = _left_running_by_a_dead_worker(small_var)
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, %s)",
                [zlib.crc32(RUN_IMPORT_TASK.encode()) % 2**31, run.pk],
            )
        left = run_import(run_id=run.pk)
    finally:
        other.close()

    assert left.status == ImportStatus.RUNNING and left.percent == 40
    assert not Dossier.objects.exists()
