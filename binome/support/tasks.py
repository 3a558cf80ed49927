"""Deadline alerts of accompaniments, a daily job of the PostgreSQL-backed worker.

The team of an active global accompaniment is told two months and two weeks before its
planned end; the team of an ended accompaniment is asked, six months after the exit, for
the person's situation. Set-based: a handful of queries whatever the number of
accompaniments; each alert has a deduplication key (accompaniment, planned end or due date,
milestone), so running twice, or catching up missed days, sends each alert once, and an
extension (a new planned end) brings new alerts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django import app

from binome.notifications.actions import Notice, notify_many
from binome.notifications.models import NotificationKind
from binome.support.caseload import refresh as refresh_caseload
from binome.support.caseload import tidy as tidy_caseload
from binome.support.models import END_ALERTS, Kind, State, TeamMember

logger = logging.getLogger(__name__)

# A missed run is caught up for this many days after a milestone; beyond, it is not sent.
CATCH_UP = timedelta(days=7)
MILESTONES = (  # (key, days before the end, words)
    ("2m", END_ALERTS[0], "2 mois"),
    ("2w", END_ALERTS[1], "2 semaines"),
)


@dataclass(frozen=True)
class AlertCounts:
    end_approaching: int  # notifications created
    followup: int

    def __str__(self) -> str:
        return f"fin approchant : {self.end_approaching}, situation à 6 mois : {self.followup}"


def _teams(rows: list[tuple[int, int, date | None, int]]) -> dict[tuple[int, int, date], list[int]]:
    """(accompaniment, person, date) → the user ids of its current team."""
    teams: dict[tuple[int, int, date], list[int]] = defaultdict(list)
    for accompaniment_id, person_id, day, user_id in rows:
        assert day is not None
        teams[(accompaniment_id, person_id, day)].append(user_id)
    return teams


def end_approaching_notices(today: date) -> list[Notice]:
    """Active global accompaniments two months, or two weeks, before their planned end."""
    notices: list[Notice] = []
    for key, before, words in MILESTONES:
        rows = list(
            TeamMember.objects.current()
            .filter(
                accompaniment__kind=Kind.GLOBAL,
                accompaniment__state=State.ACTIVE,
                accompaniment__planned_end_on__gt=today + before - CATCH_UP,
                accompaniment__planned_end_on__lte=today + before,
            )
            .values_list(
                "accompaniment_id", "person_id", "accompaniment__planned_end_on", "user_id"
            )
            .order_by()
        )
        for (accompaniment_id, person_id, end), users in _teams(rows).items():
            notices.append(
                Notice(
                    recipient_ids=users,
                    kind=NotificationKind.ACCOMPANIMENT_END_APPROACHING,
                    title=f"Fin d'un accompagnement global dans {words}",
                    body=(
                        "Un accompagnement global dont vous faites partie de l'équipe arrive à "
                        f"sa fin prévue le {end:%d/%m/%Y}. Prolongez-le avec une justification, "
                        "ou préparez la sortie avec la personne."
                    ),
                    url=reverse("people:detail", args=[person_id]),
                    dedup_key=f"accompaniment-{accompaniment_id}-end-{end.isoformat()}-{key}",
                )
            )
    return notices


def followup_notices(today: date) -> list[Notice]:
    """Ended accompaniments whose situation six months after the exit is now expected."""
    rows = list(
        TeamMember.objects.current()
        .filter(
            accompaniment__state=State.ENDED,
            accompaniment__followup_recorded_on__isnull=True,
            accompaniment__followup_due_on__gt=today - CATCH_UP,
            accompaniment__followup_due_on__lte=today,
        )
        .values_list("accompaniment_id", "person_id", "accompaniment__followup_due_on", "user_id")
        .order_by()
    )
    return [
        Notice(
            recipient_ids=users,
            kind=NotificationKind.POST_EXIT_FOLLOWUP,
            title="Situation 6 mois après une sortie à renseigner",
            body=(
                "Six mois ont passé depuis la sortie d'un accompagnement dont vous faisiez "
                "partie de l'équipe. Renseignez la situation de la personne depuis son dossier "
                "(le Fonds social européen la demande)."
            ),
            url=reverse("people:detail", args=[person_id]),
            dedup_key=f"accompaniment-{accompaniment_id}-followup-{due.isoformat()}",
        )
        for (accompaniment_id, person_id, due), users in _teams(rows).items()
    ]


def send_accompaniment_alerts(today: date | None = None) -> AlertCounts:
    """Create the day's alerts (their e-mails leave on commit, per each user's choice)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        created = notify_many(end_approaching_notices(today) + followup_notices(today))
    followup = sum(n.kind == NotificationKind.POST_EXIT_FOLLOWUP for n in created)
    counts = AlertCounts(end_approaching=len(created) - followup, followup=followup)
    logger.info("Alertes des accompagnements : %s.", counts)
    return counts


@app.periodic(cron="30 5 * * *")
@app.task(queue="maintenance", queueing_lock="support_accompaniment_alerts")
def accompaniment_alerts(timestamp: int) -> None:
    """Every morning: the end-approaching and situation-at-6-months alerts."""
    try:
        send_accompaniment_alerts()
    finally:
        # The worker runs sync tasks in threads: close this thread's connection.
        connections.close_all()


@app.periodic(cron="15 3 * * *")
@app.task(queue="maintenance", queueing_lock="support_caseload_rollup")
def caseload_rollup(timestamp: int) -> None:
    """Every night: the caseload per département and month that the steering tables by
    organisation and by place sum (``support.caseload``), rebuilt for the months before the
    current one."""
    try:
        written = refresh_caseload()
        tidy_caseload()
        logger.info("File active par mois : %s ligne(s).", written)
    finally:
        connections.close_all()
