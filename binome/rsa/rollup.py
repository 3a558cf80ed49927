"""The RSA figures per département and month: a rollup that the steering's RSA section
(``rsa.figures``) sums instead of reading a département's whole history of beneficiaries
(the stock: every beneficiary whose clock started by the period's end) and looking up each
new entrant's first orientation.

- :class:`EntrantsMonth`, per département and month of the right's opening: the new
  entrants bound by the rights and duties, those of them whose dossier is requested, open or
  suspended (the stock sums them), those oriented within six weeks and within 45 days, the
  distribution of their delays to the first orientation (each delay in days and how many
  entrants had it) and its median, and per day the entrants not oriented in time.
- :class:`OrientationsMonth`, per département and month of the notification, for all the
  orientations the département decided, per kind, and per referent body: the orientations,
  the contracts signed within the month, the referents designated within 30 and 15 days, the
  distribution of the signatures' delays and its median, and per day the orientations still
  waiting for them.
- The same per whole calendar year (``span``): a period of whole years reads their medians
  as they are.

Rebuilt whole, set-based, by the nightly job (:func:`refresh`, ``rsa.tasks``) for the months
before the current one; :class:`FiguresCoverage` says, per département, up to which month.
The figures (``rsa.figures``) sum the covered months of the period: the shares'
denominators count the entrants and orientations waiting per day once their deadline is
over on the day judged; a median is the stored one when a group has one row, else read from
the merged distributions. The rest of the period (the first and last days when it does not
start or end on a month's bounds — or a month less its days outside the period when those
are fewer —, the months since the last run) is counted live, by the same statements. A
département never refreshed, the whole country and one referent body's scope are counted
live entirely. Between two runs, a change to a covered month (an entrant oriented, a dossier
closed, a contract signed) shows the next morning.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.utils import timezone

from binome.rsa.models import ACTIVE_STATES

ORIENTATION_DAYS = 42
RDV_ORIENTATION_DAYS = 45
ACCOMPANIED_DAYS = (30, 15)
# Every deadline of the figures is over this many days after a month's last day: 45 days to
# orient (rdv-insertion), a month (at most 31 days) or 30 days after a notification. Past it,
# the denominators of a month are all its entrants or orientations.
SETTLED_DAYS = max(ORIENTATION_DAYS, RDV_ORIENTATION_DAYS, 31, *ACCOMPANIED_DAYS)


class Span(models.TextChoices):
    MONTH = "month", "mois"
    YEAR = "year", "année"


class EntrantsMonth(models.Model):
    """One département, one month of the right's opening (or one whole calendar year: its
    medians are then read as they are for a period of whole years)."""

    # Indexed with the month (no index of its own).
    department = models.ForeignKey(
        "territories.Department", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.CharField("durée", max_length=5, choices=Span.choices)
    month = models.DateField("mois")  # its first day (the year's: 1 January)
    entrants = models.PositiveIntegerField("nouveaux entrants")
    active = models.PositiveIntegerField("dont droit demandé, ouvert ou suspendu")
    oriented_42 = models.PositiveIntegerField("orientés en six semaines")
    oriented_45 = models.PositiveIntegerField("orientés en 45 jours")
    # The delays to the first orientation (days, ascending) and how many entrants had each.
    delays = ArrayField(models.IntegerField(), verbose_name="délais d'orientation")
    delay_counts = ArrayField(models.IntegerField(), verbose_name="entrants par délai")
    median = models.FloatField("délai médian d'orientation", null=True)
    # The days (from the first) with entrants not oriented within 42 and 45 days, and how many
    # each: the denominators count them once their deadline is over on the day judged.
    pending_days = ArrayField(models.IntegerField(), verbose_name="jours en attente")
    late_42 = ArrayField(models.IntegerField(), verbose_name="non orientés en six semaines")
    late_45 = ArrayField(models.IntegerField(), verbose_name="non orientés en 45 jours")

    class Meta:
        verbose_name = "mois d'entrants RSA"
        verbose_name_plural = "mois d'entrants RSA"
        indexes = [
            models.Index(
                fields=["department", "span", "month"],
                include=["active"],
                name="rsa_entrants_month_dept",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.month:%m/%Y}"


class OrientationsMonth(models.Model):
    """One département, one month of notification, and all its orientations decided by the
    département (``dimension`` « all »), those of one kind, or those of one referent body (or
    one whole calendar year)."""

    class Dimension(models.TextChoices):
        ALL = "all", "toutes"
        KIND = "kind", "type d'orientation"
        BODY = "body", "organisme référent"

    # Indexed with the month (no index of its own).
    department = models.ForeignKey(
        "territories.Department", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    span = models.CharField("durée", max_length=5, choices=Span.choices)
    month = models.DateField("mois")  # its first day (the year's: 1 January)
    dimension = models.CharField("dimension", max_length=10, choices=Dimension.choices)
    kind = models.CharField("type d'orientation", max_length=10, blank=True)
    # Rebuilt whole by the job: no constraint to the organisations.
    referent_body = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    orientations = models.PositiveIntegerField("orientations")
    signed_within = models.PositiveIntegerField("contrats signés dans le mois")
    referent_30 = models.PositiveIntegerField("référents désignés en 30 jours")
    referent_15 = models.PositiveIntegerField("référents désignés en 15 jours")
    # The delays of signature (days, ascending) and how many contracts had each.
    sign_days = ArrayField(models.IntegerField(), verbose_name="délais de signature")
    sign_counts = ArrayField(models.IntegerField(), verbose_name="contrats par délai")
    median = models.FloatField("délai médian de signature", null=True)
    # The days (from the first) of orientations without a contract signed within the month,
    # a referent within 30 and 15 days, and how many each: the denominators count them once
    # their deadline is over on the day judged.
    pending_days = ArrayField(models.IntegerField(), verbose_name="jours en attente")
    unsigned = ArrayField(models.IntegerField(), verbose_name="sans contrat dans le mois")
    no_referent_30 = ArrayField(models.IntegerField(), verbose_name="sans référent en 30 jours")
    no_referent_15 = ArrayField(models.IntegerField(), verbose_name="sans référent en 15 jours")

    class Meta:
        verbose_name = "mois d'orientations RSA"
        verbose_name_plural = "mois d'orientations RSA"
        indexes = [
            models.Index(
                fields=["department", "span", "dimension", "month"],
                name="rsa_orientations_month_dept",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.month:%m/%Y} {self.dimension}"


class FiguresCoverage(models.Model):
    """The months of a département that the rollup holds: every month before ``before`` (the
    first day of the month the job ran in)."""

    department = models.OneToOneField(
        "territories.Department", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    before = models.DateField("mois couverts avant le")
    refreshed_at = models.DateTimeField("recalculé le")

    class Meta:
        verbose_name = "couverture des chiffres RSA"
        verbose_name_plural = "couvertures des chiffres RSA"

    def __str__(self) -> str:
        return f"{self.department_id} avant {self.before:%m/%Y}"


# The entrants of the days ``{days}`` selects (a condition on ``b.right_opened_on``): their
# département, month, day, dossier's state and delay to their first orientation.
ENTRANT_ROWS = """
        SELECT b.department_id AS department,
               date_trunc(%(span)s, b.right_opened_on)::date AS month,
               b.right_opened_on AS opened,
               b.dossier_state = ANY(%(active)s) AS active,
               (SELECT min(o.notified_on) FROM rsa_orientation o WHERE o.beneficiary_id = b.id)
                   - b.right_opened_on AS delay
        FROM rsa_beneficiary b
        WHERE b.subject_to_rights_and_duties AND b.right_opened_on IS NOT NULL
          AND b.department_id IS NOT NULL AND {days}
