"""The exits of the global accompaniments, counted by outcome (figures only, never a named
person): how many left for a job, for a training, for something else, and how many were
found « non pertinent » after the diagnostic (they never entered). The share of job or
training is read over those who entered — the protocol's « près de 50 % retrouvent un emploi
ou une formation ».

Per territory (the person's département) and per organisation (an accompaniment counts for
each organisation that had a member on its team), over the exits of a period, in one
statement each.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format

from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.support import referential
from binome.support.caseload import (
    JOB_TRAINING,
    CaseloadCoverage,
    CaseloadMonth,
    ExitMonth,
    FiguresMonth,
)
from binome.support.models import (
    Accompaniment,
    Diagnostic,
    DiagnosticTheme,
    ExitReason,
    Kind,
    State,
    TeamMember,
)
from binome.territories.models import Commune, Epci

JOB_REASONS = (ExitReason.DURABLE_JOB, ExitReason.TRANSITION_JOB, ExitReason.BUSINESS)
TRAINING_REASONS = (ExitReason.TRAINING,)
DEFAULT_PERIOD = timedelta(days=365)


@dataclass
class ExitFigures:
    since: date
    until: date
    job: int = 0
    training: int = 0
    not_pertinent: int = 0
    other: int = 0

    @property
    def entered(self) -> int:
        """The exits of those who entered the accompaniment (not « non pertinent »)."""
        return self.job + self.training + self.other

    @property
    def total(self) -> int:
        return self.entered + self.not_pertinent

    @property
    def job_or_training_share(self) -> float | None:
        """Of those who entered, the share who left for a job or a training."""
        return (self.job + self.training) / self.entered if self.entered else None

    @property
    def job_or_training_percent(self) -> str:
        share = self.job_or_training_share
        return "—" if share is None else f"{round(share * 100)} %"


def period(since: date | None = None, until: date | None = None) -> tuple[date, date]:
    """The exits from ``since`` to ``until`` included (by default the last 365 days)."""
    until = until or timezone.localdate()
    return since or until - DEFAULT_PERIOD, until


def _counts(prefix: str = "") -> dict[str, Any]:
    field = f"{prefix}exit_reason"
    key = f"{prefix}id" if not prefix else prefix.removesuffix("__")
    buckets = {
        "job": Q(**{f"{field}__in": JOB_REASONS}),
        "training": Q(**{f"{field}__in": TRAINING_REASONS}),
        "not_pertinent": Q(**{field: ExitReason.NOT_PERTINENT}),
        "other": ~Q(**{f"{field}__in": [*JOB_REASONS, *TRAINING_REASONS]})
        & ~Q(**{field: ExitReason.NOT_PERTINENT}),
    }
    return {
        name: Count(key, filter=condition, distinct=bool(prefix))
        for name, condition in buckets.items()
    }


def _exits(since: date, until: date) -> QuerySet[Accompaniment]:
    return Accompaniment.objects.filter(
        kind=Kind.GLOBAL, state=State.ENDED, ended_on__gte=since, ended_on__lte=until
    )


def territory_exits(
    department_id: str, *, since: date | None = None, until: date | None = None
) -> ExitFigures:
    """The exits of the territory's global accompaniments in the period."""
    since, until = period(since, until)
    counts = (
        _exits(since, until)
        .filter(person__department_id=department_id)
        .order_by()
        .aggregate(**_counts())
    )
    return ExitFigures(since=since, until=until, **counts)


def organisation_exits(
    organisation_id: int, *, since: date | None = None, until: date | None = None
) -> ExitFigures:
    """The exits of the global accompaniments the organisation had a member on the team of."""
    since, until = period(since, until)
    counts = (
        TeamMember.objects.filter(
            organisation_id=organisation_id,
            accompaniment__in=_exits(since, until),
        )
        .order_by()
        .aggregate(**_counts("accompaniment__"))
    )
    return ExitFigures(since=since, until=until, **counts)


def exits_by_organisation(
    department_id: str, *, since: date | None = None, until: date | None = None
) -> dict[int, ExitFigures]:
    """The territory's exits, per organisation of the teams: one statement."""
    since, until = period(since, until)
    counts = _counts("accompaniment__")
    rows = (
        TeamMember.objects.filter(
            accompaniment__in=_exits(since, until).filter(person__department_id=department_id)
        )
        .order_by()
        .values("organisation_id")
        .annotate(**counts)
        .values_list("organisation_id", *counts)
    )
    return {
        organisation_id: ExitFigures(
            since, until, job=job, training=training, not_pertinent=not_pertinent, other=other
        )
        for organisation_id, job, training, not_pertinent, other in rows
    }


