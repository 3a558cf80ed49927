"""The global accompaniments' caseload per département and month, by organisation of the
teams and by commune of the person: a rollup that the steering tables « par organisation »
and « par commune / EPCI » sum instead of reading a département's whole history.

For each département, month, and organisation (each organisation of the team once per
accompaniment) or commune (the person's): the accompaniments that started in the month
(``entries``), that ended in it (``closed``, every reason) and of those the exits
(``exits``, not « non pertinent »). The caseload at the end of any day is the running sum
of entries less closures up to that day.

Per département and month alone (:class:`FiguresMonth`, :class:`ExitMonth`): the counts
behind the dashboard's key figures of the global accompaniments (entries, closures, exits,
exits to a job or a training, six-month follow-ups), its entries by profile (RSA, single
parent, women, age bands), and its exits by reason and duration (the table by reason, the
median duration).

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


class FiguresMonth(models.Model):
    """One département, one month: the counts behind the dashboard's key figures of the
    global accompaniments and its entries by profile (``steering.figures``). Entries and
    their profiles in the month they started, closures and exits in the month they ended,
    six-month follow-ups in the month they were recorded."""

    department = models.ForeignKey(
        "territories.Department", on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField("mois")  # its first day
    entries = models.PositiveIntegerField("entrées")
    closed = models.PositiveIntegerField("fins (tous motifs)")
    exits = models.PositiveIntegerField("sorties (hors non pertinent)")
    job_training = models.PositiveIntegerField("sorties vers l'emploi ou la formation")
    followups = models.PositiveIntegerField("situations à six mois enregistrées")
    followup_job_training = models.PositiveIntegerField(
        "situations à six mois en emploi ou en formation"
    )
    rsa = models.PositiveIntegerField("entrées d'allocataires du RSA")
    single_parent = models.PositiveIntegerField("entrées de parents isolés")
    women = models.PositiveIntegerField("entrées de femmes")
    under_26 = models.PositiveIntegerField("entrées de moins de 26 ans")
    from_26_to_44 = models.PositiveIntegerField("entrées de 26 à 44 ans")
    from_45_to_54 = models.PositiveIntegerField("entrées de 45 à 54 ans")
    from_55 = models.PositiveIntegerField("entrées de 55 ans et plus")

    class Meta:
        verbose_name = "mois des chiffres clés"
        verbose_name_plural = "mois des chiffres clés"
        constraints = [
            models.UniqueConstraint(fields=["department", "month"], name="figures_month_dept")
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.month:%m/%Y}"


class ExitMonth(models.Model):
    """One département, one month, one exit reason, one duration: how many global
    accompaniments ended in the month for that reason, that many days after their
    activation (else their start). The exits by reason, and the median duration of any run
    of months, are read from these counts."""

    department = models.ForeignKey(
        "territories.Department", on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField("mois")  # its first day
    reason = models.CharField("motif de sortie", max_length=30)
    days = models.IntegerField("jours")
    exits = models.PositiveIntegerField("fins")

    class Meta:
        verbose_name = "mois des sorties"
        verbose_name_plural = "mois des sorties"
        indexes = [
            models.Index(
                fields=["department", "month"],
                include=["reason", "days", "exits"],
                name="exit_month_dept",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.month:%m/%Y} {self.reason} {self.days} j"


# The key figures' counts per département and month (the same conditions as
# ``support.figures.accompaniment_figures`` and ``steering.figures.entries_by_profile``).
# (``support.figures.JOB_REASONS`` and ``TRAINING_REASONS``; a test holds them equal.)
JOB_TRAINING = (
    "emploi_durable",
    "emploi_transition",
    "creation_entreprise",
    "formation_qualifiante",
)
_JOB_TRAINING = "(" + ", ".join(f"'{value}'" for value in JOB_TRAINING) + ")"
_AGE = "COALESCE(a.age_at_start, date_part('year', age(a.started_on, p.birth_date)))"
FIGURES_SQL = f"""
    WITH moves AS (
        SELECT a.department_id, date_trunc('month', a.started_on)::date AS month,
            1 AS entries, 0 AS closed, 0 AS exits, 0 AS job_training,
            0 AS followups, 0 AS followup_job_training,
            CASE WHEN EXISTS (SELECT 1 FROM rsa_beneficiary b WHERE b.person_id = a.person_id)
                THEN 1 ELSE 0 END AS rsa,
            CASE WHEN EXISTS (
                SELECT 1 FROM people_householdmember h
                WHERE h.person_id = a.person_id AND h.relation = 'child'
            ) AND NOT EXISTS (
                SELECT 1 FROM people_householdmember h
                WHERE h.person_id = a.person_id AND h.relation = 'partner'
            ) THEN 1 ELSE 0 END AS single_parent,
            CASE WHEN p.sex = 'F' THEN 1 ELSE 0 END AS women,
            CASE WHEN {_AGE} < 26 THEN 1 ELSE 0 END AS under_26,
            CASE WHEN {_AGE} >= 26 AND {_AGE} < 45 THEN 1 ELSE 0 END AS from_26_to_44,
            CASE WHEN {_AGE} >= 45 AND {_AGE} < 55 THEN 1 ELSE 0 END AS from_45_to_54,
            CASE WHEN {_AGE} >= 55 THEN 1 ELSE 0 END AS from_55
        FROM support_accompaniment a JOIN people_person p ON p.id = a.person_id
        WHERE a.kind = 'global' AND a.department_id IS NOT NULL AND a.started_on < %(before)s
        UNION ALL
        SELECT a.department_id, date_trunc('month', a.ended_on)::date,
            0, 1, CASE WHEN a.exit_reason <> 'non_pertinent' THEN 1 ELSE 0 END,
            CASE WHEN a.exit_reason IN {_JOB_TRAINING} THEN 1 ELSE 0 END,
            0, 0, 0, 0, 0, 0, 0, 0, 0
        FROM support_accompaniment a
        WHERE a.kind = 'global' AND a.department_id IS NOT NULL AND a.ended_on < %(before)s
        UNION ALL
        SELECT a.department_id, date_trunc('month', a.followup_recorded_on)::date,
            0, 0, 0, 0, CASE WHEN a.followup_outcome <> '' THEN 1 ELSE 0 END,
            CASE WHEN a.followup_outcome IN {_JOB_TRAINING} THEN 1 ELSE 0 END,
            0, 0, 0, 0, 0, 0, 0
        FROM support_accompaniment a
        WHERE a.kind = 'global' AND a.department_id IS NOT NULL
          AND a.followup_recorded_on < %(before)s
    )
    SELECT department_id, month, sum(entries), sum(closed), sum(exits), sum(job_training),
        sum(followups), sum(followup_job_training), sum(rsa), sum(single_parent), sum(women),
        sum(under_26), sum(from_26_to_44), sum(from_45_to_54), sum(from_55)
    FROM moves GROUP BY department_id, month