"""
# The entrants per département and month or year (``%(span)s``; ``{rows}``: ENTRANT_ROWS, one
# or several joined by UNION ALL), judged on ``%(as_of)s`` (the rollup judges on 'infinity':
# every deadline over). One row per month: entrants, active, oriented within 42 days, its
# denominator, within 45 days, its denominator, the delays' distribution and median, the
# days of the month and the entrants of each not oriented within 42 and 45 days.
ENTRANTS_SQL = """
    WITH entrants AS MATERIALIZED ({rows}),
    delays AS (
        SELECT department, month, delay, count(*) AS entrants,
               count(*) FILTER (WHERE active) AS active,
               count(*) FILTER (WHERE delay <= %(six_weeks)s
                                   OR opened + %(six_weeks)s < %(as_of)s) AS base_42,
               count(*) FILTER (WHERE delay <= %(rdv)s OR opened + %(rdv)s < %(as_of)s)
                   AS base_45
        FROM entrants
        GROUP BY department, month, delay
    ),
    medians AS (
        SELECT department, month, percentile_cont(0.5) WITHIN GROUP (ORDER BY delay) AS median
        FROM entrants
        WHERE delay IS NOT NULL
        GROUP BY department, month
    ),
    -- Per day of the month (from its first day), the entrants not oriented within 42 and 45
    -- days: the shares' denominators count them once their deadline is over.
    pending AS (
        SELECT department, month, array_agg(opened - month ORDER BY opened) AS days,
               array_agg(late_42 ORDER BY opened) AS late_42,
               array_agg(late_45 ORDER BY opened) AS late_45
        FROM (
            SELECT department, month, opened,
                   count(*) FILTER (WHERE NOT coalesce(delay <= %(six_weeks)s, false))::int
                       AS late_42,
                   count(*) FILTER (WHERE NOT coalesce(delay <= %(rdv)s, false))::int AS late_45
            FROM entrants
            GROUP BY department, month, opened
        ) AS days
        WHERE late_42 > 0
        GROUP BY department, month
    )
    SELECT department, month, sum(entrants)::int, sum(active)::int,
           (coalesce(sum(entrants) FILTER (WHERE delay <= %(six_weeks)s), 0))::int,
           sum(base_42)::int,
           (coalesce(sum(entrants) FILTER (WHERE delay <= %(rdv)s), 0))::int,
           sum(base_45)::int,
           coalesce(array_agg(delay ORDER BY delay) FILTER (WHERE delay IS NOT NULL), '{{}}'),
           coalesce(array_agg(entrants::int ORDER BY delay) FILTER (WHERE delay IS NOT NULL),
                    '{{}}'),
           min(medians.median),
           coalesce(min(pending.days), '{{}}'), coalesce(min(pending.late_42), '{{}}'),
           coalesce(min(pending.late_45), '{{}}')
    FROM delays
    LEFT JOIN medians USING (department, month)
    LEFT JOIN pending USING (department, month)
    GROUP BY department, month
