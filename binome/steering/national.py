"""The national dashboard: the global accompaniments of every département side by side, over
a period, with the country's total. One statement for the whole table, aggregated in SQL
(the rows of the accompaniments never leave PostgreSQL), read on the replica when there is
one (the view runs it through ``binome.core.replica.on_replica``)."""

from __future__ import annotations

from typing import Any

from binome.core.figures import FigureSection, FigureTable
from binome.core.replica import reading_connection
from binome.steering.periods import Period
from binome.support.figures import JOB_REASONS, TRAINING_REASONS
from binome.support.models import Accompaniment, ExitReason
from binome.territories.models import Department

SECTION = "national"
TABLE = "par_departement"

COLUMNS = (
    "Département",
    "Entrées",
    "Entrées (période précédente)",
    "En cours en fin de période",
    "Sorties",
    "Part des sorties vers l'emploi ou la formation (%)",
    "Durée médiane de l'accompagnement (jours)",
)

# The person's département is the accompaniment's copy of it (kept by the database, migration
# ``support/0013``): no persons joined.
# Only the accompaniments the two periods can count: started by the end of the period and
# not ended before the previous period began.
_SQL = """
    SELECT a.department_id, GROUPING(a.department_id),
        count(*) FILTER (WHERE a.started_on BETWEEN %(start)s AND %(end)s),
        count(*) FILTER (WHERE a.started_on BETWEEN %(previous_start)s AND %(previous_end)s),
        count(*) FILTER (
            WHERE a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on > %(end)s)
        ),
        count(*) FILTER (
            WHERE a.ended_on BETWEEN %(start)s AND %(end)s AND a.exit_reason <> %(not_pertinent)s
        ),
        count(*) FILTER (
            WHERE a.ended_on BETWEEN %(start)s AND %(end)s AND a.exit_reason = ANY(%(job_training)s)
        ),
        percentile_cont(0.5) WITHIN GROUP (
            ORDER BY a.ended_on - coalesce(a.activated_on, a.started_on)
        ) FILTER (
            WHERE a.ended_on BETWEEN %(start)s AND %(end)s AND a.exit_reason <> %(not_pertinent)s
        )
    FROM {accompaniment} a
    WHERE a.kind = 'global'
      AND a.started_on <= %(end)s
      AND (a.ended_on IS NULL OR a.ended_on >= %(previous_start)s)
    GROUP BY ROLLUP (a.department_id)
"""

DEFINITION = (
    "Accompagnements globaux des personnes de chaque département (celui de leur dossier). "
    "Entrées : commencés pendant la période (et pendant la période précédente de même "
    "durée). En cours : commencés au plus tard le dernier jour et sans sortie à cette date. "
    "Sorties : terminés pendant la période, hors « non pertinent après diagnostic ». Part "
    "vers l'emploi ou la formation : sorties pour un emploi durable, un emploi de transition, "
    "une création d'entreprise ou une formation qualifiante, sur les sorties. Durée médiane : "
    "des jours entre l'activation (à défaut le début) et la sortie."
)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _row(label: str, counts: tuple[Any, ...] | None) -> tuple[object, ...]:
    if counts is None:
        return (label, 0, 0, 0, 0, None, None)
    entries, previous, active, exits, job_training, median = counts
    return (
        label,
        entries,
        previous,
        active,
        exits,
        _share(job_training, exits),
        round(float(median)) if median is not None else None,
    )


def departments_table(period: Period) -> FigureTable:
    """Every département as a row (those without an accompaniment too), then France."""
    previous = period.previous()
    params: dict[str, Any] = {
        "start": period.start,
        "end": period.end,
        "previous_start": previous.start,
        "previous_end": previous.end,
        "not_pertinent": str(ExitReason.NOT_PERTINENT),
        "job_training": [str(reason) for reason in (*JOB_REASONS, *TRAINING_REASONS)],
    }
    sql = _SQL.format(accompaniment=Accompaniment._meta.db_table)
    with reading_connection().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_department = {code: tuple(counts) for code, total, *counts in rows if not total}
    country = next((tuple(counts) for _, total, *counts in rows if total), None)
    departments = Department.objects.order_by("code").values_list("code", "name")
    return FigureTable(
        TABLE,
        "Accompagnement global par département",
        COLUMNS,
        (
            *(_row(f"{code} — {name}", by_department.get(code)) for code, name in departments),
            _row("France entière", country),
        ),
        definition=DEFINITION,
    )


def national_section(period: Period) -> FigureSection:
    return FigureSection(SECTION, "Les départements", tables=(departments_table(period),))


def find_table(period: Period, section: str, table: str) -> FigureTable | None:
    """The national page's one table, by its export address."""
    if section != SECTION or table != TABLE:
        return None
    return departments_table(period)
