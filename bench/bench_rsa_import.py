"""Timing of the import of a département's monthly CAF flow: 50,000 dossiers.

Run with ``.venv/bin/binome bench rsa_import`` (better on a cluster of its own:
``BINOME_VAR_DIR=/tmp/binome-bench``). It writes a flow of ``BENCH_DOSSIERS`` households with
``binome.rsa.flux_writer`` (a third of them couples, a child in half of them, a NIR with its
key for 80 % of the adults), then times ``import_flux``: the first import (every dossier and
file created), then the re-import of the same file (which must change nothing).

Baseline, measured in the same run: the same numbers of rows written by raw SQL ``COPY`` into
temporary tables shaped as the dossiers, their states, the beneficiaries and the persons —
the floor of what any import of this file pays to PostgreSQL — and the ratio of each run to it.

The rows it creates (dossiers numbered ``B…``, their persons) are deleted before and after;
the audit log keeps its lines (it is append-only).

BENCH_DOSSIERS=50000     households in the flow
BENCH_SEED=42            random seed
BENCH_DEPARTMENT=83      the département imported into (it needs a département's service)
BENCH_KEEP=1             keep the imported rows afterwards
BENCH_PROFILE=1          print where the first import's Python time goes (cProfile)
"""

from __future__ import annotations

import cProfile
import datetime
import io
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

DOSSIERS = int(os.environ.get("BENCH_DOSSIERS", "50000"))
SEED = int(os.environ.get("BENCH_SEED", "42"))
DEPARTMENT = os.environ.get("BENCH_DEPARTMENT", "83")
PREFIX = "B"
GOAL_FIRST, GOAL_RERUN = 60.0, 20.0

FIRST = ["Hélène", "Noël", "Zoé", "Paul", "Inès", "Marc", "Sophie", "Karim", "Léa", "Nadia"]
LAST = ["Lefèvre", "Martin", "Durand", "Bernard", "Petit", "Moreau", "Garcia", "Roux", "Faure"]


def _nir(rng: random.Random, sex: str, birth: datetime.date) -> str:
    from stdnum.fr import nir as stdnum_nir

    body = (
        f"{sex}{birth.year % 100:02d}{birth.month:02d}{DEPARTMENT}"
        f"{rng.randrange(1, 999):03d}{rng.randrange(1, 999):03d}"
    )
    return body + stdnum_nir.calc_check_digits(body)


def rows(rng: random.Random):  # type: ignore[no-untyped-def]
    from binome.rsa.flux import RightState, Role
    from binome.rsa.flux_writer import DossierRow, PersonRow

    states = [RightState.OPEN] * 6 + [RightState.AWAITING_DECISION] * 3 + [RightState.CLOSED]
    for number in range(DOSSIERS):
        persons = []
        adults = 2 if rng.random() < 1 / 3 else 1
        for index in range(adults):
            sex = "2" if index == 0 else "1"
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15000))
            persons.append(
                PersonRow(
                    Role.APPLICANT if index == 0 else Role.SPOUSE,
                    rng.choice(LAST),
                    f"{rng.choice(FIRST)}{number}",
                    birth,
                    sex=sex,
                    nir=_nir(rng, sex, birth) if rng.random() < 0.8 else "",
                )
            )
        if rng.random() < 0.5:
            persons.append(
                PersonRow(
                    Role.CHILD,
                    persons[0].last_name,
                    "Enfant",
                    datetime.date(2018, 3, 1),
                    subject=False,
                )
            )
        yield DossierRow(
            number=f"{PREFIX}{number:08d}",
            matricule=f"{number:07d}",
            requested_on=datetime.date(2026, 10, 1),
            state=rng.choice(states),
            persons=tuple(persons),
        )


def _delete() -> None:
    from django.db import connection

    from binome.rsa.models import Beneficiary, Dossier, FlowImport, MatchStatus

    created = list(
        Beneficiary.objects.filter(
            dossier__number__startswith=PREFIX, match_status=MatchStatus.CREATED
        ).values_list("person_id", flat=True)
    )
    flows = set(
        Dossier.objects.filter(number__startswith=PREFIX).values_list("first_import_id", flat=True)
    )
    Dossier.objects.filter(number__startswith=PREFIX).delete()
    FlowImport.objects.filter(pk__in=flows).delete()
    FlowImport.objects.filter(file_name="bench-rsa.xml").delete()
    if created:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM support_timelineevent WHERE person_id = ANY(%s)", [created])
            cursor.execute("DELETE FROM people_person WHERE id = ANY(%s)", [created])


