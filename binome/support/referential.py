"""The referential of the shared diagnostic and of the plan, typed.

The file (``binome/directory/data/diagnostic.yaml``, a copy of the programme's shared
referential) is read once, by ``binome.directory.search.diagnostic_referential``; this
module gives the diagnostic and the plan their view of it: themes with their situations
and objectives, the statuses of objectives and actions, the kinds of orientation.

Codes are never renamed (the database stores them); a département adds situations of
its own (``DepartmentSituation``), which :func:`situations_by_theme` appends to the
referential's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from binome.directory.search import diagnostic_referential


@dataclass(frozen=True)
class Theme:
    """A theme of barriers (frein): housing, mobility, health…"""

    code: str
    label: str
    kind: str  # social | professional
    sensitive: bool  # health: comments default to the author's organisation
    resources: tuple[str, ...]  # data·inclusion thématique catégories answering the theme
    situations: tuple[str, ...]
    objectives: tuple[str, ...]


@dataclass(frozen=True)
class Referential:
    themes: dict[str, Theme]
    action_statuses: dict[str, str]
    objective_statuses: dict[str, str]
    orientation_kinds: dict[str, str]


@cache
def referential() -> Referential:
    """The referential, built once per process from the YAML file."""
    data = diagnostic_referential()
    themes = {
        raw["code"]: Theme(
            code=raw["code"],
            label=raw["label"],
            kind=raw.get("kind", "social"),
            sensitive=bool(raw.get("sensitive", False)),
            resources=tuple(raw.get("resources") or ()),
            situations=tuple(raw.get("situations") or ()),
            objectives=tuple(raw.get("objectives") or ()),
        )
        for raw in data.get("themes", [])
    }
    return Referential(
        themes=themes,
        action_statuses=dict(data.get("action_statuses") or {}),
        objective_statuses=dict(data.get("objective_statuses") or {}),
        orientation_kinds=dict(data.get("orientation_kinds") or {}),
    )


def themes() -> list[Theme]:
    """The themes in the referential's order."""
    return list(referential().themes.values())


def theme(code: str) -> Theme:
    return referential().themes[code]


def theme_label(code: str) -> str:
    found = referential().themes.get(code)
    return found.label if found is not None else code


# Choices for model fields (callables: Django reads them when needed, migrations store
# the reference, not the list).
def theme_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in themes()]


def action_status_choices() -> list[tuple[str, str]]:
    return list(referential().action_statuses.items())


def objective_status_choices() -> list[tuple[str, str]]:
    return list(referential().objective_statuses.items())


def orientation_choices() -> list[tuple[str, str]]:
    return list(referential().orientation_kinds.items())


def situations_by_theme(department_id: str | None) -> dict[str, list[str]]:
    """Each theme's situations: the referential's, then the département's own (one query)."""
    from binome.support.models import DepartmentSituation

    result = {t.code: list(t.situations) for t in themes()}
    if department_id:
        for code, label in (
            DepartmentSituation.objects.filter(department_id=department_id)
            .order_by("theme", "label")
            .values_list("theme", "label")
        ):
            if code in result and label not in result[code]:
                result[code].append(label)
    return result
