"""Generator step: accompaniments, teams, notes, appointments and timelines.

Every generated person has one current accompaniment (60 % global with its binôme, 25 %
social led by the social worker, 15 % professional led by the counselor; most active,
some proposed, suspended or ended), and the remaining volume goes to earlier, ended
accompaniments of some persons. Each accompaniment gets its team, zero to three notes
(a fifth of them visible to the author's organisation only), the timeline events of
its opening and of its notes; half the persons have an appointment; the transitions of its
state machine lead it to its state (proposed when opened, then active, suspended or ended,
by its lead professional). Rows are loaded by COPY.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection

from binome.core.generation import REFERENCE_TIME, Context, sql_delete, step
from binome.people.generate import GeneratedPerson
from binome.support.models import (
    FOLLOWUP_AFTER_MONTHS,
    GLOBAL_DURATION_MONTHS,
    Accompaniment,
    Appointment,
    ExitReason,
    Kind,
    Medium,
    Note,
    State,
    TeamMember,
    TeamRole,
    TimelineEvent,
    Transition,
    add_months,
)

REFERENCE_DATE: date = REFERENCE_TIME.date()
NOTE_TEXTS = (
    "Entretien de suivi : point sur les démarches engagées depuis le dernier rendez-vous.",
    "Point sur la garde des enfants et les horaires compatibles avec une reprise d'emploi.",
    "Travail sur le CV et préparation d'un entretien d'embauche.",
    "Point budget : demande d'aide au FSL en cours, échéancier proposé au bailleur.",
    "Mobilité : inscription à l'auto-école sociale, financement à confirmer.",
    "Orientation vers une formation qualifiante, dossier de financement déposé.",
)
EXIT_REASONS = ExitReason.values
SUSPENSION = "Suspension le temps d'une hospitalisation ou d'une formation."
MEDIUMS = Medium.values


def _delete_generated_files(domain_suffix: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model, label in (
        (TimelineEvent, "événements supprimés"),
        (Note, "notes supprimées"),
        (Appointment, "rendez-vous supprimés"),
        (TeamMember, "membres d'équipe supprimés"),
        (Accompaniment, "accompagnements supprimés"),
    ):
        counts[label] = sql_delete(
            model._base_manager.filter(person__organisation__email__endswith=domain_suffix)
        )
    return counts


def _at(day: date, rng_hour: int) -> datetime:
    return (
        REFERENCE_TIME.replace(hour=0, minute=0)
        - timedelta(days=(REFERENCE_DATE - day).days)
        + timedelta(hours=rng_hour)
    )


@step(
    "accompagnements",
    models=(Accompaniment, Transition, TeamMember, Note, Appointment, TimelineEvent),
    reset=_delete_generated_files,
)
def generate_accompaniments(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    persons: list[GeneratedPerson] = ctx.ids["persons"]
    if not persons:
        return {}
    extra = max(0, ctx.scale.volume("accompaniments") - len(persons))
    earlier = set(rng.sample(range(len(persons)), min(extra, len(persons))))
    plan: list[tuple[GeneratedPerson, bool]] = []  # (person, is an earlier ended one)
    for index, person in enumerate(persons):
        if index in earlier:
            plan.append((person, True))
        plan.append((person, False))
    acc_ids = ctx.reserve_ids(Accompaniment, len(plan))
    accompaniments: list[tuple[object, ...]] = []
    team: list[tuple[object, ...]] = []
    notes: list[tuple[object, ...]] = []
    appointments: list[tuple[object, ...]] = []
    transitions: list[tuple[object, ...]] = []  # (accompaniment, from, to, by, at, reason)
    # Timeline events: (person, accompaniment, kind, at, actor, organisation, visibility,
    # target_type, target_id, summary); ids come from the sequence (no reservation needed).
    events: list[tuple[object, ...]] = []
    note_ids = iter(ctx.reserve_ids(Note, 3 * len(plan)))
    for acc_id, (person, is_earlier) in zip(acc_ids, plan, strict=True):
        draw = rng.random()
        kind = Kind.GLOBAL if draw < 0.6 else Kind.SOCIAL if draw < 0.85 else Kind.PROFESSIONAL
        if is_earlier:
            started = REFERENCE_DATE - timedelta(days=rng.randint(500, 1500))
            state = State.ENDED
        else:
            started = REFERENCE_DATE - timedelta(days=rng.randint(0, 420))
            draw = rng.random()
            state = (
                State.ACTIVE
                if draw < 0.7
                else State.PROPOSED
                if draw < 0.8
                else State.SUSPENDED
                if draw < 0.85
                else State.ENDED
            )
        planned_end = add_months(started, GLOBAL_DURATION_MONTHS) if kind == Kind.GLOBAL else None
        ended_on = exit_reason = followup = None
        if state == State.ENDED:
            ended_on = min(REFERENCE_DATE, started + timedelta(days=rng.randint(60, 400)))
            exit_reason = rng.choice(EXIT_REASONS)
            followup = add_months(ended_on, FOLLOWUP_AFTER_MONTHS)
        accompaniments.append(
            (
                acc_id,
                person.id,
                kind,
                state,
                started,
                planned_end,
                "",
                ended_on,
                exit_reason or "",
                "Situation à la sortie renseignée." if ended_on else "",
                followup,
                "",
                _at(started, 9),
            )
        )
        members = []
        if kind in (Kind.GLOBAL, Kind.PROFESSIONAL):
            role = TeamRole.DEDICATED_COUNSELOR if kind == Kind.GLOBAL else TeamRole.REFERENT
            members.append((person.counselor, role))
        if kind in (Kind.GLOBAL, Kind.SOCIAL):
            role = TeamRole.SOCIAL_WORKER if kind == Kind.GLOBAL else TeamRole.REFERENT
            members.append((person.social_worker, role))
        opened_at = _at(started, 9)
        left = _at(ended_on, 17) if ended_on and is_earlier else None
        for user, role in members:
            team.append(
                (acc_id, person.id, user.id, user.organisation.id, role, opened_at, "", left, "")
            )
        lead = members[0][0]
        transitions.append((acc_id, "", State.PROPOSED, lead.id, opened_at, ""))
        if state != State.PROPOSED:
            # Proposed accompaniments that ended were mostly never started.
            if state != State.ENDED or is_earlier or rng.random() < 0.8:
                transitions.append(
                    (acc_id, State.PROPOSED, State.ACTIVE, lead.id, _at(started, 10), "")
                )
                before = State.ACTIVE
            else:
                before = State.PROPOSED
            if state == State.SUSPENDED:
                day = started + timedelta(
                    days=rng.randint(0, max(0, (REFERENCE_DATE - started).days))
                )
                transitions.append(
                    (acc_id, State.ACTIVE, State.SUSPENDED, lead.id, _at(day, 15), SUSPENSION)
                )
            elif state == State.ENDED and ended_on is not None:
                transitions.append(
                    (acc_id, before, State.ENDED, lead.id, _at(ended_on, 16), exit_reason or "")
                )
        events.append(
            (
                person.id,
                acc_id,
                "accompaniment",
                opened_at,
                lead.id,
                lead.organisation.id,
                "team",
                "support.accompaniment",
                acc_id,
                f"{dict(Kind.choices)[kind]} proposé par {lead.first_name} {lead.last_name}",
            )
        )
        last_day = ended_on or REFERENCE_DATE
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            author, _role = rng.choice(members)
            day = started + timedelta(days=rng.randint(0, max(0, (last_day - started).days)))
            visibility = "organisation" if rng.random() < 0.2 else "team"
            note_id = next(note_ids)
            medium = rng.choice(MEDIUMS)
            notes.append(
                (
                    note_id,
                    person.id,
                    acc_id,
                    author.id,
                    author.organisation.id,
                    day,
                    medium,
                    rng.choice(NOTE_TEXTS),
                    False,
                    visibility,
                    _at(day, 11),
                )
            )
            events.append(
                (
                    person.id,
                    acc_id,
                    "note",
                    _at(day, 11),
                    author.id,
                    author.organisation.id,
                    visibility,
                    "support.note",
                    note_id,
                    f"Note d'entretien de {author.first_name} {author.last_name}",
                )
            )
        if not is_earlier and rng.random() < 0.5:
            day = REFERENCE_DATE + timedelta(days=rng.randint(-30, 30))
            status = "planned" if day >= REFERENCE_DATE else rng.choice(("held", "held", "missed"))
            appointments.append(
                (
                    person.id,
                    acc_id,
                    _at(day, 10),
                    "Agence",
                    f"{lead.first_name} {lead.last_name}",
                    status,
                    lead.id,
                    lead.organisation.id,
                    _at(day, 8),
                )
            )
    counts = {
        "accompagnements": ctx.copy(
            Accompaniment,
            [
                "id",
                "person",
                "kind",
                "state",
                "started_on",
                "planned_end_on",
                "extension_justification",
                "ended_on",
                "exit_reason",
                "exit_situation",
                "followup_due_on",
                "followup_situation",
                "created_at",
            ],
            accompaniments,
        ),
        "changements d'état": ctx.copy(
            Transition,
            ["accompaniment", "from_state", "to_state", "by", "at", "reason"],
            transitions,
        ),
        "membres d'équipe": ctx.copy(
            TeamMember,
            [
                "accompaniment",
                "person",
                "user",
                "organisation",
                "role",
                "joined_at",
                "join_reason",
                "left_at",
                "leave_reason",
            ],
            team,
        ),
        "notes": ctx.copy(
            Note,
            [
                "id",
                "person",
                "accompaniment",
                "author",
                "organisation",
                "date",
                "medium",
                "text",
                "is_health",
                "visibility",
                "created_at",
            ],
            notes,
        ),
        "rendez-vous": ctx.copy(
            Appointment,
            [
                "person",
                "accompaniment",
                "at",
                "place",
                "with_whom",
                "status",
                "created_by",
                "organisation",
                "created_at",
            ],
            appointments,
        ),
        "événements": ctx.copy(
            TimelineEvent,
            [
                "person",
                "accompaniment",
                "kind",
                "at",
                "actor",
                "organisation",
                "visibility",
                "target_type",
                "target_id",
                "summary",
            ],
            events,
        ),
    }
    # Each accompaniment's designated referent, by the rule of the migration that introduced
    # it: the current member whose role is « référent », else the earliest to join.
    with connection.cursor() as cursor:
        cursor.execute(DESIGNATE_REFERENTS)
    return counts


DESIGNATE_REFERENTS = """
UPDATE support_accompaniment AS a
SET referent_id = (
    SELECT t.id
    FROM support_teammember AS t
    WHERE t.accompaniment_id = a.id AND t.left_at IS NULL
    ORDER BY (t.role = 'referent') DESC, t.joined_at, t.id
    LIMIT 1
)
WHERE a.referent_id IS NULL
"""