# --- The section of the steering dashboard -------------------------------------------
# Registered with binome.core.figures: the steering app asks it for a period and the
# previous one of the same length. One statement per figure group, all in SQL.

# The accompaniment's copy of the person's département (kept by the database, migration
# ``support/0013``): the département's accompaniments read by an index, no persons joined.
_SCOPE_SQL = """
    a.department_id = %(department)s
    AND (%(organisation)s::bigint IS NULL OR EXISTS (
        SELECT 1 FROM {team} t
        WHERE t.accompaniment_id = a.id AND t.organisation_id = %(organisation)s
    ))
"""

_JOB = tuple(str(reason) for reason in JOB_REASONS)
_TRAINING = tuple(str(reason) for reason in TRAINING_REASONS)


def _scope_params(scope: FigureScope) -> dict[str, Any]:
    return {
        "department": scope.department,
        "organisation": scope.organisation_id,
        "start": scope.start,
        "end": scope.end,
        "job_training": list(_JOB + _TRAINING),
        "not_pertinent": str(ExitReason.NOT_PERTINENT),
    }


def _tables() -> dict[str, str]:
    return {
        "accompaniment": Accompaniment._meta.db_table,
        "team": TeamMember._meta.db_table,
        "person": Person._meta.db_table,
        "commune": Commune._meta.db_table,
        "epci": Epci._meta.db_table,
        "organisation": Organisation._meta.db_table,
        "diagnostic": Diagnostic._meta.db_table,
        "answer": DiagnosticTheme._meta.db_table,
    }


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    names = _tables()
    scoped = sql.format(scope=_SCOPE_SQL.format(**names), **names)
    with reading_connection().cursor() as cursor:
        cursor.execute(scoped, params)
        return cursor.fetchall()


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _rolled_figures(scope: FigureScope, split: MonthlySplit) -> tuple[Any, ...]:
    """The key figures summed from the rollups' whole months, the days left counted live:
    one statement for the counts, one for the exits' durations (the median)."""
    params = {**_scope_params(scope), "job_training": list(JOB_TRAINING)}
    during = split.months(params, "m_in", split.during)
    to_end = split.months(params, "m_end", split.to_end)
    started_in = split.days(params, "s_in", "a.started_on", split.during_days)
    started_to_end = split.days(params, "s_end", "a.started_on", split.to_end_days)
    closed_in = split.days(params, "c_in", "a.ended_on", split.during_days)
    closed_to_end = split.days(params, "c_end", "a.ended_on", split.to_end_days)
    followup_in = split.days(params, "f_in", "a.followup_recorded_on", split.during_days)
    live_days = " OR ".join(
        f"({condition})"
        for condition in (started_in, started_to_end, closed_in, closed_to_end, followup_in)
        if condition != "false"
    )
    live = (
        f"""
        UNION ALL
        SELECT count(*) FILTER (WHERE {started_in}),
            count(*) FILTER (WHERE {started_to_end}),
            count(*) FILTER (WHERE {closed_to_end}),
            count(*) FILTER (WHERE ({closed_in}) AND a.exit_reason <> %(not_pertinent)s),
            count(*) FILTER (WHERE ({closed_in}) AND a.exit_reason = ANY(%(job_training)s)),
            count(*) FILTER (WHERE ({followup_in}) AND a.followup_outcome <> ''),
            count(*) FILTER (
                WHERE ({followup_in}) AND a.followup_outcome = ANY(%(job_training)s)
            )
        FROM {{accompaniment}} a
        WHERE a.kind = 'global' AND {{scope}} AND ({live_days})"""  # noqa: S608 - written here
        if live_days
        else ""
    )
    ((entries, active, exits, job_training, followups, followup_job),) = _fetch(
        f"""
        WITH counts (entries, started_by_end, closed_by_end, exits, job_training, followups,
                     followup_job) AS (
            SELECT sum(r.entries) FILTER (WHERE {during}),
                sum(r.entries) FILTER (WHERE {to_end}),
                sum(r.closed) FILTER (WHERE {to_end}),
                sum(r.exits) FILTER (WHERE {during}),
                sum(r.job_training) FILTER (WHERE {during}),
                sum(r.followups) FILTER (WHERE {during}),
                sum(r.followup_job_training) FILTER (WHERE {during})
            FROM {FiguresMonth._meta.db_table} r
            WHERE r.department_id = %(department)s AND r.month <= %(end)s{live}
        )
        SELECT coalesce(sum(entries), 0)::bigint,
            (coalesce(sum(started_by_end), 0) - coalesce(sum(closed_by_end), 0))::bigint,
            coalesce(sum(exits), 0)::bigint, coalesce(sum(job_training), 0)::bigint,
            coalesce(sum(followups), 0)::bigint, coalesce(sum(followup_job), 0)::bigint
        FROM counts
        """,  # noqa: S608 - conditions and names written here
        params,
    )
    durations = _fetch(
        f"""
        SELECT days, sum(exits)::bigint FROM (
            SELECT r.days, r.exits FROM {ExitMonth._meta.db_table} r
            WHERE r.department_id = %(department)s AND {during}
              AND r.reason <> %(not_pertinent)s
            UNION ALL
            SELECT a.ended_on - coalesce(a.activated_on, a.started_on), 1
            FROM {{accompaniment}} a
            WHERE a.kind = 'global' AND {{scope}} AND ({closed_in})
              AND a.exit_reason <> %(not_pertinent)s
        ) AS durations (days, exits)
        GROUP BY days ORDER BY days
        """,  # noqa: S608 - conditions and names written here
        params,
    )
    return entries, active, exits, job_training, median(durations), followups, followup_job


