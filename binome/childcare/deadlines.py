"""The childcare clocks, set-based and safe to run twice or on two workers at once.

- **Half-time** (every quarter of an hour): a sent request unanswered at half of its delay
  (12 hours for an emergency, 7 and a half days for a place): the providers still to answer
  are reminded, once.
- **Past due**: a request unanswered (or never sent) at its due time is escalated, once, to
  the territory's childcare coordinator — the CAF agents (declared function « agent CAF »)
  of the département's CAF, who coordinate the AVIP offer; the territory's administrators
  when the CAF has none — and the person's team is told. A timeline line and an audit row
  say so.
- **Reviews and six-month situations** (every morning): a placement whose planned end is
  within ``REVIEW_NOTICE_DAYS`` is announced once per end date to its provider and to the
  parent's team (renew after the review, or end it); six months after a placement's end,
  the team is asked for the parent's situation (once, by its notification key).
- **Places to confirm** (every morning): a provider whose places were not confirmed for a
  month is reminded, once per confirmation.

Each run locks the rows it marks (``SKIP LOCKED``: a second worker passes over them) and
marks them in the same transaction that writes the notifications: the number of queries
does not depend on the number of requests.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import audit_row, record_many
from binome.access.models import AuditKind
from binome.childcare.models import (
    CONFIRMATION_MAX_AGE,
    ChildcareRequest,
    Placement,
    PlacementStatus,
    Provider,
    Solicitation,
    SolicitationStatus,
)
from binome.notifications.actions import Notice, notify_many
from binome.notifications.models import NotificationKind
from binome.organisations.models import (
    MemberFunction,
    Membership,
    OrganisationKind,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.support.actions import timeline_row
from binome.support.models import EventKind, TeamMember, TimelineEvent

JOB_LABEL = "Échéances de la garde d'enfants (tâche périodique)"


def _members_by_organisation(organisation_ids: set[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for organisation_id, user_id in (
        Membership.objects.active()
        .filter(organisation_id__in=sorted(organisation_ids))
        .values_list("organisation_id", "user_id")
    ):
        members[organisation_id].append(user_id)
    return members


def coordinators(department_ids: set[str]) -> dict[str, list[int]]:
    """The childcare coordinators of each département: the CAF agents of its CAF, else its
    territory administrators."""
    found: dict[str, list[int]] = defaultdict(list)
    for department_id, user_id in (
        Membership.objects.active()
        .filter(
            organisation__kind=OrganisationKind.CAF,
            organisation__is_active=True,
            organisation__department_id__in=sorted(department_ids),
            function=MemberFunction.CAF_AGENT,
        )
        .values_list("organisation__department_id", "user_id")
    ):
        found[department_id].append(user_id)
    missing = department_ids - set(found)
    if missing:
        for department_id, user_id in TerritoryRole.objects.filter(
            department_id__in=sorted(missing), role=TerritoryRoleKind.TERRITORY_ADMIN
        ).values_list("department_id", "user_id"):
            found[department_id].append(user_id)
    return found


def remind_at_half_time(now: datetime) -> int:
    """Remind the providers still to answer of the requests at half-time. Returns how many
    requests were reminded."""
    with transaction.atomic():
        ids = list(
            ChildcareRequest.objects.at_half_time(now)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        ChildcareRequest.objects.filter(pk__in=ids).update(reminded_at=now)
        pending = list(
            Solicitation.objects.filter(request_id__in=ids, status=SolicitationStatus.PENDING)
            .select_related("request")
            .values_list("pk", "provider__organisation_id", "request__due_at")
        )
        members = _members_by_organisation({organisation for _, organisation, _ in pending})
        notify_many(
            [
                Notice(
                    recipient_ids=members.get(organisation_id, []),
                    kind=NotificationKind.CHILDCARE,
                    title="Demande de garde d'enfant en attente : réponse attendue avant le "
                    f"{timezone.localtime(due_at):%d/%m à %Hh%M}",
                    body="La moitié du délai de réponse est passée : acceptez ou refusez la "
                    "demande qui vous est adressée.",
                    url=reverse("childcare:solicitation", args=[solicitation_id]),
                    dedup_key=f"childcare-half-time-{solicitation_id}",
                )
                for solicitation_id, organisation_id, due_at in pending
            ]
        )
        return len(ids)


def escalate_past_due(now: datetime) -> int:
    """Escalate the requests past their due time to the coordinator, tell the team, trace
    it in the timeline and the audit log. Returns how many were escalated."""
    with transaction.atomic():
        requests = list(
            ChildcareRequest.objects.past_due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("organisation", "person")
            .order_by("pk")
        )
        if not requests:
            return 0
        ids = [r.pk for r in requests]
        ChildcareRequest.objects.filter(pk__in=ids).update(escalated_at=now)
        coordinator_ids = coordinators({r.department_id for r in requests})
        teams: dict[int, set[int]] = defaultdict(set)
        for person_id, user_id in (
            TeamMember.objects.current()
            .filter(person_id__in=sorted({r.person_id for r in requests}))
            .values_list("person_id", "user_id")
        ):
            teams[person_id].add(user_id)
        notices: list[Notice] = []
        timeline: list[TimelineEvent] = []
        audit = []
        for childcare_request in requests:
            url = reverse("childcare:request_detail", args=[childcare_request.pk])
            delay = "24 heures" if childcare_request.is_emergency else "15 jours"
            notices.append(
                Notice(
                    recipient_ids=coordinator_ids.get(childcare_request.department_id, []),
                    kind=NotificationKind.CHILDCARE,
                    title=f"Demande de garde d'enfant sans réponse après {delay}",
                    body=f"Une demande de {childcare_request.organisation.name} n'a pas "
                    "trouvé d'accueil dans le délai : en tant que coordination de la garde "
                    "d'enfants du territoire, aidez l'équipe à trouver une solution.",
                    url=reverse("childcare:coordination", args=[childcare_request.pk]),
                    dedup_key=f"childcare-escalated-{childcare_request.pk}",
                )
            )
            notices.append(
                Notice(
                    recipient_ids={
                        childcare_request.created_by_id,
                        *teams.get(childcare_request.person_id, set()),
                    },
                    kind=NotificationKind.CHILDCARE,
                    title=f"Demande de garde d'enfant sans réponse après {delay}",
                    body="Le délai de réponse est dépassé ; la coordination de la garde "
                    "d'enfants du territoire est prévenue.",
                    url=url,
                    dedup_key=f"childcare-escalated-team-{childcare_request.pk}",
                )
            )
            summary = (
                f"Demande de garde d'enfant sans réponse après {delay} : signalée à la "
                "coordination de la garde d'enfants du territoire"
            )
            timeline.append(
                timeline_row(
                    person=childcare_request.person,
                    kind=EventKind.CHILDCARE,
                    actor=None,
                    organisation=childcare_request.organisation,
                    target=childcare_request,
                    summary=summary,
                    at=now,
                )
            )
            audit.append(
                audit_row(
                    AuditKind.CHILDCARE_REQUEST_CHANGED,
                    actor_label=JOB_LABEL,
                    organisation=childcare_request.organisation,
                    department_id=childcare_request.department_id,
                    target=childcare_request,
                    person_id=childcare_request.person_id,
                    what=summary,
                )
            )
        TimelineEvent.objects.bulk_create(timeline)
        record_many(audit)
        notify_many(notices)
        return len(requests)


def remind_places_to_confirm(now: datetime) -> int:
    """Remind the providers whose places were not confirmed for a month (once per
    confirmation). Returns how many providers were reminded."""
    with transaction.atomic():
        providers = list(
            Provider.objects.active()
            .unconfirmed_since(now - CONFIRMATION_MAX_AGE)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "organisation_id", "confirmed_at")
        )
        if not providers:
            return 0
        Provider.objects.filter(pk__in=[pk for pk, _, _ in providers]).update(
            confirmation_reminded_at=now
        )
        members = _members_by_organisation({organisation for _, organisation, _ in providers})
        notify_many(
            [
                Notice(
                    recipient_ids=members.get(organisation_id, []),
                    kind=NotificationKind.CHILDCARE,
                    title="Vos places AVIP sont à confirmer",
                    body="Vos places d'accueil n'ont pas été confirmées depuis le "
                    f"{timezone.localtime(confirmed_at):%d/%m/%Y} : vérifiez-les en une "
                    "minute pour que les équipes vous sollicitent à bon escient.",
                    url=reverse("childcare:provider_places", args=[organisation_id]),
                    dedup_key=f"childcare-confirm-{pk}-{confirmed_at:%Y%m%d%H%M}",
                )
                for pk, organisation_id, confirmed_at in providers
            ]
        )
        return len(providers)


def _teams_of(person_ids: set[int]) -> dict[int, set[int]]:
    teams: dict[int, set[int]] = defaultdict(set)
    for person_id, user_id in (
        TeamMember.objects.current()
        .filter(person_id__in=sorted(person_ids))
        .values_list("person_id", "user_id")
    ):
        teams[person_id].add(user_id)
    return teams


def remind_placement_reviews(today: date) -> int:
    """Announce the reviews of the placements ending soon to their provider and the
    parent's team, once per planned end. Returns how many placements were announced."""
    with transaction.atomic():
        placements = list(
            Placement.objects.review_due(today)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list(
                "pk", "person_id", "provider__organisation_id", "solicitation_id", "ends_on"
            )
        )
        if not placements:
            return 0
        Placement.objects.filter(pk__in=[pk for pk, *_ in placements]).update(
            review_reminded_for=F("ends_on")
        )
        members = _members_by_organisation(
            {organisation for _, _, organisation, _, _ in placements}
        )
        teams = _teams_of({person for _, person, _, _, _ in placements})
        notices: list[Notice] = []
        for pk, person_id, organisation_id, solicitation_id, ends_on in placements:
            title = f"Accueil d'enfant AVIP : revue avant le {ends_on:%d/%m/%Y}"
            body = (
                "L'accueil convenu pour six mois arrive à son terme : faites le point avec "
                "la famille, puis renouvelez-le ou terminez-le en indiquant la situation du "
                "parent."
            )
            notices.append(
                Notice(
                    recipient_ids=members.get(organisation_id, []),
                    kind=NotificationKind.CHILDCARE,
                    title=title,
                    body=body,
                    url=reverse("childcare:solicitation", args=[solicitation_id]),
                    dedup_key=f"childcare-review-{pk}-{ends_on.isoformat()}",
                )
            )
            notices.append(
                Notice(
                    recipient_ids=teams.get(person_id, set()),
                    kind=NotificationKind.CHILDCARE,
                    title=title,
                    body=body,
                    url=reverse("people:detail", args=[person_id]),
                    dedup_key=f"childcare-review-team-{pk}-{ends_on.isoformat()}",
                )
            )
        notify_many(notices)
        return len(placements)


