"""An accompaniment's life: opened, its state changed, extended, ended, followed up."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.access.predicates import binome_seat, effective_team_role
from binome.accounts.models import User
from binome.organisations.models import Organisation, OrganisationKind
from binome.people.models import Person
from binome.support.access import member_function_of
from binome.support.actions.locks import check_can_join, lock_accompaniment
from binome.support.actions.timeline import trace
from binome.support.models import (
    EXTENSION_MONTHS_BOUND,
    FOLLOWUP_AFTER_MONTHS,
    GLOBAL_DURATION_MONTHS,
    MAX_EXTENSIONS_BOUND,
    Accompaniment,
    Diagnostic,
    EventKind,
    ExitOrientation,
    ExitReason,
    Extension,
    FollowupOutcome,
    Kind,
    State,
    SupportSettings,
    TeamMember,
    TeamRole,
    Transition,
    add_months,
)

SOCIAL_WORKER_KINDS = (
    OrganisationKind.DEPARTMENT,
    OrganisationKind.CCAS,
    OrganisationKind.CAF,
    OrganisationKind.MSA,
    OrganisationKind.ASSOCIATION,
)
MAX_EXTENSION_MONTHS = 12
DIAGNOSTIC_DECIDES_WITHIN = timedelta(days=92)


@transaction.atomic
def open_accompaniment(
    *,
    person: Person,
    kind: str,
    started_on: date,
    by: User,
    organisation: Organisation,
    role: str,
    join_reason: str = "",
    planned_end_on: date | None = None,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """Open a proposed accompaniment; its opener joins its team.

    A global accompaniment lasts 12 months from its activation, decided after the shared
    diagnostic: its planned end is set then.
    """
    membership = check_can_join(by, organisation, person)
    role = effective_team_role(role, membership.function)
    # The person's row lock serialises two openings at the same moment.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    current = Accompaniment.objects.current_of(person, kind).first()
    if current is not None:
        raise ValidationError(
            f"{person.full_name} a déjà un {current.get_kind_display().lower()} ouvert (état : "
            f"{current.get_state_display().lower()}, depuis le {current.started_on:%d/%m/%Y}) : "
            "rejoignez son équipe plutôt que d'en ouvrir un second."
        )
    if kind == Kind.GLOBAL:
        planned_end_on = None
    elif planned_end_on is not None and planned_end_on <= started_on:
        raise ValidationError("La fin prévue doit être postérieure au début.")
    accompaniment = Accompaniment.objects.create(
        person=person,
        kind=kind,
        state=State.PROPOSED,
        started_on=started_on,
        planned_end_on=planned_end_on,
        created_by=by,
    )
    Transition.objects.create(
        accompaniment=accompaniment, from_state="", to_state=State.PROPOSED, by=by
    )
    opener = TeamMember.objects.create(
        accompaniment=accompaniment,
        person=person,
        user=by,
        organisation=organisation,
        role=role,
        join_reason=join_reason,
    )
    # Whoever opens it is its referent (when their declared function allows it) until the
    # team designates another.
    if effective_team_role(TeamRole.REFERENT, membership.function) == TeamRole.REFERENT:
        accompaniment.referent = opener
        accompaniment.save(update_fields=["referent"])
    summary = f"{accompaniment.get_kind_display()} proposé par {by.get_full_name()}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_OPENED,
        person=person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
    )
    return accompaniment


def validated_diagnostic(accompaniment: Accompaniment) -> Diagnostic | None:
    """The latest diagnostic validated by both professionals that decides this
    accompaniment: made within it, or for the person in the three months before its
    proposal (a re-evaluation during another accompaniment that concludes this one)."""
    recent = accompaniment.started_on - DIAGNOSTIC_DECIDES_WITHIN
    return (
        Diagnostic.objects.validated()
        .filter(person_id=accompaniment.person_id)
        .filter(Q(accompaniment=accompaniment) | Q(made_on__gte=recent))
        .order_by("-made_on", "-id")
        .first()
    )


def _activation(accompaniment: Accompaniment, activated_on: date) -> list[str]:
    """Set the activation date (and a global accompaniment's planned end, 12 months later);
    the fields to save. A global one needs a validated diagnostic."""
    if activated_on > timezone.localdate():
        raise ValidationError("La date d'activation ne peut pas être dans le futur.")
    if activated_on < accompaniment.started_on:
        raise ValidationError(
            "La date d'activation ne peut pas précéder la proposition de l'accompagnement "
            f"({accompaniment.started_on:%d/%m/%Y})."
        )
    accompaniment.activated_on = activated_on
    if accompaniment.kind != Kind.GLOBAL:
        return ["activated_on"]
    if validated_diagnostic(accompaniment) is None:
        raise ValidationError(
            "Un accompagnement global s'active après le diagnostic partagé : il doit être "
            "validé par le conseiller France Travail et par le travailleur social du binôme."
        )
    accompaniment.planned_end_on = add_months(activated_on, GLOBAL_DURATION_MONTHS)
    return ["activated_on", "planned_end_on"]


def binome_is_complete(accompaniment: Accompaniment) -> bool:
    """A global accompaniment needs, on its current team, a France Travail dedicated
    counselor and a social worker of a département, CCAS/CIAS, CAF, MSA or association:
    the part each member takes follows from the function their organisation declared
    (``binome_seat``), whoever of them is the designated referent."""
    team = [
        (binome_seat(role, function), kind)
        for role, kind, function in accompaniment.team.current()
        .annotate(function=member_function_of())
        .values_list("role", "organisation__kind", "function")
        .order_by()
    ]
    return (TeamRole.DEDICATED_COUNSELOR, OrganisationKind.FRANCE_TRAVAIL) in team and any(
        role == TeamRole.SOCIAL_WORKER and kind in SOCIAL_WORKER_KINDS for role, kind in team
    )


@transaction.atomic
def change_state(
    *,
    accompaniment: Accompaniment,
    to_state: str,
    by: User,
    organisation: Organisation,
    reason: str = "",
    activated_on: date | None = None,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """Activate, suspend or resume (ending goes through ``end_accompaniment``).

    A global accompaniment is activated after a diagnostic validated by both professionals
    (``decide_after_diagnostic`` records that decision); its 12 months count from then."""
    accompaniment = lock_accompaniment(accompaniment)
    labels = dict(State.choices)
    if to_state == State.ENDED:
        raise ValidationError("Pour terminer l'accompagnement, renseignez la sortie.")
    if to_state not in accompaniment.allowed_transitions():
        raise ValidationError(
            f"Un accompagnement « {labels[accompaniment.state].lower()} » ne peut pas passer à "
            f"« {labels.get(to_state, to_state).lower()} »."
        )
    if to_state == State.SUSPENDED and not reason.strip():
        raise ValidationError("Indiquez le motif de la suspension.")
    if (
        to_state == State.ACTIVE
        and accompaniment.kind == Kind.GLOBAL
        and not binome_is_complete(accompaniment)
    ):
        raise ValidationError(
            "Un accompagnement global ne démarre qu'avec son binôme : un conseiller dédié "
            "France Travail et un travailleur social doivent être dans l'équipe."
        )
    from_state = accompaniment.state
    fields = ["state"]
    if from_state == State.PROPOSED and to_state == State.ACTIVE:
        fields += _activation(accompaniment, activated_on or timezone.localdate())
    accompaniment.state = to_state
    accompaniment.save(update_fields=fields)
    Transition.objects.create(
        accompaniment=accompaniment, from_state=from_state, to_state=to_state, by=by, reason=reason
    )
    summary = (
        f"{accompaniment.get_kind_display()} : {labels[from_state].lower()} → "
        f"{labels[to_state].lower()} ({by.get_full_name()})"
    )
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_CHANGED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"from": from_state, "to": to_state},
    )
    return accompaniment


def _check_global_extension(accompaniment: Accompaniment, new_end_on: date) -> None:
    """« Un an maximum »: a global accompaniment is extended within its territory's bounds
    (by default once, by six months at most)."""
    current = accompaniment.planned_end_on
    if accompaniment.state == State.PROPOSED or current is None:
        raise ValidationError(
            "Un accompagnement global se prolonge une fois activé : sa fin prévue compte "
            "12 mois à partir de l'activation."
        )
    bounds = SupportSettings.for_department(accompaniment.person.department_id)
    done = accompaniment.extensions.count()
    if done >= bounds.max_extensions:
        raise ValidationError(
            "Le territoire ne permet pas de prolonger un accompagnement global."
            if bounds.max_extensions == 0
            else f"Cet accompagnement global a déjà été prolongé {done} fois : le territoire "
            f"en permet {bounds.max_extensions} au plus."
        )
    limit = add_months(current, bounds.extension_months)
    if new_end_on > limit:
        raise ValidationError(
            f"Une prolongation ne dépasse pas {bounds.extension_months} mois (réglage du "
            f"territoire) : au plus tard le {limit:%d/%m/%Y}."
        )


@transaction.atomic
def extend_accompaniment(
    *,
    accompaniment: Accompaniment,
    new_end_on: date,
    justification: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    accompaniment = lock_accompaniment(accompaniment)
    if not accompaniment.is_open:
        raise ValidationError("Un accompagnement terminé ne se prolonge pas.")
    if not justification.strip():
        raise ValidationError("La prolongation doit être justifiée.")
    current = accompaniment.planned_end_on
    if current is not None and new_end_on <= current:
        raise ValidationError(
            f"La nouvelle fin prévue doit être postérieure à la fin actuelle ({current:%d/%m/%Y})."
        )
    if accompaniment.kind == Kind.GLOBAL:
        _check_global_extension(accompaniment, new_end_on)
    elif new_end_on > add_months(current or accompaniment.started_on, MAX_EXTENSION_MONTHS):
        raise ValidationError("Une prolongation ne dépasse pas 12 mois à la fois.")
    accompaniment.planned_end_on = new_end_on
    accompaniment.extension_justification = justification
    accompaniment.save(update_fields=["planned_end_on", "extension_justification"])
    Extension.objects.create(
        accompaniment=accompaniment,
        previous_end_on=current,
        new_end_on=new_end_on,
        justification=justification,
        by=by,
    )
    summary = f"{accompaniment.get_kind_display()} prolongé jusqu'au {new_end_on:%d/%m/%Y}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_EXTENDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
    )
    return accompaniment


@transaction.atomic
def end_accompaniment(
    *,
    accompaniment: Accompaniment,
    ended_on: date,
    reason: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The exit: date, reason, situation; the situation is asked again 6 months later."""
    if reason == ExitReason.NOT_PERTINENT:
        raise ValidationError(
            "« Non pertinent après diagnostic » est la décision prise après le diagnostic "
            "partagé : enregistrez-la avec « Décider de l'accompagnement global »."
        )
    if reason not in ExitReason.values:
        raise ValidationError("Choisissez le motif de sortie dans la liste.")
    accompaniment = lock_accompaniment(accompaniment)
    return _close(
        accompaniment,
        ended_on=ended_on,
        reason=reason,
        situation=situation,
        by=by,
        organisation=organisation,
        request=request,
    )


def _close(
    accompaniment: Accompaniment,
    *,
    ended_on: date,
    reason: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None,
    orientation: str = "",
) -> Accompaniment:
    """End the (locked) accompaniment. The FSE+ situation at 6 months is asked of those
    who entered: not after a « non pertinent » decision."""
    if State.ENDED not in accompaniment.allowed_transitions():
        raise ValidationError("Cet accompagnement est déjà terminé.")
    if ended_on < accompaniment.started_on:
        raise ValidationError(
            "La date de sortie ne peut pas précéder le début de l'accompagnement "
            f"({accompaniment.started_on:%d/%m/%Y})."
        )
    if ended_on > timezone.localdate():
        raise ValidationError("La date de sortie ne peut pas être dans le futur.")
    entered = reason != ExitReason.NOT_PERTINENT
    from_state = accompaniment.state
    accompaniment.state = State.ENDED
    accompaniment.ended_on = ended_on
    accompaniment.exit_reason = reason
    accompaniment.exit_situation = situation
    accompaniment.exit_orientation = orientation
    accompaniment.followup_due_on = add_months(ended_on, FOLLOWUP_AFTER_MONTHS) if entered else None
    accompaniment.save(
        update_fields=[
            "state",
            "ended_on",
            "exit_reason",
            "exit_situation",
            "exit_orientation",
            "followup_due_on",
        ]
    )
    Transition.objects.create(
        accompaniment=accompaniment,
        from_state=from_state,
        to_state=State.ENDED,
        by=by,
        reason=accompaniment.get_exit_reason_display(),
    )
    summary = (
        f"Sortie de l'{accompaniment.get_kind_display().lower()} le {ended_on:%d/%m/%Y} : "
        f"{accompaniment.get_exit_reason_display()}"
    )
    if orientation:
        summary += f", orientation : {accompaniment.get_exit_orientation_display().lower()}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_ENDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"reason": reason, "orientation": orientation},
    )
    return accompaniment


