"""The global accompaniments' caseload per département and month, by organisation of the
teams and by commune of the person: a rollup that the steering tables « par organisation »
and « par commune / EPCI » sum instead of reading a département's whole history.

For each département, month, and organisation (each organisation of the team once per
accompaniment) or commune (the person's): the accompaniments that started in the month
(``entries``), that ended in it (``closed``, every reason) and of those the exits
(``exits``, not « non pertinent »). The caseload at the end of any day is the running sum
of entries less closures up to that day.

Rebuilt whole, set-based, by the nightly job (:func:`refresh`, ``support.tasks``) for the
months before the current one; :class:`CaseloadCoverage` says, per département, up to which
month. The figures (``support.figures``) sum the covered whole months and count the rest of
the period (its first and last days when it does not start or end on a month's bounds, and
the months since the last run) from the accompaniments, live. A département never refreshed
is counted live entirely. Between two runs, a change to an accompaniment of a covered month
(a team member added, a person who moved, an exit dated back) shows the next morning.
"""

from __future__ import annotations

from datetime import date

from django.db import connection, models, transaction
from django.utils import timezone

_ORGANISATION, _COMMUNE = "organisation", "commune"


class CaseloadMonth(models.Model):
    """One département, one month, one organisation or one commune (never both)."""

    class Dimension(models.TextChoices):
        ORGANISATION = _ORGANISATION, "organisation"
        COMMUNE = _COMMUNE, "commune"

    department = models.ForeignKey(
        "territories.Department", on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField("mois")  # its first day
    dimension = models.CharField("dimension", max_length=20, choices=Dimension.choices)
    # Rebuilt whole by the job: no constraint to the organisations or the communes.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    commune = models.ForeignKey(
        "territories.Commune",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    entries = models.PositiveIntegerField("entrées")
    closed = models.PositiveIntegerField("fins (tous motifs)")
    exits = models.PositiveIntegerField("sorties (hors non pertinent)")

    class Meta:
        verbose_name = "mois de file active"
        verbose_name_plural = "mois de file active"
        indexes = [
            models.Index(
                fields=["department", "dimension", "month"],
                include=["organisation", "commune", "entries", "closed", "exits"],
                name="caseload_month_dept",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.month:%m/%Y} {self.dimension}"


class CaseloadCoverage(models.Model):
    """The months of a département that :class:`CaseloadMonth` holds: every month before
    ``before`` (the first day of the month the job ran in)."""

    department = models.OneToOneField(
        "territories.Department", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    before = models.DateField("mois couverts avant le")
    refreshed_at = models.DateTimeField("recalculé le")

    class Meta:
        verbose_name = "couverture de la file active"
        verbose_name_plural = "couvertures de la file active"

    def __str__(self) -> str:
        return f"{self.department_id} avant {self.before:%m/%Y}"


# The rollup computed from the accompaniments (the same conditions as the tables of
# ``support.figures``): each global accompaniment once in the month it started, once in the
# month it ended; per organisation of its team (each once) and per commune of its person.
ROLLUP_SQL = """
    WITH moves AS (
        SELECT a.id, a.department_id, a.person_id,
               date_trunc('month', a.started_on)::date AS month,
               1 AS entries, 0 AS closed, 0 AS exits
        FROM support_accompaniment a
        WHERE a.kind = 'global' AND a.department_id IS NOT NULL AND a.started_on < %(before)s
        UNION ALL
        SELECT a.id, a.department_id, a.person_id,
               date_trunc('month', a.ended_on)::date,
               0, 1, CASE WHEN a.exit_reason <> 'non_pertinent' THEN 1 ELSE 0 END
        FROM support_accompaniment a
        WHERE a.kind = 'global' AND a.department_id IS NOT NULL AND a.ended_on < %(before)s
    )
    SELECT m.department_id, m.month, 'organisation', tm.organisation_id, NULL::varchar,
           sum(m.entries), sum(m.closed), sum(m.exits)
    FROM moves m
    CROSS JOIN LATERAL (
        SELECT DISTINCT t.organisation_id FROM support_teammember t WHERE t.accompaniment_id = m.id
    ) tm
    GROUP BY m.department_id, m.month, tm.organisation_id
    UNION ALL
    SELECT m.department_id, m.month, 'commune', NULL::bigint, p.commune_id,
           sum(m.entries), sum(m.closed), sum(m.exits)
    FROM moves m JOIN people_person p ON p.id = m.person_id
    GROUP BY m.department_id, m.month, p.commune_id
"""
_COLUMNS = "department_id, month, dimension, organisation_id, commune_id, entries, closed, exits"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def refresh(today: date | None = None) -> int:
    """Rebuild the rollup of every département for the months before ``today``'s (one
    transaction: the dashboards read the former rows until it commits). Returns the rows
    written."""
    before = first_of_month(today or timezone.localdate())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CaseloadMonth._meta.db_table}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {CaseloadMonth._meta.db_table} ({_COLUMNS}) {ROLLUP_SQL}",
            {"before": before},
        )
        written = cursor.rowcount
        cursor.execute(f"DELETE FROM {CaseloadCoverage._meta.db_table}")  # noqa: S608
        cursor.execute(
            f"""
            INSERT INTO {CaseloadCoverage._meta.db_table} (department_id, before, refreshed_at)
            SELECT code, %(before)s, now() FROM territories_department
            """,  # noqa: S608
            {"before": before},
        )
    return written


def tidy() -> None:
    """Mark the new rows visible to all (``VACUUM``), so that the figures read them from the
    index alone, and refresh the planner's statistics. ``VACUUM`` cannot run inside a
    transaction: there, only ``ANALYZE``."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {CaseloadMonth._meta.db_table}")


def check(today: date | None = None) -> list[tuple[object, ...]]:
    """The rows of the rollup that differ from the accompaniments now, for the months it
    covers (empty: exact)."""
    before = first_of_month(today or timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {_COLUMNS} FROM ({ROLLUP_SQL}) AS actual ({_COLUMNS})
            EXCEPT SELECT {_COLUMNS} FROM {CaseloadMonth._meta.db_table}
            UNION ALL
            (SELECT {_COLUMNS} FROM {CaseloadMonth._meta.db_table}
             EXCEPT SELECT {_COLUMNS} FROM ({ROLLUP_SQL}) AS actual ({_COLUMNS}))
            """,  # noqa: S608
            {"before": before},
        )
        return cursor.fetchall()
