"""The RSA delays the partners want shortened, computed in SQL from the recorded dates.

Over a scope (a département or the whole country, optionally one referent body) and a period
(both ends included), judged on a day (``as_of``, today by default):

- **stock**: persons subject to rights and duties whose clock started by the period's end
  and whose right is requested, open or suspended (today's state of their dossier);
  **new entrants**: those whose clock started in the period (``right_opened_on``: the flow
  that first told of their opened right).
- **oriented within six weeks**: among the new entrants, the first orientation notified at
  most 42 days after the clock started; the denominator counts only those whose fate is
  known (oriented in time, or whose 42 days are over on ``as_of``). **Median delay** to the
  first orientation, over the oriented entrants. rdv-insertion's « orientés en moins de 45
  jours » is the same with 45 days.
- **contract signed within one month**: among the orientations the département decided
  (kind chosen, not delegated) notified in the period, a contrat d'engagement signed at most
  one month after the notification; denominator: signed in time, or whose month is over.
  **Median delay** of signature, over the signed ones.
- rdv-insertion's « accompagnés en moins de 30 jours / 15 jours »: among the same
  orientations, a référent de parcours designated within 30 (15) days of the notification;
  denominators likewise only of those old enough to be judged.
- The same contract and referent figures **by orientation kind** and **by referent body**;
  **by month**, the entrants (by the month their clock started) and the orientations (by the
  month of their notification).

With a referent body in the scope, the orientations are that body's; the stock and the
entrants stay the territory's. No named data: the figures are for steering.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.rsa.models import ACTIVE_STATES, OrientationKind
from binome.rsa.rollup import (
    ACCOMPANIED_DAYS,
    ALL,
    BY_BODY,
    BY_KIND,
    DECIDED_ROWS,
    ENTRANT_ROWS,
    ENTRANTS_SQL,
    ORIENTATION_DAYS,
    ORIENTATIONS_SQL,
    RDV_ORIENTATION_DAYS,
    SETTLED_DAYS,
    EntrantsMonth,
    FiguresCoverage,
    OrientationsMonth,
    first_of_month,
)

# Two statements, each reading its rows once: the beneficiaries (the stock, then the new
# entrants over the period and by month, one pass of GROUPING SETS), the orientations (over
# the period, by kind, by referent body, by month: one pass). The beneficiaries are read on
# the département and the right's opening copied onto them (the index
# ``rsa_beneficiary_opened``, no join to the dossiers), each entrant's first notification on
# ``rsa_orientation_first``; the orientations on ``rsa_orientation_notified``.
#
# The entrants are MATERIALIZED: inlined, PostgreSQL would look up each entrant's first
# orientation once per aggregate that reads it, instead of once.
_ENTRANTS = """
WITH entrants AS MATERIALIZED (
    SELECT date_trunc('month', b.right_opened_on)::date AS month,
           b.right_opened_on AS opened,
           (SELECT min(o.notified_on) FROM rsa_orientation o WHERE o.beneficiary_id = b.id)
               AS oriented
    FROM rsa_beneficiary b
    WHERE b.subject_to_rights_and_duties
      AND b.right_opened_on BETWEEN %(start)s AND %(end)s
      AND (%(department)s::text IS NULL OR b.department_id = %(department)s)
)
SELECT
    GROUPING(month) AS overall,
    month,
    (SELECT count(*) FROM rsa_beneficiary b
     WHERE b.subject_to_rights_and_duties AND b.right_opened_on <= %(end)s
       AND b.dossier_state = ANY(%(active)s)
       AND (%(department)s::text IS NULL OR b.department_id = %(department)s)),
    count(*),
    count(*) FILTER (WHERE oriented <= opened + %(six_weeks)s),
    count(*) FILTER (WHERE oriented <= opened + %(six_weeks)s
                        OR opened + %(six_weeks)s < %(as_of)s),
    count(*) FILTER (WHERE oriented <= opened + %(rdv)s),
    count(*) FILTER (WHERE oriented <= opened + %(rdv)s OR opened + %(rdv)s < %(as_of)s),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY oriented - opened)
        FILTER (WHERE oriented IS NOT NULL)
