"""Figures of childcare (AVIP), computed in SQL from the recorded dates, for the steering's
dashboard (registered as the section ``childcare``) and the coordination's page.

For a scope (a département or the country, optionally one organisation — the one that filed
the requests or the provider that received them) and a period (both ends included):

- **requests** filed in the period, emergencies and places;
- **answered within the promise**: the first answer of a provider (accepted or declined)
  within 24 hours of an emergency's filing / 15 days of a place's; the share counts the
  requests whose fate is known (answered within the delay, or filed longer ago than the
  delay), a request withdrawn before any answer left out; the median delay of the answered
  requests, in hours for the emergencies, in days for the places;
- **places used**: the placements ongoing at some day of the period; **occupancy**: the
  days times children they occupy in the period, over the providers' AVIP places times the days of
  the period (the providers that declare AVIP places);
- **families helped**: the distinct parents whose placement started in the period;
- **outcomes at the end**: the parent's situation recorded at the end of the placements
  ended in the period; **at six months**: the situation recorded six months after the end,
  for the placements whose end fell six months before the period (recorded in it or later).

No named data: a count, a share, a median.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from binome.childcare.models import (
    EMERGENCY_DELAY,
    PLACE_DELAY,
    ChildcareRequest,
    Placement,
    Provider,
    Solicitation,
)
from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.organisations.models import Organisation

JOB = ["emploi_durable", "emploi_transition", "creation_entreprise"]
TRAINING = ["formation_qualifiante"]
SEARCH = ["recherche_emploi"]


def _params(scope: FigureScope, now: datetime | None) -> dict[str, Any]:
    tz = timezone.get_current_timezone()
    return {
        "department": scope.department,
        "organisation": scope.organisation_id,
        "start": scope.start,
        "end": scope.end,
        "since": datetime.combine(scope.start, datetime.min.time(), tzinfo=tz),
        "until": datetime.combine(scope.end + timedelta(days=1), datetime.min.time(), tzinfo=tz),
        "days": scope.days,
        "emergency": EMERGENCY_DELAY,
        "place": PLACE_DELAY,
        "now": now or timezone.now(),
        "followup_start": scope.start - timedelta(days=183),
        "followup_end": scope.end - timedelta(days=183),
    }


_TABLES = {
    "request": ChildcareRequest._meta.db_table,
    "solicitation": Solicitation._meta.db_table,
    "placement": Placement._meta.db_table,
    "provider": Provider._meta.db_table,
    "organisation": Organisation._meta.db_table,
}

# Each statement counts the scope's totals and, when the tables are asked for, their rows in
# the same pass (``GROUPING SETS``): its first two columns (``{keys}``) say which grouping a
# row is of (``total``, ``provider`` — the provider's organisation —, ``organisation`` — the
# one that filed the requests) and for which organisation (see :func:`_run`).

# The requests in scope (read from the index on their département and filing time), each
# with its first answer looked up among its own answered solicitations (a partial index on
# the request that holds the answer's time) rather than in a hash of the country's.
_REQUESTS = """
    WITH answered AS (
        SELECT r.id, r.urgency, r.status, r.created_at, r.organisation_id, a.answered_at
        FROM {request} r
        CROSS JOIN LATERAL (
            SELECT min(s.answered_at) AS answered_at
            FROM {solicitation} s
            WHERE s.request_id = r.id AND s.status IN ('acceptee', 'refusee')
        ) a
        WHERE r.created_at >= %(since)s AND r.created_at < %(until)s
          AND (%(department)s::text IS NULL OR r.department_id = %(department)s)
          AND (%(organisation)s::bigint IS NULL OR r.organisation_id = %(organisation)s
               OR EXISTS (SELECT 1 FROM {solicitation} s2 JOIN {provider} p2
                          ON p2.id = s2.provider_id
                          WHERE s2.request_id = r.id
                            AND p2.organisation_id = %(organisation)s))
    ), timed AS (
        SELECT *, CASE WHEN urgency = 'urgence' THEN %(emergency)s ELSE %(place)s END
                      AS delay
        FROM answered
    )
    SELECT {keys},
        count(*),
        count(*) FILTER (WHERE urgency = 'urgence'),
        count(*) FILTER (WHERE urgency = 'urgence' AND answered_at <= created_at + delay),
        count(*) FILTER (WHERE urgency = 'urgence'
            AND (answered_at <= created_at + delay
                 OR (created_at <= %(now)s - delay
                     AND NOT (status = 'retiree' AND answered_at IS NULL)))),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - created_at))
            FILTER (WHERE urgency = 'urgence') / 3600,
        count(*) FILTER (WHERE urgency = 'place'),
        count(*) FILTER (WHERE urgency = 'place' AND answered_at <= created_at + delay),
        count(*) FILTER (WHERE urgency = 'place'
            AND (answered_at <= created_at + delay
                 OR (created_at <= %(now)s - delay
                     AND NOT (status = 'retiree' AND answered_at IS NULL)))),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - created_at))
            FILTER (WHERE urgency = 'place') / 86400,
        count(*) FILTER (WHERE status = 'acceptee')
    FROM timed
    {group_by}