"""

# The orientations the département decided (a kind chosen) notified on the days ``{days}``
# selects (a condition on ``o.notified_on``).
DECIDED_ROWS = """
        SELECT o.department_id AS department, o.kind, o.referent_body_id AS body,
               o.notified_on AS notified,
               date_trunc(%(span)s, o.notified_on)::date AS month,
               o.contract_signed_on - o.notified_on AS sign_days,
               (o.notified_on + interval '1 month')::date AS month_end,
               o.contract_signed_on AS signed,
               (o.referent_designated_at AT TIME ZONE %(tz)s)::date - o.notified_on
                   AS referent_days
        FROM rsa_orientation o
        WHERE o.kind <> '' AND {days}
"""
# Those orientations (``{rows}``) per département and month (or year: ``%(span)s``) of
# notification, judged on ``%(as_of)s``: all of them (``GROUPING(kind, body)`` 3), per kind
# (1), per referent body (2). Counts, the shares' denominators, the signatures' delays'
# distribution and median, the days of the month and the orientations of each still waiting
# for a contract signed within the month, a referent within 30 and 15 days.
ORIENTATIONS_SQL = """
    WITH decided AS ({rows}),
    delays AS (
        SELECT GROUPING(kind, body) AS sets, department, month, kind, body, sign_days,
               count(*) AS orientations,
               count(*) FILTER (WHERE signed <= month_end) AS signed_within,
               count(*) FILTER (WHERE signed <= month_end OR month_end < %(as_of)s)
                   AS signed_base,
               count(*) FILTER (WHERE referent_days <= %(d30)s) AS referent_30,
               count(*) FILTER (WHERE referent_days <= %(d30)s OR notified + %(d30)s < %(as_of)s)
                   AS referent_30_base,
               count(*) FILTER (WHERE referent_days <= %(d15)s) AS referent_15,
               count(*) FILTER (WHERE referent_days <= %(d15)s OR notified + %(d15)s < %(as_of)s)
                   AS referent_15_base
        FROM decided
        GROUP BY GROUPING SETS (
            (department, month, sign_days),
            (department, month, kind, sign_days),
            (department, month, body, sign_days)
        )
    ),
    medians AS (
        SELECT GROUPING(kind, body) AS sets, department, month,
               coalesce(kind, '') AS kind, coalesce(body, 0) AS body,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY sign_days) AS median
        FROM decided
        WHERE sign_days IS NOT NULL
        GROUP BY GROUPING SETS ((department, month), (department, month, kind),
                                (department, month, body))
    ),
    -- Per day of the month (from its first day), the orientations without a contract signed
    -- within the month, without a referent within 30 and 15 days: the shares' denominators
    -- count them once their deadline is over.
    pending AS (
        SELECT sets, department, month, kind, body,
               array_agg(day ORDER BY day) AS days,
               array_agg(unsigned ORDER BY day) AS unsigned,
               array_agg(no_referent_30 ORDER BY day) AS no_referent_30,
               array_agg(no_referent_15 ORDER BY day) AS no_referent_15
        FROM (
            SELECT GROUPING(kind, body) AS sets, department, month,
                   coalesce(kind, '') AS kind, coalesce(body, 0) AS body,
                   notified - month AS day,
                   count(*) FILTER (WHERE NOT coalesce(signed <= month_end, false))::int
                       AS unsigned,
                   count(*) FILTER (WHERE NOT coalesce(referent_days <= %(d30)s, false))::int
                       AS no_referent_30,
                   count(*) FILTER (WHERE NOT coalesce(referent_days <= %(d15)s, false))::int
                       AS no_referent_15
            FROM decided
            GROUP BY GROUPING SETS ((department, month, notified),
                                    (department, month, kind, notified),
                                    (department, month, body, notified))
        ) AS days
        WHERE unsigned + no_referent_30 + no_referent_15 > 0
        GROUP BY sets, department, month, kind, body
    )
    SELECT delays.sets, delays.department, delays.month, delays.kind, delays.body,
           sum(delays.orientations)::int, sum(delays.signed_within)::int,
           sum(delays.signed_base)::int, sum(delays.referent_30)::int,
           sum(delays.referent_30_base)::int, sum(delays.referent_15)::int,
           sum(delays.referent_15_base)::int,
           coalesce(array_agg(delays.sign_days ORDER BY delays.sign_days)
                        FILTER (WHERE delays.sign_days IS NOT NULL), '{{}}'),
           coalesce(array_agg(delays.orientations::int ORDER BY delays.sign_days)
                        FILTER (WHERE delays.sign_days IS NOT NULL), '{{}}'),
           min(medians.median),
           coalesce(min(pending.days), '{{}}'), coalesce(min(pending.unsigned), '{{}}'),
           coalesce(min(pending.no_referent_30), '{{}}'),
           coalesce(min(pending.no_referent_15), '{{}}')
    FROM delays
    LEFT JOIN medians ON medians.sets = delays.sets AND medians.department = delays.department
        AND medians.month = delays.month AND medians.kind = coalesce(delays.kind, '')
        AND medians.body = coalesce(delays.body, 0)
    LEFT JOIN pending ON pending.sets = delays.sets AND pending.department = delays.department
        AND pending.month = delays.month AND pending.kind = coalesce(delays.kind, '')
        AND pending.body = coalesce(delays.body, 0)
    GROUP BY delays.sets, delays.department, delays.month, delays.kind, delays.body
