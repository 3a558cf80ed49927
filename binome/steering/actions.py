"""The steering's changes: the territory's target delay, the comité de pilotage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.steering.models import (
    TARGET_DAYS_BOUNDS,
    ComiteCase,
    ComiteSession,
    FseOperation,
    SteeringSettings,
)
from binome.support.actions.timeline import add_event
from binome.support.models import EventKind

SETTINGS_CHANGED = AuditKind.STEERING_SETTINGS_CHANGED


@transaction.atomic(durable=True)
def set_steering_settings(
    *, department_id: str, target_days: int, by: User, request: HttpRequest | None = None
) -> SteeringSettings:
    """The territory's target: the days from the orientation to the diagnostic partagé and
    to the activation, against which the dashboard counts."""
    low, high = TARGET_DAYS_BOUNDS
    if not low <= target_days <= high:
        raise ValidationError(
            {"target_days": f"L'objectif est compris entre {low} et {high} jours."}
        )
    found, _ = SteeringSettings.objects.update_or_create(
        department_id=department_id, defaults={"target_days": target_days}
    )
    record(
        SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what=f"Pilotage : objectif de {target_days} jours de l'orientation au diagnostic",
        request=request,
        details={"target_days": target_days},
    )
    return found


# --- The comité de pilotage ----------------------------------------------------------

SESSION_PLANNED = AuditKind.COMITE_SESSION_PLANNED
CASE_FLAGGED = AuditKind.COMITE_CASE_FLAGGED
CASE_DECIDED = AuditKind.COMITE_CASE_DECIDED
SUMMARY_FIELDS = ("barriers", "tried", "question")


@transaction.atomic(durable=True)
def plan_session(
    *,
    department_id: str,
    held_on: date,
    place: str,
    members: Sequence[User],
    by: User,
    request: HttpRequest | None = None,
) -> ComiteSession:
    """A session of the comité, with its members (who will see its agenda)."""
    if held_on < timezone.localdate():
        raise ValidationError(
            {"held_on": "La date de la séance est passée : choisissez une date à venir."}
        )
    if not members:
        raise ValidationError({"members": "Choisissez au moins un membre du comité."})
    session = ComiteSession.objects.create(
        department_id=department_id, held_on=held_on, place=place.strip(), created_by=by
    )
    session.members.set(members)
    record(
        SESSION_PLANNED,
        actor=by,
        department_id=department_id,
        target=session,
        what=f"{session} planifié ({len(members)} membre{'s' * (len(members) > 1)})",
        request=request,
        details={"members": sorted(member.pk for member in members)},
    )
    return session


def _names_of(person: Person) -> list[str]:
    return [
        name for name in (person.first_name, person.last_name, person.birth_name) if len(name) > 2
    ]


def check_pseudonymised(person: Person, summary: dict[str, str]) -> None:
    """The summary names nobody: neither the person's names nor her NIR's digits."""
    errors: dict[str, str] = {}
    for field in SUMMARY_FIELDS:
        text = summary.get(field, "").casefold()
        if any(name.casefold() in text for name in _names_of(person)):
            errors[field] = "Le résumé ne doit pas nommer la personne : retirez son nom."
        elif sum(character.isdigit() for character in text) >= 13:
            errors[field] = "Le résumé ne doit pas contenir de numéro d'identification (NIR)."
    if errors:
        raise ValidationError(errors)


@transaction.atomic(durable=True)
def flag_case(
    *,
    session: ComiteSession,
    person: Person,
    organisation: Organisation,
    age_band: str,
    household: str,
    barriers: str,
    tried: str,
    question: str,
    agreement_on: date,
    by: User,
    request: HttpRequest | None = None,
) -> ComiteCase:
    """A team brings a person's situation to a session of her territory's comité, with a
    pseudonymised summary and her agreement; a line of her timeline says so."""
    if session.department_id != person.department_id or session.held_on < timezone.localdate():
        raise ValidationError({"session": "Choisissez une séance à venir du comité du territoire."})
    if agreement_on > timezone.localdate():
        raise ValidationError(
            {"agreement_on": "L'accord ne peut pas être daté de demain ou après."}
        )
    summary = {"barriers": barriers.strip(), "tried": tried.strip(), "question": question.strip()}
    check_pseudonymised(person, summary)
    case = ComiteCase.objects.create(
        session=session,
        person=person,
        organisation=organisation,
        flagged_by=by,
        age_band=age_band,
        household=household,
        agreement_on=agreement_on,
        **summary,
    )
    add_event(
        person=person,
        kind=EventKind.ACCOMPANIMENT,
        actor=by,
        organisation=organisation,
        summary=f"Situation présentée au {session} (accord de la personne du "
        f"{agreement_on:%d/%m/%Y})",
        target=case,
    )
    record(
        CASE_FLAGGED,
        actor=by,
        organisation=organisation,
        department_id=person.department_id,
        target=case,
        person_id=person.pk,
        what=f"Situation présentée au {session}",
        request=request,
    )
    return case


@transaction.atomic(durable=True)
def record_decision(
    *, case: ComiteCase, decision: str, by: User, request: HttpRequest | None = None
) -> ComiteCase:
    """The comité's decision or recommendation: it goes back to the team's file, as a line
    of the person's timeline that her team sees."""
    text = decision.strip()
    if not text:
        raise ValidationError({"decision": "Écrivez la décision ou la recommandation du comité."})
    locked = (
        ComiteCase.objects.select_for_update().select_related("session", "person").get(pk=case.pk)
    )
    locked.decision = text
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.save(update_fields=["decision", "decided_by", "decided_at"])
    add_event(
        person=locked.person,
        kind=EventKind.ACCOMPANIMENT,
        actor=by,
        organisation=locked.organisation,
        summary=f"Recommandation du {locked.session} : {text}"[:300],
        target=locked,
    )
    record(
        CASE_DECIDED,
        actor=by,
        department_id=locked.session.department_id,
        target=locked,
        person_id=locked.person_id,
        what=f"Décision du {locked.session} enregistrée",
        request=request,
        details={"decision": text},
    )
    return locked


# --- FSE+ operations -------------------------------------------------------------------

OPERATION_CREATED = AuditKind.FSE_OPERATION_CREATED
MAX_OPERATION_DAYS = 366 * 7  # a programming period of the European funds


@transaction.atomic  # not durable: the demo creates one inside its own transaction
def create_fse_operation(
    *,
    department_id: str,
    name: str,
    starts_on: date,
    ends_on: date,
    organisations: Sequence[Organisation],
    by: User,
    request: HttpRequest | None = None,
) -> FseOperation:
    """A territory's FSE+ operation: a period and the organisations its grant covers."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Donnez un nom à l'opération."})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "La fin de l'opération doit suivre son début."})
    if (ends_on - starts_on).days > MAX_OPERATION_DAYS:
        raise ValidationError({"ends_on": "Une opération dure sept ans au plus."})
    if not organisations:
        raise ValidationError({"organisations": "Choisissez au moins une organisation couverte."})
    if any(organisation.department_id != department_id for organisation in organisations):
        raise ValidationError(
            {"organisations": "Choisissez des organisations du territoire de l'opération."}
        )
    operation = FseOperation.objects.create(
        department_id=department_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=by,
    )
    operation.organisations.set(organisations)
    record(
        OPERATION_CREATED,
        actor=by,
        department_id=department_id,
        target=operation,
        what=f"Opération FSE+ « {name} » créée ({len(organisations)} organisation"
        f"{'s' * (len(organisations) > 1)})",
        request=request,
        details={"organisations": sorted(organisation.pk for organisation in organisations)},
    )
    return operation