"""

# The placements and the places in scope. The organisation that filed each placement's
# request is copied on the placement (migration ``0006_placement_request_organisation``):
# no request is looked up. ``{counted}``: see :data:`_COUNTED`.
_PLACEMENTS = """
    WITH scoped AS (
        SELECT pl.person_id, pl.children, pl.started_on, pl.ended_on, pl.end_outcome,
               pl.followup_outcome, pl.followup_recorded_on, pl.request_organisation_id,
               p.organisation_id AS provider_organisation_id,
               greatest(0, least(coalesce(pl.ended_on, %(end)s), %(end)s)
                           - greatest(pl.started_on, %(start)s) + 1) AS days_in
        FROM {placement} pl
        JOIN {provider} p ON p.id = pl.provider_id
        JOIN {organisation} o ON o.id = p.organisation_id
        WHERE (%(department)s::text IS NULL OR o.department_id = %(department)s)
          {counted}
    )
    SELECT {keys},
        count(*) FILTER (WHERE days_in > 0),
        coalesce(sum(days_in * children), 0),
        count(DISTINCT person_id) FILTER (WHERE started_on BETWEEN %(start)s AND %(end)s),
        count(*) FILTER (WHERE ended_on BETWEEN %(start)s AND %(end)s),
        count(*) FILTER (WHERE ended_on BETWEEN %(start)s AND %(end)s
                         AND end_outcome = ANY(%(job)s)),
        count(*) FILTER (WHERE ended_on BETWEEN %(start)s AND %(end)s
                         AND end_outcome = ANY(%(training)s)),
        count(*) FILTER (WHERE ended_on BETWEEN %(start)s AND %(end)s
                         AND end_outcome = ANY(%(search)s)),
        count(*) FILTER (WHERE ended_on BETWEEN %(followup_start)s AND %(followup_end)s),
        count(*) FILTER (WHERE ended_on BETWEEN %(followup_start)s AND %(followup_end)s
                         AND followup_outcome = ANY(%(job)s)),
        count(*) FILTER (WHERE ended_on BETWEEN %(followup_start)s AND %(followup_end)s
                         AND followup_outcome = ANY(%(training)s)),
        count(*) FILTER (WHERE ended_on BETWEEN %(followup_start)s AND %(followup_end)s
                         AND followup_recorded_on IS NOT NULL)
    FROM scoped
    WHERE (%(organisation)s::bigint IS NULL OR provider_organisation_id = %(organisation)s
           OR request_organisation_id = %(organisation)s)
    {group_by}
"""

_AVIP_PLACES = """
    SELECT {keys}, coalesce(sum(p.avip_places), 0)
    FROM {provider} p
    JOIN {organisation} o ON o.id = p.organisation_id
    WHERE p.avip_places > 0
      AND (%(department)s::text IS NULL OR o.department_id = %(department)s)
      AND (%(organisation)s::bigint IS NULL OR p.organisation_id = %(organisation)s)
    {group_by}
"""

# The totals read only the placements that one of their figures counts: ongoing some day
# of the period, started or ended in it, or ended in the six-month follow-up's window (which
# ends before the period does); the others would add zeros. The tables read them all: they
# list every organisation with a placement in scope, even one that counts nothing in the
# period, as they always did.
_COUNTED = """
          AND (pl.started_on <= %(end)s AND (pl.ended_on IS NULL OR pl.ended_on >= %(start)s)
               OR pl.started_on BETWEEN %(start)s AND %(end)s
               OR pl.ended_on BETWEEN %(followup_start)s AND %(end)s)