"""  # noqa: S608 - constants written here
_FIGURES_COLUMNS = (
    "department_id, month, entries, closed, exits, job_training, followups, "
    "followup_job_training, rsa, single_parent, women, under_26, from_26_to_44, "
    "from_45_to_54, from_55"
)
EXITS_SQL = """
    SELECT a.department_id, date_trunc('month', a.ended_on)::date, a.exit_reason,
        a.ended_on - coalesce(a.activated_on, a.started_on), count(*)
    FROM support_accompaniment a
    WHERE a.kind = 'global' AND a.department_id IS NOT NULL AND a.ended_on < %(before)s
    GROUP BY 1, 2, 3, 4
"""
_EXITS_COLUMNS = "department_id, month, reason, days, exits"
_ROLLUPS = (
    (CaseloadMonth._meta.db_table, _COLUMNS, ROLLUP_SQL),
    (FiguresMonth._meta.db_table, _FIGURES_COLUMNS, FIGURES_SQL),
    (ExitMonth._meta.db_table, _EXITS_COLUMNS, EXITS_SQL),
)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def refresh(today: date | None = None) -> int:
    """Rebuild the rollup of every département for the months before ``today``'s (one
    transaction: the dashboards read the former rows until it commits). Returns the rows
    written."""
    before = first_of_month(today or timezone.localdate())
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, sql in _ROLLUPS:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", {"before": before})
            written += cursor.rowcount
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
        for table, _, _ in _ROLLUPS:
            cursor.execute(f"{command} {table}")


def check(today: date | None = None) -> list[tuple[object, ...]]:
    """The rows of the rollup that differ from the accompaniments now, for the months it
    covers (empty: exact)."""
    before = first_of_month(today or timezone.localdate())
    differences: list[tuple[object, ...]] = []
    with connection.cursor() as cursor:
        for table, columns, sql in _ROLLUPS:
            cursor.execute(
                f"""
                SELECT '{table}', * FROM (
                    SELECT {columns} FROM ({sql}) AS actual ({columns})
                    EXCEPT SELECT {columns} FROM {table}
                    UNION ALL
                    (SELECT {columns} FROM {table}
                     EXCEPT SELECT {columns} FROM ({sql}) AS actual ({columns}))
                ) AS differences
                """,  # noqa: S608
                {"before": before},
            )
            differences += cursor.fetchall()
    return differences