def ask_placement_followups(today: date) -> int:
    """Ask the team for the parent's situation six months after a placement's end (once:
    the notification's key). Returns how many placements were asked about."""
    with transaction.atomic():
        placements = list(
            Placement.objects.filter(
                status=PlacementStatus.ENDED,
                followup_recorded_on__isnull=True,
                followup_due_on__lte=today,
            )
            .order_by("pk")
            .values_list("pk", "person_id", "request_id")
        )
        if not placements:
            return 0
        teams = _teams_of({person for _, person, _ in placements})
        created = notify_many(
            [
                Notice(
                    recipient_ids=teams.get(person_id, set()),
                    kind=NotificationKind.CHILDCARE,
                    title="Situation 6 mois après un accueil d'enfant à renseigner",
                    body="Six mois ont passé depuis la fin de l'accueil d'un enfant obtenu par "
                    "une demande de garde : renseignez la situation du parent (emploi, "
                    "formation, recherche).",
                    url=reverse("childcare:request_detail", args=[request_id]),
                    dedup_key=f"childcare-followup-{pk}",
                )
                for pk, person_id, request_id in placements
            ]
        )
        return len({n.dedup_key for n in created})


def run_deadlines(now: datetime | None = None) -> tuple[int, int]:
    """The quarter-hourly job: (reminded at half-time, escalated past due)."""
    now = now or timezone.now()
    escalated = escalate_past_due(now)
    reminded = remind_at_half_time(now)
    return reminded, escalated