FROM entrants
GROUP BY GROUPING SETS ((), (month))
ORDER BY 1 DESC, 2
"""

# ``sets``: GROUPING(kind, body, month) is 7 for the whole, 3 by kind, 5 by body, 6 by month.
_DECIDED = """
WITH decided AS (
    SELECT o.kind, {body} AS body, o.notified_on AS notified,
           date_trunc('month', o.notified_on)::date AS month,
           o.contract_signed_on - o.notified_on AS sign_days,
           (o.notified_on + interval '1 month')::date AS month_end,
           o.contract_signed_on AS signed,
           (o.referent_designated_at AT TIME ZONE %(tz)s)::date - o.notified_on
               AS referent_days
    FROM rsa_orientation o {join}
    WHERE o.kind <> '' AND o.notified_on BETWEEN %(start)s AND %(end)s
      AND (%(department)s::text IS NULL OR o.department_id = %(department)s)
      AND (%(organisation)s::int IS NULL OR o.referent_body_id = %(organisation)s)
)
"""
_CONTRACTS = """
    count(*),
    count(*) FILTER (WHERE signed <= month_end),
    count(*) FILTER (WHERE signed <= month_end OR month_end < %(as_of)s),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY sign_days) FILTER (WHERE signed IS NOT NULL),
    count(*) FILTER (WHERE referent_days <= %(d30)s),
    count(*) FILTER (WHERE referent_days <= %(d30)s OR notified + %(d30)s < %(as_of)s),
    count(*) FILTER (WHERE referent_days <= %(d15)s),
    count(*) FILTER (WHERE referent_days <= %(d15)s OR notified + %(d15)s < %(as_of)s)
