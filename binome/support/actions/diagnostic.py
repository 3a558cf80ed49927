"""The shared diagnostic's life: a draft recorded and completed, validated by both
professionals of the binôme (the France Travail side and the social side), or deleted while
it is a draft; the comments on its themes; the situations a département adds.

A draft counts nowhere: only a validated diagnostic enters the history, the comparisons and
the figures. Each action is one transaction with its timeline line and its audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation, OrganisationKind
from binome.people.models import Person
from binome.support import referential
from binome.support.access import file_access
from binome.support.actions.accompaniments import SOCIAL_WORKER_KINDS
from binome.support.actions.timeline import add_event, trace
from binome.support.diagnostic import ThemeAnswer, default_comment_visibility
from binome.support.models import (
    BARRIER_LEVELS,
    COMMENT_MAX_LENGTH,
    MAX_MOBILITY_RADIUS_KM,
    Accompaniment,
    BarrierLevel,
    DepartmentSituation,
    Diagnostic,
    DiagnosticComment,
    DiagnosticStatus,
    DiagnosticTheme,
    DiagnosticValidation,
    EventKind,
    TeamMember,
    Visibility,
)

FRANCE_TRAVAIL_SIDE = "france_travail"
SOCIAL_SIDE = "social"
SIDE_LABELS = {
    FRANCE_TRAVAIL_SIDE: "le conseiller ou la conseillère France Travail",
    SOCIAL_SIDE: "le travailleur ou la travailleuse sociale",
}


@dataclass
class DiagnosticContent:
    """What the form says besides the themes (the professional part and the conclusion)."""

    made_on: date
    co_author: User | None = None
    project: str = ""
    qualification: str = ""
    availability: str = ""
    mobility_radius_km: int | None = None
    recommended_kind: str = ""
    recommendation_reason: str = ""


CONTENT_FIELDS = (
    "made_on",
    "project",
    "qualification",
    "availability",
    "mobility_radius_km",
    "recommended_kind",
    "recommendation_reason",
)


def _check_answers(answers: Sequence[ThemeAnswer], department_id: str) -> None:
    known = referential.situations_by_theme(department_id)
    seen: set[str] = set()
    for answer in answers:
        if answer.theme not in known:
            raise ValidationError(f"Thème de diagnostic inconnu : « {answer.theme} ».")
        label = referential.theme_label(answer.theme)
        if answer.theme in seen:
            raise ValidationError(f"Le thème « {label} » est renseigné deux fois.")
        seen.add(answer.theme)
        if answer.level and answer.level not in BarrierLevel.values:
            raise ValidationError(f"{label} : niveau de frein inconnu « {answer.level} ».")
        for situation in answer.situations:
            if situation not in known[answer.theme]:
                raise ValidationError(
                    f"{label} : « {situation} » n'est pas une situation de ce thème."
                )
        if answer.visibility and answer.visibility not in Visibility.values:
            raise ValidationError(f"{label} : visibilité du commentaire inconnue.")
        if len(answer.comment) > COMMENT_MAX_LENGTH:
            raise ValidationError(
                f"{label} : le commentaire compte {len(answer.comment)} caractères, le maximum "
                f"est {COMMENT_MAX_LENGTH}."
            )


def _check_content(content: DiagnosticContent, person: Person, by: User) -> Organisation | None:
    """Refuse what the form cannot say right; the co-author's organisation on the team."""
    if content.made_on > timezone.localdate():
        raise ValidationError({"made_on": "La date du diagnostic ne peut pas être dans le futur."})
    radius = content.mobility_radius_km
    if radius is not None and not 0 <= radius <= MAX_MOBILITY_RADIUS_KM:
        raise ValidationError(
            {
                "mobility_radius_km": "Le rayon de mobilité est compris entre 0 et "
                f"{MAX_MOBILITY_RADIUS_KM} km."
            }
        )
    kind = content.recommended_kind
    if kind and kind not in referential.referential().orientation_kinds:
        raise ValidationError({"recommended_kind": "Accompagnement préconisé inconnu."})
    co_author = content.co_author
    if co_author is None:
        return None
    if co_author.pk == by.pk:
        raise ValidationError({"co_author": "Choisissez un autre professionnel que vous."})
    member = (
        TeamMember.objects.current()
        .filter(person=person, user=co_author)
        .select_related("organisation")
        .first()
    )
    if member is None:
        raise ValidationError(
            {"co_author": f"{co_author.get_full_name()} ne fait pas partie de l'équipe."}
        )
    return member.organisation


