"""Background jobs of the RSA app, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

from django.db import connections
from procrastinate.contrib.django import app


@app.periodic(cron="*/5 * * * *")
@app.task(queue="maintenance", queueing_lock="rsa_stale_imports")
def stale_rsa_imports(timestamp: int) -> None:
    """Every five minutes: refuse the RSA imports left « en cours » by a worker that died."""
    from binome.rsa.imports import fail_stale_imports

    try:
        fail_stale_imports()
    finally:
        connections.close_all()


@app.task(queue="rsa", name="binome.rsa.run_import")
def run_rsa_import(run_id: int) -> None:
    """Run an import uploaded from the territory page (``binome.rsa.imports``)."""
    from binome.rsa.imports import run_import

    try:
        run_import(run_id=run_id)
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()
