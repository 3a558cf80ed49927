"""The FSE+ export of an operation covering a département's year, and its completeness page.

Run with ``BINOME_VAR_DIR=/tmp/bench-fse .venv/bin/binome bench fse`` after ``binome generate
--scale departement --department 83`` (see bench/README.md). Goal: the export of a
département-year ≤ 10 s.

The generated data set has no activation dates nor FSE+ answers: inside one transaction that
is rolled back (the data set is left as it was), the global accompaniments of the
département are activated 14 days after they started, half of them get their entry answers
and the ended ones half their exit answers; an operation covers every organisation of the
département over the 365 days up to the last activation. Then, timed:

1. the export's SQL and rows (``steering.operations.export_table``), and the XLSX and CSV
   files written from them;
2. the completeness per organisation (``steering.operations.completeness``).

Baseline, measured in the same run: a plain count of the département's global
accompaniments activated in the period (one read of the rows the export starts from).
"""

from __future__ import annotations

import os
import time

DEPARTMENT = os.environ.get("BENCH_DEPARTMENT", "83")
GOAL_SECONDS = 10.0


class Rollback(Exception):
    pass


def main() -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection, transaction
    from django.db.models import Max

    from binome.organisations.models import Organisation
    from binome.site.generate import existing_datasets
    from binome.steering import exports, operations
    from binome.steering.models import FseOperation
    from binome.steering.periods import Period
    from binome.support.models import Accompaniment

    datasets = existing_datasets()
    if not datasets:
        raise SystemExit("Aucune donnée générée : lancez d'abord « binome generate ».")
    print(f"Données : {sorted(datasets)}, département {DEPARTMENT}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE support_accompaniment a SET activated_on = a.started_on + 14
                FROM people_person p
                WHERE p.id = a.person_id AND p.department_id = %s AND a.kind = 'global'
                  AND a.state <> 'proposed' AND a.activated_on IS NULL
                """,
                [DEPARTMENT],
            )
            activated = cursor.rowcount
            answer_columns = (
                "gender, labour_status, education, disability, third_country, "
                "foreign_background, minority, homeless, rural, exit_job_searching, "
                "exit_in_training, exit_qualification, exit_employed, followup_employed, "
                "followup_improved"
            )
            cursor.execute(
                f"""
                INSERT INTO support_fseanswers (accompaniment_id, {answer_columns},
                    entry_recorded_at, exit_recorded_at)
                SELECT a.id, 'femme', 'chomeur', 'cite_3_4', 'non', 'refus', 'non', 'refus',
                    'oui', 'non',
                    CASE WHEN a.state = 'ended' THEN 'non' ELSE '' END,
                    CASE WHEN a.state = 'ended' THEN 'non' ELSE '' END,
                    CASE WHEN a.state = 'ended' THEN 'non' ELSE '' END,
                    CASE WHEN a.state = 'ended' THEN 'oui' ELSE '' END,
                    '', '', now(),
                    CASE WHEN a.state = 'ended' AND a.id %% 4 = 0 THEN now() END
                FROM support_accompaniment a
                JOIN people_person p ON p.id = a.person_id
                WHERE p.department_id = %s AND a.activated_on IS NOT NULL AND a.id %% 2 = 0
                ON CONFLICT (accompaniment_id) DO NOTHING
                """,  # noqa: S608 - fixed column names
                [DEPARTMENT],
            )
            answered = cursor.rowcount
            cursor.execute("ANALYZE support_accompaniment")
            cursor.execute("ANALYZE support_fseanswers")
            last = Accompaniment.objects.filter(
                person__department_id=DEPARTMENT, kind="global"
            ).aggregate(last=Max("activated_on"))["last"]
            if last is None:
                raise SystemExit("Aucun accompagnement global dans ce département.")
            period = Period(last - timedelta(days=364), last)
            organisations = list(Organisation.objects.filter(department_id=DEPARTMENT))
            operation = FseOperation.objects.create(
                department_id=DEPARTMENT,
                name="Banc d'essai",
                starts_on=period.start,
                ends_on=period.end,
                created_by_id=_any_user(),
            )
            operation.organisations.set(organisations)
            print(
                f"  {activated} accompagnements globaux activés, {answered} questionnaires, "
                f"{len(organisations)} organisations, période {period.label}"
            )

            started = time.perf_counter()
            Accompaniment.objects.filter(
                person__department_id=DEPARTMENT,
                kind="global",
                activated_on__range=(period.start, period.end),
            ).count()
            baseline = time.perf_counter() - started

            started = time.perf_counter()
            table = operations.export_table(operation)
            sql_seconds = time.perf_counter() - started
            started = time.perf_counter()
            xlsx = exports.as_xlsx(table, place=operation.name, period=period)
            xlsx_seconds = time.perf_counter() - started
            started = time.perf_counter()
            exports.as_csv(table, place=operation.name, period=period)
            csv_seconds = time.perf_counter() - started
            total = sql_seconds + xlsx_seconds
            verdict = "atteint" if total <= GOAL_SECONDS else "MANQUÉ"
            print(
                f"  export : {len(table.rows)} participants, SQL et lignes {sql_seconds:.2f} s, "
                f"XLSX {xlsx_seconds:.2f} s ({len(xlsx.content) // 1024} Kio), "
                f"CSV {csv_seconds:.2f} s ; SQL + XLSX {total:.2f} s, objectif ≤ "
                f"{GOAL_SECONDS:.0f} s : {verdict}"
            )
            started = time.perf_counter()
            rows = operations.completeness(operation)
            completeness_seconds = time.perf_counter() - started
            print(
                f"  complétude par organisation : {len(rows)} organisations, "
                f"{completeness_seconds * 1000:.0f} ms ; référence (comptage des "
                f"participants possibles) : {baseline * 1000:.0f} ms"
            )
            raise Rollback
    except Rollback:
        pass


def _any_user() -> int:
    from binome.accounts.models import User

    user = User.objects.order_by("pk").values_list("pk", flat=True).first()
    if user is None:
        raise SystemExit("Aucun compte dans la base.")
    return user


if __name__ == "__main__":
    main()
