"""The plan of an accompaniment: objectives → actions, the directory services suggested for
each barrier, and what the file page shows of it.

Two professionals may edit the same objective or action at once: each form carries the
``version`` it was opened on; a save whose version is no longer the current one is
refused with :class:`StaleEdit`, which says who changed what, and the form keeps what the
user typed (nothing is overwritten silently, nothing typed is lost).

Writes are atomic and leave their timeline event and audit line in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.queries import USER_NAME, select_related_only
from binome.directory.models import PublicationStatus, Service
from binome.directory.search import DEFAULT_RADIUS_KM, search_services
from binome.organisations.models import Organisation
from binome.people.models import HouseholdRelation, Person
from binome.support import referential
from binome.support.access import FileAccess
from binome.support.actions import lock_accompaniment, trace
from binome.support.diagnostic import file_diagnostics
from binome.support.models import (
    BARRIER_LEVELS,
    DONE_ACTION_STATUS,
    OPEN_ACTION_STATUSES,
    Accompaniment,
    Action,
    Diagnostic,
    DiagnosticTheme,
    EventKind,
    Objective,
    TeamMember,
)

SUGGESTIONS_PER_THEME = 3
LABEL_MAX_LENGTH = 300
YOUNG_UNTIL = 26  # data·inclusion "jeunes": under 26
SENIOR_FROM = 55  # data·inclusion "seniors"


class StaleEdit(Exception):
    """The objective or action changed since the form was opened: the save is refused."""

    def __init__(self, current: Objective | Action, changes: list[tuple[str, str, str]]) -> None:
        self.current = current
        self.changes = changes  # (field label, value saved meanwhile, value typed)
        who = current.updated_by.get_full_name() if current.updated_by else "Quelqu'un"
        when = timezone.localtime(current.updated_at)
        super().__init__(
            f"{who} a modifié cet élément le {when:%d/%m/%Y à %H:%M}, pendant que vous le "
            "modifiiez : votre enregistrement n'a pas été fait. Vos saisies sont conservées "
            "ci-dessous ; comparez-les aux valeurs enregistrées, puis enregistrez à nouveau "
            "pour les appliquer."
        )


# --- Checks ------------------------------------------------------------------------


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError({"label": "Indiquez le libellé."})
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationError(
            {
                "label": f"Le libellé compte {len(label)} caractères, le maximum est "
                f"{LABEL_MAX_LENGTH}."
            }
        )
    return label


def _check_open(accompaniment: Accompaniment) -> None:
    if not accompaniment.is_open:
        raise ValidationError(
            "Cet accompagnement est terminé : son plan d'action ne se modifie plus."
        )


def _check_due_on(due_on: date | None, accompaniment: Accompaniment) -> None:
    if due_on is not None and due_on < accompaniment.started_on:
        raise ValidationError(
            {
                "due_on": f"L'échéance ({due_on:%d/%m/%Y}) précède le début de "
                f"l'accompagnement ({accompaniment.started_on:%d/%m/%Y}) : choisissez une date "
                "à partir du début."
            }
        )


def _check_carrier(carried_by: User | None, accompaniment: Accompaniment) -> None:
    if carried_by is not None and not (
        TeamMember.objects.current().filter(accompaniment=accompaniment, user=carried_by).exists()
    ):
        raise ValidationError(
            {"carried_by": f"{carried_by.get_full_name()} ne fait pas partie de l'équipe."}
        )


def _check_status(status: str, choices: dict[str, str], what: str) -> None:
    if status not in choices:
        raise ValidationError({"status": f"Statut {what} inconnu : « {status} »."})


def _log(
    *,
    item: Objective | Action,
    accompaniment: Accompaniment,
    by: User,
    organisation: Organisation,
    summary: str,
    request: HttpRequest | None,
    details: dict[str, Any] | None = None,
) -> None:
    trace(
        EventKind.PLAN,
        AuditKind.PLAN_CHANGED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        visibility=item.visibility,
        target=item,
        summary=summary,
        request=request,
        details=details,
    )


# --- Objectives --------------------------------------------------------------------


@transaction.atomic
def add_objective(
    *,
    accompaniment: Accompaniment,
    theme: str,
    label: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Objective:
    """An objective for a theme: one of the referential's for the theme, or free text."""
    accompaniment = lock_accompaniment(accompaniment)
    _check_open(accompaniment)
    if theme not in referential.referential().themes:
        raise ValidationError({"theme": "Choisissez un thème du référentiel."})
    objective = Objective.objects.create(
        accompaniment=accompaniment,
        person=accompaniment.person,
        theme=theme,
        label=_clean_label(label),
        created_by=by,
        updated_by=by,
        organisation=organisation,
    )
    _log(
        item=objective,
        accompaniment=accompaniment,
        by=by,
        organisation=organisation,
        summary=f"Objectif ajouté au plan ({objective.get_theme_display()}) : {objective.label}",
        request=request,
    )
    return objective