def _counts(levels: Sequence[str]) -> str:
    blocking = sum(1 for level in levels if level == BarrierLevel.BLOCKING)
    to_lift = sum(1 for level in levels if level == BarrierLevel.TO_LIFT)
    counts = []
    if blocking:
        counts.append(
            f"{blocking} frein{'s' if blocking > 1 else ''} bloquant{'s' * (blocking > 1)}"
        )
    if to_lift:
        counts.append(f"{to_lift} frein{'s' if to_lift > 1 else ''} à lever")
    return ", ".join(counts) if counts else "aucun frein"


def missing_themes(levels: dict[str, str]) -> list[str]:
    """The labels of the themes neither assessed nor marked « non abordé »."""
    return [theme.label for theme in referential.themes() if not levels.get(theme.code)]


def _lock(diagnostic: Diagnostic) -> Diagnostic:
    return (
        Diagnostic.objects.select_for_update(of=("self",))
        .select_related("person", "co_author")
        .get(pk=diagnostic.pk)
    )


def _save_answers(
    diagnostic: Diagnostic,
    answers: Sequence[ThemeAnswer],
    *,
    by: User,
    organisation: Organisation,
) -> bool:
    """Write the themes' levels and situations (and the new comments); whether a level or
    a situation changed."""
    existing = {row.theme: row for row in DiagnosticTheme.objects.filter(diagnostic=diagnostic)}
    changed = False
    rows: list[tuple[DiagnosticTheme, ThemeAnswer]] = []
    for answer in answers:
        situations = list(dict.fromkeys(answer.situations))
        row = existing.get(answer.theme)
        if row is None:
            row = DiagnosticTheme.objects.create(
                diagnostic=diagnostic, theme=answer.theme, level=answer.level, situations=situations
            )
            changed = True
        elif row.level != answer.level or list(row.situations) != situations:
            row.level, row.situations = answer.level, situations
            row.save(update_fields=["level", "situations"])
            changed = True
        rows.append((row, answer))
    comments = [
        DiagnosticComment(
            answer=row,
            person=diagnostic.person,
            author=by,
            organisation=organisation,
            visibility=answer.visibility or default_comment_visibility(answer.theme),
            text=answer.comment.strip(),
        )
        for row, answer in rows
        if answer.comment.strip()
    ]
    DiagnosticComment.objects.bulk_create(comments)
    return changed or bool(comments)


def _levels(diagnostic: Diagnostic) -> dict[str, str]:
    return dict(DiagnosticTheme.objects.filter(diagnostic=diagnostic).values_list("theme", "level"))


