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

from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.rsa.models import ACTIVE_STATES, OrientationKind

ORIENTATION_DAYS = 42
RDV_ORIENTATION_DAYS = 45
ACCOMPANIED_DAYS = (30, 15)

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

    @property
    def oriented_share(self) -> float | None:
        return _share(self.oriented_within, self.oriented_base)

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
    month; the orientations: over the period, by kind, by body, by month)."""
    params = _params(scope, as_of or timezone.localdate())
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
    by_month = tuple(
        _month(month, entrants_by_month.get(month), contracts_by_month.get(month))
        for month in sorted({*entrants_by_month, *contracts_by_month})
    )
    kinds = dict(OrientationKind.choices)
    by_kind = tuple(
        (str(kinds.get(row[1], row[1])), ContractFigures.of(row[4:]))
        for row in sets.get(_BY_KIND, [])
    )
    by_body = tuple((str(row[2]), ContractFigures.of(row[4:])) for row in sets.get(_BY_BODY, []))
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
        ),
    )
