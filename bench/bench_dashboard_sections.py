"""Each section of a département's steering dashboard timed alone: the chosen period (with
its tables) and the previous one (its figures only), as the dashboard asks them.

Run on an existing data set (nothing generated), e.g.::

    BINOME_VAR_DIR=/tmp/nat BENCH_DEPARTMENTS=59,48 .venv/bin/binome bench dashboard_sections

Environment: ``BENCH_DEPARTMENTS`` (codes, default ``59``), ``BENCH_SECTIONS`` (registered
keys, default all), ``BENCH_REQUESTS`` (timed runs per line, default 9, after one warm-up),
``BENCH_DUMP`` (a file: every section's figures and tables written there as JSON, to compare
two versions of the code on the same data). Medians of the wall time and of the CPU time
(this process and its PostgreSQL backend, as ``bench_file.CpuClock``). Periods: 1 June to
31 August 2026 and 2025, as ``bench_steering.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_file import CpuClock

PERIODS = {
    "3 mois": (date(2026, 6, 1), date(2026, 8, 31)),
    "2025": (date(2025, 1, 1), date(2025, 12, 31)),
}


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def main() -> None:
    import django

    django.setup()
    from binome.core.figures import registered_sections
    from binome.steering.dashboard import discover, scope_of
    from binome.steering.periods import Period

    discover()
    departments = os.environ.get("BENCH_DEPARTMENTS", "59").split(",")
    wanted = [key for key in os.environ.get("BENCH_SECTIONS", "").split(",") if key]
    runs = int(os.environ.get("BENCH_REQUESTS", "9"))
    functions = [(key, f) for key, f in registered_sections() if not wanted or key in wanted]
    dump: dict[str, object] = {}
    header = ("département", 12), ("période", 9), ("section", 12)
    print("".join(f"{name:<{width}}" for name, width in header), end="")
    print(f"{'choisie ms':>12}{'précédente ms':>15}{'CPU choisie':>13}{'CPU précédente':>16}")
    clock = CpuClock()
    for code in departments:
        for label, (start, end) in PERIODS.items():
            period = Period(start, end)
            scope = scope_of(code, period)
            previous = replace(scope_of(code, period.previous()), figures_only=True)
            for key, function in functions:
                chosen_ms: list[float] = []
                previous_ms: list[float] = []
                chosen_cpu: list[float] = []
                previous_cpu: list[float] = []
                for i in range(runs + 1):
                    started, cpu_started = time.perf_counter(), clock()
                    section = function(scope)
                    middle, cpu_middle = time.perf_counter(), clock()
                    before = function(previous)
                    ended, cpu_ended = time.perf_counter(), clock()
                    if i:
                        chosen_ms.append((middle - started) * 1000)
                        previous_ms.append((ended - middle) * 1000)
                        chosen_cpu.append(cpu_middle - cpu_started)
                        previous_cpu.append(cpu_ended - cpu_middle)
                medians = (chosen_ms, previous_ms, chosen_cpu, previous_cpu)
                print(
                    f"{code:<12}{label:<9}{key:<12}"
                    + "".join(
                        f"{statistics.median(values):>{width}.1f}"
                        for values, width in zip(medians, (12, 15, 13, 16), strict=True)
                    )
                )
                for name, found in (("chosen", section), ("previous", before)):
                    if found is None:
                        continue
                    dump[f"{code} {label} {key} {name}"] = {
                        "figures": [[f.key, _plain(f.value)] for f in found.figures],
                        "tables": {
                            t.key: [[_plain(c) for c in r] for r in t.rows] for t in found.tables
                        },
                    }
    if path := os.environ.get("BENCH_DUMP"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(dump, out, ensure_ascii=False, indent=1, sort_keys=True)
        print(f"Chiffres écrits dans {path}")


if __name__ == "__main__":
    main()