@transaction.atomic
def decide_after_diagnostic(
    *,
    accompaniment: Accompaniment,
    pertinent: bool,
    by: User,
    organisation: Organisation,
    orientation: str = "",
    reason: str = "",
    decided_on: date | None = None,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The decision taken with the person after the validated shared diagnostic: global
    support pertinent, the accompaniment is activated (its 12 months count from
    ``decided_on``); not pertinent, it closes with that decision and the orientation to the
    fitting modality (the département's or CCAS's social support, or France Travail's other
    modalities), and no six-month situation is asked of someone who never entered."""
    accompaniment = lock_accompaniment(accompaniment)
    decided_on = decided_on or timezone.localdate()
    reason = reason.strip()
    if accompaniment.kind != Kind.GLOBAL or accompaniment.state != State.PROPOSED:
        raise ValidationError(
            "La décision après le diagnostic concerne un accompagnement global proposé ; "
            f"celui-ci est « {accompaniment.get_state_display().lower()} »."
        )
    if validated_diagnostic(accompaniment) is None:
        raise ValidationError(
            "La décision se prend après le diagnostic partagé : il doit d'abord être validé "
            "par le conseiller France Travail et par le travailleur social du binôme."
        )
    details = {"pertinent": pertinent, "orientation": orientation}
    if pertinent:
        change_state(
            accompaniment=accompaniment,
            to_state=State.ACTIVE,
            by=by,
            organisation=organisation,
            reason=reason or "Accompagnement global pertinent après le diagnostic partagé",
            activated_on=decided_on,
            request=request,
        )
        accompaniment.refresh_from_db()
        summary = (
            f"Décision après le diagnostic partagé : accompagnement global pertinent, activé le "
            f"{decided_on:%d/%m/%Y} jusqu'au {accompaniment.planned_end_on:%d/%m/%Y}"
        )
    else:
        if orientation not in ExitOrientation.values:
            raise ValidationError(
                {"orientation": "Choisissez vers quel accompagnement la personne est orientée."}
            )
        _close(
            accompaniment,
            ended_on=decided_on,
            reason=ExitReason.NOT_PERTINENT,
            situation=reason,
            orientation=orientation,
            by=by,
            organisation=organisation,
            request=request,
        )
        summary = (
            "Décision après le diagnostic partagé : accompagnement global non pertinent, "
            f"orientation : {ExitOrientation(orientation).label.lower()}"
        )
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_DECIDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details=details,
    )
    return accompaniment


@transaction.atomic
def record_followup(
    *,
    accompaniment: Accompaniment,
    outcome: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Accompaniment:
    """The person's situation six months after the exit (FSE+), asked of the team."""
    accompaniment = lock_accompaniment(accompaniment)
    today = timezone.localdate()
    if accompaniment.state != State.ENDED or accompaniment.followup_due_on is None:
        raise ValidationError("La situation à 6 mois se renseigne après la sortie.")
    if accompaniment.followup_recorded_on is not None:
        raise ValidationError(
            "La situation à 6 mois est déjà enregistrée "
            f"(le {accompaniment.followup_recorded_on:%d/%m/%Y})."
        )
    if today < accompaniment.followup_due_on:
        raise ValidationError(
            "La situation à 6 mois se renseigne à partir du "
            f"{accompaniment.followup_due_on:%d/%m/%Y}."
        )
    if outcome not in FollowupOutcome.values:
        raise ValidationError("Choisissez la situation de la personne dans la liste.")
    situation = situation.strip()
    if outcome == FollowupOutcome.OTHER and not situation:
        raise ValidationError("Précisez la situation quand vous choisissez « Autre ».")
    accompaniment.followup_outcome = outcome
    accompaniment.followup_situation = situation
    accompaniment.followup_recorded_on = today
    accompaniment.save(
        update_fields=["followup_outcome", "followup_situation", "followup_recorded_on"]
    )
    summary = f"Situation 6 mois après la sortie : {accompaniment.get_followup_outcome_display()}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.ACCOMPANIMENT_FOLLOWUP,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=accompaniment,
        summary=summary,
        request=request,
        details={"outcome": outcome},
    )
    return accompaniment


