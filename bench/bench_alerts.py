"""The daily deadline alerts of accompaniments on the national data set.

Run with ``.venv/bin/binome bench alerts`` (see bench/README.md). It measures the job
(``binome.support.tasks.send_accompaniment_alerts``) over a simulated week of days from the
data set's reference date, each day's run then a second run of the same day (which must
create nothing), inside one transaction that is rolled back: the data set is left as it was.
Baseline, measured in the same run: the job's three reads alone (the candidate team rows),
so the ratio shows what the deduplicated insert adds. Also timed: rendering and sending the
e-mails of one day's alerts (locmem backend, inside the same rolled-back transaction).

BENCH_SCALE=national|departement   data set to measure on (default national); never generated
                                   here: run ``binome generate`` first
BENCH_RUNS=5                       timed runs of the reads baseline per day
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import number, percentile

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DAYS = 7


class Rollback(Exception):
    pass


def main() -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("binome.support.tasks").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings

    from binome.core.generation import REFERENCE_TIME
    from binome.notifications.actions import send_immediate_emails
    from binome.site.generate import existing_datasets
    from binome.support import tasks
    from binome.support.models import Accompaniment, Kind, State

    call_command("migrate", interactive=False, verbosity=0)
    datasets = existing_datasets()
    if not datasets:
        raise SystemExit("Aucune donnée générée : lancez d'abord « binome generate ».")
    start = REFERENCE_TIME.date()
    active_global = Accompaniment.objects.filter(kind=Kind.GLOBAL, state=State.ACTIVE).count()
    ended = Accompaniment.objects.filter(state=State.ENDED).count()
    print(f"Données : {sorted(datasets)}, {number(Accompaniment.objects.count())} accompagnements")
    print(f"  dont {number(active_global)} globaux actifs et {number(ended)} terminés")
    print(f"Semaine simulée à partir du {start:%d/%m/%Y} (date de référence des données)\n")

    def reads(day: object) -> int:
        return len(tasks.end_approaching_notices(day)) + len(tasks.followup_notices(day))  # type: ignore[arg-type]

    header = (
        f"  {'jour':<12} {'lectures p50':>12} {'tâche ms':>9} {'2e passage':>10} "
        f"{'SQL':>4} {'créées':>7} {'ratio':>6}"
    )
    print(header)
    job_times: list[float] = []
    email_line = ""
    try:
        with (
            transaction.atomic(),
            override_settings(
                MAILERS={"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
            ),
        ):
            for offset in range(DAYS):
                day = start + timedelta(days=offset)
                baseline = []
                for _ in range(RUNS):
                    began = time.perf_counter()
                    reads(day)
                    baseline.append((time.perf_counter() - began) * 1000)
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    with transaction.atomic():
                        counts = tasks.send_accompaniment_alerts(day)
                    job_ms = (time.perf_counter() - began) * 1000
                began = time.perf_counter()
                again = tasks.send_accompaniment_alerts(day)
                again_ms = (time.perf_counter() - began) * 1000
                assert again.end_approaching == again.followup == 0, again
                job_times.append(job_ms)
                created = counts.end_approaching + counts.followup
                p50 = percentile(baseline, 50)
                print(
                    f"  {day:%d/%m/%Y}   {p50:12.1f} {job_ms:9.1f} {again_ms:10.1f} "
                    f"{len(queries):>4} {number(created):>7} {job_ms / p50:6.1f}"
                )
                if offset == 1:  # a steady day (the first one catches up a week)
                    from binome.notifications.models import Notification

                    ids = list(
                        Notification.objects.filter(
                            dedup_key__startswith="accompaniment-", emailed_at__isnull=True
                        ).values_list("pk", flat=True)[:2000]
                    )
                    began = time.perf_counter()
                    sent = send_immediate_emails(ids)
                    email_ms = (time.perf_counter() - began) * 1000
                    email_line = (
                        f"E-mails d'un jour : {number(sent)} rendus et envoyés (locmem) en "
                        f"{email_ms:.0f} ms, soit {email_ms / max(sent, 1):.2f} ms par e-mail"
                    )
            raise Rollback
    except Rollback:
        pass
    print(
        f"\nTâche : p50 {percentile(job_times, 50):.1f} ms, p95 {percentile(job_times, 95):.1f} ms "
        f"sur {DAYS} jours"
    )
    if email_line:
        print(email_line)
    print("Tout est annulé à la fin (transaction) : les données ne changent pas.")


if __name__ == "__main__":
    main()
