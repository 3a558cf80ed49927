"""The steering's own figures, which read several apps at once: who entered the binôme
(profiles) and how fast the first steps came against the territory's target."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.people.models import HouseholdMember, Person
from binome.referrals.models import Referral
from binome.rsa.models import Beneficiary
from binome.steering.models import SteeringSettings
from binome.support.caseload import FiguresMonth
from binome.support.figures import monthly_split
from binome.support.models import Accompaniment, Diagnostic, TeamMember

# How long before the start of the accompaniment a referral to the binôme is taken as its
# orientation (a referral older than that led elsewhere).
ORIENTATION_WINDOW_DAYS = 180

# The accompaniment's copy of the person's département (kept by the database, migration
# ``support/0013``): no persons joined to find a département's accompaniments.
_SCOPE = """
    a.kind = 'global' AND a.department_id = %(department)s
    AND (%(organisation)s::bigint IS NULL OR EXISTS (
        SELECT 1 FROM {team} t
        WHERE t.accompaniment_id = a.id AND t.organisation_id = %(organisation)s
    ))
"""


def _fetch(sql: str, scope: FigureScope, **extra: Any) -> list[tuple[Any, ...]]:
    names = {
        "accompaniment": Accompaniment._meta.db_table,
        "team": TeamMember._meta.db_table,
        "person": Person._meta.db_table,
        "household": HouseholdMember._meta.db_table,
        "beneficiary": Beneficiary._meta.db_table,
        "referral": Referral._meta.db_table,
        "diagnostic": Diagnostic._meta.db_table,
    }
    params = {
        "department": scope.department,
        "organisation": scope.organisation_id,
        "start": scope.start,
        "end": scope.end,
        "tz": settings.TIME_ZONE,
        "window": ORIENTATION_WINDOW_DAYS,
        **extra,
    }
    with reading_connection().cursor() as cursor:
        cursor.execute(sql.format(scope=_SCOPE.format(**names), **names), params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


PROFILES = (
    ("rsa", "Allocataires du RSA", "Rapprochés d'un dossier RSA importé des flux CAF/MSA."),
    (
        "single_parent",
        "Parents isolés",
        "Au moins un enfant et aucun conjoint déclarés dans le foyer.",
    ),
    ("women", "Femmes", "Sexe renseigné dans le dossier."),
    ("under_26", "Moins de 26 ans", "Âge au début de l'accompagnement."),
    ("from_26_to_44", "26 à 44 ans", "Âge au début de l'accompagnement."),
    ("from_45_to_54", "45 à 54 ans", "Âge au début de l'accompagnement."),
    ("from_55", "55 ans et plus", "Âge au début de l'accompagnement."),
)


def entries_by_profile(scope: FigureScope) -> FigureTable:
    """The entries of the period by profile (a person may have several): one statement,
    summed from the monthly rollup (``support.caseload.FiguresMonth``) for the whole months
    it covers where the département has it, the days left counted live."""
    split = monthly_split(scope)
    extra: dict[str, Any] = {}
    if split is None:
        entered = "a.started_on BETWEEN %(start)s AND %(end)s"
        rolled = ""
    else:
        entered = split.days(extra, "s_in", "a.started_on", split.during_days)
        during = split.months(extra, "m_in", split.during)
        rolled = f"""
        UNION ALL
        SELECT sum(r.entries), sum(r.rsa), sum(r.single_parent), sum(r.women), sum(r.under_26),
            sum(r.from_26_to_44), sum(r.from_45_to_54), sum(r.from_55)
        FROM {FiguresMonth._meta.db_table} r
        WHERE r.department_id = %(department)s AND {during}"""  # noqa: S608 - written here
    ((total, *counts),) = _fetch(
        f"""
        WITH entries AS (
            SELECT a.id, p.sex,
                COALESCE(a.age_at_start, date_part('year', age(a.started_on, p.birth_date))) AS age,
                EXISTS (SELECT 1 FROM {{beneficiary}} b WHERE b.person_id = p.id) AS rsa,
                EXISTS (
                    SELECT 1 FROM {{household}} h WHERE h.person_id = p.id AND h.relation = 'child'
                ) AND NOT EXISTS (
                    SELECT 1 FROM {{household}} h
                    WHERE h.person_id = p.id AND h.relation = 'partner'
                ) AS single_parent
            FROM {{accompaniment}} a
            JOIN {{person}} p ON p.id = a.person_id
            WHERE {{scope}} AND ({entered})
        ),
        counts (total, rsa, single_parent, women, under_26, from_26_to_44, from_45_to_54,
                from_55) AS (
            SELECT count(*),
                count(*) FILTER (WHERE rsa),
                count(*) FILTER (WHERE single_parent),
                count(*) FILTER (WHERE sex = 'F'),
                count(*) FILTER (WHERE age < 26),
                count(*) FILTER (WHERE age >= 26 AND age < 45),
                count(*) FILTER (WHERE age >= 45 AND age < 55),
                count(*) FILTER (WHERE age >= 55)
            FROM entries{rolled}
        )
        SELECT coalesce(sum(total), 0)::bigint, coalesce(sum(rsa), 0)::bigint,
            coalesce(sum(single_parent), 0)::bigint, coalesce(sum(women), 0)::bigint,
            coalesce(sum(under_26), 0)::bigint, coalesce(sum(from_26_to_44), 0)::bigint,
            coalesce(sum(from_45_to_54), 0)::bigint, coalesce(sum(from_55), 0)::bigint
        FROM counts
        """,  # noqa: S608 - conditions and names written here
        scope,
        **extra,
    )
    return FigureTable(
        "entries_by_profile",
        "Entrées par profil",
        ("Profil", "Entrées", "Part des entrées (%)", "Définition"),
        tuple(
            (label, count, _share(count, total), definition)
            for (_, label, definition), count in zip(PROFILES, counts, strict=True)
        ),
        definition="Accompagnements globaux commencés pendant la période, par profil de la "
        "personne (une personne peut avoir plusieurs profils). Le quartier prioritaire (QPV) "
        "n'est pas enregistré dans le dossier : il n'est pas compté."
        + (f" {split.caveat()}" if split else ""),
    )


def first_steps(scope: FigureScope, target_days: int) -> tuple[Figure, ...]:
    """From the orientation to the first validated diagnostic and to the activation, for
    the diagnostics (and activations) of the period: medians and shares within the target."""
    (
        (
            diagnostics,
            diagnostic_median,
            diagnostic_within,
            activations,
            activation_median,
            activation_within,
        ),
    ) = _fetch(
        """
        -- Materialised: its subqueries planned once, not once per use below.
        WITH steps AS MATERIALIZED (
            SELECT
                coalesce((
                    SELECT min((r.sent_at AT TIME ZONE %(tz)s)::date)
                    FROM {referral} r
                    WHERE r.person_id = a.person_id AND r.kind = 'global'
                      AND (r.sent_at AT TIME ZONE %(tz)s)::date
                          BETWEEN a.started_on - %(window)s AND a.started_on
                ), a.started_on) AS oriented_on,
                (
                    SELECT min(d.made_on) FROM {diagnostic} d
                    WHERE d.accompaniment_id = a.id AND d.status = 'validated'
                ) AS diagnosed_on,
                a.activated_on
            FROM {accompaniment} a
            WHERE {scope} AND a.started_on <= %(end)s
              -- Only those the period can count (activated, or with a validated diagnostic,
              -- in it): the orientation is looked up for them, not for the whole history.
              AND (
                  a.activated_on BETWEEN %(start)s AND %(end)s
                  OR EXISTS (
                      SELECT 1 FROM {diagnostic} d
                      WHERE d.accompaniment_id = a.id AND d.status = 'validated'
                        AND d.made_on BETWEEN %(start)s AND %(end)s
                  )
              )
        )
        SELECT
            count(*) FILTER (WHERE diagnosed_on BETWEEN %(start)s AND %(end)s),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY diagnosed_on - oriented_on)
                FILTER (WHERE diagnosed_on BETWEEN %(start)s AND %(end)s),
            count(*) FILTER (
                WHERE diagnosed_on BETWEEN %(start)s AND %(end)s
                  AND diagnosed_on - oriented_on <= %(target)s
            ),
            count(*) FILTER (WHERE activated_on BETWEEN %(start)s AND %(end)s),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY activated_on - oriented_on)
                FILTER (WHERE activated_on BETWEEN %(start)s AND %(end)s),
            count(*) FILTER (
                WHERE activated_on BETWEEN %(start)s AND %(end)s
                  AND activated_on - oriented_on <= %(target)s
            )
        FROM steps
        """,
        scope,
        target=target_days,
    )
    orientation = (
        "L'orientation est l'envoi de la première orientation vers le binôme dans les "
        f"{ORIENTATION_WINDOW_DAYS} jours avant le début de l'accompagnement, à défaut son début."
    )
    return (
        Figure(
            "diagnostic_median",
            "Délai médian de l'orientation au diagnostic partagé",
            None if diagnostic_median is None else round(float(diagnostic_median), 1),
            unit="jours",
            definition="Sur les premiers diagnostics validés par le binôme pendant la période "
            f"(date de l'entretien). {orientation}",
        ),
        Figure(
            "diagnostic_within_target",
            f"Diagnostics faits dans l'objectif de {target_days} jours",
            _share(diagnostic_within, diagnostics),
            unit="%",
            definition=f"Part des {diagnostics} premiers diagnostics validés de la période faits "
            f"au plus {target_days} jours après l'orientation (objectif fixé par le territoire). "
            f"{orientation}",
        ),
        Figure(
            "activation_median",
            "Délai médian de l'orientation à l'activation",
            None if activation_median is None else round(float(activation_median), 1),
            unit="jours",
            definition=f"Sur les accompagnements activés pendant la période. {orientation}",
        ),
        Figure(
            "activation_within_target",
            f"Activations dans l'objectif de {target_days} jours",
            _share(activation_within, activations),
            unit="%",
            definition=f"Part des {activations} activations de la période faites au plus "
            f"{target_days} jours après l'orientation. {orientation}",
        ),
    )


@register("steering", order=15)
def steering_section(scope: FigureScope) -> FigureSection | None:
    """Who entered the binôme, and the delays of its first steps against the target."""
    if scope.department is None:
        return None
    target = SteeringSettings.target_days_for(scope.department)
    return FigureSection(
        "steering",
        "Entrées et premiers pas du binôme",
        figures=first_steps(scope, target),
        tables=() if scope.figures_only else (entries_by_profile(scope),),
    )
