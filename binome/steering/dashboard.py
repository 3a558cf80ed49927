"""The dashboard: every registered section, for a period and the previous one of the same
length. Each app's figures module registers its section (``binome.core.figures``); an app
that is not installed, or that registers none, simply has no section here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.module_loading import autodiscover_modules

from binome.core.figures import (
    Figure,
    FigureScope,
    FigureSection,
    FigureTable,
    Number,
    registered_sections,
)
from binome.steering.periods import Period


@dataclass(frozen=True)
class ComparedFigure:
    figure: Figure
    previous: Number

    @property
    def change(self) -> Number:
        """The difference with the previous period (points for a share)."""
        if self.figure.value is None or self.previous is None:
            return None
        difference = self.figure.value - self.previous
        return round(difference, 1) if isinstance(difference, float) else difference


@dataclass(frozen=True)
class ComparedSection:
    key: str  # the key it is registered under (its tables' export addresses name it)
    section: FigureSection
    figures: tuple[ComparedFigure, ...]

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def tables(self) -> tuple[FigureTable, ...]:
        return self.section.tables

    @property
    def notes(self) -> tuple[str, ...]:
        return self.section.notes


def discover() -> None:
    """Import every installed app's ``figures`` module (once: Python caches the imports)."""
    autodiscover_modules("figures")


def scope_of(department: str, period: Period, organisation_id: int | None = None) -> FigureScope:
    return FigureScope(department, period.start, period.end, organisation_id)


def sections(scope: FigureScope) -> list[FigureSection]:
    """Every registered section for the scope, in their order (those with nothing left out)."""
    discover()
    found = (function(scope) for _, function in registered_sections())
    return [section for section in found if section is not None]


def compared_sections(
    department: str, period: Period, organisation_id: int | None = None
) -> list[ComparedSection]:
    """Each section for the period, its figures set against the previous period's."""
    discover()
    scope = scope_of(department, period, organisation_id)
    previous_scope = replace(
        scope_of(department, period.previous(), organisation_id), figures_only=True
    )
    compared = []
    for key, function in registered_sections():
        section = function(scope)
        if section is None:
            continue
        before = function(previous_scope) if section.figures else None
        values = {figure.key: figure.value for figure in before.figures} if before else {}
        compared.append(
            ComparedSection(
                key,
                section,
                tuple(ComparedFigure(figure, values.get(figure.key)) for figure in section.figures),
            )
        )
    return compared


def find_table(
    department: str, period: Period, organisation_id: int | None, section_key: str, table_key: str
) -> FigureTable | None:
    """One table of one section, computed by the same function as the page. The section's
    figures are a table too (``chiffres``)."""
    discover()
    scope = scope_of(department, period, organisation_id)
    function = dict(registered_sections()).get(section_key)
    section = function(scope) if function is not None else None
    if section is None:
        return None
    if table_key == FIGURES_TABLE:
        return figures_table(section)
    return next((table for table in section.tables if table.key == table_key), None)


FIGURES_TABLE = "chiffres"


def figures_table(section: FigureSection) -> FigureTable:
    return FigureTable(
        FIGURES_TABLE,
        f"{section.title} : chiffres clés",
        ("Indicateur", "Valeur", "Unité", "Définition"),
        tuple((f.label, f.value, f.unit, f.definition) for f in section.figures),
    )