@transaction.atomic
def set_support_settings(
    *,
    department_id: str,
    max_extensions: int,
    extension_months: int,
    by: User,
    request: HttpRequest | None = None,
) -> SupportSettings:
    """The territory's bounds on extending a global accompaniment (« un an maximum »); they
    apply to the extensions asked from now on."""
    if not 0 <= max_extensions <= MAX_EXTENSIONS_BOUND:
        raise ValidationError(
            {
                "max_extensions": "Le nombre de prolongations est compris entre 0 et "
                f"{MAX_EXTENSIONS_BOUND}."
            }
        )
    if not 1 <= extension_months <= EXTENSION_MONTHS_BOUND:
        raise ValidationError(
            {"extension_months": f"Une prolongation dure de 1 à {EXTENSION_MONTHS_BOUND} mois."}
        )
    before = SupportSettings.for_department(department_id)
    found, _ = SupportSettings.objects.update_or_create(
        department_id=department_id,
        defaults={"max_extensions": max_extensions, "extension_months": extension_months},
    )
    record(
        AuditKind.SUPPORT_SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what="Prolongation de l'accompagnement global : "
        f"{max_extensions} prolongation{'s' * (max_extensions > 1)} de "
        f"{extension_months} mois au plus",
        request=request,
        details={
            "before": [before.max_extensions, before.extension_months],
            "after": [max_extensions, extension_months],
        },
    )
    return found
