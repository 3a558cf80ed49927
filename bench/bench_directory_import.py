"""Timing of the data·inclusion import at the national volume.

Run with ``.venv/bin/binome bench directory_import``. It builds synthetic services and
structures in memory (real thématique codes, real communes of the database), writes them
to a temporary JSON file as the national API serves it, then times ``import_directory``
on an empty directory and the re-run of the same file (which must change nothing).
The rows it creates (source ``bench-import``) are deleted before and after.

It measures the first import twice in the same run: first with the importer's fast paths
off (``importer.TUNING``: the search trigger computes each service's search columns row
by row and the indexes are maintained row by row, as before), then on (search columns
computed in the merge statements, indexes rebuilt after a load that outgrows the table),
and prints both and their ratio. ``BENCH_PLAIN=0`` skips the first one.

BENCH_SERVICES=150000     number of services (structures: two thirds of that)
BENCH_SEED=42             random seed
BENCH_KEEP=1              keep the imported rows afterwards
BENCH_PLAIN=0             do not measure the import without the fast paths

Each run also prints its CPU time: this process's and its PostgreSQL backend's
(``/proc/<pid>/schedstat``). On a busy machine the wall clock counts the time spent
waiting for a CPU; the CPU time is close to what a quiet machine would show.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

SERVICES = int(os.environ.get("BENCH_SERVICES", "150000"))
SEED = int(os.environ.get("BENCH_SEED", "42"))
SOURCE = "bench-import"

WORDS = [
    "accompagnement",
    "insertion",
    "emploi",
    "logement",
    "mobilité",
    "permis",
    "garde",
    "enfants",
    "crèche",
    "aide",
    "financière",
    "atelier",
    "numérique",
    "santé",
    "accès",
    "droits",
    "budget",
    "alimentation",
    "parentalité",
    "formation",
    "orientation",
    "rendez-vous",
    "conseiller",
    "association",
    "quartier",
    "solidarité",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build_rows(communes: list[tuple[str, str, str, float, float]]) -> list[dict[str, Any]]:
    from data_inclusion.schema import v1

    rng = random.Random(SEED)
    thematiques = [m.value for m in v1.Thematique]
    publics = [m.value for m in v1.Public if m.value != "tous-publics"]
    types = [m.value for m in v1.TypeService]
    modes = [m.value for m in v1.ModeMobilisation]
    start = date(2024, 1, 1)
    rows: list[dict[str, Any]] = []
    structures = max(1, SERVICES * 2 // 3)
    places = []
    for number in range(structures):
        code, name, department, latitude, longitude = rng.choice(communes)
        place = {
            "code_insee": code,
            "commune": name,
            "latitude": round(latitude + rng.uniform(-0.02, 0.02), 6),
            "longitude": round(longitude + rng.uniform(-0.02, 0.02), 6),
        }
        places.append((place, department))
        rows.append(
            {
                "source": SOURCE,
                "id": f"{SOURCE}--s{number}",
                "nom": f"Structure {number} {rng.choice(WORDS)}",
                "date_maj": (start + timedelta(days=rng.randrange(600))).isoformat(),
                "description": _text(rng, 30),
                "adresse": f"{rng.randrange(1, 200)} rue de la République",
                "telephone": f"+3349{rng.randrange(10**7):07d}",
                "courriel": f"contact{number}@structure.example.org",
                **place,
            }
        )
    for number in range(SERVICES):
        structure = rng.randrange(structures)
        place, department = places[structure]
        rows.append(
            {
                "source": SOURCE,
                "id": f"{SOURCE}--{number}",
                "structure_id": f"{SOURCE}--s{structure}",
                "nom": f"Service {number} {rng.choice(WORDS)}",
                "description": _text(rng, rng.randrange(20, 80)),
                "date_maj": (start + timedelta(days=rng.randrange(600))).isoformat(),
                "type": rng.choice(types),
                "thematiques": rng.sample(thematiques, rng.randint(1, 3)),
                "frais": rng.choice(["gratuit", "payant"]),
                "publics": rng.sample(publics, rng.randint(1, 2)),
                "modes_accueil": ["en-presentiel"],
                "zone_eligibilite": [department],
                "modes_mobilisation": rng.sample(modes, rng.randint(1, 2)),
                "mobilisable_par": ["professionnels"],
                "lien_mobilisation": f"https://services.example.org/{number}",
                "telephone": f"+3349{rng.randrange(10**7):07d}",
                "courriel": f"service{number}@structure.example.org",
                **place,
            }
        )
    return rows


def _plain() -> Any:
    """The importer without its fast paths: the row trigger, indexes maintained per row."""
    from binome.directory.importer import Tuning

    return Tuning(search_columns_in_statement=False, rebuild_indexes_ratio=None)


def _delete() -> None:
    from binome.directory.models import Service, Structure

    Service.objects.filter(source=SOURCE).delete()
    Structure.objects.filter(source=SOURCE).delete()


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from binome.directory import importer
    from binome.directory.importer import import_directory
    from binome.territories.models import Commune

    connection.ensure_connection()
    schedstat = Path(f"/proc/{connection.connection.info.backend_pid}/schedstat")

    def cpu_seconds() -> tuple[float, float]:
        """CPU seconds used so far by this process and by its PostgreSQL backend."""
        backend = int(schedstat.read_text().split()[0]) / 1e9 if schedstat.exists() else 0.0
        return time.process_time(), backend

    _delete()
    communes = list(
        Commune.objects.values_list("insee_code", "name", "department_id", "latitude", "longitude")
    )
    started = time.perf_counter()
    rows = build_rows(communes)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "datainclusion.json"
        path.write_text(json.dumps({"items": rows}, ensure_ascii=False), encoding="utf-8")
        size = path.stat().st_size
        del rows
        print(
            f"fichier : {SERVICES} services, {max(1, SERVICES * 2 // 3)} structures, "
            f"{size / 1e6:.0f} Mo, préparé en {time.perf_counter() - started:.1f} s"
        )
        runs = [("import", True), ("ré-import", True)]
        if os.environ.get("BENCH_PLAIN", "1") != "0":
            runs.insert(0, ("sans (avant)", False))
        first: dict[bool, float] = {}
        for label, fast in runs:
            importer.TUNING = importer.Tuning() if fast else _plain()
            started, cpu_started = time.perf_counter(), cpu_seconds()
            report = import_directory([path])
            elapsed = time.perf_counter() - started
            cpu = [after - before for after, before in zip(cpu_seconds(), cpu_started, strict=True)]
            first.setdefault(fast, elapsed)
            if report.file_errors or report.rejected:
                print("\n".join(report.lines()[:20]))
                raise SystemExit(1)
            s, v = report.structures, report.services
            print(
                f"{label:10} {elapsed:6.1f} s   structures {s.created} créées / {s.updated} "
                f"modifiées / {s.unchanged} inchangées ; services {v.created} créés / "
                f"{v.updated} modifiés / {v.unchanged} inchangés   "
                f"({SERVICES / elapsed:,.0f} services/s)"
            )
            print("           " + ", ".join(f"{k} {t:.1f} s" for k, t in report.timings.items()))
            if schedstat.exists():
                print(
                    f"           CPU {cpu[0] + cpu[1]:.1f} s : Python {cpu[0]:.1f} s, "
                    f"PostgreSQL {cpu[1]:.1f} s"
                )
            if not fast:
                _delete()
        importer.TUNING = importer.Tuning()
        if len(first) == 2:
            print(
                f"premier import : {first[False]:.1f} s sans → {first[True]:.1f} s avec "
                f"(ratio {first[False] / first[True]:.2f})"
            )
    if not os.environ.get("BENCH_KEEP"):
        started = time.perf_counter()
        _delete()
        print(f"nettoyage {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
