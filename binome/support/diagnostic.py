"""The shared diagnostic's reads: the user's view of the latest validated diagnostic, the
draft waiting for its validations, and the barriers lifted over time. Its writes are in
``binome.support.actions.diagnostic``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from binome.core.queries import USER_NAME, select_related_only
from binome.people.models import Person
from binome.support import referential
from binome.support.access import FileAccess
from binome.support.models import (
    BarrierLevel,
    Diagnostic,
    DiagnosticStatus,
    DiagnosticTheme,
    Visibility,
)


@dataclass
class ThemeAnswer:
    """What the form says for one theme."""

    theme: str
    level: str = ""  # empty: not assessed yet (a draft may leave it; validation may not)
    situations: list[str] = field(default_factory=list)
    comment: str = ""
    visibility: str = ""  # empty: the default (the organisation for a sensitive theme)


def default_comment_visibility(theme_code: str) -> str:
    """Health comments stay in the author's organisation unless the author shares them."""
    return Visibility.ORGANISATION if referential.theme(theme_code).sensitive else Visibility.TEAM


# --- What the file shows -------------------------------------------------------------


def _with_answers(diagnostic: Diagnostic | None) -> Diagnostic | None:
    if diagnostic is not None:
        answers = list(DiagnosticTheme.objects.filter(diagnostic=diagnostic).order_by("id"))
        for answer in answers:
            answer.diagnostic = diagnostic
        diagnostic.answer_list = answers  # type: ignore[attr-defined]
    return diagnostic


def _visible(person: Person, access: FileAccess) -> QuerySet[Diagnostic]:
    return select_related_only(
        Diagnostic.objects.filter(person=person).visible_to(access),
        recorded_by=USER_NAME,
        organisation=["name"],
        co_author=USER_NAME,
    )


def latest_diagnostic(person: Person, access: FileAccess) -> Diagnostic | None:
    """The user's view of the person's latest validated diagnostic (a draft counts
    nowhere), its answers in ``answer_list``.

    One query when the person has no diagnostic the user sees, two otherwise (the
    diagnostic, its answers): plain statements, cheaper to build than one that nests them.
    """
    return _with_answers(
        _visible(person, access)
        .filter(status=DiagnosticStatus.VALIDATED)
        .order_by("-made_on", "-id")
        .first()
    )


def file_diagnostics(
    person: Person, access: FileAccess
) -> tuple[Diagnostic | None, Diagnostic | None]:
    """The latest validated diagnostic (its answers in ``answer_list``) and the draft
    waiting for its validations, as the file shows them: the same queries as
    :func:`latest_diagnostic` (one row per status, then the validated one's answers)."""
    latest = {
        d.status: d
        for d in _visible(person, access).order_by("status", "-made_on", "-id").distinct("status")
    }
    return (
        _with_answers(latest.get(DiagnosticStatus.VALIDATED)),
        latest.get(DiagnosticStatus.DRAFT),
    )


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