def accompaniment_figures(scope: FigureScope) -> tuple[Figure, ...]:
    """Entries, caseload at the end of the period, exits, median duration and the shares
    of job or training at exit and six months after: one statement, or two summed from the
    monthly rollups where the département has them."""
    split = monthly_split(scope)
    ((entries, active, exits, job_training, median, followups, followup_job),) = (
        [_rolled_figures(scope, split)]
        if split
        else _fetch(
            """
        SELECT
            count(*) FILTER (WHERE a.started_on BETWEEN %(start)s AND %(end)s),
            count(*) FILTER (
                WHERE a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on > %(end)s)
            ),
            count(*) FILTER (
                WHERE a.ended_on BETWEEN %(start)s AND %(end)s
                  AND a.exit_reason <> %(not_pertinent)s
            ),
            count(*) FILTER (
                WHERE a.ended_on BETWEEN %(start)s AND %(end)s
                  AND a.exit_reason = ANY(%(job_training)s)
            ),
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY a.ended_on - coalesce(a.activated_on, a.started_on)
            ) FILTER (
                WHERE a.ended_on BETWEEN %(start)s AND %(end)s
                  AND a.exit_reason <> %(not_pertinent)s
            ),
            count(*) FILTER (
                WHERE a.followup_recorded_on BETWEEN %(start)s AND %(end)s
                  AND a.followup_outcome <> ''
            ),
            count(*) FILTER (
                WHERE a.followup_recorded_on BETWEEN %(start)s AND %(end)s
                  AND a.followup_outcome = ANY(%(job_training)s)
            )
        FROM {accompaniment} a
        WHERE a.kind = 'global' AND {scope}
        """,
            _scope_params(scope),
        )
    )
    return (
        Figure(
            "entries",
            "Entrées en accompagnement global",
            entries,
            definition="Accompagnements globaux commencés pendant la période (date de début).",
        ),
        Figure(
            "active",
            "Accompagnements en cours en fin de période",
            active,
            definition="Accompagnements globaux commencés au plus tard le dernier jour de la "
            "période et sans sortie à cette date (proposés, en cours ou suspendus).",
        ),
        Figure(
            "exits",
            "Sorties",
            exits,
            definition="Accompagnements globaux terminés pendant la période, hors « non "
            "pertinent après diagnostic » (ces personnes ne sont pas entrées).",
        ),
        Figure(
            "median_duration",
            "Durée médiane de l'accompagnement",
            round(float(median)) if median is not None else None,
            unit="jours",
            definition="Médiane, sur les sorties de la période, des jours entre l'activation "
            "(à défaut le début) et la sortie.",
        ),
        Figure(
            "job_training_share",
            "Part des sorties vers l'emploi ou la formation",
            _share(job_training, exits),
            unit="%",
            definition="Sorties pour un emploi durable, un emploi de transition, une création "
            "d'entreprise ou une formation qualifiante, sur les sorties de la période.",
        ),
        Figure(
            "followup_job_training_share",
            "Part en emploi ou en formation six mois après la sortie",
            _share(followup_job, followups),
            unit="%",
            definition="Situations à six mois enregistrées pendant la période : part en emploi "
            "(durable, de transition, création d'entreprise) ou en formation qualifiante.",
        ),
    )


