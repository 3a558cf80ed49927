"""Generator step: the RSA persons bound by the rights and duties (``binome generate``).

**Volume**: ``rsa_persons`` is the country's number (2 million persons subject to the
rights and duties); the départements share it by population, and a local scale generates
its own département's share only (the Var: about 32,000), so that its pages see the rows a
real département would.

**Flows**: a monthly CAF flow per département over the history (``HISTORY_MONTHS``), dated
the fifth of the month, « appliqué », imported by one of the département's orientation
managers (the reset recognises the generated flows, and what hangs on them, by them).

**Dossiers**: one per household, one adult or a couple both bound (``COUPLE_SHARE``), eight
in ten from the CAF and the rest from the MSA. Each state is known from a flow: most
requests wait for the département's decision one month, then the right opens; some are
suspended (and resumed), some closed. The clock of the six weeks starts with the first
flow telling of the request or of the opened right.

**Persons**: a quarter of the beneficiaries already had a file of Binôme (a generated
person of the département, each named once), the others' files were created by the
import (held by the département's service), one in a hundred is « à rapprocher ».

**Orientations**, in the shares of the national reports: of those whose six weeks are over,
about half oriented in time, a third late, the rest still to orient; of the newest, half
oriented already. Employment (France Travail) for four in ten, socio-professional and
social for the others, a few delegated to France Travail; one in twelve was reoriented
once (the earlier orientation replaced). Three in four have their référent de parcours (a
member of the referent body), two in three their contrat d'engagement signed, on time or
late; one in a hundred asks for a reorientation.

No audit row, timeline line or notification is generated. Rows are loaded by COPY, one
département at a time (the national volume never sits in memory at once).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from binome.core.generation import (
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    REFERENCE_TIME,
    STREETS,
    Context,
    DepartmentPlan,
    GeneratedOrganisation,
    GeneratedUser,
    allocate,
    sql_delete,
    step,
)
from binome.core.text import normalize
from binome.organisations.models import OrganisationKind, TerritoryRoleKind
from binome.people.generate import GeneratedPerson
from binome.people.models import Person
from binome.rsa import rollup
from binome.rsa.flux import RightState, Role
from binome.rsa.models import (
    Beneficiary,
    Dossier,
    DossierState,
    FlowImport,
    ImportStatus,
    MatchStatus,
    Orientation,
    OrientationKind,
)
from binome.support.models import add_months
from binome.territories.models import Commune

K = OrganisationKind
VOLUME_KEY = "rsa_persons"
REFERENCE_DATE: date = REFERENCE_TIME.date()
HISTORY_MONTHS = 48
SIX_WEEKS = timedelta(weeks=6)
COUPLE_SHARE = 0.2  # households whose two adults are bound by the rights and duties
MSA_SHARE = 0.2
LINKED_SHARE = 0.25  # beneficiaries who already had a file of Binôme
TO_RECONCILE_SHARE = 0.01
AWAITING_FIRST_SHARE = 0.7  # requests known before the right opened
SUSPENDED_SHARE = 0.12
RESUMED_SHARE = 0.5
CLOSED_SHARE = 0.12
# The fate of a beneficiary whose six weeks are over: (fate, weight).
FATES = (("in_time", 52), ("late", 34), ("pending", 14))
RECENT_ORIENTED_SHARE = 0.5  # of those whose six weeks still run
KINDS = (
    (OrientationKind.EMPLOYMENT, 40),
    (OrientationKind.SOCIO_PROFESSIONAL, 27),
    (OrientationKind.SOCIAL, 27),
    ("delegated", 6),
)
REORIENTED_SHARE = 0.08
REFERENT_SHARE = 0.75
CONTRACT_SHARE = 0.66
REORIENTATION_ASKED_SHARE = 0.01
NO_FIXED_ADDRESS_SHARE = 0.04
FAMILY_SITUATIONS = (("CEL", 45), ("ISO", 15), ("SEP", 12), ("DIV", 10), ("VIM", 10), ("MAR", 8))
ACTIVITY_CODES = (("CHO", 45), ("SSA", 30), ("", 10), ("SAL", 7), ("MAL", 4), ("ETI", 4))
REORIENTATION_REASONS = (
    "La personne a retrouvé un emploi à temps partiel : une orientation professionnelle "
    "conviendrait mieux.",
    "Des difficultés de logement empêchent toute recherche d'emploi pour l'instant.",
    "La personne souhaite un accompagnement social avant de reprendre une formation.",
)


def _delete_generated_rsa(domain_suffix: str) -> dict[str, int]:
    generated_flows = FlowImport.objects.filter(by__email__endswith=domain_suffix)
    orientations = sql_delete(
        Orientation.objects.filter(beneficiary__dossier__first_import__in=generated_flows)
    )
    dossiers = Dossier.objects.filter(first_import__in=generated_flows)
    beneficiaries = sql_delete(Beneficiary.objects.filter(dossier__in=dossiers))
    deleted_dossiers = sql_delete(dossiers)
    flows = sql_delete(generated_flows)
    # The figures' rollup counted them: gone too (the départements are counted live until
    # the generation or the nightly job rebuilds it).
    sql_delete(rollup.FiguresCoverage.objects.all())
    sql_delete(rollup.EntrantsMonth.objects.all())
    sql_delete(rollup.OrientationsMonth.objects.all())
    return {
        "orientations RSA supprimées": orientations,
        "bénéficiaires du RSA supprimés": beneficiaries,
        "dossiers RSA supprimés": deleted_dossiers,
        "flux RSA supprimés": flows,
    }


def _at(day: date, rng: random.Random) -> datetime:
    return datetime.combine(
        day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=timezone.get_current_timezone()
    )


def _flow_day(day: date) -> date:
    """The day of the first monthly flow that tells of what happened on ``day``."""
    following = day.replace(day=5)
    return following if following >= day else add_months(following, 1)


def _pick(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _w in choices], weights=[w for _c, w in choices])[0]


def _department_share(ctx: Context, plans: list[DepartmentPlan]) -> list[int]:
    """The country's volume split by population; a local scale keeps its own share only."""
    volume = ctx.scale.volume(VOLUME_KEY)
    weights = [d.population + 1 for d in plans]
    if ctx.scale.department is None:
        return allocate(volume, weights)
    country = Commune.objects.aggregate(total=Sum("population"))["total"] or 0
    if country <= 0:
        return allocate(volume, weights)
    return [max(1, round(volume * d.population / country)) for d in plans]


