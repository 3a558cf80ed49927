"""Background jobs of the RSA app, run by the PostgreSQL-backed worker (``binome worker``)."""

from __future__ import annotations

import logging

from django.db import connections
from procrastinate.contrib.django import app

from binome.rsa.deadlines import run_deadlines
from binome.rsa.imports import fail_stale_imports, run_import
from binome.rsa.rollup import refresh as refresh_figures
from binome.rsa.rollup import tidy as tidy_figures

logger = logging.getLogger(__name__)


@app.periodic(cron="0 6 * * *")
@app.task(queue="maintenance", queueing_lock="rsa_deadlines")
def rsa_deadlines(timestamp: int) -> None:
    """Every morning: warn before the six weeks to orient and the month to sign the contract,
    delegate to France Travail past six weeks, flag the late contracts. Safe to run twice."""
    try:
        counts = run_deadlines()
        logger.info(
            "RSA : %s personne(s) à orienter signalée(s), %s orientation(s) déléguée(s), "
            "%s contrat(s) à signer signalé(s), %s contrat(s) en retard.",
            counts.orientations_warned,
            counts.delegated,
            counts.contracts_warned,
            counts.contracts_late,
        )
    finally:
        connections.close_all()


@app.periodic(cron="45 3 * * *")
@app.task(queue="maintenance", queueing_lock="rsa_figures_rollup")
def rsa_figures_rollup(timestamp: int) -> None:
    """Every night: the RSA figures per département and month that the steering's RSA section
    sums (``rsa.rollup``), rebuilt for the months before the current one."""
    try:
        written = refresh_figures()
        tidy_figures()
        logger.info("Chiffres RSA par mois : %s ligne(s).", written)
    finally:
        connections.close_all()


@app.periodic(cron="*/5 * * * *")
@app.task(queue="maintenance", queueing_lock="rsa_stale_imports")
def stale_rsa_imports(timestamp: int) -> None:
    """Every five minutes: refuse the RSA imports left « en cours » by a worker that died."""
    try:
        fail_stale_imports()
    finally:
        connections.close_all()


@app.task(queue="rsa", name="binome.rsa.run_import")
def run_rsa_import(run_id: int) -> None:
    """Run an import uploaded from the territory page (``binome.rsa.imports``)."""
    try:
        run_import(run_id=run_id)
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()