def exits_by_reason(scope: FigureScope) -> FigureTable:
    """The exits of the period by reason: one statement, summed from the monthly rollup
    (``support.caseload.ExitMonth``) for the whole months it covers where the département
    has it, the days left counted live."""
    split = monthly_split(scope)
    params = _scope_params(scope)
    if split is None:
        sql = """
            SELECT a.exit_reason, count(*)
            FROM {accompaniment} a
            WHERE a.kind = 'global' AND a.ended_on BETWEEN %(start)s AND %(end)s AND {scope}
            GROUP BY 1
            """
    else:
        during = split.months(params, "m_in", split.during)
        closed_in = split.days(params, "c_in", "a.ended_on", split.during_days)
        sql = f"""
            SELECT reason, sum(exits)::bigint FROM (
                SELECT r.reason, r.exits FROM {ExitMonth._meta.db_table} r
                WHERE r.department_id = %(department)s AND {during}
                UNION ALL
                SELECT a.exit_reason, 1 FROM {{accompaniment}} a
                WHERE a.kind = 'global' AND {{scope}} AND ({closed_in})
            ) AS exits (reason, exits)
            GROUP BY 1
            """  # noqa: S608 - conditions and names written here
    rows = dict(_fetch(sql, params))
    return FigureTable(
        "exits_by_reason",
        "Sorties par motif",
        ("Motif de sortie", "Sorties"),
        tuple((label, rows.get(value, 0)) for value, label in ExitReason.choices),
        definition="Accompagnements globaux terminés pendant la période, par motif enregistré à "
        "la sortie ; « non pertinent après diagnostic » compte les personnes qui ne sont pas "
        "entrées." + (_caveat(split.refreshed_at) if split else ""),
    )


# --- The tables by organisation and by place from the monthly rollup ----------------
# (``support.caseload``). Per organisation or commune, over the period [start, end]: the
# accompaniments started by its end, closed by its end (their difference: the caseload at
# the end), started in it (entries), closed in it, and the exits in it. Each count is the
# sum of the rollup's whole months that it covers, plus a live count of the days left (the
# period's first and last days outside whole months, and the months since the last run).
# An accompaniment is in a table when it overlaps the period: in the caseload at the end, or
# closed in the period (an accompaniment ends on or after the day it started).


@dataclass(frozen=True)
class _Rolled:
    sql: str  # the CTE ``summed`` (key, started_by_end, closed_by_end, entries, closed, exits)
    params: dict[str, Any]
    refreshed_at: datetime  # when the nightly job last rebuilt the rollup

    def caveat(self) -> str:
        """What a reader of a table summed from the rollup must know: its past whole months
        are those of the last rebuild, a change dated back shows after the next one."""
        return _caveat(self.refreshed_at)


