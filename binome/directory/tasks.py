"""Background jobs of the directory (run by ``binome worker``)."""

from __future__ import annotations

from django.db import connections
from procrastinate.contrib.django import app


@app.task(queue="directory", name="binome.directory.run_import")
def run_directory_import(run_id: int) -> None:
    """Run an import uploaded from the territory page (``binome.directory.imports``)."""
    from binome.directory.imports import run_import

    try:
        run_import(run_id=run_id)
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()
