"""The RSA clocks, set-based and safe to run twice or on two workers at once.

- **Orientation, before six weeks**: the persons still to orient whose deadline falls within
  :data:`WARNING_DAYS` are told to the département's orientation managers (one notice per
  département and day), once per person.
- **Orientation, past six weeks**: the law hands the orientation to France Travail. The
  person is oriented « délégué à France Travail » towards the département's France Travail
  agency (the first one declared): a line in her timeline, an audit row, and the agency's
  members and the orientation managers are told.
- **Contract, before one month**: the referent (else the referent body's members) is
  warned of an unsigned contrat d'engagement due within :data:`WARNING_DAYS`, once.
- **Contract, past one month**: the referent, the referent body's members and the
  orientation managers are told, once; a line in the timeline and an audit row.

Each step locks the rows it marks (``SKIP LOCKED``: a second worker passes over them) and
marks them in the transaction that writes the notifications; its number of queries does not
depend on the number of persons.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import audit_row, record_many
from binome.access.models import AuditKind
from binome.notifications.actions import Notice, notify_many
from binome.notifications.models import NotificationKind
from binome.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.rsa.models import WARNING_DAYS, Beneficiary, Orientation
from binome.support.actions import timeline_row
from binome.support.models import EventKind, TimelineEvent

JOB_LABEL = "Échéances du RSA (tâche périodique)"


@dataclass
class DeadlineCounts:
    orientations_warned: int = 0
    delegated: int = 0
    contracts_warned: int = 0
    contracts_late: int = 0


def _managers(department_ids: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for department_id, user_id in TerritoryRole.objects.filter(
        department_id__in=sorted(department_ids), role=TerritoryRoleKind.ORIENTATION_MANAGER
    ).values_list("department_id", "user_id"):
        found[department_id].append(user_id)
    return found


def _members(organisation_ids: set[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for organisation_id, user_id in (
        Membership.objects.active()
        .filter(organisation_id__in=sorted(organisation_ids))
        .values_list("organisation_id", "user_id")
    ):
        found[organisation_id].append(user_id)
    return found


def warn_orientations(today: datetime.date) -> int:
    """Tell the orientation managers of the persons to orient within the warning days."""
    with transaction.atomic():
        rows = list(
            Beneficiary.objects.to_orient()
            .filter(
                orientation_due_on__gte=today,
                orientation_due_on__lte=today + datetime.timedelta(days=WARNING_DAYS),
                orientation_warned_on__isnull=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "dossier__department_id")
        )
        if not rows:
            return 0
        Beneficiary.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            orientation_warned_on=today
        )
        by_department: dict[str, int] = defaultdict(int)
        for _, department_id in rows:
            by_department[department_id] += 1
        managers = _managers(set(by_department))
        notify_many(
            [
                Notice(
                    recipient_ids=managers.get(department_id, []),
                    kind=NotificationKind.RSA,
                    title=f"RSA : {count} personne(s) à orienter dans les {WARNING_DAYS} jours",
                    body="Au-delà de six semaines après l'ouverture du droit, l'orientation "
                    "revient à France Travail : décidez-la avant l'échéance.",
                    url=reverse("rsa:to_orient", args=[department_id]) + "?due=week",
                    dedup_key=f"rsa-orient-soon-{department_id}-{today.isoformat()}",
                )
                for department_id, count in sorted(by_department.items())
            ]
        )
        return len(rows)


def _france_travail_agencies(department_ids: set[str]) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for agency in Organisation.objects.filter(
        department_id__in=sorted(department_ids),
        kind=OrganisationKind.FRANCE_TRAVAIL,
        is_active=True,
    ).order_by("pk"):
        found.setdefault(agency.department_id, agency)
    return found


def delegate_overdue(today: datetime.date) -> int:
    """Past six weeks without a decision: delegated to France Travail."""
    now = timezone.now()
    with transaction.atomic():
        late = list(
            Beneficiary.objects.to_orient()
            .filter(orientation_due_on__lt=today)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("dossier", "person")
            .order_by("pk")
        )
        agencies = _france_travail_agencies({b.dossier.department_id for b in late})
        late = [b for b in late if b.dossier.department_id in agencies]
        if not late:
            return 0
        Orientation.objects.bulk_create(
            Orientation(
                beneficiary=beneficiary,
                person=beneficiary.person,
                department_id=beneficiary.dossier.department_id,
                delegated=True,
                referent_body=agencies[beneficiary.dossier.department_id],
                decided_at=now,
                notified_on=today,
            )
            for beneficiary in late
        )
        Beneficiary.objects.filter(pk__in=[b.pk for b in late]).update(oriented_on=today)
        orientations = {
            o.beneficiary_id: o
            for o in Orientation.objects.current().filter(beneficiary__in=[b.pk for b in late])
        }
        timeline: list[TimelineEvent] = []
        audit = []
        per_agency: dict[int, int] = defaultdict(int)
        per_department: dict[str, int] = defaultdict(int)
        for beneficiary in late:
            assert beneficiary.person is not None
            agency = agencies[beneficiary.dossier.department_id]
            orientation = orientations[beneficiary.pk]
            per_agency[agency.pk] += 1
            per_department[agency.department_id] += 1
            summary = (
                f"Orientation RSA déléguée à France Travail ({agency.name}) : six semaines "
                f"passées sans décision du département (échéance du "
                f"{beneficiary.orientation_due_on:%d/%m/%Y})"
            )
            timeline.append(
                timeline_row(
                    person=beneficiary.person,
                    kind=EventKind.RSA,
                    actor=None,
                    organisation=agency,
                    target=orientation,
                    summary=summary,
                    at=now,
                )
            )
            audit.append(
                audit_row(
                    AuditKind.RSA_DEADLINE,
                    actor_label=JOB_LABEL,
                    organisation=agency,
                    department_id=agency.department_id,
                    target=orientation,
                    person_id=beneficiary.person_id,
                    what=summary,
                )
            )
        TimelineEvent.objects.bulk_create(timeline)
        record_many(audit)
        members = _members(set(per_agency))
        managers = _managers(set(per_department))
        by_pk = {agency.pk: agency for agency in agencies.values()}
        notify_many(
            [
                Notice(
                    recipient_ids=members.get(agency_id, []),
                    kind=NotificationKind.RSA,
                    title=f"RSA : {count} orientation(s) déléguée(s) à France Travail",
                    body="Six semaines sont passées sans orientation du département : "
                    f"{by_pk[agency_id].name} oriente ces personnes et désigne leur référent.",
                    url=reverse("rsa:received", args=[agency_id]),
                    dedup_key=f"rsa-delegated-{agency_id}-{today.isoformat()}",
                )
                for agency_id, count in sorted(per_agency.items())
            ]
            + [
                Notice(
                    recipient_ids=managers.get(department_id, []),
                    kind=NotificationKind.RSA,
                    title=f"RSA : {count} orientation(s) déléguée(s) à France Travail",
                    body="Six semaines sont passées sans décision : l'orientation de ces "
                    "personnes revient à France Travail.",
                    url=reverse("rsa:to_orient", args=[department_id]),
                    dedup_key=f"rsa-delegated-managers-{department_id}-{today.isoformat()}",
                )
                for department_id, count in sorted(per_department.items())
            ]
        )
        return len(late)


def warn_contracts(today: datetime.date) -> int:
    """Warn the referent (else the referent body) of a contract due within the warning days."""
    with transaction.atomic():
        rows = list(
            Orientation.objects.current()
            .filter(
                contract_signed_on__isnull=True,
                contract_due_on__gte=today,
                contract_due_on__lte=today + datetime.timedelta(days=WARNING_DAYS),
                contract_warned_on__isnull=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("person")
            .order_by("pk")
        )
        if not rows:
            return 0
        Orientation.objects.filter(pk__in=[o.pk for o in rows]).update(contract_warned_on=today)
        members = _members({o.referent_body_id for o in rows if o.referent_id is None})
        notify_many(
            [
                Notice(
                    recipient_ids=[o.referent_id]
                    if o.referent_id
                    else members.get(o.referent_body_id, []),
                    kind=NotificationKind.RSA,
                    title="RSA : contrat d'engagement à signer avant le "
                    f"{o.contract_due_on:%d/%m/%Y}",
                    body=f"Le contrat d'engagement de {o.person.full_name} est attendu dans le "
                    "mois qui suit la notification de son orientation.",
                    url=reverse("rsa:orientation", args=[o.pk]),
                    dedup_key=f"rsa-contract-soon-{o.pk}-{o.contract_due_on}",
                )
                for o in rows
            ]
        )
        return len(rows)


def flag_late_contracts(today: datetime.date) -> int:
    """Past the month: tell the referent, the referent body and the orientation managers."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Orientation.objects.current()
            .filter(
                contract_signed_on__isnull=True,
                contract_due_on__lt=today,
                contract_late_on__isnull=True,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("person", "referent_body")
            .order_by("pk")
        )
        if not rows:
            return 0
        Orientation.objects.filter(pk__in=[o.pk for o in rows]).update(contract_late_on=today)
        members = _members({o.referent_body_id for o in rows})
        managers = _managers({o.department_id for o in rows})
        notices: list[Notice] = []
        timeline: list[TimelineEvent] = []
        audit = []
        for o in rows:
            summary = (
                f"Contrat d'engagement non signé à l'échéance du {o.contract_due_on:%d/%m/%Y} "
                f"({o.referent_body.name})"
            )
            notices.append(
                Notice(
                    recipient_ids={
                        *([o.referent_id] if o.referent_id else []),
                        *members.get(o.referent_body_id, []),
                    },
                    kind=NotificationKind.RSA,
                    title="RSA : contrat d'engagement en retard",
                    body=f"Le contrat d'engagement de {o.person.full_name} n'est pas signé un "
                    "mois après la notification de son orientation.",
                    url=reverse("rsa:orientation", args=[o.pk]),
                    dedup_key=f"rsa-contract-late-{o.pk}-{o.contract_due_on}",
                )
            )
            notices.append(
                Notice(
                    recipient_ids=managers.get(o.department_id, []),
                    kind=NotificationKind.RSA,
                    title="RSA : contrat d'engagement en retard",
                    body=f"{o.referent_body.name} n'a pas enregistré le contrat d'engagement "
                    f"de {o.person.full_name} dans le mois.",
                    url=reverse("rsa:to_orient", args=[o.department_id]),
                    dedup_key=f"rsa-contract-late-managers-{o.pk}-{o.contract_due_on}",
                )
            )
            timeline.append(
                timeline_row(
                    person=o.person,
                    kind=EventKind.RSA,
                    actor=None,
                    organisation=o.referent_body,
                    target=o,
                    summary=summary,
                    at=now,
                )
            )
            audit.append(
                audit_row(
                    AuditKind.RSA_DEADLINE,
                    actor_label=JOB_LABEL,
                    organisation=o.referent_body,
                    department_id=o.department_id,
                    target=o,
                    person_id=o.person_id,
                    what=summary,
                )
            )
        TimelineEvent.objects.bulk_create(timeline)
        record_many(audit)
        notify_many(notices)
        return len(rows)


def run_deadlines(today: datetime.date | None = None) -> DeadlineCounts:
    """Every RSA deadline of the day, each step in its own transaction."""
    day = today or timezone.localdate()
    return DeadlineCounts(
        orientations_warned=warn_orientations(day),
        delegated=delegate_overdue(day),
        contracts_warned=warn_contracts(day),
        contracts_late=flag_late_contracts(day),
    )