def _caveat(refreshed_at: datetime) -> str:
    moment = timezone.localtime(refreshed_at)
    return (
        f" Les mois entiers déjà écoulés sont comptés tels que calculés le "
        f"{date_format(moment, 'j F Y')} à {date_format(moment, 'H:i')} ; une "
        "modification datée d'un mois passé y apparaît après le calcul suivant (chaque nuit)."
    )


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _split(
    low: date | None, high: date, before: date
) -> tuple[tuple[date, date] | None, list[tuple[date | None, date]]]:
    """The whole months of [low, high] (``None``: from the beginning) that the rollup covers
    (months before ``before``), as (first month, last month), and the days left."""
    first = None if low is None else (low if low.day == 1 else _next_month(low))
    last = high.replace(day=1) if _next_month(high) == high + timedelta(days=1) else None
    if last is None:  # the last whole month is the one before ``high``'s
        last = (high.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = min(last, (before - timedelta(days=1)).replace(day=1))
    if first is not None and first > last:
        return None, [(low, high)]
    days: list[tuple[date | None, date]] = []
    if low is not None and first is not None and low < first:
        days.append((low, first - timedelta(days=1)))
    if _next_month(last) <= high:
        days.append((_next_month(last), high))
    return (first or date.min, last), days


@dataclass(frozen=True)
class MonthlySplit:
    """How a département's period reads the rollups per month (``support.caseload``): the
    whole months they cover summed, the days left counted live. ``to_end``: from the
    beginning to the period's end; ``during``: the period itself."""

    refreshed_at: datetime
    to_end: tuple[date, date] | None
    to_end_days: list[tuple[date | None, date]]
    during: tuple[date, date] | None
    during_days: list[tuple[date | None, date]]

    def caveat(self) -> str:
        return _caveat(self.refreshed_at).strip()

    @staticmethod
    def months(params: dict[str, Any], name: str, span: tuple[date, date] | None) -> str:
        """The SQL condition on the rollup's ``r.month`` for a run of whole months."""
        if span is None:
            return "false"
        params[f"{name}_from"], params[f"{name}_to"] = span
        return f"r.month BETWEEN %({name}_from)s AND %({name}_to)s"

    @staticmethod
    def days(
        params: dict[str, Any], name: str, column: str, spans: list[tuple[date | None, date]]
    ) -> str:
        """The SQL condition on an accompaniment's date for the days counted live."""
        conditions = []
        for index, (low, high) in enumerate(spans):
            params[f"{name}_{index}_to"] = high
            condition = f"{column} <= %({name}_{index}_to)s"
            if low is not None:
                params[f"{name}_{index}_from"] = low
                condition = f"{column} >= %({name}_{index}_from)s AND {condition}"
            conditions.append(f"({condition})")
        return " OR ".join(conditions) or "false"


# Within one section's computation, the coverage is looked up once (``steering_section``).
_coverage_memo: ContextVar[dict[str, tuple[date, datetime] | None] | None] = ContextVar(
    "caseload_coverage", default=None
)


def _coverage(department: str) -> tuple[date, datetime] | None:
    """Up to which month the département's rollups go, and when they were rebuilt."""
    memo = _coverage_memo.get()
    if memo is not None and department in memo:
        return memo[department]
    covered = (
        CaseloadCoverage.objects.using(reading_connection().alias)
        .filter(department_id=department)
        .values_list("before", "refreshed_at")
        .first()
    )
    if memo is not None:
        memo[department] = covered
    return covered


def monthly_split(scope: FigureScope) -> MonthlySplit | None:
    """The split of a département's period between the rollups and the live count, or
    ``None`` when the rollups cannot answer (one organisation's scope, a département never
    refreshed): then everything is counted live."""
    if scope.organisation_id is not None or scope.department is None:
        return None
    covered = _coverage(scope.department)
    if covered is None:
        return None
    coverage, refreshed_at = covered
    to_end, to_end_days = _split(None, scope.end, coverage)
    during, during_days = _split(scope.start, scope.end, coverage)
    return MonthlySplit(refreshed_at, to_end, to_end_days, during, during_days)


def median(histogram: list[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many) sorted by value, as PostgreSQL's
    ``percentile_cont(0.5)`` computes it (the mean of the two middle values)."""
    total = sum(count for _, count in histogram)
    if not total:
        return None
    low, high = (total - 1) // 2, total // 2
    seen, low_value = 0, None
    for value, count in histogram:
        if low_value is None and low < seen + count:
            low_value = value
        if high < seen + count:
            assert low_value is not None
            return (low_value + value) / 2
        seen += count
    return None  # not reached: high < total


def _rolled_up(scope: FigureScope, dimension: str) -> _Rolled | None:
    """The CTE ``summed`` for the département's tables, or ``None`` when the rollup cannot
    answer (one organisation's scope, a département never refreshed)."""
    if scope.organisation_id is not None or scope.department is None:
        return None
    covered = _coverage(scope.department)
    if covered is None:
        return None
    coverage, refreshed_at = covered
    params: dict[str, Any] = {
        **_scope_params(scope),
        "dimension": dimension,
        "not_pertinent": str(ExitReason.NOT_PERTINENT),
    }
    ranges: list[str] = []

    def months(name: str, span: tuple[date, date] | None) -> str:
        if span is None:
            return "false"
        params[f"{name}_from"], params[f"{name}_to"] = span
        return f"r.month BETWEEN %({name}_from)s AND %({name}_to)s"

    def days(name: str, column: str, spans: list[tuple[date | None, date]]) -> str:
        conditions = []
        for index, (low, high) in enumerate(spans):
            params[f"{name}_{index}_to"] = high
            condition = f"a.{column} <= %({name}_{index}_to)s"
            if low is not None:
                params[f"{name}_{index}_from"] = low
                condition = f"a.{column} >= %({name}_{index}_from)s AND {condition}"
            conditions.append(f"({condition})")
            ranges.append(conditions[-1])
        return " OR ".join(conditions) or "false"

    to_end, to_end_days = _split(None, scope.end, coverage)
    during, during_days = _split(scope.start, scope.end, coverage)
    started_to_end = days("s_end", "started_on", to_end_days)
    closed_to_end = days("c_end", "ended_on", to_end_days)
    started_during = days("s_in", "started_on", during_days)
    closed_during = days("c_in", "ended_on", during_days)
    if dimension == CaseloadMonth.Dimension.ORGANISATION:
        live_key = "tm.organisation_id"
        live_join = """CROSS JOIN LATERAL (
            SELECT DISTINCT tm.organisation_id FROM {team} tm WHERE tm.accompaniment_id = a.id
        ) tm"""
        rollup_key = "r.organisation_id"
    else:
        live_key = "p.commune_id"
        live_join = "JOIN {person} p ON p.id = a.person_id"
        rollup_key = "r.commune_id"
    live = (
        f"""
        UNION ALL
        SELECT {live_key},
            count(*) FILTER (WHERE {started_to_end}),
            count(*) FILTER (WHERE {closed_to_end}),
            count(*) FILTER (WHERE {started_during}),
            count(*) FILTER (WHERE {closed_during}),
            count(*) FILTER (
                WHERE ({closed_during}) AND a.exit_reason <> %(not_pertinent)s
            )
        FROM {{accompaniment}} a
        {live_join}
        WHERE a.kind = 'global' AND {{scope}} AND a.started_on <= %(end)s
          AND ({" OR ".join(ranges)})
        GROUP BY 1"""  # noqa: S608 - conditions and names written here
        if ranges
        else ""
    )
    to_end_months = months("m_end", to_end)
    during_months = months("m_in", during)
    sql = f"""counts (key, started_by_end, closed_by_end, entries, closed, exits) AS (
        SELECT {rollup_key},
            sum(r.entries) FILTER (WHERE {to_end_months}),
            sum(r.closed) FILTER (WHERE {to_end_months}),
            sum(r.entries) FILTER (WHERE {during_months}),
            sum(r.closed) FILTER (WHERE {during_months}),
            sum(r.exits) FILTER (WHERE {during_months})
        FROM {CaseloadMonth._meta.db_table} r
        WHERE r.department_id = %(department)s AND r.dimension = %(dimension)s
          AND r.month <= %(end)s
        GROUP BY 1{live}
    ),
    summed AS (
        SELECT key,
            coalesce(sum(started_by_end), 0) AS started_by_end,
            coalesce(sum(closed_by_end), 0) AS closed_by_end,
            coalesce(sum(entries), 0) AS entries,
            coalesce(sum(closed), 0) AS closed,
            coalesce(sum(exits), 0) AS exits
        FROM counts GROUP BY key
    )"""  # noqa: S608 - conditions and names written here
    return _Rolled(sql, params, refreshed_at)


def by_organisation(scope: FigureScope) -> FigureTable:
    """Per organisation of the teams: an accompaniment counts for each organisation that had
    a member on its team. From the monthly rollup where the département has one."""
    rolled = _rolled_up(scope, CaseloadMonth.Dimension.ORGANISATION)
    rows = (
        _fetch(
            f"""
            WITH {rolled.sql}
            SELECT o.name, (s.started_by_end - s.closed_by_end)::bigint,
                s.entries::bigint, s.exits::bigint
            -- Each organisation looked up by key (a hash of every organisation otherwise).
            FROM summed s CROSS JOIN LATERAL (
                SELECT o.name FROM {{organisation}} o WHERE o.id = s.key LIMIT 1
            ) o
            WHERE s.started_by_end > s.closed_by_end OR s.closed > 0
            ORDER BY 2 DESC, o.name
            """,  # noqa: S608 - the CTE written by _rolled_up
            rolled.params,
        )
        if rolled
        else _fetch(
            """
        SELECT o.name,
            count(*) FILTER (
                WHERE a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on > %(end)s)
            ),
            count(*) FILTER (WHERE a.started_on BETWEEN %(start)s AND %(end)s),
            count(*) FILTER (
                WHERE a.ended_on BETWEEN %(start)s AND %(end)s
                  AND a.exit_reason <> %(not_pertinent)s
            )
        FROM {accompaniment} a
        -- Each organisation of the team once per accompaniment, looked up by the
        -- accompaniment (the département's few, not a scan of every team of the country).
        CROSS JOIN LATERAL (
            SELECT DISTINCT tm.organisation_id FROM {team} tm WHERE tm.accompaniment_id = a.id
        ) tm
        JOIN {organisation} o ON o.id = tm.organisation_id
        WHERE a.kind = 'global' AND {scope}
          AND (%(organisation)s::bigint IS NULL OR o.id = %(organisation)s)
          AND a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on >= %(start)s)
        GROUP BY o.id, o.name
        ORDER BY 2 DESC, o.name
        """,
            _scope_params(scope),
        )
    )
    return FigureTable(
        "by_organisation",
        "Par organisation",
        ("Organisation", "En cours en fin de période", "Entrées", "Sorties"),
        tuple(rows),
        definition="Un accompagnement compte pour chaque organisation qui a eu un membre dans "
        "son équipe (France Travail et le travailleur social du binôme comptent chacun)."
        + (rolled.caveat() if rolled else ""),
    )


def by_place(scope: FigureScope) -> tuple[FigureTable, FigureTable]:
    """Per commune of the person and per EPCI à fiscalité propre of that commune: one pass
    over the period's accompaniments and their persons (``GROUPING SETS``), two tables. From
    the monthly rollup where the département has one."""
    rolled = _rolled_up(scope, CaseloadMonth.Dimension.COMMUNE)
    rows = (
        _fetch(
            f"""
            WITH {rolled.sql}
            SELECT GROUPING(c.insee_code, c.name) <> 0 AS by_epci,
                CASE WHEN GROUPING(c.insee_code, c.name) = 0
                    THEN coalesce(c.name, 'Commune non renseignée')
                    ELSE coalesce(e.name, 'EPCI non renseigné')
                END AS place,
                sum(s.started_by_end - s.closed_by_end)::bigint AS active,
                sum(s.entries)::bigint, sum(s.exits)::bigint
            FROM summed s
            -- Each commune looked up by key (a hash of the 35,000 communes otherwise).
            LEFT JOIN LATERAL (
                SELECT c.insee_code, c.name, c.epci_id FROM {{commune}} c
                WHERE c.insee_code = s.key LIMIT 1
            ) c ON true
            LEFT JOIN {{epci}} e ON e.siren = c.epci_id
            GROUP BY GROUPING SETS ((c.insee_code, c.name), (e.siren, e.name))
            HAVING sum(s.started_by_end) > sum(s.closed_by_end) OR sum(s.closed) > 0
            ORDER BY by_epci, active DESC, place
            """,  # noqa: S608 - the CTE written by _rolled_up
            rolled.params,
        )
        if rolled
        else _fetch(
            """
        SELECT GROUPING(c.insee_code, c.name) <> 0 AS by_epci,
            CASE WHEN GROUPING(c.insee_code, c.name) = 0
                THEN coalesce(c.name, 'Commune non renseignée')
                ELSE coalesce(e.name, 'EPCI non renseigné')
            END AS place,
            count(*) FILTER (
                WHERE a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on > %(end)s)
            ) AS active,
            count(*) FILTER (WHERE a.started_on BETWEEN %(start)s AND %(end)s),
            count(*) FILTER (
                WHERE a.ended_on BETWEEN %(start)s AND %(end)s
                  AND a.exit_reason <> %(not_pertinent)s
            )
        FROM {accompaniment} a
        JOIN {person} p ON p.id = a.person_id
        LEFT JOIN {commune} c ON c.insee_code = p.commune_id
        LEFT JOIN {epci} e ON e.siren = c.epci_id
        WHERE a.kind = 'global' AND {scope}
          AND a.started_on <= %(end)s AND (a.ended_on IS NULL OR a.ended_on >= %(start)s)
        GROUP BY GROUPING SETS ((c.insee_code, c.name), (e.siren, e.name))
        ORDER BY by_epci, active DESC, place
        """,
            _scope_params(scope),
        )
    )
    return (
        FigureTable(
            "by_commune",
            "Par commune de la personne",
            ("Commune", "En cours en fin de période", "Entrées", "Sorties"),
            tuple(tuple(row[1:]) for row in rows if not row[0]),
            definition="La commune de résidence enregistrée dans le dossier de la personne."
            + (rolled.caveat() if rolled else ""),
        ),
        FigureTable(
            "by_epci",
            "Par EPCI de la personne",
            ("EPCI", "En cours en fin de période", "Entrées", "Sorties"),
            tuple(tuple(row[1:]) for row in rows if row[0]),
            definition="L'établissement public de coopération intercommunale à fiscalité "
            "propre (métropole, communauté urbaine, d'agglomération ou de communes) de la "
            "commune de résidence enregistrée dans le dossier de la personne (référentiel "
            "INSEE)." + (rolled.caveat() if rolled else ""),
        ),
    )


def barriers_lifted(scope: FigureScope) -> FigureTable:
    """Per theme, between the first and the last validated diagnostic of the accompaniments
    whose last validated diagnostic was made in the period (and that have an earlier one)."""
    rows = {
        theme: (first, lifted)
        for theme, first, lifted in _fetch(
            """
            WITH validated AS (
                SELECT d.id, d.accompaniment_id,
                    row_number() OVER w_first AS first_rank,
                    row_number() OVER w_last AS last_rank,
                    count(*) OVER (PARTITION BY d.accompaniment_id) AS how_many,
                    d.made_on
                FROM {diagnostic} d
                JOIN {accompaniment} a ON a.id = d.accompaniment_id
                WHERE d.status = 'validated' AND a.kind = 'global' AND {scope}
                WINDOW w_first AS (PARTITION BY d.accompaniment_id ORDER BY d.made_on, d.id),
                       w_last AS (
                           PARTITION BY d.accompaniment_id ORDER BY d.made_on DESC, d.id DESC
                       )
            ),
            pairs AS (
                SELECT f.id AS first_id, l.id AS last_id
                FROM validated f
                JOIN validated l ON l.accompaniment_id = f.accompaniment_id
                WHERE f.first_rank = 1 AND l.last_rank = 1 AND f.how_many > 1
                  AND l.made_on BETWEEN %(start)s AND %(end)s
            )
            SELECT fa.theme,
                count(*),
                count(*) FILTER (WHERE la.level = 'none')
            FROM pairs
            JOIN {answer} fa ON fa.diagnostic_id = pairs.first_id
            LEFT JOIN {answer} la ON la.diagnostic_id = pairs.last_id AND la.theme = fa.theme
            WHERE fa.level IN ('to_lift', 'blocking')
            GROUP BY 1
            """,
            _scope_params(scope),
        )
    }
    table = []
    for code, label in referential.theme_choices():
        first, lifted = rows.get(code, (0, 0))
        table.append((label, first, lifted, _share(lifted, first)))
    return FigureTable(
        "barriers_lifted",
        "Freins levés par thème",
        ("Thème", "Freins au premier diagnostic", "Levés au dernier diagnostic", "Part levée (%)"),
        tuple(table),
        definition="Accompagnements globaux dont le dernier diagnostic validé date de la "
        "période et qui en ont un plus ancien : un frein (à lever ou bloquant) au premier "
        "diagnostic validé est levé quand le dernier le note « pas de frein ».",
    )


@register("support", order=10)
def steering_section(scope: FigureScope) -> FigureSection | None:
    """The global accompaniments of the territory (or of one organisation's teams)."""
    if scope.department is None:
        return None
    memo = _coverage_memo.set({})
    try:
        return _section(scope)
    finally:
        _coverage_memo.reset(memo)


def _section(scope: FigureScope) -> FigureSection:
    split = monthly_split(scope)
    return FigureSection(
        "support",
        "Accompagnement global",
        figures=accompaniment_figures(scope),
        notes=(f"Chiffres clés :{_caveat(split.refreshed_at)}",) if split else (),
        tables=()
        if scope.figures_only
        else (
            exits_by_reason(scope),
            by_organisation(scope),
            *by_place(scope),
            barriers_lifted(scope),
        ),
    )