@transaction.atomic
def record_diagnostic(
    *,
    person: Person,
    by: User,
    organisation: Organisation,
    made_on: date,
    answers: Sequence[ThemeAnswer],
    co_author: User | None = None,
    accompaniment: Accompaniment | None = None,
    project: str = "",
    qualification: str = "",
    availability: str = "",
    mobility_radius_km: int | None = None,
    recommended_kind: str = "",
    recommendation_reason: str = "",
    validate: bool = False,
    request: HttpRequest | None = None,
) -> Diagnostic:
    """A draft diagnostic made with the person (a re-evaluation is a new one: history is
    kept); ``validate``: its author validates it at once (it must then be complete).

    One draft at a time per person: the next one waits until it is validated or deleted.
    ``co_author`` is the other professional of the binôme, on the person's current team.
    """
    content = DiagnosticContent(
        made_on=made_on,
        co_author=co_author,
        project=project,
        qualification=qualification,
        availability=availability,
        mobility_radius_km=mobility_radius_km,
        recommended_kind=recommended_kind,
        recommendation_reason=recommendation_reason,
    )
    co_author_organisation = _check_content(content, person, by)
    _check_answers(answers, person.department_id)
    # The person's row lock serialises two drafts started at the same moment.
    Person.objects.select_for_update().filter(pk=person.pk).first()
    draft = Diagnostic.objects.drafts().filter(person=person).first()
    if draft is not None:
        raise ValidationError(
            f"Un brouillon de diagnostic (du {draft.made_on:%d/%m/%Y}) attend déjà sa "
            "validation : complétez-le ou supprimez-le avant d'en commencer un autre."
        )
    diagnostic = Diagnostic.objects.create(
        person=person,
        accompaniment=accompaniment,
        recorded_by=by,
        organisation=organisation,
        co_author_organisation=co_author_organisation,
        status=DiagnosticStatus.DRAFT,
        **{name: getattr(content, name) for name in (*CONTENT_FIELDS, "co_author")},
    )
    _save_answers(diagnostic, answers, by=by, organisation=organisation)
    levels = [a.level for a in answers]
    missing = missing_themes({a.theme: a.level for a in answers})
    summary = (
        f"Diagnostic partagé du {diagnostic.made_on:%d/%m/%Y} commencé par {by.get_full_name()}"
        + (f" avec {content.co_author.get_full_name()}" if content.co_author else "")
        + f" (brouillon) : {_counts(levels)}"
        + (f", {len(missing)} thème{'s' * (len(missing) > 1)} à renseigner" if missing else "")
    )
    add_event(
        person=person,
        kind=EventKind.DIAGNOSTIC,
        actor=by,
        organisation=organisation,
        accompaniment=accompaniment,
        visibility=diagnostic.visibility,
        target=diagnostic,
        summary=summary,
    )
    record(
        AuditKind.DIAGNOSTIC_RECORDED,
        actor=by,
        organisation=organisation,
        department_id=person.department_id,
        target=diagnostic,
        person_id=person.pk,
        what=summary,
        request=request,
        details={"barriers": {a.theme: a.level for a in answers if a.level in BARRIER_LEVELS}},
    )
    if validate:
        _validate(diagnostic, by=by, request=request)
    return diagnostic


@transaction.atomic
def update_diagnostic(
    *,
    diagnostic: Diagnostic,
    by: User,
    organisation: Organisation,
    made_on: date,
    answers: Sequence[ThemeAnswer],
    co_author: User | None = None,
    project: str = "",
    qualification: str = "",
    availability: str = "",
    mobility_radius_km: int | None = None,
    recommended_kind: str = "",
    recommendation_reason: str = "",
    validate: bool = False,
    request: HttpRequest | None = None,
) -> Diagnostic:
    """Complete or correct a draft. A change after a first validation removes it: both
    professionals validate the diagnostic as it finally stands."""
    content = DiagnosticContent(
        made_on=made_on,
        co_author=co_author,
        project=project,
        qualification=qualification,
        availability=availability,
        mobility_radius_km=mobility_radius_km,
        recommended_kind=recommended_kind,
        recommendation_reason=recommendation_reason,
    )
    diagnostic = _lock(diagnostic)
    if not diagnostic.is_draft:
        raise ValidationError(
            "Un diagnostic validé ne se modifie plus : faites une réévaluation, qui s'ajoute "
            "à l'historique."
        )
    person = diagnostic.person
    co_author_organisation = _check_content(content, person, by)
    _check_answers(answers, person.department_id)
    fields = [
        name for name in CONTENT_FIELDS if getattr(diagnostic, name) != getattr(content, name)
    ]
    if diagnostic.co_author_id != (content.co_author.pk if content.co_author else None):
        fields += ["co_author", "co_author_organisation"]
    for name in fields:
        setattr(diagnostic, name, getattr(content, name, None))
    if "co_author_organisation" in fields:
        diagnostic.co_author_organisation = co_author_organisation
    if fields:
        diagnostic.save(update_fields=fields)
    changed = _save_answers(diagnostic, answers, by=by, organisation=organisation) or bool(fields)
    reset = changed and diagnostic.validations.exists()
    if reset:
        diagnostic.validations.all().delete()
    if changed:
        missing = missing_themes(_levels(diagnostic))
        summary = (
            f"Brouillon du diagnostic du {diagnostic.made_on:%d/%m/%Y} modifié par "
            f"{by.get_full_name()}"
            + (" : la validation déjà donnée est à redonner" if reset else "")
            + (f" ({len(missing)} thème{'s' * (len(missing) > 1)} à renseigner)" if missing else "")
        )
        trace(
            EventKind.DIAGNOSTIC,
            AuditKind.DIAGNOSTIC_UPDATED,
            person=person,
            by=by,
            organisation=organisation,
            accompaniment=diagnostic.accompaniment,
            visibility=diagnostic.visibility,
            target=diagnostic,
            summary=summary,
            request=request,
            details={"fields": fields, "validations_reset": reset},
        )
    if validate:
        _validate(diagnostic, by=by, request=request)
    return diagnostic


