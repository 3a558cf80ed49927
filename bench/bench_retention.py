"""The retention job on a generated data set.

Run with ``.venv/bin/binome bench retention`` (see bench/README.md), after ``binome
generate``. Everything happens inside one transaction that is rolled back: the data set is
left as it was.

1. A first run (it tells the teams of the files already past their deadline, if the data
   set has some), then a run the same day that anonymises nothing and tells nobody (the
   steady state): the scan of every file's last contact (``retention.actions.candidates``),
   timed as the job reads it, in batches.
2. A run that anonymises at least N files: N closed files are made two years and two
   months old (every date they hold moved back), told to their team by a run, then
   anonymised by a run 31 days later (with the files the first run told, if any).

Baseline, measured in the same run: a plain count of the persons whose file was created
more than two years ago — one sequential read of the persons' table, the floor of any scan.

BENCH_ANONYMISE=1000   files to anonymise in part 2
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

N = int(os.environ.get("BENCH_ANONYMISE", "1000"))


class Rollback(Exception):
    pass


def main() -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from binome.people.models import Person
    from binome.retention import actions
    from binome.retention.contact import add_months
    from binome.site.generate import existing_datasets
    from binome.support.models import Accompaniment, State

    datasets = existing_datasets()
    if not datasets:
        raise SystemExit("Aucune donnée générée : lancez d'abord « binome generate ».")
    persons = Person.objects.count()
    print(f"Données : {sorted(datasets)}, {persons:,} personnes".replace(",", " "))
    today = timezone.localdate()
    try:
        with transaction.atomic():
            started = time.monotonic()
            cutoff = add_months(today, -24)
            Person.objects.filter(created_at__date__lt=cutoff).count()
            baseline = time.monotonic() - started

            started = time.monotonic()
            report = actions.run(today=today)
            first_run = time.monotonic() - started
            print(
                f"  premier passage : {first_run:.2f} s ({report.notified} signalés, "
                f"{report.anonymised} anonymisés, {report.kept} conservés)"
            )
            # The steady state: every file past its deadline already told, none due yet.
            started = time.monotonic()
            report = actions.run(today=today)
            nothing = time.monotonic() - started
            print(
                f"  passage sans anonymisation : {nothing:.2f} s "
                f"({report.notified} signalés, {report.anonymised} anonymisés, "
                f"{report.kept} conservés) ; "
                f"référence (comptage des personnes) : {baseline:.2f} s ; "
                f"ratio {nothing / baseline if baseline else 0:.1f}"
            )

            ids = list(
                Person.objects.exclude(
                    accompaniments__state__in=[State.PROPOSED, State.ACTIVE, State.SUSPENDED]
                )
                .filter(pk__in=Accompaniment.objects.values("person_id"))
                .values_list("pk", flat=True)[:N]
            )
            shift = timedelta(days=(today - add_months(today, -26)).days)
            with connection.cursor() as cursor:
                for table, column in (
                    ("people_person", "created_at"),
                    ("support_timelineevent", "at"),
                    ("support_appointment", "at"),
                ):
                    key = "id" if table == "people_person" else "person_id"
                    cursor.execute(
                        f"UPDATE {table} SET {column} = {column} - %s "  # noqa: S608
                        f"WHERE {key} = ANY(%s)",
                        [shift, ids],
                    )
            started = time.monotonic()
            first = actions.run(today=today)
            told = time.monotonic() - started
            started = time.monotonic()
            second = actions.run(today=today + timedelta(days=31))
            anonymised = time.monotonic() - started
            print(
                f"  {len(ids)} dossiers de plus de deux ans : avertissement {told:.2f} s "
                f"({first.notified} signalés), anonymisation {anonymised:.2f} s "
                f"({second.anonymised} anonymisés, "
                f"{anonymised / max(second.anonymised, 1) * 1000:.1f} ms par dossier)"
            )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