"""
_BODY_JOIN = "JOIN organisations_organisation org ON org.id = o.referent_body_id"
_ORIENTATIONS = f"""{_DECIDED.format(body="org.name", join=_BODY_JOIN)}
SELECT GROUPING(kind, body, month) AS sets, kind, body, month, {_CONTRACTS}
FROM decided
GROUP BY GROUPING SETS ((), (kind), (body), (month))
ORDER BY 1, 2, 3, 4
"""  # noqa: S608 - fixed text
# The whole period only (the dashboard's previous period, compared figure by figure): no
# referent body's name to join, one group.
_ORIENTATIONS_WHOLE = f"""{_DECIDED.format(body="NULL", join="")}
SELECT 7, NULL, NULL, NULL, {_CONTRACTS}
FROM decided
"""  # noqa: S608 - fixed text
_WHOLE, _BY_KIND, _BY_BODY, _BY_MONTH = 7, 3, 5, 6


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class ContractFigures:
    orientations: int
    signed_within: int
    signed_base: int
    sign_median_days: float | None
    referent_30: int
    referent_30_base: int
    referent_15: int
    referent_15_base: int

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> ContractFigures:
        values = list(row)
        median = values[3]
        values[3] = float(median) if median is not None else None
        return cls(*values)

    @property
    def signed_share(self) -> float | None:
        return _share(self.signed_within, self.signed_base)

    @property
    def referent_30_share(self) -> float | None:
        return _share(self.referent_30, self.referent_30_base)

    @property
    def referent_15_share(self) -> float | None:
        return _share(self.referent_15, self.referent_15_base)


@dataclass(frozen=True)
class MonthFigures:
    """One month: its new entrants (by the clock's start) and the orientations notified in
    it."""

    month: datetime.date
    entrants: int
    oriented_within: int
    oriented_base: int
    orientation_median_days: float | None
    contracts: ContractFigures | None

    @property
    def oriented_share(self) -> float | None:
        return _share(self.oriented_within, self.oriented_base)


@dataclass(frozen=True)
class RsaFigures:
    stock: int
    entrants: int
    oriented_within: int
    oriented_base: int
    oriented_45: int
    oriented_45_base: int
    orientation_median_days: float | None
    contracts: ContractFigures
    by_kind: tuple[tuple[str, ContractFigures], ...]
    by_body: tuple[tuple[str, ContractFigures], ...]
    by_month: tuple[MonthFigures, ...] = ()
    # When the nightly job last rebuilt the rollup the past months were summed from (none:
    # everything counted live).
    refreshed_at: datetime.datetime | None = None

    @property
    def oriented_share(self) -> float | None:
        return _share(self.oriented_within, self.oriented_base)

    @property
    def caveat(self) -> str:
        """What a reader of figures summed from the rollup must know: its past months are
        those of the last rebuild, a change to one of them shows after the next."""
        if self.refreshed_at is None:
            return ""
        moment = timezone.localtime(self.refreshed_at)
        return (
            f"Les mois entiers déjà écoulés sont comptés tels que calculés le "
            f"{date_format(moment, 'j F Y')} à {date_format(moment, 'H:i')} ; une "
            "modification d'un mois passé (une orientation, un contrat, l'état d'un droit) y "
            "apparaît après le calcul suivant (chaque nuit)."
        )

    @property
    def oriented_45_share(self) -> float | None:
        return _share(self.oriented_45, self.oriented_45_base)


def _params(scope: FigureScope, as_of: datetime.date) -> dict[str, Any]:
    return {
        "start": scope.start,
        "end": scope.end,
        "department": scope.department,
        "organisation": scope.organisation_id,
        "as_of": as_of,
        "active": [str(state) for state in ACTIVE_STATES],
        "six_weeks": ORIENTATION_DAYS,
        "rdv": RDV_ORIENTATION_DAYS,
        "d30": ACCOMPANIED_DAYS[0],
        "d15": ACCOMPANIED_DAYS[1],
        "tz": timezone.get_current_timezone_name(),
    }


def _month(
    month: datetime.date, entrants: tuple[Any, ...] | None, contracts: ContractFigures | None
) -> MonthFigures:
    count, within, base, median = entrants or (0, 0, 0, None)
    return MonthFigures(
        month=month,
        entrants=count,
        oriented_within=within,
        oriented_base=base,
        orientation_median_days=float(median) if median is not None else None,
        contracts=contracts,
    )


def rsa_figures(scope: FigureScope, *, as_of: datetime.date | None = None) -> RsaFigures:
    """The figures of the scope, in two statements (the beneficiaries: stock, entrants, by
    month; the orientations: over the period, by kind, by body, by month). A département's
    whole past months are summed from the rollup (``rsa.rollup``) where it has one."""
    as_of = as_of or timezone.localdate()
    params = _params(scope, as_of)
    plan = _rolled_plan(scope)
    if plan is not None:
        return _rolled_figures(scope, params, plan)
    with reading_connection().cursor() as cursor:
        cursor.execute(_ENTRANTS, params)
        beneficiaries = cursor.fetchall()
        cursor.execute(_ORIENTATIONS_WHOLE if scope.figures_only else _ORIENTATIONS, params)
        orientations = cursor.fetchall()
    # The whole period's row comes first (GROUPING(month) = 1), then the months in order.
    entrants = beneficiaries[0][2:]
    entrants_by_month = {row[1]: (row[3], row[4], row[5], row[8]) for row in beneficiaries[1:]}
    sets: dict[int, list[tuple[Any, ...]]] = {}
    for row in orientations:
        sets.setdefault(row[0], []).append(row)
    contracts = ContractFigures.of(sets[_WHOLE][0][4:])
    contracts_by_month = {row[3]: ContractFigures.of(row[4:]) for row in sets.get(_BY_MONTH, [])}
    kinds = dict(OrientationKind.choices)
    by_kind = tuple(
        (str(kinds.get(row[1], row[1])), ContractFigures.of(row[4:]))
        for row in sets.get(_BY_KIND, [])
    )
    by_body = tuple((str(row[2]), ContractFigures.of(row[4:])) for row in sets.get(_BY_BODY, []))
    return _figures(entrants, entrants_by_month, contracts, contracts_by_month, by_kind, by_body)


def _figures(
    entrants: tuple[Any, ...],
    entrants_by_month: dict[datetime.date, tuple[Any, ...]],
    contracts: ContractFigures,
    contracts_by_month: dict[datetime.date, ContractFigures],
    by_kind: tuple[tuple[str, ContractFigures], ...],
    by_body: tuple[tuple[str, ContractFigures], ...],
    refreshed_at: datetime.datetime | None = None,
) -> RsaFigures:
    by_month = tuple(
        _month(month, entrants_by_month.get(month), contracts_by_month.get(month))
        for month in sorted({*entrants_by_month, *contracts_by_month})
    )
    median = entrants[6]
    stock, count, within, base, within_45, base_45 = entrants[:6]
    return RsaFigures(
        stock=stock,
        entrants=count,
        oriented_within=within,
        oriented_base=base,
        oriented_45=within_45,
        oriented_45_base=base_45,
        orientation_median_days=float(median) if median is not None else None,
        contracts=contracts,
        by_kind=by_kind,
        by_body=by_body,
        by_month=by_month,
        refreshed_at=refreshed_at,
    )


# --- A département's figures from the monthly rollup (``rsa.rollup``) ------------------
# The months of the period that the rollup covers are summed from it (and its whole years
# from the yearly rows); the days left of the period (its first and last days outside whole
# months, the months since the last run) are counted live by the rollup's own statements;
# the stock sums every covered month up to the period's end and counts the days after live.
# The medians are read from the delays' distributions, as PostgreSQL's
# ``percentile_cont(0.5)`` would over the rows.


type _Days = tuple[tuple[datetime.date, datetime.date], ...]


@dataclass(frozen=True)
class _Plan:
    months: tuple[datetime.date, datetime.date] | None  # first and last month summed
    # The whole calendar years among them, summed from the rollup's years (their 1 January)
    years: tuple[datetime.date, datetime.date] | None
    live: _Days  # the days of the period outside those months, counted live
    # The days of those months outside the period (a first or last month mostly in it is
    # summed, less these days counted live)
    minus: _Days
    stock_until: datetime.date  # the stock sums the months before, counts the days from
    refreshed_at: datetime.datetime


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _days(spans: list[tuple[datetime.date, datetime.date]]) -> int:
    return sum((high - low).days + 1 for low, high in spans)


def _rolled_plan(scope: FigureScope) -> _Plan | None:
    """What the rollup answers for the scope, or ``None`` when it cannot (the country, one
    referent body's orientations, a département never refreshed).

    It sums the months it covers; of the period's first and last months, when the period
    holds only part of one, the month is summed less the days outside the period if those
    are fewer, else the days inside are counted live."""
    if scope.department is None or scope.organisation_id is not None:
        return None
    covered = (
        FiguresCoverage.objects.using(reading_connection().alias)
        .filter(department_id=scope.department)
        .values_list("before", "refreshed_at")
        .first()
    )
    if covered is None:
        return None
    before, refreshed_at = covered
    day = datetime.timedelta(days=1)
    first, last = first_of_month(scope.start), first_of_month(scope.end)
    live: list[tuple[datetime.date, datetime.date]] = []
    minus: list[tuple[datetime.date, datetime.date]] = []
    if last >= before:  # the months not rolled up yet: live
        live.append((max(scope.start, before), scope.end))
        last = first_of_month(before - day)
    if first <= last:
        for month in sorted({first, last}):
            inside = (max(scope.start, month), min(scope.end, _next_month(month) - day))
            outside = [
                span
                for span in (
                    (month, scope.start - day),
                    (scope.end + day, _next_month(month) - day),
                )
                if span[0] <= span[1] and span[0] >= month and span[1] < _next_month(month)
            ]
            if not outside:
                continue
            if _days(outside) < _days([inside]):
                minus += outside
            else:  # mostly outside: the days inside, live, and the month left out
                live.append(inside)
                if month == first:
                    first = _next_month(month)
                if month == last and first <= last:
                    last = first_of_month(month - day)
    months = (first, last) if first <= last else None
    years = None
    if months is not None:
        first_year = months[0].year + (months[0].month > 1)
        last_year = months[1].year - (months[1].month < 12)
        if first_year <= last_year:
            years = (datetime.date(first_year, 1, 1), datetime.date(last_year, 1, 1))
    stock_until = scope.end + day if (scope.end + day).day == 1 else first_of_month(scope.end)
    return _Plan(
        months, years, tuple(sorted(live)), tuple(minus), min(stock_until, before), refreshed_at
    )


# The whole period's key in the summed rows (its month: none).
_NO_MONTH = datetime.date(1, 1, 1)


def _medians(keys: str) -> str:
    """The CTE ``medians``: per key of the CTE ``distribution`` (keys, delay, number: how many
    had that delay), the median of the delays as ``percentile_cont(0.5)`` gives it over the
    rows themselves — the middle one, or halfway between the two middle ones."""
    return f"""medians AS (
        SELECT {keys},
               ((min(delay) FILTER (WHERE upto > (total - 1) / 2)
                 + min(delay) FILTER (WHERE upto > total / 2)) / 2.0)::float8 AS median
        FROM (
            SELECT {keys}, delay,
                   sum(number) OVER (PARTITION BY {keys} ORDER BY delay) AS upto,
                   sum(number) OVER (PARTITION BY {keys}) AS total
            FROM distribution
        ) AS cumulated
        GROUP BY {keys}
    )"""  # noqa: S608 - written here


def _live_rows(template: str, spans: _Days, name: str, column: str) -> str:
    """The rows of ``template`` for each range of days of ``spans`` (parameters
    ``{name}_low_{i}`` and ``{name}_high_{i}``)."""
    return " UNION ALL ".join(
        template.format(days=f"{column} BETWEEN %({name}_low_{index})s AND %({name}_high_{index})s")
        for index in range(len(spans))
    )


# A month summed from the rollup counts for the period's figures unless one of the whole
# years read from the rollup holds it; it always counts for the table by month.
_OUTSIDE_YEARS = "NOT coalesce(month BETWEEN %(first_year)s AND %(years_end)s, false)"


def _judged(span: str, count: str, within: str, pending: str, deadline: str) -> str:
    """A share's denominator from a row of the rollup, on the day judged: all of its
    ``count`` once every deadline of its month (or year) is over, else those ``within`` the
    deadline and those of the ``pending`` days whose ``deadline`` (of ``p.day``, the day from
    the first) is over."""
    return f"""CASE WHEN (month + interval '1 {span}')::date <= %(settled)s THEN {count}
               ELSE {within} + (
                   SELECT coalesce(sum(p.number), 0)
                   FROM unnest(pending_days, {pending}) AS p (day, number)
                   WHERE {deadline} < %(as_of)s
               )::int END"""  # noqa: S608 - written here


def _union(parts: list[str]) -> str:
    """The parts that the plan needs (a statement that leaves out what it does not read is
    planned faster)."""
    return "\n        UNION ALL\n".join(parts)


def _summed(keys: str, counts: str) -> str:
    """The CTEs ``totals`` and ``medians`` over the CTE ``keyed`` (keys, counts, delays,
    numbers, median, sign: -1 for days taken out of a month): per key, the counts summed, and
    the median of the delays — the stored one when the key has a single row, else read from
    the merged distributions."""
    sums = ", ".join(f"sum({column})::int AS {column}" for column in counts.split(", "))
    return f"""
    totals AS (
        SELECT {keys}, {sums}, count(*) AS parts, min(median) AS stored
        FROM keyed
        GROUP BY {keys}
    ),
    -- The arrays unnested in the select list, side by side (cheaper than a function scan
    -- per row).
    distribution AS (
        SELECT {keys}, delay, sum(number * sign) AS number
        FROM (
            SELECT {keys}, unnest(keyed.delays) AS delay, unnest(keyed.numbers) AS number,
                   keyed.sign
            FROM keyed JOIN totals USING ({keys})
            WHERE totals.parts > 1
        ) AS pairs
        GROUP BY {keys}, delay
        HAVING sum(number * sign) <> 0
    ),
    {_medians(keys)}"""  # noqa: S608 - written here


def _rolled_entrants_sql(plan: _Plan) -> str:
    """Per month and over the period (month ``_NO_MONTH``): the entrants' counts and median
    delay; then the stock (month ``None``)."""
    counts = "entrants, within_42, base_42, within_45, base_45"
    table = EntrantsMonth._meta.db_table
    rows = ENTRANT_ROWS.replace("{days}", "b.department_id = %(department)s AND {days}")
    parts = [
        f"""
        SELECT month, {sign}entrants, {sign}within_42, {sign}base_42, {sign}within_45,
               {sign}base_45, delays, numbers, {median}, {sign}1, true, true
        FROM ({ENTRANTS_SQL.format(rows=_live_rows(rows, spans, name, "b.right_opened_on"))})
            AS live (department, month, entrants, active, within_42, base_42, within_45,
                     base_45, delays, numbers, median)"""  # noqa: S608 - written here
        # The days taken out of a month are never alone in their group: no median.
        for spans, name, sign, median in (
            (plan.live, "live", "", "median"),
            (plan.minus, "minus", "-", "NULL::float8"),
        )
        if spans
    ]

    def rolled(span: str) -> str:
        within_42 = _judged(
            span, "entrants", "oriented_42", "late_42", "month + p.day + %(six_weeks)s"
        )
        within_45 = _judged(span, "entrants", "oriented_45", "late_45", "month + p.day + %(rdv)s")
        return f"""month, entrants, oriented_42, {within_42}, oriented_45, {within_45},
               delays, delay_counts, median, 1"""

    if plan.months:
        parts.append(f"""
        SELECT {rolled("month")}, {_OUTSIDE_YEARS}, true
        FROM {table}
        WHERE department_id = %(department)s AND span = 'month'
          AND month BETWEEN %(first_month)s AND %(last_month)s""")  # noqa: S608 - written here
    if plan.years:
        parts.append(f"""
        SELECT {rolled("year")}, true, false
        FROM {table}
        WHERE department_id = %(department)s AND span = 'year'
          AND month BETWEEN %(first_year)s AND %(last_year)s""")  # noqa: S608 - written here
    if not parts:
        parts.append(f"SELECT {rolled('month')}, true, true FROM {table} WHERE false")  # noqa: S608
    return f"""
    WITH months (month, {counts}, delays, numbers, median, sign, whole_part, month_part)
    AS MATERIALIZED (
        {_union(parts)}
    ),
    keyed AS MATERIALIZED (
        SELECT %(no_month)s AS month, {counts}, delays, numbers, median, sign
        FROM months WHERE whole_part
        UNION ALL
        SELECT month, {counts}, delays, numbers, median, sign
        FROM months WHERE month_part AND %(by_month)s
    ),
    {_summed("month", counts)}
    SELECT t.month, {counts}, CASE WHEN t.parts = 1 THEN t.stored ELSE m.median END
    FROM totals t LEFT JOIN medians m USING (month)
    UNION ALL
    SELECT NULL, (
        (SELECT coalesce(sum(active), 0) FROM {table}
         WHERE department_id = %(department)s AND span = 'month'
           AND month < %(stock_until)s)
        + (SELECT count(*) FROM rsa_beneficiary b
           WHERE b.subject_to_rights_and_duties AND b.right_opened_on IS NOT NULL
             AND b.department_id = %(department)s
             AND b.right_opened_on BETWEEN %(stock_until)s AND %(end)s
             AND b.dossier_state = ANY(%(active)s))
    )::int, 0, 0, 0, 0, NULL
    ORDER BY 1
    """  # noqa: S608 - written here


_COUNTS = (
    "orientations",
    "signed_within",
    "signed_base",
    "referent_30",
    "referent_30_base",
    "referent_15",
    "referent_15_base",
)


def _rolled_orientations_sql(plan: _Plan) -> str:
    """Over the period (``sets`` 3, month ``_NO_MONTH``), per month (3), per kind (1), per
    referent body's name (2, with the name's rank in their order): the orientations' counts
    and median delay of signature."""
    counts = ", ".join(_COUNTS)
    keys = "sets, kind, rank, month"
    table = OrientationsMonth._meta.db_table
    rows = DECIDED_ROWS.replace("{days}", "o.department_id = %(department)s AND {days}")
    parts = [
        f"""
        SELECT sets, month, kind, body, {", ".join(sign + column for column in _COUNTS)},
               sign_days, counts, {median}, {sign}1, true, true
        FROM ({ORIENTATIONS_SQL.format(rows=_live_rows(rows, spans, name, "o.notified_on"))})
            AS live (sets, department, month, kind, body, {counts}, sign_days, counts, median)
        WHERE sets = ANY(%(sets)s)"""  # noqa: S608 - written here
        # The days taken out of a month are never alone in their group: no median.
        for spans, name, sign, median in (
            (plan.live, "live", "", "median"),
            (plan.minus, "minus", "-", "NULL::float8"),
        )
        if spans
    ]

    def rolled(span: str) -> str:
        signed = _judged(
            span,
            "orientations",
            "signed_within",
            "unsigned",
            "(month + p.day + interval '1 month')::date",
        )
        referent_30 = _judged(
            span, "orientations", "referent_30", "no_referent_30", "month + p.day + %(d30)s"
        )
        referent_15 = _judged(
            span, "orientations", "referent_15", "no_referent_15", "month + p.day + %(d15)s"
        )
        return f"""CASE dimension WHEN 'all' THEN {ALL} WHEN 'kind' THEN {BY_KIND}
                   ELSE {BY_BODY} END,
               month, nullif(kind, ''), referent_body_id, orientations, signed_within,
               {signed}, referent_30, {referent_30}, referent_15, {referent_15},
               sign_days, sign_counts, median, 1"""

    if plan.months:
        parts.append(f"""
        SELECT {rolled("month")}, {_OUTSIDE_YEARS}, dimension = 'all'
        FROM {table}
        WHERE department_id = %(department)s AND span = 'month'
          AND dimension = ANY(%(dimensions)s)
          AND month BETWEEN %(first_month)s AND %(last_month)s
          -- Within the years read whole, only the months of the table by month.
          AND (dimension = 'all' AND %(by_month)s OR {_OUTSIDE_YEARS})""")  # noqa: S608 - written here
    if plan.years:
        parts.append(f"""
        SELECT {rolled("year")}, true, false
        FROM {table}
        WHERE department_id = %(department)s AND span = 'year'
          AND dimension = ANY(%(dimensions)s)
          AND month BETWEEN %(first_year)s AND %(last_year)s""")  # noqa: S608 - written here
    if not parts:
        parts.append(f"SELECT {rolled('month')}, true, true FROM {table} WHERE false")  # noqa: S608
    return f"""
    WITH units (sets, month, kind, body, {counts}, delays, numbers, median, sign, whole_part,
                month_part)
    AS MATERIALIZED (
        {_union(parts)}
    ),
    -- The referent bodies by name (two bodies of one name are one row, as live).
    names AS (
        SELECT org.id, org.name, dense_rank() OVER (ORDER BY org.name) AS rank
        FROM organisations_organisation org
        WHERE org.id IN (SELECT body FROM units WHERE sets = {BY_BODY})
    ),
    keyed AS MATERIALIZED (
        SELECT sets, coalesce(kind, '') AS kind, coalesce(names.rank, 0) AS rank,
               %(no_month)s AS month, {counts}, delays, numbers, median, sign
        FROM units LEFT JOIN names ON names.id = units.body
        WHERE whole_part
        UNION ALL
        SELECT sets, '', 0, month, {counts}, delays, numbers, median, sign
        FROM units
        WHERE sets = {ALL} AND month_part AND %(by_month)s
    ),
    {_summed(keys, counts)}
    SELECT t.sets, t.kind, t.rank, t.month, {counts},
           CASE WHEN t.parts = 1 THEN t.stored ELSE m.median END, n.name
    FROM totals t LEFT JOIN medians m USING ({keys})
    LEFT JOIN (SELECT DISTINCT rank, name FROM names) AS n ON n.rank = t.rank
    ORDER BY {keys}
    """  # noqa: S608 - written here


_DIMENSION_OF = {
    ALL: OrientationsMonth.Dimension.ALL,
    BY_KIND: OrientationsMonth.Dimension.KIND,
    BY_BODY: OrientationsMonth.Dimension.BODY,
}


def _contracts(row: tuple[Any, ...]) -> ContractFigures:
    """A summed row of the orientations: (four keys, seven counts, median, name)."""
    orientations, within, base, ref_30, ref_30_base, ref_15, ref_15_base, median = row[4:12]
    return ContractFigures(
        orientations, within, base, median, ref_30, ref_30_base, ref_15, ref_15_base
    )


def _rolled_figures(scope: FigureScope, params: dict[str, Any], plan: _Plan) -> RsaFigures:
    first_month, last_month = plan.months or (None, None)
    sets = [ALL] if scope.figures_only else [ALL, BY_KIND, BY_BODY]
    first_year, last_year = plan.years or (None, None)
    params = {
        **params,
        "first_month": first_month,
        "last_month": last_month,
        "first_year": first_year,
        "last_year": last_year,
        "years_end": last_year.replace(month=12) if last_year else None,
        "by_month": not scope.figures_only,
        # Every deadline of the months before this one is over on the day judged.
        "settled": first_of_month(params["as_of"] - datetime.timedelta(days=SETTLED_DAYS)),
        "span": "month",
        "stock_until": plan.stock_until,
        "no_month": _NO_MONTH,
        "sets": sets,
        "dimensions": [str(_DIMENSION_OF[number]) for number in sets],
    }
    for name, spans in (("live", plan.live), ("minus", plan.minus)):
        for index, (low, high) in enumerate(spans):
            params[f"{name}_low_{index}"], params[f"{name}_high_{index}"] = low, high
    with reading_connection().cursor() as cursor:
        cursor.execute(_rolled_entrants_sql(plan), params)
        beneficiaries = cursor.fetchall()
        cursor.execute(_rolled_orientations_sql(plan), params)
        orientations = cursor.fetchall()
    stock = 0
    whole: tuple[Any, ...] = (0, 0, 0, 0, 0, None)
    entrants_by_month = {}
    for month, *values in beneficiaries:
        if month is None:
            stock = values[0]
        elif month == _NO_MONTH:
            whole = tuple(values)
        else:
            entrants_by_month[month] = (*values[:3], values[5])
    contracts = ContractFigures(0, 0, 0, None, 0, 0, 0, 0)
    contracts_by_month: dict[datetime.date, ContractFigures] = {}
    by_kind, by_body = [], []
    choices = dict(OrientationKind.choices)
    for row in orientations:
        number, kind, month, name = row[0], row[1], row[3], row[-1]
        if number == ALL and month == _NO_MONTH:
            contracts = _contracts(row)
        elif number == ALL and not scope.figures_only:
            contracts_by_month[month] = _contracts(row)
        elif number == BY_KIND:
            by_kind.append((str(choices.get(kind, kind)), _contracts(row)))
        elif number == BY_BODY:
            by_body.append((str(name), _contracts(row)))
    return _figures(
        (stock, *whole),
        entrants_by_month,
        contracts,
        contracts_by_month,
        tuple(by_kind),
        tuple(by_body),
        refreshed_at=plan.refreshed_at,
    )


_COLUMNS = (
    "Orientations",
    "Contrat signé dans le mois (%)",
    "Délai médian de signature (jours)",
    "Référent en moins de 30 jours (%)",
    "Référent en moins de 15 jours (%)",
)


def _row(label: str, figures: ContractFigures) -> tuple[object, ...]:
    return (
        label,
        figures.orientations,
        figures.signed_share,
        figures.sign_median_days,
        figures.referent_30_share,
        figures.referent_15_share,
    )


@register("rsa", order=30)
def rsa_section(scope: FigureScope) -> FigureSection | None:
    """The RSA section of the steering dashboard and of the orientation manager's page."""
    f = rsa_figures(scope)
    c = f.contracts
    return FigureSection(
        key="rsa",
        title="RSA : orientation et contrat d'engagement",
        figures=(
            Figure(
                "stock",
                "Soumis aux droits et devoirs (stock)",
                f.stock,
                definition="Personnes soumises aux droits et devoirs, droit demandé, ouvert ou "
                "suspendu, dont l'ouverture du droit est connue à la fin de la période.",
            ),
            Figure(
                "entrants",
                "Nouveaux entrants",
                f.entrants,
                definition="Personnes soumises aux droits et devoirs dont l'ouverture du droit "
                "a été connue pendant la période.",
            ),
            Figure(
                "oriented_6_weeks",
                "Orientés en six semaines",
                f.oriented_share,
                "%",
                f"{f.oriented_within} sur {f.oriented_base} nouveaux entrants dont le délai "
                "est connu (orientés à temps, ou dont les six semaines sont passées).",
            ),
            Figure(
                "orientation_median",
                "Délai médian d'orientation",
                f.orientation_median_days,
                "jours",
                "De l'ouverture du droit à la première orientation notifiée.",
            ),
            Figure(
                "oriented_45_days",
                "Orientés en moins de 45 jours (rdv-insertion)",
                f.oriented_45_share,
                "%",
                f"{f.oriented_45} sur {f.oriented_45_base} nouveaux entrants assez anciens "
                "pour être comptés.",
            ),
            Figure(
                "contract_month",
                "Contrat d'engagement signé dans le mois",
                c.signed_share,
                "%",
                f"{c.signed_within} sur {c.signed_base} orientations décidées par le "
                "département dont le mois est passé ou le contrat signé.",
            ),
            Figure(
                "contract_median",
                "Délai médian de signature du contrat",
                c.sign_median_days,
                "jours",
                "De la notification de l'orientation à la signature du contrat.",
            ),
            Figure(
                "accompanied_30_days",
                "Accompagnés en moins de 30 jours (rdv-insertion)",
                c.referent_30_share,
                "%",
                f"{c.referent_30} sur {c.referent_30_base} : référent de parcours désigné "
                "dans les 30 jours suivant la notification.",
            ),
            Figure(
                "accompanied_15_days",
                "Accompagnés en moins de 15 jours (rdv-insertion)",
                c.referent_15_share,
                "%",
                f"{c.referent_15} sur {c.referent_15_base} : référent de parcours désigné "
                "dans les 15 jours suivant la notification.",
            ),
        ),
        tables=(
            FigureTable(
                "by_month",
                "Par mois",
                (
                    "Mois",
                    "Nouveaux entrants",
                    "Orientés en six semaines (%)",
                    "Délai médian d'orientation (jours)",
                    "Orientations notifiées",
                    "Contrat signé dans le mois (%)",
                ),
                tuple(
                    (
                        f"{m.month:%m/%Y}",
                        m.entrants,
                        m.oriented_share,
                        m.orientation_median_days,
                        m.contracts.orientations if m.contracts else 0,
                        m.contracts.signed_share if m.contracts else None,
                    )
                    for m in f.by_month
                ),
                definition="Les nouveaux entrants par mois d'ouverture du droit ; les "
                "orientations par mois de notification.",
            ),
            FigureTable(
                "by_kind",
                "Par type d'orientation",
                ("Type d'orientation", *_COLUMNS),
                tuple(_row(label, figures) for label, figures in f.by_kind),
            ),
            FigureTable(
                "by_body",
                "Par organisme référent",
                ("Organisme référent", *_COLUMNS),
                tuple(_row(label, figures) for label, figures in f.by_body),
            ),
        ),
        notes=(
            "Les orientations déléguées à France Travail sans type choisi ne comptent pas dans "
            "les délais de contractualisation.",
            *((f.caveat,) if f.caveat else ()),
        ),
    )
