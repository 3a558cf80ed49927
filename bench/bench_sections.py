"""Each registered section of the steering dashboard timed alone, as the dashboard asks it:
the chosen period with its tables, then the previous period of the same length with its
figures only (``binome.steering.dashboard.compared_sections``).

Run with ``.venv/bin/binome bench sections`` on a generated data set (see bench/README.md).
Environment:

- ``BENCH_DEPARTMENT``: the département's code (default: the one with the most global
  accompaniments);
- ``BENCH_SECTIONS``: the sections' keys, comma-separated (default: all);
- ``BENCH_REQUESTS`` (default 15) and ``BENCH_WARMUP`` (default 2): measured and warm-up runs;
- ``BENCH_DUMP``: a file to write the sections' figures and tables to (JSON), to compare two
  versions of the code on the same data.

The two periods are the steering bench's: 1 June to 31 August 2026 and the year 2025.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import CpuClock

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "binome.settings")

PERIODS = {
    "3 mois": (date(2026, 6, 1), date(2026, 8, 31)),
    "2025": (date(2025, 1, 1), date(2025, 12, 31)),
}


def _jsonable(section: object) -> object:
    if section is None:
        return None
    figures = [(f.key, f.value) for f in section.figures]  # type: ignore[attr-defined]
    tables = [
        (t.key, list(t.columns), [[str(c) for c in r] for r in t.rows])
        for t in section.tables  # type: ignore[attr-defined]
    ]
    return {"figures": figures, "tables": tables}


def main() -> None:
    import django

    django.setup()
    from django.db.models import Count

    from binome.core.figures import registered_sections
    from binome.steering.dashboard import discover, scope_of
    from binome.steering.periods import Period
    from binome.support.models import Accompaniment, Kind

    requests = int(os.environ.get("BENCH_REQUESTS", "15"))
    warmup = int(os.environ.get("BENCH_WARMUP", "2"))
    code = (
        os.environ.get("BENCH_DEPARTMENT")
        or (
            Accompaniment.objects.filter(kind=Kind.GLOBAL)
            .values("department_id")
            .annotate(n=Count("id"))
            .order_by("-n")[0]["department_id"]
        )
    )
    wanted = [k for k in os.environ.get("BENCH_SECTIONS", "").split(",") if k]
    discover()
    functions = [(k, f) for k, f in registered_sections() if not wanted or k in wanted]
    load = os.getloadavg()[0]
    clock = CpuClock()  # this process's CPU and its PostgreSQL backend's
    print(
        f"Le {code}, chaque section seule ({requests} mesures après {warmup} d'échauffement), "
        f"charge {load:.2f} ; ms : période choisie + période précédente, médiane (min) ; "
        "CPU médian"
    )
    dump: dict[str, object] = {}
    for label, (start, end) in PERIODS.items():
        period = Period(start, end)
        scope = scope_of(code, period)
        previous = replace(scope_of(code, period.previous()), figures_only=True)
        for key, function in functions:
            chosen_ms: list[float] = []
            previous_ms: list[float] = []
            chosen_cpu: list[float] = []
            previous_cpu: list[float] = []
            for i in range(warmup + requests):
                started, cpu_started = time.perf_counter(), clock()
                section = function(scope)
                middle, cpu_middle = time.perf_counter(), clock()
                before = function(previous) if section is not None and section.figures else None
                ended, cpu_ended = time.perf_counter(), clock()
                if i >= warmup:
                    chosen_ms.append((middle - started) * 1000)
                    previous_ms.append((ended - middle) * 1000)
                    chosen_cpu.append(cpu_middle - cpu_started)
                    previous_cpu.append(cpu_ended - cpu_middle)
            dump[f"{key} {label}"] = {"chosen": _jsonable(section), "previous": _jsonable(before)}
            print(
                f"  {key:<12} {label:<7} {statistics.median(chosen_ms):7.1f} + "
                f"{statistics.median(previous_ms):6.1f}   ({min(chosen_ms):.1f} + "
                f"{min(previous_ms):.1f})   CPU {statistics.median(chosen_cpu):.1f} + "
                f"{statistics.median(previous_cpu):.1f}"
            )
    print(f"Charge à la fin : {os.getloadavg()[0]:.2f}")
    if path := os.environ.get("BENCH_DUMP"):
        Path(path).write_text(json.dumps(dump, indent=1, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