def _copy_baseline(counts: dict[str, int]) -> float:
    """Seconds to COPY the same numbers of rows into temporary tables of the same shapes."""
    from django.db import connection, transaction

    tables = {
        "dossiers": ("rsa_dossier", counts["dossiers"]),
        "states": ("rsa_dossierstate", counts["dossiers"]),
        "beneficiaries": ("rsa_beneficiary", counts["adults"]),
        "persons": ("people_person", counts["adults"]),
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for name, (table, number) in tables.items():
            cursor.execute(
                f"CREATE TEMP TABLE bench_{name} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cursor.execute(
                "SELECT column_name, data_type, character_maximum_length "
                "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                [table],
            )
            columns = cursor.fetchall()
            values = [_sample(kind, length) for _column, kind, length in columns]
            names = ", ".join(column for column, _kind, _length in columns)
            with cursor.copy(f"COPY bench_{name} ({names}) FROM STDIN") as copy:
                for row in range(number):
                    copy.write_row([row if v is _NUMBER else v for v in values])
    return time.perf_counter() - started


_NUMBER = object()  # an integer column: the row's number


def _sample(kind: str, length: int | None) -> object:
    if kind in {"integer", "bigint"}:
        return _NUMBER
    if kind == "smallint":
        return 1
    if kind == "boolean":
        return False
    if kind == "date":
        return datetime.date(2026, 11, 30)
    if kind.startswith("timestamp"):
        return datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    if kind == "jsonb":
        return "{}"
    return "Lefèvre Hélène"[: length or None]


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from binome.organisations.models import Organisation, OrganisationKind
    from binome.rsa.actions import import_flux
    from binome.rsa.flux import FluxHeader
    from binome.rsa.flux_writer import write_flux
    from binome.territories.models import Department

    department = Department.objects.get(code=DEPARTMENT)
    if not Organisation.objects.filter(
        department=department, kind=OrganisationKind.DEPARTMENT
    ).exists():
        Organisation.objects.create(
            name=f"Département (banc RSA {DEPARTMENT})",
            kind=OrganisationKind.DEPARTMENT,
            department=department,
        )
    connection.ensure_connection()
    schedstat = Path(f"/proc/{connection.connection.info.backend_pid}/schedstat")

    def cpu_seconds() -> tuple[float, float]:
        backend = int(schedstat.read_text().split()[0]) / 1e9 if schedstat.exists() else 0.0
        return time.process_time(), backend

    _delete()
    header = FluxHeader("CAF", "M", datetime.date(2026, 11, 30), datetime.date(2026, 11, 1))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench-rsa.xml"
        started = time.perf_counter()
        with path.open("wb") as out:
            written = write_flux(out, header, rows(random.Random(SEED)))
        adults = sum(1 for row in rows(random.Random(SEED)) for p in row.persons if p.role != "ENF")
        print(
            f"flux : {written} dossiers, {adults} adultes, {path.stat().st_size / 1e6:.0f} Mo, "
            f"écrit en {time.perf_counter() - started:.1f} s"
        )
        baseline = _copy_baseline({"dossiers": written, "adults": adults})
        print(f"base : COPY des mêmes nombres de lignes (4 tables) {baseline:.1f} s")
        for label, goal in (("import", GOAL_FIRST), ("ré-import", GOAL_RERUN)):
            profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            started, cpu_started = time.perf_counter(), cpu_seconds()
            with path.open("rb") as stream:
                if profile is not None:
                    profile.enable()
                result = import_flux(
                    io.BufferedReader(stream),  # type: ignore[arg-type]
                    department=department,
                    by=None,
                    file_name="bench-rsa.xml",
                )
                if profile is not None:
                    profile.disable()
            elapsed = time.perf_counter() - started
            if profile is not None:
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            cpu = [a - b for a, b in zip(cpu_seconds(), cpu_started, strict=True)]
            if result.status != "applied" or result.rejected:
                print(result.message, *result.rejections[:10], sep="\n")
                raise SystemExit(1)
            verdict = "atteint" if elapsed <= goal else "MANQUÉ"
            print(
                f"{label:9} {elapsed:6.1f} s (objectif ≤ {goal:.0f} s : {verdict}) — "
                f"{result.message} — {written / elapsed:,.0f} dossiers/s, "
                f"ratio {elapsed / baseline:.1f} par rapport à la base"
            )
            if schedstat.exists():
                print(
                    f"          CPU {cpu[0] + cpu[1]:.1f} s : Python {cpu[0]:.1f} s, "
                    f"PostgreSQL {cpu[1]:.1f} s"
                )
    if not os.environ.get("BENCH_KEEP"):
        started = time.perf_counter()
        _delete()
        print(f"nettoyage {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