def validation_side(diagnostic: Diagnostic, user: User) -> tuple[str, Organisation] | None:
    """The side of the binôme ``user`` validates for (France Travail or social), through
    their place on the person's current team; None when they are not one of its two."""
    members = TeamMember.objects.current().filter(person_id=diagnostic.person_id, user=user)
    if diagnostic.accompaniment_id is not None:
        members = members.filter(accompaniment_id=diagnostic.accompaniment_id)
    for member in members.select_related("organisation").order_by("id"):
        kind = member.organisation.kind
        if kind == OrganisationKind.FRANCE_TRAVAIL:
            return FRANCE_TRAVAIL_SIDE, member.organisation
        if kind in SOCIAL_WORKER_KINDS:
            return SOCIAL_SIDE, member.organisation
    return None


def _validate(diagnostic: Diagnostic, *, by: User, request: HttpRequest | None) -> Diagnostic:
    diagnostic = _lock(diagnostic)
    person = diagnostic.person
    if not diagnostic.is_draft:
        raise ValidationError("Ce diagnostic est déjà validé par les deux professionnels.")
    missing = missing_themes(_levels(diagnostic))
    if missing:
        raise ValidationError(
            "Le diagnostic ne peut pas être validé : choisissez un niveau de frein, ou « non "
            f"abordé », pour chaque thème. Thème{'s' * (len(missing) > 1)} restant"
            f"{'s' * (len(missing) > 1)} : {', '.join(missing)}."
        )
    found = validation_side(diagnostic, by)
    if found is None:
        raise ValidationError(
            "Le diagnostic est validé par les deux professionnels du binôme : le conseiller "
            "France Travail et le travailleur social de l'équipe."
        )
    side, organisation = found
    access = file_access(by, person)
    if access is None or not (
        Diagnostic.objects.filter(pk=diagnostic.pk).visible_to(access).exists()
    ):
        raise ValidationError(
            "Vous ne voyez pas ce diagnostic : sans le consentement de la personne au partage "
            "de son dossier, l'autre institution du binôme ne peut pas le valider."
        )
    given = {v.side: v for v in diagnostic.validations.select_related("user")}
    if side in given:
        who = given[side].user
        raise ValidationError(
            "Vous avez déjà validé ce diagnostic : il attend la validation de l'autre "
            "professionnel du binôme."
            if who.pk == by.pk
            else f"{who.get_full_name()} a déjà validé ce diagnostic pour votre côté du "
            "binôme : il attend la validation de l'autre professionnel."
        )
    DiagnosticValidation.objects.create(
        diagnostic=diagnostic, user=by, organisation=organisation, side=side
    )
    other = SOCIAL_SIDE if side == FRANCE_TRAVAIL_SIDE else FRANCE_TRAVAIL_SIDE
    if other in given:
        diagnostic.status = DiagnosticStatus.VALIDATED
        diagnostic.validated_at = timezone.now()
        diagnostic.save(update_fields=["status", "validated_at"])
        summary = (
            f"Diagnostic partagé du {diagnostic.made_on:%d/%m/%Y} validé par "
            f"{given[other].user.get_full_name()} et {by.get_full_name()} : "
            f"{_counts(list(_levels(diagnostic).values()))}"
        )
    else:
        summary = (
            f"Diagnostic partagé du {diagnostic.made_on:%d/%m/%Y} validé par "
            f"{by.get_full_name()} ; il attend la validation de {SIDE_LABELS[other]} du binôme"
        )
    trace(
        EventKind.DIAGNOSTIC,
        AuditKind.DIAGNOSTIC_VALIDATED,
        person=diagnostic.person,
        by=by,
        organisation=organisation,
        accompaniment=diagnostic.accompaniment,
        visibility=diagnostic.visibility,
        target=diagnostic,
        summary=summary,
        request=request,
        details={"side": side, "validated": diagnostic.status == DiagnosticStatus.VALIDATED},
    )
    return diagnostic


@transaction.atomic
def validate_diagnostic(
    *, diagnostic: Diagnostic, by: User, request: HttpRequest | None = None
) -> Diagnostic:
    """One professional of the binôme validates the draft as it stands; the second
    validation (the other side's) makes it the diagnostic."""
    return _validate(diagnostic, by=by, request=request)


