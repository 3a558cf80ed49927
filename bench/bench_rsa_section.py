"""The steering dashboard's RSA section alone (``binome.rsa.figures.rsa_section``), as the
dashboard asks for it: the chosen period, then the previous one of the same length (its key
figures only), for one département.

Run with ``.venv/bin/binome bench rsa_section`` on a generated data set (see bench/README.md).
Environment: BENCH_DEPARTMENTS (codes, default ``59 2A``), BENCH_REQUESTS (default 30),
BENCH_WARMUP (default 3), BENCH_DUMP (a file: the sections' figures and tables written there
as text, to compare two versions of the code on the same data). Goal: chosen + previous
period ≤ 30 ms for the Nord over three months (1 June to 31 August 2026) and over 2025.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

GOAL_MS = 30.0
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))


def main() -> None:
    import django

    django.setup()
    from django.utils import timezone

    from binome.core.figures import FigureScope
    from binome.rsa.figures import rsa_section
    from binome.steering.periods import Period, last_quarter, year

    today = timezone.localdate()
    periods = [
        ("3 mois (juin-août 2026)", Period(date(2026, 6, 1), date(2026, 8, 31))),
        ("année 2025", year(2025)),
        (f"dernier trimestre ({today:%d/%m/%Y})", last_quarter(today)),
        ("du 15/02/2026 au 20/07/2026", Period(date(2026, 2, 15), date(2026, 7, 20))),
    ]
    dump: list[str] = []
    print(f"Mesure : {REQUESTS} fois après {WARMUP} d'échauffement ; ms, période + précédente")
    print("| département | période | p50 ms | min ms | max ms | choisie p50 | précédente p50 |")
    print("|---|---|---|---|---|---|---|")
    for code in os.environ.get("BENCH_DEPARTMENTS", "59 2A").split():
        for label, period in periods:
            scope = FigureScope(code, period.start, period.end)
            previous = replace(
                FigureScope(code, period.previous().start, period.previous().end),
                figures_only=True,
            )
            both, chosen, before = [], [], []
            for i in range(WARMUP + REQUESTS):
                started = time.perf_counter()
                section = rsa_section(scope)
                middle = time.perf_counter()
                previous_section = rsa_section(previous)
                ended = time.perf_counter()
                if i >= WARMUP:
                    both.append((ended - started) * 1000)
                    chosen.append((middle - started) * 1000)
                    before.append((ended - middle) * 1000)
            print(
                f"| {code} | {label} | {statistics.median(both):.1f} | {min(both):.1f} | "
                f"{max(both):.1f} | {statistics.median(chosen):.1f} | "
                f"{statistics.median(before):.1f} |"
            )
            for name, shown in (("choisie", section), ("précédente", previous_section)):
                assert shown is not None
                dump.append(f"== {code} {label} {name}")
                dump += [f"{f.key} = {f.value!r} ({f.definition})" for f in shown.figures]
                for table in shown.tables:
                    dump.append(f"-- {table.key}")
                    dump += [repr(row) for row in table.rows]
    if target := os.environ.get("BENCH_DUMP"):
        Path(target).write_text("\n".join(dump) + "\n", encoding="utf-8")
        print(f"Chiffres écrits dans {target}")
    print(f"Objectif : période + précédente ≤ {GOAL_MS:.0f} ms (le Nord, trois mois et 2025).")


if __name__ == "__main__":
    main()