"""
ALL, BY_KIND, BY_BODY = 3, 1, 2
_DIMENSIONS = {
    ALL: OrientationsMonth.Dimension.ALL,
    BY_KIND: OrientationsMonth.Dimension.KIND,
    BY_BODY: OrientationsMonth.Dimension.BODY,
}


def figure_params(as_of: date | str) -> dict[str, Any]:
    """The parameters of the figures' statements, judged on ``as_of``."""
    return {
        "as_of": as_of,
        "active": [str(state) for state in ACTIVE_STATES],
        "six_weeks": ORIENTATION_DAYS,
        "rdv": RDV_ORIENTATION_DAYS,
        "d30": ACCOMPANIED_DAYS[0],
        "d15": ACCOMPANIED_DAYS[1],
        "tz": timezone.get_current_timezone_name(),
    }


_ENTRANTS_COLUMNS = (
    "department_id, span, month, entrants, active, oriented_42, oriented_45, delays, "
    "delay_counts, median, pending_days, late_42, late_45"
)
_ORIENTATIONS_COLUMNS = (
    "department_id, span, month, dimension, kind, referent_body_id, orientations, "
    "signed_within, referent_30, referent_15, sign_days, sign_counts, median, pending_days, "
    "unsigned, no_referent_30, no_referent_15"
)