@transaction.atomic
def delete_diagnostic(
    *,
    diagnostic: Diagnostic,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> None:
    """A draft is deleted by the team (a validated diagnostic stays: it is the record)."""
    diagnostic = _lock(diagnostic)
    if not diagnostic.is_draft:
        raise ValidationError("Un diagnostic validé ne se supprime pas : il fait foi.")
    person = diagnostic.person
    summary = (
        f"Brouillon du diagnostic du {diagnostic.made_on:%d/%m/%Y} supprimé par "
        f"{by.get_full_name()}"
    )
    add_event(
        person=person,
        kind=EventKind.DIAGNOSTIC,
        actor=by,
        organisation=organisation,
        accompaniment=diagnostic.accompaniment,
        visibility=Visibility.TEAM,
        summary=summary,
    )
    record(
        AuditKind.DIAGNOSTIC_DELETED,
        actor=by,
        organisation=organisation,
        department_id=person.department_id,
        target=diagnostic,
        person_id=person.pk,
        what=summary,
        request=request,
    )
    diagnostic.delete()


@transaction.atomic
def comment_theme(
    *,
    answer: DiagnosticTheme,
    by: User,
    organisation: Organisation,
    text: str,
    visibility: str = "",
    request: HttpRequest | None = None,
) -> DiagnosticComment:
    """A professional's comment on a theme of a diagnostic (e.g. the binôme's other half)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Le commentaire est vide."})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "text": f"Le commentaire compte {len(text)} caractères, le maximum est "
                f"{COMMENT_MAX_LENGTH}."
            }
        )
    if visibility and visibility not in Visibility.values:
        raise ValidationError({"visibility": "Visibilité inconnue."})
    diagnostic = answer.diagnostic
    comment = DiagnosticComment.objects.create(
        answer=answer,
        person=diagnostic.person,
        author=by,
        organisation=organisation,
        visibility=visibility or default_comment_visibility(answer.theme),
        text=text,
    )
    summary = (
        f"Commentaire de {by.get_full_name()} sur le thème « {answer.get_theme_display()} » "
        f"du diagnostic du {diagnostic.made_on:%d/%m/%Y}"
    )
    trace(
        EventKind.DIAGNOSTIC,
        AuditKind.DIAGNOSTIC_COMMENTED,
        person=diagnostic.person,
        by=by,
        organisation=organisation,
        accompaniment=diagnostic.accompaniment,
        visibility=comment.visibility,
        target=comment,
        summary=summary,
        request=request,
        details={"visibility": comment.visibility},
    )
    return comment


# --- The situations a département adds ----------------------------------------------


@transaction.atomic
def add_department_situation(
    *,
    department_id: str,
    theme: str,
    label: str,
    by: User,
    request: HttpRequest | None = None,
) -> DepartmentSituation:
    """A situation of the département's own for a theme (the territory's administrators)."""
    label = " ".join(label.split())
    if theme not in referential.referential().themes:
        raise ValidationError({"theme": "Choisissez un thème du référentiel."})
    if not label:
        raise ValidationError({"label": "Indiquez la situation."})
    if label in referential.theme(theme).situations:
        raise ValidationError({"label": "Cette situation figure déjà dans le référentiel."})
    try:
        with transaction.atomic():
            situation = DepartmentSituation.objects.create(
                department_id=department_id, theme=theme, label=label, created_by=by
            )
    except IntegrityError:
        raise ValidationError(
            {"label": "Le département a déjà ajouté cette situation à ce thème."}
        ) from None
    record(
        AuditKind.SITUATION_CHANGED,
        actor=by,
        department_id=department_id,
        target=situation,
        what=f"Situation ajoutée au thème « {situation.get_theme_display()} » : {label}",
        request=request,
    )
    return situation


@transaction.atomic
def remove_department_situation(
    *, situation: DepartmentSituation, by: User, request: HttpRequest | None = None
) -> None:
    """The situation is no longer offered; the diagnostics that recorded it keep it."""
    record(
        AuditKind.SITUATION_CHANGED,
        actor=by,
        department_id=situation.department_id,
        target=situation,
        what=f"Situation retirée du thème « {situation.get_theme_display()} » : {situation.label}",
        request=request,
    )
    situation.delete()
