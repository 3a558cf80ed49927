"""Figures of the referrals, computed from the recorded steps (:class:`ReferralEvent`).

For the referrals **sent** in a period (by their « sent » step) and a scope — received by
an organisation, sent by an organisation, or of a département:

- **delay to the answer** (first « accepted » or « declined » step): median in days over
  the answered referrals, and the share answered within 10 days. That share counts the
  referrals whose fate at 10 days is known: answered within 10 days, or sent 10 days ago
  or more; a referral withdrawn by its sender before any answer is left out (nobody was
  asked to answer it any more).
- **delay to the start** (« started » step, services only): median in days over the
  started referrals, and the share started within 10 days among the accepted referrals to
  a service whose fate at 10 days is known (same rule).
- **acceptance rate**: accepted / (accepted + declined), over the answered referrals.
- **no-show rate**: no-show / (started + no-show), over the accepted referrals to a
  service whose outcome is known.

One SQL statement (``percentile_cont``, ``FILTER``) per scope, over the referrals' steps
as the database rolls them up (``ReferralMilestones``); no named data: steering
roles may see these figures, never the referrals behind them. The steering dashboards
reuse :func:`figures_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.db.models import Count, Q
from django.utils import timezone

from binome.core.figures import Figure, FigureScope, FigureSection, FigureTable, register
from binome.core.replica import reading_connection
from binome.organisations.models import OrganisationKind
from binome.referrals.models import (
    ReferralKind,
    ReferralMilestones,
    ReferralSettings,
)

WITHIN_DAYS = 10
DEFAULT_PERIOD_DAYS = 365

Scope = Literal["receiver", "sender", "department"]
_SCOPE_SQL: dict[str, str] = {
    "receiver": "m.to_organisation_id = %(key)s",
    "sender": "m.sender_organisation_id = %(key)s",
    "department": "m.department_id = %(key)s",
    # The steering dashboard: a département, or one organisation's referrals in it (sent or
    # received).
    "steering": """m.department_id = %(key)s AND (
        %(organisation)s::bigint IS NULL
        OR m.sender_organisation_id = %(organisation)s
        OR m.to_organisation_id = %(organisation)s
    )""",
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    since: date
    until: date
    sent: int
    answered: int
    answer_median_days: float | None
    answered_within: int
    answer_base: int
    started: int
    start_median_days: float | None
    started_within: int
    start_base: int
    accepted: int
    declined: int
    no_show: int

    @property
    def answered_within_share(self) -> float | None:
        return _ratio(self.answered_within, self.answer_base)

    @property
    def started_within_share(self) -> float | None:
        return _ratio(self.started_within, self.start_base)

    @property
    def acceptance_rate(self) -> float | None:
        return _ratio(self.accepted, self.accepted + self.declined)

    @property
    def no_show_rate(self) -> float | None:
        return _ratio(self.no_show, self.started + self.no_show)

    @property
    def within_days(self) -> int:
        return WITHIN_DAYS


def _sql(scope: str, *, by_receiver: bool = False, by_kind: bool = False) -> str:
    """The figures' statement: the milestones (``ReferralMilestones``, one row per referral,
    its steps rolled up by the database) of the scope's referrals sent in the period, read
    from the scope's covering index alone (the scope, the period and the delays are on the
    row: no join, no visit of a table).

    The delays are compared in seconds: Django's sessions run in UTC, where ``sent_at +
    interval '10 days'`` is 240 hours, so ``answered_at <= sent_at + within`` and
    ``answer_seconds <= within_seconds`` select the same referrals."""
    milestones = ReferralMilestones._meta.db_table
    group = "to_organisation_id" if by_receiver else "kind" if by_kind else "NULL::bigint"
    return f"""
        SELECT
            {group},
            count(*),
            count(answer_seconds),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_seconds) / 86400,
            count(*) FILTER (WHERE answer_seconds <= %(within_seconds)s),
            count(*) FILTER (
                WHERE NOT withdrawn
                  AND (answer_seconds <= %(within_seconds)s OR sent_at <= %(known_before)s)
            ),
            count(start_seconds),
            percentile_cont(0.5) WITHIN GROUP (ORDER BY start_seconds) / 86400,
            count(*) FILTER (WHERE start_seconds <= %(within_seconds)s),
            count(*) FILTER (
                WHERE kind = 'service' AND accepted
                  AND (start_seconds <= %(within_seconds)s OR sent_at <= %(known_before)s)
            ),
            count(*) FILTER (WHERE accepted),
            count(*) FILTER (WHERE declined),
            count(*) FILTER (WHERE no_show)
        FROM {milestones} m WHERE {_SCOPE_SQL[scope]}
          AND m.referral_sent_at >= %(since)s AND m.referral_sent_at < %(until)s
          AND m.sent_at IS NOT NULL
        GROUP BY 1
    """  # noqa: S608 - table names from the models, the scope from a fixed mapping


def _params(
    key: int | str,
    since: date | None,
    until: date | None,
    now: datetime | None,
    *,
    within_days: int = WITHIN_DAYS,
    organisation_id: int | None = None,
) -> tuple[date, date, dict[str, Any]]:
    now = now or timezone.now()
    until = until or timezone.localdate(now) + timedelta(days=1)
    since = since or until - timedelta(days=DEFAULT_PERIOD_DAYS)
    tz = timezone.get_current_timezone()
    return (
        since,
        until,
        {
            "key": key,
            "since": datetime.combine(since, datetime.min.time(), tzinfo=tz),
            "until": datetime.combine(until, datetime.min.time(), tzinfo=tz),
            "within_seconds": timedelta(days=within_days).total_seconds(),
            # The referrals sent then or before have a known fate at the delay.
            "known_before": now - timedelta(days=within_days),
            "organisation": organisation_id,
        },
    )


def _figures(row: tuple[object, ...] | None, since: date, until: date) -> Figures:
    values = list(row[1:]) if row is not None else [0, 0, None, 0, 0, 0, None, 0, 0, 0, 0, 0]
    answer_median, start_median = values[2], values[6]
    counts = [int(v) if isinstance(v, int) else 0 for v in values]
    return Figures(
        since=since,
        until=until - timedelta(days=1),
        sent=counts[0],
        answered=counts[1],
        answer_median_days=float(answer_median) if answer_median is not None else None,  # type: ignore[arg-type]
        answered_within=counts[3],
        answer_base=counts[4],
        started=counts[5],
        start_median_days=float(start_median) if start_median is not None else None,  # type: ignore[arg-type]
        started_within=counts[7],
        start_base=counts[8],
        accepted=counts[9],
        declined=counts[10],
        no_show=counts[11],
    )


def figures_for(
    scope: Scope,
    key: int | str,
    *,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> Figures:
    """The figures of the referrals sent from ``since`` (included) to ``until`` (excluded;
    default: tomorrow, so today counts; a year before by default), for the ``scope``
    (``receiver`` / ``sender``: an organisation's id, ``department``: its code)."""
    since, until, params = _params(key, since, until, now)
    with reading_connection().cursor() as cursor:
        cursor.execute(_sql(scope), params)
        row = cursor.fetchone()
    return _figures(row, since, until)


def figures_by_receiver(
    department_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    now: datetime | None = None,
) -> dict[int, Figures]:
    """The département's referrals, by receiving organisation (those with an account)."""
    since, until, params = _params(department_id, since, until, now)
    with reading_connection().cursor() as cursor:
        cursor.execute(_sql("department", by_receiver=True), params)
        rows = cursor.fetchall()
    return {row[0]: _figures(row, since, until) for row in rows if row[0] is not None}


# --- The section of the steering dashboard -------------------------------------------


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figures_by_kind(scope: FigureScope, *, within_days: int) -> dict[str, Figures]:
    """The referrals sent in the scope's period, per kind: one statement."""
    since, until, params = _params(
        scope.department or "",
        scope.start,
        scope.end + timedelta(days=1),
        None,
        within_days=within_days,
        organisation_id=scope.organisation_id,
    )
    with reading_connection().cursor() as cursor:
        cursor.execute(_sql("steering", by_kind=True), params)
        rows = cursor.fetchall()
    return {row[0]: _figures(row, since, until) for row in rows}


def entries_by_prescriber(scope: FigureScope) -> dict[str, int]:
    """The referrals to the binôme sent in the period and accepted, per kind of the
    sending organisation."""
    # The period's local days as a range of instants, the referrals' kind, sending
    # organisation and acceptance all read from the département's covering index of the
    # milestones (one row per referral); only the few sending organisations are joined.
    tz = timezone.get_current_timezone()
    milestones = ReferralMilestones.objects.filter(
        department_id=scope.department,
        referral_sent_at__gte=datetime.combine(scope.start, datetime.min.time(), tzinfo=tz),
        referral_sent_at__lt=datetime.combine(
            scope.end + timedelta(days=1), datetime.min.time(), tzinfo=tz
        ),
        kind=ReferralKind.GLOBAL,
        accepted=True,
        sender_organisation__isnull=False,
    )
    if scope.organisation_id is not None:
        milestones = milestones.filter(
            Q(sender_organisation_id=scope.organisation_id)
            | Q(to_organisation_id=scope.organisation_id)
        )
    rows = (
        milestones.order_by()
        .values("sender_organisation__kind")
        .annotate(count=Count("*"))
        .values_list("sender_organisation__kind", "count")
    )
    return dict(rows)


@register("referrals", order=20)
def steering_section(scope: FigureScope) -> FigureSection | None:
    """The orientations of the territory, each kind apart, against the territory's delay."""
    if scope.department is None:
        return None
    within, _ = ReferralSettings.delays_for(scope.department)
    by_kind = figures_by_kind(scope, within_days=within)
    total = sum(f.sent for f in by_kind.values())
    answered_within = sum(f.answered_within for f in by_kind.values())
    answer_base = sum(f.answer_base for f in by_kind.values())
    rows: list[tuple[object, ...]] = []
    for kind, label in ReferralKind.choices:
        found = by_kind.get(kind)
        if found is None:
            rows.append((label, 0, 0, None, None, None, None))
            continue
        rows.append(
            (
                label,
                found.sent,
                found.answered,
                _days(found.answer_median_days),
                _percent(found.answered_within_share),
                _percent(found.acceptance_rate),
                _days(found.start_median_days),
            )
        )
    # The previous period's figures are compared, its tables never shown.
    prescribers = {} if scope.figures_only else entries_by_prescriber(scope)
    return FigureSection(
        "referrals",
        "Orientations",
        figures=(
            Figure(
                "sent",
                "Orientations envoyées",
                total,
                definition="Orientations de toutes sortes envoyées pendant la période dans le "
                "territoire (ou envoyées et reçues par l'organisation).",
            ),
            Figure(
                "answered_within_share",
                f"Part des réponses en {within} jours ou moins",
                _percent(answered_within / answer_base) if answer_base else None,
                unit="%",
                definition=f"Le délai de réponse du territoire est de {within} jours (sa relance "
                "sans réponse). Parmi les orientations dont le sort à ce délai est connu "
                "(répondues dans le délai, ou envoyées depuis plus longtemps), hors celles "
                "retirées avant toute réponse.",
            ),
        ),
        tables=()
        if scope.figures_only
        else (
            FigureTable(
                "by_kind",
                "Orientations par type",
                (
                    "Type d'orientation",
                    "Envoyées",
                    "Répondues",
                    "Délai médian de réponse (jours)",
                    f"Réponses en {within} jours ou moins (%)",
                    "Taux d'acceptation (%)",
                    "Délai médian jusqu'au début (jours)",
                ),
                tuple(rows),
                definition="Chaque type à part, envoyées pendant la période. Le délai court de "
                "l'envoi à la première réponse (acceptation ou refus) ; le taux d'acceptation "
                "se lit sur les orientations répondues ; le début ne concerne que les services.",
            ),
            FigureTable(
                "by_prescriber",
                "Orientations vers l'accompagnement global acceptées, par prescripteur",
                ("Prescripteur", "Orientations acceptées"),
                tuple(
                    (label, prescribers.get(kind, 0))
                    for kind, label in OrganisationKind.choices
                    if kind != OrganisationKind.CHILDCARE
                ),
                definition="Orientations vers le binôme envoyées pendant la période et "
                "acceptées, selon le type de l'organisation qui a orienté.",
            ),
        ),
    )