@transaction.atomic
def update_objective(
    *,
    objective: Objective,
    version: int,
    label: str,
    status: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Objective:
    """Change the label or the status; refused with ``StaleEdit`` if changed meanwhile."""
    current = (
        Objective.objects.select_for_update(of=("self",))
        .select_related("accompaniment__person", "updated_by")
        .get(pk=objective.pk)
    )
    label = _clean_label(label)
    _check_status(status, referential.referential().objective_statuses, "d'objectif")
    if current.version != version:
        statuses = referential.referential().objective_statuses
        changes = [
            (name, saved, typed)
            for name, saved, typed in (
                ("Objectif", current.label, label),
                ("Statut", statuses.get(current.status, current.status), statuses[status]),
            )
            if saved != typed
        ]
        raise StaleEdit(current, changes)
    _check_open(current.accompaniment)
    before = current.get_status_display()
    current.label, current.status = label, status
    current.version += 1
    current.updated_by = by
    current.save(update_fields=["label", "status", "version", "updated_by", "updated_at"])
    after = current.get_status_display()
    summary = f"Objectif modifié : {current.label}"
    if after != before:
        summary += f" ({before.lower()} → {after.lower()})"
    _log(
        item=current,
        accompaniment=current.accompaniment,
        by=by,
        organisation=organisation,
        summary=summary,
        request=request,
    )
    return current


# --- Actions -----------------------------------------------------------------------


@transaction.atomic
def add_action(
    *,
    objective: Objective,
    label: str,
    by: User,
    organisation: Organisation,
    status: str = "planned",
    due_on: date | None = None,
    carried_by: User | None = None,
    carried_by_person: bool = False,
    service: Service | None = None,
    request: HttpRequest | None = None,
) -> Action:
    """An action towards an objective; its due date is not before the accompaniment began."""
    accompaniment = lock_accompaniment(objective.accompaniment)
    _check_open(accompaniment)
    label = _clean_label(label)
    _check_status(status, referential.referential().action_statuses, "d'action")
    _check_due_on(due_on, accompaniment)
    _check_carrier(carried_by, accompaniment)
    if carried_by is not None and carried_by_person:
        raise ValidationError({"carried_by": "Une action est portée par une seule partie."})
    action = Action.objects.create(
        objective=objective,
        person=accompaniment.person,
        label=label,
        status=status,
        due_on=due_on,
        carried_by=carried_by,
        carried_by_person=carried_by_person,
        service=service,
        done_on=timezone.localdate() if status == DONE_ACTION_STATUS else None,
        created_by=by,
        updated_by=by,
        organisation=organisation,
    )
    summary = f"Action ajoutée au plan : {label}"
    if service is not None:
        summary += f" (service : {service.name})"
    _log(
        item=action,
        accompaniment=accompaniment,
        by=by,
        organisation=organisation,
        summary=summary,
        request=request,
        details={"service": service.pk} if service is not None else None,
    )
    return action


def _carrier_label(user: User | None, by_person: bool) -> str:
    if by_person:
        return "La personne"
    return user.get_full_name() if user is not None else "—"


@transaction.atomic
def update_action(
    *,
    action: Action,
    version: int,
    label: str,
    status: str,
    due_on: date | None,
    carried_by: User | None,
    carried_by_person: bool,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Action:
    """Change an action; refused with ``StaleEdit`` if someone changed it meanwhile."""
    current = (
        Action.objects.select_for_update(of=("self",))
        .select_related("objective__accompaniment__person", "updated_by", "carried_by")
        .get(pk=action.pk)
    )
    statuses = referential.referential().action_statuses
    label = _clean_label(label)
    _check_status(status, statuses, "d'action")
    if current.version != version:

        def day(value: date | None) -> str:
            return f"{value:%d/%m/%Y}" if value else "—"

        changes = [
            (name, saved, typed)
            for name, saved, typed in (
                ("Action", current.label, label),
                ("Statut", statuses.get(current.status, current.status), statuses[status]),
                ("Échéance", day(current.due_on), day(due_on)),
                (
                    "Portée par",
                    _carrier_label(current.carried_by, current.carried_by_person),
                    _carrier_label(carried_by, carried_by_person),
                ),
            )
            if saved != typed
        ]
        raise StaleEdit(current, changes)
    accompaniment = current.objective.accompaniment
    _check_open(accompaniment)
    if due_on != current.due_on:
        _check_due_on(due_on, accompaniment)
    if carried_by is not None and carried_by.pk != current.carried_by_id:
        _check_carrier(carried_by, accompaniment)
    if carried_by is not None and carried_by_person:
        raise ValidationError({"carried_by": "Une action est portée par une seule partie."})
    before = current.get_status_display()
    if status == DONE_ACTION_STATUS and current.status != DONE_ACTION_STATUS:
        current.done_on = timezone.localdate()
    elif status != DONE_ACTION_STATUS:
        current.done_on = None
    current.label, current.status, current.due_on = label, status, due_on
    current.carried_by, current.carried_by_person = carried_by, carried_by_person
    current.version += 1
    current.updated_by = by
    current.save(
        update_fields=[
            "label",
            "status",
            "due_on",
            "carried_by",
            "carried_by_person",
            "done_on",
            "version",
            "updated_by",
            "updated_at",
        ]
    )
    after = current.get_status_display()
    summary = f"Action modifiée : {label}"
    if after != before:
        summary += f" ({before.lower()} → {after.lower()})"
    _log(
        item=current,
        accompaniment=accompaniment,
        by=by,
        organisation=organisation,
        summary=summary,
        request=request,
    )
    return current


def set_action_status(
    *,
    action: Action,
    version: int,
    status: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Action:
    """One click on the file page ("Réalisée"): the other fields are kept."""
    return update_action(
        action=action,
        version=version,
        label=action.label,
        status=status,
        due_on=action.due_on,
        carried_by=action.carried_by,
        carried_by_person=action.carried_by_person,
        by=by,
        organisation=organisation,
        request=request,
    )


@transaction.atomic
def add_suggested_service(
    *,
    accompaniment: Accompaniment,
    theme: str,
    service: Service,
    by: User,
    organisation: Organisation,
    objective: Objective | None = None,
    objective_label: str = "",
    request: HttpRequest | None = None,
) -> Action:
    """ "Ajouter au plan": the service becomes an action of the theme's objective (created
    from ``objective_label`` when the theme has none yet), carried by its adder."""
    if service.status != PublicationStatus.PUBLISHED:
        raise ValidationError("Ce service n'est plus publié dans l'annuaire.")
    if objective is None:
        objective = add_objective(
            accompaniment=accompaniment,
            theme=theme,
            label=objective_label,
            by=by,
            organisation=organisation,
            request=request,
        )
    elif objective.accompaniment_id != accompaniment.pk or objective.theme != theme:
        raise ValidationError("Cet objectif n'est pas un objectif de ce thème dans ce plan.")
    return add_action(
        objective=objective,
        label=f"Mobiliser le service « {service.name} » ({service.structure.name})"[
            :LABEL_MAX_LENGTH
        ],
        service=service,
        carried_by=by,
        by=by,
        organisation=organisation,
        request=request,
    )


# --- What the file page shows (a constant number of queries) ------------------------


@dataclass
class ThemePlan:
    """A theme of the plan: its level at the latest diagnostic and its objectives."""

    theme: referential.Theme
    answer: DiagnosticTheme | None
    objectives: list[Objective] = field(default_factory=list)

    @property
    def is_barrier(self) -> bool:
        return self.answer is not None and self.answer.level in BARRIER_LEVELS


@dataclass
class FilePlan:
    diagnostic: Diagnostic | None  # the latest validated one
    draft: Diagnostic | None  # the draft waiting for its validations
    accompaniment: Accompaniment | None  # the accompaniment whose plan is shown
    can_edit: bool
    themes: list[ThemePlan]
    today: date

    @property
    def barriers(self) -> list[ThemePlan]:
        return [t for t in self.themes if t.is_barrier]

    @property
    def overdue_count(self) -> int:
        return sum(
            1
            for t in self.themes
            for o in t.objectives
            for a in o.actions.all()
            if a.is_overdue(self.today)
        )


def plan_accompaniment(
    accompaniments: list[Accompaniment], access: FileAccess
) -> Accompaniment | None:
    """The accompaniment whose plan the file shows: the user's latest open one, else the
    latest open one, else the latest one (``accompaniments`` newest first)."""
    mine = [a for a in accompaniments if a.pk in access.accompaniment_ids]
    for candidates in ([a for a in mine if a.is_open], [a for a in accompaniments if a.is_open]):
        if candidates:
            return candidates[0]
    return accompaniments[0] if accompaniments else None


def file_plan(
    person: Person,
    access: FileAccess,
    accompaniments: list[Accompaniment],
    *,
    has_diagnostics: bool = True,
    has_objectives: bool = True,
) -> FilePlan:
    """The diagnostic's barriers and the plan, as the file page shows them: four queries
    whatever the size of the plan (the diagnostic, its answers, objectives, actions), none
    for what the caller knows the person has not (``has_diagnostics``, ``has_objectives``:
    read with her row by the file page)."""
    diagnostic, draft = file_diagnostics(person, access) if has_diagnostics else (None, None)
    answers = {a.theme: a for a in getattr(diagnostic, "answer_list", [])}
    accompaniment = plan_accompaniment(accompaniments, access)
    objectives: list[Objective] = []
    if accompaniment is not None and has_objectives:
        objectives = list(
            Objective.objects.filter(accompaniment=accompaniment)
            .visible_to(access)
            .prefetch_related(
                Prefetch(
                    "actions",
                    queryset=select_related_only(
                        Action.objects.visible_to(access),
                        carried_by=USER_NAME,
                        service=["name"],
                    ).order_by("due_on", "created_at", "id"),
                )
            )
            .order_by("created_at", "id")
        )
    themes = []
    for theme in referential.themes():
        item = ThemePlan(theme=theme, answer=answers.get(theme.code))
        item.objectives = [o for o in objectives if o.theme == theme.code]
        if item.is_barrier or item.objectives:
            themes.append(item)
    can_edit = (
        accompaniment is not None
        and accompaniment.is_open
        and accompaniment.pk in access.accompaniment_ids
    )
    return FilePlan(
        diagnostic=diagnostic,
        draft=draft,
        accompaniment=accompaniment,
        can_edit=can_edit,
        themes=themes,
        today=timezone.localdate(),
    )


# --- Suggestions from the directory ------------------------------------------------


def person_publics(person: Person, today: date | None = None) -> list[str]:
    """The data·inclusion publics the person belongs to: a job seeker; a woman; a family
    (a child in the household); young (under 26) or senior (55 and over)."""
    today = today or timezone.localdate()
    publics = ["demandeurs-emploi"]
    if person.sex == "F":
        publics.append("femmes")
    if person.household.filter(relation=HouseholdRelation.CHILD).exists():
        publics.append("familles")
    born = person.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < YOUNG_UNTIL:
        publics.append("jeunes")
    elif age >= SENIOR_FROM:
        publics.append("seniors")
    return publics


@dataclass
class Suggestions:
    theme: referential.Theme
    services: list[Service]
    radius_km: int
    commune_known: bool


def suggest_services(
    person: Person, theme_code: str, *, radius_km: int | None = None
) -> Suggestions:
    """The nearest matching services of the directory for a barrier: the theme's
    thématiques, around the person's commune (within their mobility radius when the
    diagnostic gives one), for their publics; the first three of ``search_services``."""
    theme = referential.theme(theme_code)
    radius = radius_km or DEFAULT_RADIUS_KM
    if person.commune is None:
        return Suggestions(theme=theme, services=[], radius_km=radius, commune_known=False)
    result = search_services(
        themes=[theme_code],
        commune=person.commune,
        radius_km=radius,
        publics=person_publics(person),
        per_page=SUGGESTIONS_PER_THEME,
    )
    return Suggestions(theme=theme, services=result.services, radius_km=radius, commune_known=True)


# --- The worklist's alerts ------------------------------------------------------------


def with_plan_alerts(rows: QuerySet[TeamMember], today: date) -> QuerySet[TeamMember]:
    """Worklist rows (current team memberships) annotated, in the same query, with
    ``has_diagnostic`` (the person has a validated one) and ``overdue_actions`` (open actions of the
    row's accompaniment past their due date)."""
    overdue = (
        Action.objects.filter(
            person=OuterRef("person"),
            objective__accompaniment=OuterRef("accompaniment"),
            status__in=OPEN_ACTION_STATUSES,
            due_on__lt=today,
        )
        .order_by()
        .values("person")
        .annotate(count=Count("id"))
        .values("count")
    )
    return rows.annotate(
        has_diagnostic=Exists(Diagnostic.objects.validated().filter(person=OuterRef("person"))),
        overdue_actions=Coalesce(Subquery(overdue), 0),
    )