def _rollup_sql() -> tuple[str, str]:
    """The two rollups' rows (in their tables' columns) of the ``%(span)s`` (month or year)
    before ``%(before)s``."""
    before, notified_before = "b.right_opened_on < %(before)s", "o.notified_on < %(before)s"
    entrants = f"""
        SELECT department, %(span)s, month, entrants, active, within_42, within_45, delays,
               counts, median, pending_days, late_42, late_45
        FROM ({ENTRANTS_SQL.format(rows=ENTRANT_ROWS.format(days=before))})
            AS e (department, month, entrants, active, within_42, base_42, within_45, base_45,
                  delays, counts, median, pending_days, late_42, late_45)
    """  # noqa: S608 - fixed text
    orientations = f"""
        SELECT department, %(span)s, month,
               CASE sets WHEN {ALL} THEN '{_DIMENSIONS[ALL]}' WHEN {BY_KIND}
                   THEN '{_DIMENSIONS[BY_KIND]}' ELSE '{_DIMENSIONS[BY_BODY]}' END,
               coalesce(kind, ''), body, orientations, signed_within, referent_30, referent_15,
               sign_days, counts, median, pending_days, unsigned, no_referent_30,
               no_referent_15
        FROM ({ORIENTATIONS_SQL.format(rows=DECIDED_ROWS.format(days=notified_before))})
            AS o (sets, department, month, kind, body, orientations, signed_within, signed_base,
                  referent_30, referent_30_base, referent_15, referent_15_base, sign_days,
                  counts, median, pending_days, unsigned, no_referent_30, no_referent_15)
    """  # noqa: S608 - fixed text
    return entrants, orientations


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _spans(today: date | None) -> tuple[date, list[dict[str, Any]]]:
    """The first month not covered, and the parameters of each span's statements: the months
    before it, the whole years before its year."""
    before = first_of_month(today or timezone.localdate())
    common = figure_params("infinity")
    return before, [
        {**common, "span": str(Span.MONTH), "before": before},
        {**common, "span": str(Span.YEAR), "before": before.replace(month=1)},
    ]


def refresh(today: date | None = None) -> int:
    """Rebuild the rollup of every département for the months before ``today``'s, and the
    whole years before its year (one transaction: the figures read the former rows until it
    commits). Returns the rows written."""
    before, spans = _spans(today)
    entrants, orientations = _rollup_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        written = 0
        for model, columns, sql in (
            (EntrantsMonth, _ENTRANTS_COLUMNS, entrants),
            (OrientationsMonth, _ORIENTATIONS_COLUMNS, orientations),
        ):
            table = model._meta.db_table
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            for params in spans:
                # In the order the figures read them: each département's months side by side.
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT * FROM ({sql}) AS r ORDER BY 1, 4, 3",  # noqa: S608
                    params,
                )
                written += cursor.rowcount
        cursor.execute(f"DELETE FROM {FiguresCoverage._meta.db_table}")  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {FiguresCoverage._meta.db_table} (department_id, before, refreshed_at)
            SELECT code, %(before)s, now() FROM territories_department
            """,  # noqa: S608
            {"before": before},
        )
    return written


def tidy() -> None:
    """Mark the new rows visible to all (``VACUUM``) and refresh the planner's statistics.
    ``VACUUM`` cannot run inside a transaction: there, only ``ANALYZE``."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in (EntrantsMonth, OrientationsMonth):
            cursor.execute(f"{command} {model._meta.db_table}")


def check(today: date | None = None) -> list[tuple[object, ...]]:
    """The rows of the rollup that differ from the beneficiaries and orientations now, for
    the months and years it covers (empty: exact)."""
    _before, spans = _spans(today)
    entrants, orientations = _rollup_sql()
    differences: list[tuple[object, ...]] = []
    with connection.cursor() as cursor:
        for model, columns, sql in (
            (EntrantsMonth, _ENTRANTS_COLUMNS, entrants),
            (OrientationsMonth, _ORIENTATIONS_COLUMNS, orientations),
        ):
            table = model._meta.db_table
            for params in spans:
                cursor.execute(
                    f"""
                    ({sql} EXCEPT SELECT {columns} FROM {table} WHERE span = %(span)s)
                    UNION ALL
                    (SELECT {columns} FROM {table} WHERE span = %(span)s EXCEPT {sql})
                    """,  # noqa: S608
                    params,
                )
                differences += cursor.fetchall()
    return differences
