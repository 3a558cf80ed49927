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

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from binome.support.models import Accompaniment, ExitReason, Kind, State, TeamMember

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
