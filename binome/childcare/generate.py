"""Generator step: childcare (AVIP) providers, requests, answers, placements, CAF checks.

**Providers**: ``childcare_providers`` labelled solutions (1,200 nationally), spread over the
départements by population. The generated organisations of kind « Accueil du jeune enfant »
(those with members) become crèches, micro-crèches, MAM and home-care services; the rest
are labelled childminders, each an organisation of one person created here, with her
account (its administrator) in the sub-domain ``assmat.`` of the data set's e-mail domain:
the announced number of professionals is unchanged. About four in ten have free AVIP places
from a date; the home-care services take emergencies.

**Requests**: ``childcare_requests`` over the two years before the reference day (50,000 a
year nationally), filed by the parent's counselor from the file, for one or two children,
three in ten as emergencies; each has its ``CHILDCARE_CAF`` consent. Their fate, in the
shares of the Var's and the Essonne's reports: most found a place (one acceptance, the
other providers asked told), some were declined by every provider or withdrawn, the last
days' are still awaiting an answer, a few are drafts. Nine in ten are checked by the CAF
(mostly eligible). An accepted request has its placement: six months, renewed for some,
ended with the parent's situation, and the situation six months later once due.

Distances are drawn, not computed (the pages measured compute their own). No audit row,
timeline line or notification is generated. Rows are loaded by COPY.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from binome.accounts.models import User
from binome.childcare.models import (
    EMERGENCY_DELAY,
    PLACE_DELAY,
    PLACEMENT_MONTHS,
    ChildcareRequest,
    DeclineReason,
    Eligibility,
    Placement,
    PlacementEndReason,
    PlacementStatus,
    Provider,
    ProviderKind,
    Reason,
    RequestChild,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
    Urgency,
)
from binome.core.generation import (
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    REFERENCE_TIME,
    STREETS,
    Context,
    DepartmentPlan,
    GeneratedOrganisation,
    _phone,
    allocate,
    email_part,
    sql_delete,
    step,
)
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
)
from binome.people.generate import GeneratedPerson
from binome.people.models import Consent, ConsentMethod, ConsentScope
from binome.support.models import FollowupOutcome, add_months

REFERENCE_DATE: date = timezone.localdate(REFERENCE_TIME)
HISTORY_DAYS = 2 * 365
PROVIDERS_KEY = "childcare_providers"
REQUESTS_KEY = "childcare_requests"
COLLECTIVE_KINDS = (  # (kind, weight) for the organisations with members
    (ProviderKind.CRECHE, 40),
    (ProviderKind.MICRO_CRECHE, 25),
    (ProviderKind.MAM, 20),
    (ProviderKind.HOME_CARE, 15),
)
CHILDMINDER_SHARE = 0.35  # of the labelled solutions: childminders (organisations of one)
CHILDMINDER_SUBDOMAIN = "assmat"
FREE_PLACES_SHARE = 0.4
EMERGENCY_SHARE = 0.3
# The fate of a request older than its delay: (status, weight).
FATES = (
    (RequestStatus.ACCEPTED, 68),
    (RequestStatus.DECLINED, 14),
    (RequestStatus.WITHDRAWN, 10),
    (RequestStatus.SENT, 0),  # only recent ones stay awaiting
)
DRAFT_SHARE = 0.01
CHECKED_SHARE = 0.9
ELIGIBLE_SHARE = 0.92
NOT_ELIGIBLE_REASONS = (
    "Le parent n'est pas inscrit comme demandeur d'emploi.",
    "L'enfant a plus de trois ans pour une place en crèche AVIP.",
    "Le foyer ne relève pas de la CAF de ce département.",
)
SCHEDULES = (
    "Du lundi au vendredi, 8 h à 18 h",
    "Lundi, mardi et jeudi, 8 h 30 à 17 h 30",
    "Demain matin, 8 h à 13 h",
    "Mercredi et vendredi, journée",
    "Du lundi au vendredi, 7 h 30 à 19 h",
)
PLACE_DETAILS = (
    "Place AVIP en section des moyens",
    "Place AVIP en section des bébés",
    "Accueil à domicile le matin de l'entretien",
    "Place chez une assistante maternelle labellisée",
)
# The parent's situation at the end of the place (the national evaluation: a third found a
# job, a fifth a training).
END_OUTCOMES = (
    (FollowupOutcome.DURABLE_JOB, 18),
    (FollowupOutcome.TRANSITION_JOB, 16),
    (FollowupOutcome.TRAINING, 19),
    (FollowupOutcome.BUSINESS, 2),
    (FollowupOutcome.JOB_SEEKING, 35),
    (FollowupOutcome.SOCIAL, 6),
    (FollowupOutcome.INACTIVE, 4),
)
EMPLOYED = {FollowupOutcome.DURABLE_JOB, FollowupOutcome.TRANSITION_JOB, FollowupOutcome.BUSINESS}


def _delete_generated_childcare(domain_suffix: str) -> dict[str, int]:
    requests = sql_delete(
        ChildcareRequest.objects.filter(organisation__email__endswith=domain_suffix)
    )
    consents = sql_delete(
        Consent.objects.filter(
            scope=ConsentScope.CHILDCARE_CAF, person__organisation__email__endswith=domain_suffix
        )
    )
    providers = sql_delete(Provider.objects.filter(organisation__email__endswith=domain_suffix))
    return {
        "demandes de garde supprimées": requests,
        "consentements CAF supprimés": consents,
        "accueils AVIP supprimés": providers,
    }


def _at(day: date, rng: random.Random, low: int = 8, high: int = 18) -> datetime:
    return datetime.combine(
        day,
        time(rng.randint(low, high - 1), rng.randint(0, 59)),
        tzinfo=timezone.get_current_timezone(),
    )


def _before_reference(moment: datetime) -> datetime:
    return min(moment, REFERENCE_TIME - timedelta(minutes=1))


@step(
    "garde d'enfants",
    models=(
        Organisation,
        Provider,
        Consent,
        ChildcareRequest,
        RequestChild,
        Solicitation,
        Placement,
    ),
    reset=_delete_generated_childcare,
)
def generate_childcare(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    persons: list[GeneratedPerson] = ctx.ids["persons"]
    departments: list[DepartmentPlan] = ctx.ids["departments"]
    organisations: list[GeneratedOrganisation] = ctx.ids["organisations"]
    provider_volume = ctx.scale.volume(PROVIDERS_KEY)
    request_volume = ctx.scale.volume(REQUESTS_KEY)
    if not persons or provider_volume <= 0:
        return {}
    persons_by_department: dict[str, list[GeneratedPerson]] = defaultdict(list)
    for person in persons:
        persons_by_department[person.department_code].append(person)
    childcare_orgs: dict[str, list[GeneratedOrganisation]] = defaultdict(list)
    cafs: dict[str, GeneratedOrganisation] = {}
    for organisation in organisations:
        if organisation.kind == OrganisationKind.CHILDCARE:
            childcare_orgs[organisation.department_code].append(organisation)
        elif organisation.kind == OrganisationKind.CAF:
            cafs.setdefault(organisation.department_code, organisation)
    plans = [d for d in departments if persons_by_department[d.code]]
    provider_shares = allocate(provider_volume, [d.population + 1 for d in plans])

    # --- providers -------------------------------------------------------------------------
    collective_kinds = [k for k, _w in COLLECTIVE_KINDS]
    collective_weights = [w for _k, w in COLLECTIVE_KINDS]
    planned: list[tuple[str, str, str, int | None]] = []  # (department, kind, commune, org id)
    childminders: list[tuple[str, str]] = []  # (department, commune)
    for plan, share in zip(plans, provider_shares, strict=True):
        existing = childcare_orgs[plan.code]
        collective = min(len(existing), round(share * (1 - CHILDMINDER_SHARE)))
        for organisation in existing[:collective]:
            collective_kind: str = rng.choices(collective_kinds, weights=collective_weights)[0]
            planned.append(
                (plan.code, collective_kind, organisation.commune_insee, organisation.id)
            )
        for _ in range(share - collective):
            commune = plan.pick_commune(rng).insee_code
            childminders.append((plan.code, commune))
            planned.append((plan.code, ProviderKind.CHILDMINDER, commune, None))
    minder_ids = iter(ctx.reserve_ids(Organisation, len(childminders)))
    minder_user_ids = iter(ctx.reserve_ids(User, len(childminders)))
    org_rows: list[tuple[object, ...]] = []
    user_rows: list[tuple[object, ...]] = []
    membership_rows: list[tuple[object, ...]] = []
    provider_rows: list[tuple[object, ...]] = []
    # What the requests need of a provider: (id, kind, min age, max age, department).
    providers_by_department: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
    provider_ids = ctx.reserve_ids(Provider, len(planned))
    for pk, (department_code, kind, commune, org_id) in zip(provider_ids, planned, strict=True):
        if org_id is None:
            org_id = next(minder_ids)
            female = rng.random() < 0.95
            first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            created = ctx.past_datetime(max_days=4 * 365, min_days=30)
            title = "assistante maternelle" if female else "assistant maternel"
            # Her account, the organisation's one member (and so its administrator), in a
            # sub-domain of the data set's: not one of the announced professionals.
            user_id = next(minder_user_ids)
            phone = _phone(rng, "06")
            user_rows.append(
                (
                    user_id,
                    ctx.password_hash,
                    False,
                    f"{email_part(first)}.{email_part(last)}.{len(user_rows) + 1}"
                    f"@{CHILDMINDER_SUBDOMAIN}.{ctx.scale.domain}",
                    first,
                    last,
                    phone,
                    True,
                    False,
                    created,
                )
            )
            membership_rows.append(
                (
                    user_id,
                    org_id,
                    Role.ADMIN,
                    title.capitalize(),
                    MemberFunction.CHILDCARE,
                    True,
                    created,
                    None,
                )
            )
            org_rows.append(
                (
                    org_id,
                    f"{first} {last}, {title} AVIP",
                    OrganisationKind.CHILDCARE,
                    "",
                    department_code,
                    f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    commune,
                    f"{CHILDMINDER_SUBDOMAIN}.{len(org_rows) + 1}@{ctx.scale.domain}",
                    phone,
                    True,
                    created,
                    created,
                )
            )
        if kind == ProviderKind.CHILDMINDER:
            capacity, min_age, max_age = rng.randint(2, 4), 0, rng.choice((36, 72, 120))
        elif kind == ProviderKind.MAM:
            capacity, min_age, max_age = rng.randint(8, 16), 0, 72
        elif kind == ProviderKind.HOME_CARE:
            capacity, min_age, max_age = rng.randint(10, 30), 0, 119
        elif kind == ProviderKind.MICRO_CRECHE:
            capacity, min_age, max_age = rng.randint(8, 12), 2, 36
        else:
            capacity, min_age, max_age = rng.randint(20, 60), 2, 36
        avip = max(1, round(capacity * rng.uniform(0.2, 0.3)))
        free = rng.randint(1, avip) if rng.random() < FREE_PLACES_SHARE else 0
        free_from = (
            REFERENCE_DATE + timedelta(days=rng.randint(-20, 30))
            if free
            else (REFERENCE_DATE - timedelta(days=rng.randint(30, 300)))
            if rng.random() < 0.5
            else None
        )
        emergency = rng.randint(1, 4) if kind == ProviderKind.HOME_CARE else 0
        confirmed = ctx.past_datetime(max_days=45)
        caf = cafs.get(department_code)
        provider_rows.append(
            (
                pk,
                org_id,
                kind,
                (REFERENCE_DATE - timedelta(days=rng.randint(60, 8 * 365))) if caf else None,
                caf.id if caf else None,
                capacity,
                avip,
                min_age,
                max_age,
                "Du lundi au vendredi, 7 h 30 à 18 h 30",
                free,
                free_from,
                emergency,
                "7 jours sur 7, 7 h à 21 h" if emergency else "",
                True,
                confirmed,
                None,
                None,
            )
        )
        providers_by_department[department_code].append((pk, kind, min_age, max_age))

    # --- requests ------------------------------------------------------------------------------
    request_shares = allocate(request_volume, [len(persons_by_department[d.code]) for d in plans])
    request_ids = iter(ctx.reserve_ids(ChildcareRequest, request_volume))
    consent_ids = iter(ctx.reserve_ids(Consent, request_volume))
    consent_rows: list[tuple[object, ...]] = []
    request_rows: list[tuple[object, ...]] = []
    child_rows: list[tuple[object, ...]] = []
    solicitation_rows: list[tuple[object, ...]] = []
    placement_rows: list[tuple[object, ...]] = []
    pending_placements: list[tuple[int, int, int, int]] = []
    fates = [f for f, _w in FATES]
    fate_weights = [w for _f, w in FATES]
    for plan, share in zip(plans, request_shares, strict=True):
        department_persons = persons_by_department[plan.code]
        department_providers = providers_by_department[plan.code]
        home_care = [p for p in department_providers if p[1] == ProviderKind.HOME_CARE]
        for index in range(share):
            pk = next(request_ids)
            person = rng.choice(department_persons)
            author = person.counselor
            emergency = rng.random() < EMERGENCY_SHARE
            delay = EMERGENCY_DELAY if emergency else PLACE_DELAY
            created_at = ctx.past_datetime(max_days=HISTORY_DAYS)
            age = REFERENCE_TIME - created_at
            # Still to send: filed, the providers not chosen yet (one per département at
            # least: the matching benchmark measures them).
            if rng.random() < DRAFT_SHARE or index == 0:
                status = RequestStatus.DRAFT
            elif age < delay and rng.random() < 0.7:
                status = RequestStatus.SENT
            else:
                status = rng.choices(fates, weights=fate_weights)[0]
            due_at = created_at + delay
            reason = (
                Reason.INTERVIEW
                if emergency and rng.random() < 0.7
                else rng.choice(list(Reason.values))
            )
            needed_on = timezone.localdate(created_at) + timedelta(
                days=1 if emergency else rng.randint(7, 30)
            )
            # Children of the ages the providers take: under 3 mostly, under 10 for home care.
            children = 2 if rng.random() < 0.15 else 1
            top_age = 119 if emergency else 34
            birth_dates = sorted(
                needed_on - timedelta(days=rng.randint(75, top_age * 30)) for _ in range(children)
            )
            for birth_date in birth_dates:
                child_rows.append(
                    (
                        pk,
                        rng.choice(FEMALE_FIRST_NAMES if rng.random() < 0.5 else MALE_FIRST_NAMES),
                        birth_date,
                    )
                )
            consent_id = next(consent_ids)
            consent_rows.append(
                (
                    consent_id,
                    person.id,
                    ConsentScope.CHILDCARE_CAF,
                    ConsentMethod.ORAL if rng.random() < 0.7 else ConsentMethod.WRITTEN,
                    "",
                    "",
                    timezone.localdate(created_at),
                    author.id,
                    created_at,
                )
            )
            # The providers asked: a home-care service and another for most emergencies.
            asked: list[tuple[int, str, int, int]] = []
            if status != RequestStatus.DRAFT and department_providers:
                count = rng.randint(2, 3) if emergency else rng.randint(1, 2)
                pool = home_care if emergency and home_care else department_providers
                asked = rng.sample(pool, k=min(1, len(pool)))
                others = [p for p in department_providers if p not in asked]
                asked += rng.sample(others, k=min(count - len(asked), len(others)))
            if status != RequestStatus.DRAFT and not asked:
                status = RequestStatus.DRAFT
            answered_within = (
                timedelta(minutes=rng.randint(10, 20 * 60))
                if emergency
                else timedelta(hours=rng.randint(4, 14 * 24))
            )
            if rng.random() < 0.08:  # late answers: past the delay
                answered_within = delay + timedelta(hours=rng.randint(1, 72))
            answered_at = _before_reference(created_at + answered_within)
            closed_at = None
            escalated_at = None
            reminded_at = None
            winner = rng.randrange(len(asked)) if status == RequestStatus.ACCEPTED else -1
            start_on = None
            for index, (provider_id, _kind, _min, _max) in enumerate(asked):
                row_status = SolicitationStatus.PENDING
                solicitation_answered = None
                start = None
                details = ""
                decline = ""
                if status == RequestStatus.ACCEPTED:
                    if index == winner:
                        row_status = SolicitationStatus.ACCEPTED
                        solicitation_answered = answered_at
                        start = needed_on if emergency else needed_on + timedelta(rng.randint(0, 5))
                        start_on = start
                        details = rng.choice(PLACE_DETAILS)
                    elif rng.random() < 0.3 and not emergency:
                        row_status = SolicitationStatus.DECLINED
                        solicitation_answered = max(
                            answered_at - timedelta(minutes=rng.randint(1, 90)),
                            created_at + timedelta(minutes=6),
                        )
                        decline = rng.choice(list(DeclineReason.values))
                    else:
                        row_status = SolicitationStatus.CLOSED
                elif status == RequestStatus.DECLINED:
                    row_status = SolicitationStatus.DECLINED
                    solicitation_answered = max(
                        answered_at - timedelta(minutes=rng.randint(0, 600)),
                        created_at + timedelta(minutes=6),
                    )
                    decline = rng.choice(list(DeclineReason.values))
                elif status == RequestStatus.WITHDRAWN:
                    row_status = SolicitationStatus.CLOSED
                solicitation_id = len(solicitation_rows)
                solicitation_rows.append(
                    (
                        pk,
                        provider_id,
                        round(rng.uniform(0.3, 14.5), 1),
                        row_status,
                        created_at + timedelta(minutes=rng.randint(1, 5)),
                        solicitation_answered,
                        None,
                        start,
                        details,
                        decline,
                        "",
                    )
                )
                if row_status == SolicitationStatus.ACCEPTED:
                    pending_placements.append((solicitation_id, pk, provider_id, person.id))
            if status in (RequestStatus.ACCEPTED, RequestStatus.DECLINED):
                closed_at = answered_at
            elif status == RequestStatus.WITHDRAWN:
                closed_at = _before_reference(created_at + timedelta(hours=rng.randint(1, 24 * 10)))
            if status == RequestStatus.SENT and due_at <= REFERENCE_TIME:
                escalated_at = due_at + timedelta(minutes=rng.randint(1, 14))
            if status in (RequestStatus.SENT, RequestStatus.DECLINED) or (
                closed_at is not None and closed_at > created_at + delay / 2
            ):
                half = created_at + delay / 2
                if half < REFERENCE_TIME and (closed_at is None or closed_at > half):
                    reminded_at = half + timedelta(minutes=rng.randint(1, 14))
            if closed_at is not None and due_at < closed_at and status != RequestStatus.WITHDRAWN:
                escalated_at = due_at + timedelta(minutes=rng.randint(1, 14))
            checked = status != RequestStatus.DRAFT and rng.random() < CHECKED_SHARE
            eligible = rng.random() < ELIGIBLE_SHARE
            checked_at = (
                _before_reference(created_at + timedelta(hours=rng.randint(1, 72)))
                if checked
                else None
            )
            request_rows.append(
                (
                    pk,
                    person.id,
                    plan.code,
                    author.organisation.id,
                    author.id,
                    reason,
                    needed_on - timedelta(days=1) if reason == Reason.INTERVIEW else None,
                    needed_on,
                    rng.choice(SCHEDULES),
                    rng.random() < 0.45,
                    rng.random() < 0.3,
                    rng.random() < 0.35,
                    rng.random() < 0.15,
                    Urgency.EMERGENCY if emergency else Urgency.PLACE,
                    rng.choice((5, 10, 15, 15, 20)),
                    consent_id,
                    status,
                    created_at,
                    due_at,
                    reminded_at,
                    escalated_at,
                    closed_at,
                    "La famille a trouvé une solution."
                    if status == RequestStatus.WITHDRAWN
                    else "",
                    ""
                    if not checked
                    else Eligibility.ELIGIBLE
                    if eligible
                    else Eligibility.NOT_ELIGIBLE,
                    "" if not checked or eligible else rng.choice(NOT_ELIGIBLE_REASONS),
                    checked_at,
                    None,
                )
            )
            if start_on is not None:
                placement_rows.append(_placement(rng, start_on, emergency, len(birth_dates)))

    # Solicitation ids are known only now: reserve them, then link the placements.
    solicitation_ids = ctx.reserve_ids(Solicitation, len(solicitation_rows))
    placement_ids = ctx.reserve_ids(Placement, len(placement_rows))
    final_placements = [
        (placement_pk, solicitation_ids[index], request_id, provider_id, person_id, *life)
        for placement_pk, (index, request_id, provider_id, person_id), life in zip(
            placement_ids, pending_placements, placement_rows, strict=True
        )
    ]
    counts = {
        "assistants maternels": ctx.copy(
            Organisation,
            [
                "id",
                "name",
                "kind",
                "siret",
                "department",
                "address",
                "commune",
                "email",
                "phone",
                "is_active",
                "created_at",
                "updated_at",
            ],
            org_rows,
        ),
        "leurs comptes": ctx.copy(
            User,
            [
                "id",
                "password",
                "is_superuser",
                "email",
                "first_name",
                "last_name",
                "phone",
                "is_active",
                "is_staff",
                "date_joined",
            ],
            user_rows,
        ),
        "leurs appartenances": ctx.copy(
            Membership,
            [
                "user",
                "organisation",
                "role",
                "job_title",
                "function",
                "is_active",
                "created_at",
                "deactivated_at",
            ],
            membership_rows,
        ),
        "accueils AVIP": ctx.copy(
            Provider,
            [
                "id",
                "organisation",
                "kind",
                "label_on",
                "label_caf",
                "capacity",
                "avip_places",
                "min_age_months",
                "max_age_months",
                "opening_hours",
                "free_places",
                "free_from",
                "emergency_capacity",
                "answering_hours",
                "is_active",
                "confirmed_at",
                "confirmed_by",
                "confirmation_reminded_at",
            ],
            provider_rows,
        ),
        "consentements CAF": ctx.copy(
            Consent,
            [
                "id",
                "person",
                "scope",
                "method",
                "document",
                "document_type",
                "given_on",
                "recorded_by",
                "recorded_at",
            ],
            consent_rows,
        ),
        "demandes de garde": ctx.copy(
            ChildcareRequest,
            [
                "id",
                "person",
                "department",
                "organisation",
                "created_by",
                "reason",
                "reason_on",
                "needed_on",
                "schedule",
                "single_parent",
                "qpv",
                "rsa",
                "under_25",
                "urgency",
                "radius_km",
                "consent",
                "status",
                "created_at",
                "due_at",
                "reminded_at",
                "escalated_at",
                "closed_at",
                "withdrawn_reason",
                "eligibility",
                "eligibility_reason",
                "checked_at",
                "checked_by",
            ],
            request_rows,
        ),
        "enfants": ctx.copy(RequestChild, ["request", "first_name", "birth_date"], child_rows),
        "sollicitations": ctx.copy(
            Solicitation,
            [
                "id",
                "request",
                "provider",
                "distance_km",
                "status",
                "sent_at",
                "answered_at",
                "answered_by",
                "start_on",
                "place_details",
                "decline_reason",
                "decline_details",
            ],
            ((sid, *row) for sid, row in zip(solicitation_ids, solicitation_rows, strict=True)),
        ),
        "accueils d'enfants": ctx.copy(
            Placement,
            [
                "id",
                "solicitation",
                "request",
                "provider",
                "person",
                "children",
                "status",
                "started_on",
                "ends_on",
                "renewals",
                "ended_on",
                "end_reason",
                "end_outcome",
                "end_details",
                "followup_due_on",
                "followup_outcome",
                "followup_situation",
                "followup_recorded_on",
                "created_at",
            ],
            final_placements,
        ),
    }
    counts["demandes par an"] = round(request_volume * 365 / HISTORY_DAYS)
    counts["vérifiées par la CAF"] = sum(1 for r in request_rows if r[23])
    return counts


def _placement(
    rng: random.Random, start_on: date, emergency: bool, children: int
) -> tuple[object, ...]:
    """A placement's life from ``start_on`` (its columns after the links)."""
    created_at = _at(start_on - timedelta(days=1), rng)
    if emergency:  # a one-off care: ended after the day or the week
        ended_on = start_on + timedelta(days=rng.randint(0, 6))
        ends_on = add_months(start_on, PLACEMENT_MONTHS)
        renewals = 0
        end_reason = PlacementEndReason.ONE_OFF
    else:
        renewals = 1 if rng.random() < 0.35 else 0
        ends_on = add_months(start_on, PLACEMENT_MONTHS * (1 + renewals))
        ended_on = ends_on if rng.random() < 0.8 else start_on + timedelta(rng.randint(20, 150))
        end_reason = (
            rng.choice((PlacementEndReason.TERM, PlacementEndReason.RELAY))
            if ended_on == ends_on
            else rng.choice(
                (PlacementEndReason.FAMILY, PlacementEndReason.MOVED, PlacementEndReason.OTHER)
            )
        )
    if ended_on >= REFERENCE_DATE:
        return (
            children,
            PlacementStatus.ONGOING,
            start_on,
            ends_on,
            renewals,
            None,
            "",
            "",
            "",
            None,
            "",
            "",
            None,
            created_at,
        )
    outcome = rng.choices([o for o, _w in END_OUTCOMES], weights=[w for _o, w in END_OUTCOMES])[0]
    followup_due = add_months(ended_on, 6)
    followup = ""
    recorded = None
    if followup_due < REFERENCE_DATE and rng.random() < 0.75:
        # Over four in ten of those employed at the end lost the job six months later.
        if outcome in EMPLOYED and rng.random() < 0.42:
            followup = FollowupOutcome.JOB_SEEKING
        elif outcome == FollowupOutcome.JOB_SEEKING and rng.random() < 0.2:
            followup = FollowupOutcome.TRANSITION_JOB
        else:
            followup = outcome
        recorded = followup_due + timedelta(days=rng.randint(0, 20))
        recorded = min(recorded, REFERENCE_DATE - timedelta(days=1))
    return (
        children,
        PlacementStatus.ENDED,
        start_on,
        ends_on,
        renewals,
        ended_on,
        end_reason,
        outcome,
        "",
        followup_due,
        followup,
        "",
        recorded,
        created_at,
    )