"""

TOTAL, PROVIDER, ORGANISATION = "total", "provider", "organisation"


@dataclass(frozen=True)
class Counts:
    requests: int = 0
    emergencies: int = 0
    emergencies_within: int = 0
    emergencies_known: int = 0
    emergency_median_hours: float | None = None
    places: int = 0
    places_within: int = 0
    places_known: int = 0
    place_median_days: float | None = None
    accepted: int = 0
    placements: int = 0
    occupied_days: int = 0
    families: int = 0
    ended: int = 0
    end_job: int = 0
    end_training: int = 0
    end_search: int = 0
    followup_base: int = 0
    followup_job: int = 0
    followup_training: int = 0
    followup_recorded: int = 0
    avip_places: int = 0


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _rounded(value: Any) -> float | None:
    return round(float(value), 1) if value is not None else None


def _run(
    sql: str, params: dict[str, Any], groupings: dict[str, str] | None
) -> dict[tuple[str, Any], Any]:
    """The statement's rows by (grouping, organisation): the total alone (one row, even over
    nothing) or, given ``groupings`` (each grouping's column), the total and the rows of
    each grouping, in one pass."""
    if groupings:
        cases = " ".join(
            f"WHEN GROUPING({column}) = 0 THEN '{grouping}'"
            for grouping, column in groupings.items()
        )
        columns = ", ".join(groupings.values())
        keys = f"CASE {cases} ELSE '{TOTAL}' END, coalesce({columns})"
        group_by = f"GROUP BY GROUPING SETS ((), {', '.join(f'({c})' for c in groupings.values())})"
    else:
        keys, group_by = f"'{TOTAL}', NULL::bigint", ""
    with reading_connection().cursor() as cursor:
        counted = "" if groupings else _COUNTED
        cursor.execute(sql.format(keys=keys, group_by=group_by, counted=counted, **_TABLES), params)
        return {(row[0], row[1]): row[2:] for row in cursor.fetchall()}


def _counts(
    scope: FigureScope, now: datetime | None, *, tables: bool
) -> dict[str, dict[Any, Counts]]:
    """The counts of the scope by grouping: ``total`` (key ``None``) and, with ``tables``,
    by ``provider`` (its organisation) and by ``organisation`` (the one that filed the
    requests). Three statements whatever is asked."""
    params = _params(scope, now)
    params.update(job=JOB, training=TRAINING, search=SEARCH)
    requests = _run(_REQUESTS, params, {ORGANISATION: "organisation_id"} if tables else None)
    placements = _run(
        _PLACEMENTS,
        params,
        {PROVIDER: "provider_organisation_id", ORGANISATION: "request_organisation_id"}
        if tables
        else None,
    )
    places = _run(_AVIP_PLACES, params, {PROVIDER: "p.organisation_id"} if tables else None)
    found: dict[str, dict[Any, Counts]] = {TOTAL: {}, PROVIDER: {}, ORGANISATION: {}}
    for grouping, key in {*requests, *placements, *places}:
        r = requests.get((grouping, key)) or (0, 0, 0, 0, None, 0, 0, 0, None, 0)
        p = placements.get((grouping, key)) or (0,) * 11
        found[grouping][key] = Counts(
            requests=r[0],
            emergencies=r[1],
            emergencies_within=r[2],
            emergencies_known=r[3],
            emergency_median_hours=_rounded(r[4]),
            places=r[5],
            places_within=r[6],
            places_known=r[7],
            place_median_days=_rounded(r[8]),
            accepted=r[9],
            placements=p[0],
            occupied_days=int(p[1]),
            families=p[2],
            ended=p[3],
            end_job=p[4],
            end_training=p[5],
            end_search=p[6],
            followup_base=p[7],
            followup_job=p[8],
            followup_training=p[9],
            followup_recorded=p[10],
            avip_places=int((places.get((grouping, key)) or (0,))[0]),
        )
    return found


def occupancy(counts: Counts, days: int) -> float | None:
    return _share(counts.occupied_days, counts.avip_places * days)


def _names(ids: set[int]) -> dict[int, str]:
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))


@register("childcare", order=40)
def childcare_section(scope: FigureScope, *, now: datetime | None = None) -> FigureSection | None:
    """The section of the steering dashboard (and of the coordination's page)."""
    # The previous period's figures only (compared figure by figure): no tables to read.
    counts = _counts(scope, now, tables=not scope.figures_only)
    total = counts[TOTAL].get(None, Counts())
    if not (total.requests or total.placements or total.avip_places):
        return None
    by_provider, by_organisation = counts[PROVIDER], counts[ORGANISATION]
    names = _names({k for k in (*by_provider, *by_organisation) if k is not None})

    def _by_name(item: tuple[Any, Counts]) -> tuple[str, int]:
        # By name, then (organisations of the same name: two childminders…) by id.
        return names.get(item[0], ""), item[0] or 0

    figures = (
        Figure("requests", "Demandes de garde d'enfant", total.requests),
        Figure("emergencies", "dont urgences (réponse sous 24 heures)", total.emergencies),
        Figure(
            "emergency_within",
            "Urgences répondues sous 24 heures",
            _share(total.emergencies_within, total.emergencies_known),
            "%",
            "Première réponse d'un accueil (acceptée ou refusée) dans les 24 heures, parmi les "
            "urgences dont on connaît l'issue à 24 heures (hors demandes retirées sans réponse).",
        ),
        Figure(
            "emergency_median",
            "Délai médian de réponse aux urgences",
            total.emergency_median_hours,
            "heures",
        ),
        Figure("places", "dont demandes de place (réponse sous 15 jours)", total.places),
        Figure(
            "place_within",
            "Demandes de place répondues sous 15 jours",
            _share(total.places_within, total.places_known),
            "%",
            "Première réponse d'un accueil dans les 15 jours, parmi les demandes dont on "
            "connaît l'issue à 15 jours (hors demandes retirées sans réponse).",
        ),
        Figure(
            "place_median",
            "Délai médian de réponse aux demandes de place",
            total.place_median_days,
            "jours",
        ),
        Figure(
            "placements", "Places utilisées (accueils en cours sur la période)", total.placements
        ),
        Figure(
            "occupancy",
            "Occupation des places AVIP",
            occupancy(total, scope.days),
            "%",
            "Jours d'accueil multipliés par le nombre d'enfants sur la période, rapportés aux "
            "places AVIP déclarées multipliées par le nombre de jours de la période.",
        ),
        Figure("families", "Familles aidées (accueil commencé sur la période)", total.families),
        Figure("ended", "Accueils terminés", total.ended),
        Figure("end_job", "À la fin : emploi ou création d'entreprise", total.end_job),
        Figure("end_training", "À la fin : formation", total.end_training),
        Figure("end_search", "À la fin : en recherche d'emploi", total.end_search),
        Figure(
            "followup_job",
            "Six mois après : emploi ou création d'entreprise",
            total.followup_job,
            "",
            "Parmi les accueils terminés six mois avant la période.",
        ),
        Figure("followup_training", "Six mois après : formation", total.followup_training),
        Figure(
            "followup_recorded",
            "Six mois après : situations renseignées",
            total.followup_recorded,
            "",
            f"Sur {total.followup_base} accueil(s) terminé(s) six mois avant la période.",
        ),
    )
    provider_rows = tuple(
        (
            names.get(key, "—"),
            c.avip_places,
            c.placements,
            occupancy(c, scope.days),
            c.families,
            c.end_job,
            c.end_training,
        )
        for key, c in sorted(by_provider.items(), key=_by_name)
        if key is not None
    )
    organisation_rows = tuple(
        (
            names.get(key, "—"),
            c.requests,
            _share(c.emergencies_within, c.emergencies_known),
            _share(c.places_within, c.places_known),
            c.accepted,
            c.families,
            c.end_job,
            c.end_training,
        )
        for key, c in sorted(by_organisation.items(), key=_by_name)
        if key is not None
    )
    return FigureSection(
        key="childcare",
        title="Garde d'enfants (AVIP)",
        figures=figures,
        tables=()
        if scope.figures_only
        else (
            FigureTable(
                "by_provider",
                "Par accueil",
                (
                    "Accueil",
                    "Places AVIP",
                    "Places utilisées",
                    "Occupation (%)",
                    "Familles aidées",
                    "Emploi à la fin",
                    "Formation à la fin",
                ),
                provider_rows,
            ),
            FigureTable(
                "by_organisation",
                "Par organisation qui demande",
                (
                    "Organisation",
                    "Demandes",
                    "Urgences sous 24 h (%)",
                    "Places sous 15 jours (%)",
                    "Places trouvées",
                    "Familles aidées",
                    "Emploi à la fin",
                    "Formation à la fin",
                ),
                organisation_rows,
            ),
        ),
    )
