"""Generator step: referrals with realistic states and step dates.

Referrals go from a person's counselor or social worker to the département's social
service or a CCAS (social support), to a France Travail agency (the binôme), or to a
structure of the generated directory, which has no account (then a signed link row).
One organisation, the insertion direction of the first département, receives a third of
them (the inbox benchmark's organisation); about 80 % are open (awaiting an answer,
accepted, started), as in a territory where the loop is being closed.

Dates are drawn before the generator's reference instant, as if the daily job had run
every morning until the day before: referrals due for a reminder on the reference day
and those expiring that day are left for the job (the benchmark runs it for that day).
Every step has its :class:`ReferralEvent` row with its date, so the figures can be
computed; timeline lines and notifications are not generated (the pages measured and the
job do not read them). Rows are loaded by COPY.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from binome.core.generation import (
    REFERENCE_TIME,
    Context,
    GeneratedMembership,
    GeneratedOrganisation,
    sql_delete,
    step,
)
from binome.directory.generate import SOURCE as DIRECTORY_SOURCE
from binome.directory.models import Structure
from binome.organisations.models import OrganisationKind
from binome.people.generate import GeneratedPerson
from binome.referrals.models import (
    DEFAULT_EXPIRY_DAYS,
    DEFAULT_REMINDER_DAYS,
    DeclineReason,
    Referral,
    ReferralEvent,
    ReferralLink,
)
from binome.support.referential import theme_choices

REFERENCE_DATE: date = timezone.localdate(REFERENCE_TIME)
# Volumes per scale (the key added to ``SCALES``).
VOLUME_KEY = "referrals"
HUB_SHARE = 1 / 3
STATES = (  # (status, weight)
    ("sent", 20),
    ("seen", 15),
    ("accepted", 20),
    ("started", 25),
    ("completed", 7),
    ("abandoned", 1),
    ("no_show", 2),
    ("declined", 6),
    ("expired", 3),
    ("withdrawn", 1),
)
OPEN = {"sent", "seen", "accepted", "started"}
REASONS = (
    "Dette de loyer et risque d'expulsion : accompagnement social demandé.",
    "Besoin d'un moyen de transport pour une reprise d'emploi.",
    "Garde d'enfant à trouver avant l'entrée en formation.",
    "Difficultés administratives : dossier de droits à reconstituer.",
    "Projet professionnel à construire avec un accompagnement renforcé.",
    "Santé : démarches de soins à engager avant la recherche d'emploi.",
)
DECLINE_REASONS = [r for r in DeclineReason.values if r != DeclineReason.MAINTAINED]


def _delete_generated_referrals(domain_suffix: str) -> dict[str, int]:
    deleted = sql_delete(
        Referral._base_manager.filter(sender_organisation__email__endswith=domain_suffix)
    )
    return {"orientations supprimées": deleted}


@dataclass
class _Plan:
    kind: str
    to_organisation: int | None
    structure: tuple[int, str] | None  # (id, e-mail)


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    return datetime.combine(
        day, time(hour, rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
    )


class _Dates:
    """The step dates of one referral, drawn backwards from the reference day."""

    def __init__(self, rng: random.Random, status: str, followed: bool) -> None:
        self.rng = rng
        ranges = {
            "sent": (0, DEFAULT_REMINDER_DAYS + DEFAULT_EXPIRY_DAYS),
            "seen": (0, DEFAULT_REMINDER_DAYS + DEFAULT_EXPIRY_DAYS),
            "accepted": (2, 120),
            "started": (8, 300),
            "completed": (40, 400),
            "abandoned": (40, 400),
            "no_show": (20, 400),
            "declined": (1, 400),
            "expired": (DEFAULT_REMINDER_DAYS + DEFAULT_EXPIRY_DAYS + 1, 400),
            "withdrawn": (2, 400),
        }
        low, high = ranges[status]
        self.age = rng.randint(low, high)
        self.sent_on = REFERENCE_DATE - timedelta(days=self.age)

    def day(self, after: date, low: int, high: int) -> date:
        """A day between ``low`` and ``high`` days after ``after``, not after yesterday's
        evening (today's steps are the job's and the users')."""
        latest = (REFERENCE_DATE - timedelta(days=1) - after).days
        if latest < 0:
            return after
        return after + timedelta(days=min(self.rng.randint(low, high), latest))

    def answer_day(self) -> date:
        # Most answer within the week, some late.
        delay = int(self.rng.expovariate(1 / 5))
        return self.day(self.sent_on, min(delay, 25), min(delay, 25))


class _Steps:
    """The steps of one referral, in order: each never before the previous one."""

    def __init__(self, steps: list[tuple[str, str, str, datetime, dict[str, Any]]], at: datetime):
        self.steps = steps
        self.current = "sent"
        self.last = at

    def go(self, action: str, to: str, at: datetime, **details: Any) -> datetime:
        at = max(at, self.last)
        self.steps.append((action, self.current, to, at, details))
        self.current, self.last = to, at
        return at


@step(
    "orientations",
    models=(Referral, ReferralEvent, ReferralLink),
    reset=_delete_generated_referrals,
)
def generate_referrals(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    persons: list[GeneratedPerson] = ctx.ids["persons"]
    volume = ctx.scale.volume(VOLUME_KEY)
    if not persons or volume <= 0:
        return {}
    organisations: list[GeneratedOrganisation] = ctx.ids["organisations"]
    memberships: list[GeneratedMembership] = ctx.ids["memberships"]
    by_kind: dict[tuple[str, str], list[GeneratedOrganisation]] = defaultdict(list)
    for organisation in organisations:
        by_kind[(organisation.department_code, organisation.kind)].append(organisation)
    departments = sorted({p.department_code for p in persons})
    structures: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, department_id, email in (
        Structure.objects.filter(source=DIRECTORY_SOURCE, department_id__in=departments)
        .order_by("pk")
        .values_list("pk", "department_id", "email")
    ):
        structures[department_id].append((pk, email))
    # The hub: the first département's biggest social service.
    hub_department = ctx.scale.department or departments[0]
    hub = max(
        by_kind[(hub_department, OrganisationKind.DEPARTMENT)]
        or by_kind[(hub_department, OrganisationKind.CCAS)],
        key=lambda o: o.staff_weight,
    )
    hub_members = sorted(
        m.user_id for m in memberships if m.organisation_id == hub.id and m.is_active
    )
    persons_by_department: dict[str, list[GeneratedPerson]] = defaultdict(list)
    for person in persons:
        persons_by_department[person.department_code].append(person)
    hub_persons = persons_by_department[hub_department]
    themes = [code for code, _label in theme_choices()]
    statuses = [s for s, _w in STATES]
    weights = [w for _s, w in STATES]

    referral_ids = ctx.reserve_ids(Referral, volume)
    referrals: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    open_keys: set[tuple[int, str, int | None, int | None]] = set()
    n_hub = int(volume * HUB_SHARE)
    for index, pk in enumerate(referral_ids):
        to_hub = index < n_hub
        person = rng.choice(hub_persons if to_hub else persons)
        department_id = person.department_code
        if to_hub:
            plan = _Plan("social", hub.id, None)
        else:
            draw = rng.random()
            agencies = by_kind[(department_id, OrganisationKind.FRANCE_TRAVAIL)]
            social = (
                by_kind[(department_id, OrganisationKind.CCAS)]
                + by_kind[(department_id, OrganisationKind.DEPARTMENT)]
            )
            if draw < 0.3 and agencies:
                plan = _Plan("global", rng.choice(agencies).id, None)
            elif draw < 0.55 and social:
                plan = _Plan("social", rng.choice(social).id, None)
            elif structures[department_id]:
                plan = _Plan("service", None, rng.choice(structures[department_id]))
            else:
                plan = _Plan("social", hub.id, None)
        sender = person.counselor if plan.kind == "social" else person.social_worker
        if sender.organisation.id == plan.to_organisation:
            sender = person.social_worker if sender is person.counselor else person.counselor
        followed = plan.kind == "service"
        status = rng.choices(statuses, weights=weights)[0]
        if not followed and status in ("started", "completed", "abandoned", "no_show"):
            status = "accepted"
        key = (
            person.id,
            plan.kind,
            plan.to_organisation,
            plan.structure[0] if plan.structure else None,
        )
        if status in OPEN:
            if key in open_keys:  # one open referral per person and target
                status = "declined"
            else:
                open_keys.add(key)
        dates = _Dates(rng, status, followed)
        sent_at = _at(dates.sent_on, rng.randint(8, 17), rng)
        due_on = dates.sent_on + timedelta(days=DEFAULT_REMINDER_DAYS)
        expires_on = due_on + timedelta(days=DEFAULT_EXPIRY_DAYS)
        steps: list[tuple[str, str, str, datetime, dict[str, Any]]] = [
            ("sent", "", "sent", sent_at, {})
        ]
        row: dict[str, Any] = {
            "seen_at": None,
            "reminded_at": None,
            "answered_at": None,
            "started_at": None,
            "closed_at": None,
            "appointment_at": None,
            "first_step": "",
            "decline_reason": "",
        }
        track = _Steps(steps, sent_at)
        go = track.go

        if plan.structure is not None:
            steps.append(("link_sent", "sent", "sent", sent_at, {"email": plan.structure[1]}))
        awaiting = status in ("sent", "seen", "expired", "withdrawn")
        if status != "sent" and rng.random() < 0.9:
            seen_on = dates.day(dates.sent_on, 0, 3)
            if not (status == "withdrawn" and rng.random() < 0.5):
                row["seen_at"] = go("seen", "seen", _at(seen_on, 9, rng))
        # The reminder, sent by the job on the due day, when still unanswered then.
        if awaiting and due_on < REFERENCE_DATE and status != "withdrawn":
            row["reminded_at"] = go("reminded", track.current, _at(due_on, 6, rng))
        if status == "expired":
            row["closed_at"] = go("expired", "expired", _at(expires_on, 6, rng))
        elif status == "withdrawn":
            row["closed_at"] = go(
                "withdrawn", "withdrawn", _at(dates.day(dates.sent_on, 1, 8), 15, rng)
            )
        elif status == "declined":
            row["decline_reason"] = rng.choice(DECLINE_REASONS)
            row["answered_at"] = row["closed_at"] = go(
                "declined",
                "declined",
                _at(dates.answer_day(), 14, rng),
                reason=row["decline_reason"],
            )
        elif status not in ("sent", "seen"):
            answered_on = dates.answer_day()
            row["answered_at"] = go("accepted", "accepted", _at(answered_on, 11, rng))
            if rng.random() < 0.7:
                row["appointment_at"] = _at(
                    answered_on + timedelta(days=rng.randint(2, 15)), 10, rng
                )
            else:
                row["first_step"] = "Appel de la personne dans la semaine."
            if status in ("started", "completed", "abandoned"):
                row["started_at"] = go(
                    "started", "started", _at(dates.day(answered_on, 2, 20), 10, rng)
                )
                if status != "started":
                    closed_on = dates.day(timezone.localdate(row["started_at"]), 20, 200)
                    row["closed_at"] = go(status, status, _at(closed_on, 16, rng))
            elif status == "no_show":
                row["closed_at"] = go(
                    "no_show", "no_show", _at(dates.day(answered_on, 5, 25), 16, rng)
                )
        if row["seen_at"] is None and row["answered_at"] is not None:
            row["seen_at"] = row["answered_at"]
        via = "link" if plan.structure is not None else "app"
        receiver_label = (
            "Structure (lien sécurisé)" if via == "link" else "Membre de l'organisation"
        )
        for action, from_status, to_status, at, details in steps:
            by_sender = action in ("sent", "withdrawn", "link_sent")
            by_job = action in ("reminded", "expired")
            events.append(
                (
                    pk,
                    action,
                    from_status,
                    to_status,
                    sender.id if by_sender else None,
                    f"{sender.first_name} {sender.last_name}"
                    if by_sender
                    else "Traitement automatique"
                    if by_job
                    else receiver_label,
                    "job" if by_job else "app" if by_sender else via,
                    at,
                    "",
                    _json(details),
                )
            )
        assigned = (
            rng.choice(hub_members)
            if to_hub and hub_members and status != "sent" and rng.random() < 0.4
            else None
        )
        referrals.append(
            (
                pk,
                plan.kind,
                track.current,
                person.id,
                department_id,
                sender.id,
                sender.organisation.id,
                plan.to_organisation,
                plan.structure[0] if plan.structure else None,
                plan.structure[1] if plan.structure else "",
                rng.choice(REASONS),
                _array(rng.sample(themes, k=rng.randint(0, 2))),
                "urgent" if rng.random() < 0.1 else "normal",
                "",
                assigned,
                row["decline_reason"],
                "",
                row["appointment_at"],
                row["first_step"],
                "",
                sent_at,
                due_on,
                expires_on,
                row["seen_at"],
                row["reminded_at"],
                row["answered_at"],
                row["started_at"],
                row["closed_at"],
            )
        )
        if plan.structure is not None:
            links.append(
                (
                    pk,
                    f"{rng.getrandbits(160):040x}",
                    plan.structure[1],
                    sent_at,
                    sender.id,
                    None,
                    None,
                )
            )
    counts = {
        "orientations": ctx.copy(
            Referral,
            [
                "id",
                "kind",
                "status",
                "person",
                "department",
                "sender",
                "sender_organisation",
                "to_organisation",
                "structure",
                "contact_email",
                "reason",
                "barriers",
                "urgency",
                "requested_kind",
                "assigned_to",
                "decline_reason",
                "answer_message",
                "appointment_at",
                "first_step",
                "outcome_message",
                "sent_at",
                "due_on",
                "expires_on",
                "seen_at",
                "reminded_at",
                "answered_at",
                "started_at",
                "closed_at",
            ],
            referrals,
        ),
        "étapes": ctx.copy(
            ReferralEvent,
            [
                "referral",
                "action",
                "from_status",
                "to_status",
                "actor",
                "actor_label",
                "via",
                "at",
                "message",
                "details",
            ],
            events,
        ),
        "liens sécurisés": ctx.copy(
            ReferralLink,
            ["referral", "nonce", "email", "sent_at", "sent_by", "revoked_at", "opened_at"],
            links,
        ),
    }
    counts["ouvertes"] = sum(1 for r in referrals if r[2] in OPEN)
    counts[f"reçues par {hub.name}"] = n_hub
    ctx.ids["referrals_hub"] = hub
    return counts


def _json(details: dict[str, Any]) -> str:
    return json.dumps(details, ensure_ascii=False)


def _array(values: list[str]) -> str:
    """A PostgreSQL array literal for COPY (theme codes have no special characters)."""
    return "{" + ",".join(values) + "}"
