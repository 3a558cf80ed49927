"""The shared diagnostic: recording one (or a re-evaluation), commenting a theme, the
situations a département adds, and the barriers lifted over time.

Writes are atomic and leave their timeline event and audit line in the same transaction
(see ``binome.support.actions``). Refusals are ``ValidationError`` with a French message,
keyed by the form field when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.queries import USER_NAME, select_related_only
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.support import referential
from binome.support.access import FileAccess
from binome.support.actions import add_event, trace
from binome.support.models import (
    BARRIER_LEVELS,
    COMMENT_MAX_LENGTH,
    MAX_MOBILITY_RADIUS_KM,
    Accompaniment,
    BarrierLevel,
    DepartmentSituation,
    Diagnostic,
    DiagnosticComment,
    DiagnosticTheme,
    EventKind,
    TeamMember,
    Visibility,
)


@dataclass
class ThemeAnswer:
    """What the form says for one theme."""

    theme: str
    level: str = BarrierLevel.NONE
    situations: list[str] = field(default_factory=list)
    comment: str = ""
    visibility: str = ""  # empty: the default (the organisation for a sensitive theme)


def default_comment_visibility(theme_code: str) -> str:
    """Health comments stay in the author's organisation unless the author shares them."""
    return Visibility.ORGANISATION if referential.theme(theme_code).sensitive else Visibility.TEAM


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
        if answer.level not in BarrierLevel.values:
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


def _summary(diagnostic: Diagnostic, answers: Sequence[ThemeAnswer], by: User) -> str:
    blocking = sum(1 for a in answers if a.level == BarrierLevel.BLOCKING)
    to_lift = sum(1 for a in answers if a.level == BarrierLevel.TO_LIFT)
    parts = [f"Diagnostic partagé du {diagnostic.made_on:%d/%m/%Y} par {by.get_full_name()}"]
    if diagnostic.co_author is not None:
        parts.append(f" avec {diagnostic.co_author.get_full_name()}")
    counts = []
    if blocking:
        counts.append(
            f"{blocking} frein{'s' if blocking > 1 else ''} bloquant{'s' * (blocking > 1)}"
        )
    if to_lift:
        counts.append(f"{to_lift} frein{'s' if to_lift > 1 else ''} à lever")
    parts.append(" : " + (", ".join(counts) if counts else "aucun frein"))
    return "".join(parts)


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
    request: HttpRequest | None = None,
) -> Diagnostic:
    """A diagnostic made with the person (a re-evaluation is a new one: history is kept).

    ``co_author`` is the other professional of the binôme, on the person's current team.
    """
    if made_on > timezone.localdate():
        raise ValidationError({"made_on": "La date du diagnostic ne peut pas être dans le futur."})
    if mobility_radius_km is not None and not 0 <= mobility_radius_km <= MAX_MOBILITY_RADIUS_KM:
        raise ValidationError(
            {
                "mobility_radius_km": "Le rayon de mobilité est compris entre 0 et "
                f"{MAX_MOBILITY_RADIUS_KM} km."
            }
        )
    if recommended_kind and recommended_kind not in referential.referential().orientation_kinds:
        raise ValidationError({"recommended_kind": "Accompagnement préconisé inconnu."})
    _check_answers(answers, person.department_id)
    co_author_organisation = None
    if co_author is not None:
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
        co_author_organisation = member.organisation
    diagnostic = Diagnostic.objects.create(
        person=person,
        accompaniment=accompaniment,
        made_on=made_on,
        recorded_by=by,
        organisation=organisation,
        co_author=co_author,
        co_author_organisation=co_author_organisation,
        project=project,
        qualification=qualification,
        availability=availability,
        mobility_radius_km=mobility_radius_km,
        recommended_kind=recommended_kind,
        recommendation_reason=recommendation_reason,
    )
    rows = DiagnosticTheme.objects.bulk_create(
        [
            DiagnosticTheme(
                diagnostic=diagnostic,
                theme=answer.theme,
                level=answer.level,
                situations=list(dict.fromkeys(answer.situations)),
            )
            for answer in answers
        ]
    )
    DiagnosticComment.objects.bulk_create(
        [
            DiagnosticComment(
                answer=row,
                person=person,
                author=by,
                organisation=organisation,
                visibility=answer.visibility or default_comment_visibility(answer.theme),
                text=answer.comment.strip(),
            )
            for row, answer in zip(rows, answers, strict=True)
            if answer.comment.strip()
        ]
    )
    summary = _summary(diagnostic, answers, by)
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
        details={
            "barriers": {a.theme: a.level for a in answers if a.level in BARRIER_LEVELS},
        },
    )
    return diagnostic


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


# --- What the file shows -------------------------------------------------------------


def latest_diagnostic(person: Person, access: FileAccess) -> Diagnostic | None:
    """The user's view of the person's latest diagnostic, its answers in ``answer_list``.

    One query when the person has no diagnostic the user sees, two otherwise (the
    diagnostic, its answers): plain statements, cheaper to build than one that nests them.
    """
    diagnostic = (
        select_related_only(
            Diagnostic.objects.filter(person=person).visible_to(access),
            recorded_by=USER_NAME,
            organisation=["name"],
            co_author=USER_NAME,
        )
        .order_by("-made_on", "-id")
        .first()
    )
    if diagnostic is not None:
        answers = list(DiagnosticTheme.objects.filter(diagnostic=diagnostic).order_by("id"))
        for answer in answers:
            answer.diagnostic = diagnostic
        diagnostic.answer_list = answers  # type: ignore[attr-defined]
    return diagnostic


@dataclass
class BarrierRow:
    """One theme over time: its level at each diagnostic, oldest first."""

    theme: referential.Theme
    levels: list[DiagnosticTheme | None]

    @property
    def lifted(self) -> bool:
        """A barrier once, none at the latest diagnostic."""
        known = [level for level in self.levels if level is not None]
        return (
            len(known) > 1
            and any(a.is_barrier for a in known[:-1])
            and known[-1].level == BarrierLevel.NONE
        )

    @property
    def ever_a_barrier(self) -> bool:
        return any(level is not None and level.is_barrier for level in self.levels)


def barriers_over_time(diagnostics: Sequence[Diagnostic]) -> list[BarrierRow]:
    """Rows of the "barriers lifted over time" table (``diagnostics`` oldest first, their
    ``answers`` prefetched)."""
    by_diagnostic = [{a.theme: a for a in d.answers.all()} for d in diagnostics]
    return [
        BarrierRow(theme=theme, levels=[answers.get(theme.code) for answers in by_diagnostic])
        for theme in referential.themes()
    ]


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