@step(
    "RSA",
    models=(
        FlowImport,
        Person,
        Dossier,
        DossierState,
        Beneficiary,
        Orientation,
        rollup.EntrantsMonth,
        rollup.OrientationsMonth,
    ),
    reset=_delete_generated_rsa,
)
def generate_rsa(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    departments: list[DepartmentPlan] = ctx.ids["departments"]
    persons: list[GeneratedPerson] = ctx.ids.get("persons", [])
    users: list[GeneratedUser] = ctx.ids["users"]
    if ctx.scale.volume(VOLUME_KEY) <= 0:
        return {}
    managers: dict[str, list[int]] = defaultdict(list)
    for _pk, user_id, department_code, role in ctx.ids["territory_roles"]:
        if role == TerritoryRoleKind.ORIENTATION_MANAGER:
            managers[department_code].append(user_id)
    members: dict[int, list[int]] = defaultdict(list)
    for user in users:
        members[user.organisation.id].append(user.id)
    bodies: dict[tuple[str, str], list[GeneratedOrganisation]] = defaultdict(list)
    for organisation in ctx.ids["organisations"]:
        if members[organisation.id]:
            bodies[(organisation.department_code, organisation.kind)].append(organisation)
    persons_by_department: dict[str, list[GeneratedPerson]] = defaultdict(list)
    for person in persons:
        persons_by_department[person.department_code].append(person)
    plans = [
        d
        for d in departments
        if managers[d.code]
        and bodies[(d.code, K.FRANCE_TRAVAIL)]
        and bodies[(d.code, K.DEPARTMENT)]
    ]
    counts: dict[str, int] = defaultdict(int)
    for plan, share in zip(plans, _department_share(ctx, plans), strict=True):
        for key, value in _generate_department(
            ctx, rng, plan, share, managers[plan.code], bodies, members, persons_by_department
        ).items():
            counts[key] += value
    # The steering's RSA figures per month, as the nightly job would leave them.
    counts["mois de chiffres RSA"] = rollup.refresh()
    rollup.tidy()
    return dict(counts)


def _generate_department(
    ctx: Context,
    rng: random.Random,
    plan: DepartmentPlan,
    volume: int,
    managers: list[int],
    bodies: dict[tuple[str, str], list[GeneratedOrganisation]],
    members: dict[int, list[int]],
    persons_by_department: dict[str, list[GeneratedPerson]],
) -> dict[str, int]:
    code = plan.code
    holder = max(bodies[(code, K.DEPARTMENT)], key=lambda o: len(members[o.id]))
    france_travail = bodies[(code, K.FRANCE_TRAVAIL)]
    social = bodies[(code, K.DEPARTMENT)] + bodies[(code, K.CCAS)]
    socio_pro = (
        bodies[(code, K.DEPARTMENT)]
        + bodies[(code, K.ASSOCIATION)]
        + bodies[(code, K.MISSION_LOCALE)]
        + bodies[(code, K.OTHER)]
    )

    # --- the monthly flows ---------------------------------------------------------------
    first_month = add_months(_flow_day(REFERENCE_DATE).replace(day=5), -HISTORY_MONTHS)
    flow_days = [add_months(first_month, i) for i in range(HISTORY_MONTHS + 1)]
    flow_days = [d for d in flow_days if d <= REFERENCE_DATE]
    flow_ids = ctx.reserve_ids(FlowImport, len(flow_days))
    flow_by_day = dict(zip(flow_days, flow_ids, strict=True))
    flow_rows = []
    for pk, day in zip(flow_ids, flow_days, strict=True):
        started = _at(day + timedelta(days=1), rng)
        flow_rows.append(
            (
                pk,
                code,
                f"RSABEM_CAF_{code}_{day:%Y%m}.xml",
                f"{rng.getrandbits(256):064x}",
                "CAF",
                "M",
                day,
                day - timedelta(days=1),
                rng.choice(managers),
                started,
                started + timedelta(minutes=rng.randint(2, 15)),
                ImportStatus.APPLIED,
                rng.randint(5_000_000, 40_000_000),
                100,
                started + timedelta(minutes=2),
                "",
                0,
                0,
                0,
                0,
                0,
                "[]",
            )
        )
    last_flow = flow_days[-1]

    # --- households, their persons and their clocks --------------------------------------
    existing = list(persons_by_department[code])
    rng.shuffle(existing)
    linked = iter(existing[: min(len(existing), round(volume * LINKED_SHARE))])
    households: list[int] = []  # adults bound per dossier
    remaining = volume
    while remaining > 0:
        size = 2 if remaining >= 2 and rng.random() < COUPLE_SHARE else 1
        households.append(size)
        remaining -= size
    dossier_ids = ctx.reserve_ids(Dossier, len(households))
    beneficiary_ids = iter(ctx.reserve_ids(Beneficiary, volume))
    dossier_rows: list[tuple[object, ...]] = []
    state_rows: list[tuple[object, ...]] = []
    beneficiary_rows: list[tuple[object, ...]] = []
    new_persons: list[tuple[object, ...]] = []  # rows without their id
    beneficiary_person: list[int | None] = []  # index into new_persons (negative: existing)
    # Rows without their id, after the index of their beneficiary's row.
    orientation_rows: list[tuple[int, tuple[object, ...]]] = []
    oriented = late = pending = 0
    for number, (dossier_id, size) in enumerate(zip(dossier_ids, households, strict=True)):
        body = "MSA" if rng.random() < MSA_SHARE else "CAF"
        requested_on = REFERENCE_DATE - timedelta(days=rng.randint(0, HISTORY_MONTHS * 30 - 40))
        # Each state, known from a flow: (state, day of the flow).
        states: list[tuple[str, date]] = []
        day = _flow_day(requested_on)
        if day > last_flow:
            day = last_flow
        if rng.random() < AWAITING_FIRST_SHARE or day == last_flow:
            states.append((RightState.AWAITING_DECISION, day))
            day = add_months(day, 1)
        if day <= last_flow:
            states.append((RightState.OPEN, day))
        closed_on = None
        if rng.random() < SUSPENDED_SHARE:
            day = add_months(day, rng.randint(2, 24))
            if day <= last_flow:
                states.append(
                    (rng.choice((RightState.PAYMENT_SUSPENDED, RightState.RIGHT_SUSPENDED)), day)
                )
                day = add_months(day, rng.randint(1, 4))
                if day <= last_flow and rng.random() < RESUMED_SHARE:
                    states.append((RightState.OPEN, day))
        if rng.random() < CLOSED_SHARE:
            day = add_months(day, rng.randint(3, 30))
            if day <= last_flow:
                states.append((RightState.CLOSED, day))
                closed_on = day - timedelta(days=rng.randint(5, 30))
        state = states[-1][0]
        clock = states[0][1]  # the first flow telling of the request or the opened right
        first_flow, final_flow = flow_by_day[states[0][1]], flow_by_day[states[-1][1]]
        dossier_rows.append(
            (
                dossier_id,
                code,
                body,
                f"{code}{number + 1:09d}",
                f"{rng.randint(100, 999)}" if body == "CAF" else "",
                f"{rng.randint(0, 9_999_999):07d}",
                requested_on,
                state,
                "",
                "PCG" if state == RightState.CLOSED else "",
                closed_on,
                rng.random() < NO_FIXED_ADDRESS_SHARE,
                "VIM" if size == 2 else _pick(rng, FAMILY_SITUATIONS),
                rng.choice((0, 0, 0, 1, 1, 2, 3)),
                first_flow,
                final_flow,
            )
        )
        state_rows.extend((dossier_id, s, flow_by_day[d], d) for s, d in states)
        for role in (Role.APPLICANT, Role.SPOUSE)[:size]:
            pk = next(beneficiary_ids)
            female = rng.random() < (0.55 if role == Role.APPLICANT else 0.5)
            first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            birth_date = REFERENCE_DATE - timedelta(days=rng.randint(18 * 365, 64 * 365))
            person_id: int | None = None
            match = MatchStatus.CREATED
            if rng.random() < TO_RECONCILE_SHARE:
                match = MatchStatus.TO_RECONCILE
                beneficiary_person.append(None)
            elif (known := next(linked, None)) is not None:
                match = MatchStatus.MATCHED
                person_id = known.id
                beneficiary_person.append(-known.id)
            else:
                commune = plan.pick_commune(rng)
                beneficiary_person.append(len(new_persons))
                new_persons.append(
                    (
                        code,
                        holder.id,
                        first,
                        last,
                        "",
                        birth_date,
                        "F" if female else "M",
                        f"06{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.6 else "",
                        "",
                        f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                        commune.insee_code,
                        f"{rng.randint(0, 9_999_999):07d}{chr(65 + rng.randint(0, 25))}"
                        if rng.random() < 0.6
                        else "",
                        f"{rng.randint(0, 9_999_999):07d}",
                        "",
                        "",
                        normalize(f"{first} {last}"),
                        None,
                        _at(clock, rng),
                    )
                )
            due_on = clock + SIX_WEEKS
            oriented_on: date | None = None
            warned_on: date | None = None
            if match != MatchStatus.TO_RECONCILE:
                if due_on > REFERENCE_DATE:
                    fate = "in_time" if rng.random() < RECENT_ORIENTED_SHARE else "pending"
                else:
                    fate = _pick(rng, FATES)
                if fate != "pending":
                    delay = rng.randint(8, 42) if fate == "in_time" else rng.randint(43, 220)
                    notified_on = min(clock + timedelta(days=delay), REFERENCE_DATE)
                    late += notified_on > due_on
                    oriented_on = _orientations(
                        rng,
                        orientation_rows,
                        len(beneficiary_rows),
                        code,
                        notified_on,
                        managers,
                        france_travail,
                        socio_pro,
                        social,
                        members,
                    )
                    oriented += 1
                else:
                    pending += 1
                warn = due_on - timedelta(days=7)
                if (oriented_on is None or oriented_on > warn) and warn <= REFERENCE_DATE:
                    warned_on = warn
            beneficiary_rows.append(
                (
                    pk,
                    dossier_id,
                    role,
                    person_id,
                    match,
                    first,
                    last,
                    "",
                    birth_date,
                    "",
                    "",
                    True,
                    f"{rng.randint(0, 9_999_999):07d}{chr(65 + rng.randint(0, 25))}"
                    if rng.random() < 0.5
                    else "",
                    _pick(rng, ACTIVITY_CODES),
                    clock,
                    due_on,
                    oriented_on,
                    warned_on,
                )
            )

    # --- ids known only now: the new files, then the orientations ---------------------------
    person_ids = ctx.reserve_ids(Person, len(new_persons))
    final_beneficiaries = []
    for row, link in zip(beneficiary_rows, beneficiary_person, strict=True):
        if link is not None and link >= 0:
            row = (*row[:3], person_ids[link], *row[4:])
        final_beneficiaries.append(row)
    person_of = {row[0]: row[3] for row in final_beneficiaries}
    orientation_ids = ctx.reserve_ids(Orientation, len(orientation_rows))
    beneficiary_pk = [row[0] for row in final_beneficiaries]
    final_orientations = [
        (pk, beneficiary_pk[index], person_of[beneficiary_pk[index]], *row)
        for pk, (index, row) in zip(orientation_ids, orientation_rows, strict=True)
    ]
    return {
        "flux RSA": ctx.copy(
            FlowImport,
            [
                "id",
                "department",
                "file_name",
                "file_hash",
                "sender",
                "flow_kind",
                "flow_created_on",
                "reference_date",
                "by",
                "started_at",
                "finished_at",
                "status",
                "size",
                "percent",
                "progress_at",
                "message",
                "created",
                "updated",
                "unchanged",
                "to_reconcile",
                "rejected",
                "rejections",
            ],
            flow_rows,
        ),
        "dossiers de Binôme créés par les flux": ctx.copy(
            Person,
            [
                "id",
                "department",
                "organisation",
                "first_name",
                "last_name",
                "birth_name",
                "birth_date",
                "sex",
                "phone",
                "email",
                "address",
                "commune",
                "france_travail_id",
                "caf_number",
                "nir_hash",
                "nir_encrypted",
                "search_name",
                "last_contact_on",
                "created_at",
            ],
            ((pk, *row) for pk, row in zip(person_ids, new_persons, strict=True)),
        ),
        "dossiers RSA": ctx.copy(
            Dossier,
            [
                "id",
                "department",
                "body",
                "number",
                "body_number",
                "matricule",
                "requested_on",
                "state",
                "suspension_reason",
                "closure_reason",
                "closed_on",
                "no_fixed_address",
                "family_situation",
                "children",
                "first_import",
                "last_import",
            ],
            dossier_rows,
        ),
        "états des dossiers": ctx.copy(
            DossierState, ["dossier", "state", "flow", "known_on"], state_rows
        ),
        "soumis aux droits et devoirs": ctx.copy(
            Beneficiary,
            [
                "id",
                "dossier",
                "role",
                "person",
                "match_status",
                "first_name",
                "last_name",
                "birth_name",
                "birth_date",
                "nir_hash",
                "nir_encrypted",
                "subject_to_rights_and_duties",
                "france_travail_id",
                "activity",
                "right_opened_on",
                "orientation_due_on",
                "oriented_on",
                "orientation_warned_on",
            ],
            final_beneficiaries,
        ),
        "orientations RSA": ctx.copy(
            Orientation,
            [
                "id",
                "beneficiary",
                "person",
                "department",
                "kind",
                "delegated",
                "referent_body",
                "employment_situation",
                "qualification",
                "aspirations",
                "obstacles",
                "decided_by",
                "decided_at",
                "notified_on",
                "referral",
                "referent",
                "referent_designated_at",
                "contract_due_on",
                "contract_signed_on",
                "contract_warned_on",
                "contract_late_on",
                "replaced_at",
                "reorientation_asked_at",
                "reorientation_asked_by",
                "reorientation_reason",
            ],
            final_orientations,
        ),
        "orientés": oriented,
        "orientés après six semaines": late,
        "à orienter": pending,
    }


def _orientations(
    rng: random.Random,
    rows: list[tuple[int, tuple[object, ...]]],
    beneficiary_index: int,
    code: str,
    notified_on: date,
    managers: list[int],
    france_travail: list[GeneratedOrganisation],
    socio_pro: list[GeneratedOrganisation],
    social: list[GeneratedOrganisation],
    members: dict[int, list[int]],
) -> date:
    """The beneficiary's orientation notified on ``notified_on`` (and, for some, its
    reorientation later): rows without their id, after the beneficiary's index. Returns the
    current orientation's notification day."""
    decisions = [notified_on]
    later = notified_on + timedelta(days=rng.randint(60, 400))
    if rng.random() < REORIENTED_SHARE and later <= REFERENCE_DATE:
        decisions.append(later)
    decided = [_at(day - timedelta(days=rng.randint(0, 3)), rng) for day in decisions]
    for index, day in enumerate(decisions):
        current = index == len(decisions) - 1
        kind = _pick(rng, KINDS)
        delegated = kind == "delegated"
        if delegated or kind == OrientationKind.EMPLOYMENT:
            body = rng.choice(france_travail)
        elif kind == OrientationKind.SOCIO_PROFESSIONAL:
            body = rng.choice(socio_pro)
        else:
            body = rng.choice(social)
        end = decisions[index + 1] if not current else REFERENCE_DATE
        referent = referent_at = None
        if rng.random() < REFERENT_SHARE:
            designated = day + timedelta(days=rng.randint(1, 45))
            if designated <= end:
                referent, referent_at = rng.choice(members[body.id]), _at(designated, rng)
        due = add_months(day, 1)
        signed = warned = late_on = None
        if referent is not None and rng.random() < CONTRACT_SHARE:
            signed_day = day + timedelta(days=rng.randint(7, 75))
            if signed_day <= end:
                signed = signed_day
        if signed is None or signed > due - timedelta(days=7):
            warned = due - timedelta(days=7) if due - timedelta(days=7) <= end else None
        if (signed is None or signed > due) and due < end:
            late_on = due + timedelta(days=1)
        asked_at = asked_by = None
        reason = ""
        if (not current or rng.random() < REORIENTATION_ASKED_SHARE) and referent is not None:
            asked = day + timedelta(days=rng.randint(20, 50))
            if asked < end:
                asked_at, asked_by = _at(asked, rng), referent
                reason = rng.choice(REORIENTATION_REASONS)
        rows.append(
            (
                beneficiary_index,
                (
                    code,
                    "" if delegated else kind,
                    delegated,
                    body.id,
                    rng.choice(("seeking", "long_term", "long_term", "never", "employed")),
                    rng.choice(("none", "cap_bep", "cap_bep", "bac", "higher")),
                    "",
                    rng.sample(("health", "housing", "mobility", "childcare"), k=rng.randint(0, 2)),
                    None if delegated and rng.random() < 0.5 else rng.choice(managers),
                    decided[index],
                    day,
                    None,
                    referent,
                    referent_at,
                    due,
                    signed,
                    warned,
                    late_on,
                    None if current else decided[index + 1],
                    asked_at,
                    asked_by,
                    reason,
                ),
            )
        )
    return decisions[-1]
