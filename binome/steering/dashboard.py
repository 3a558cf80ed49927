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

# A table of more rows than this shows its first ones on the dashboard; the full table is one
# link away and its exports carry every row.
SHOWN_ROWS = 20

# What the first rows of the dashboard's long tables are, by (section, table), said plainly;
# another table's are « les premières lignes, dans l'ordre du tableau complet ».
_MOST_ACTIVE = "le plus d'accompagnements en cours en fin de période"
_FIRST_ROWS = {
    ("support", "by_commune"): "{shown} communes sur {total}, celles qui comptent " + _MOST_ACTIVE,
    ("support", "by_epci"): "{shown} EPCI sur {total}, ceux qui comptent " + _MOST_ACTIVE,
    ("support", "by_organisation"): "{shown} organisations sur {total}, celles qui comptent "
    + _MOST_ACTIVE,
}
_FIRST_ROWS_OF_ANY = "Les {shown} premières lignes sur {total}, dans l'ordre du tableau complet"


@dataclass(frozen=True)
class ShownTable:
    """A table as the dashboard shows it: ``table`` holds the rows shown (its chart draws
    the same), ``total`` the rows of the full table."""

    section_key: str
    table: FigureTable
    total: int

    @property
    def shortened(self) -> bool:
        return self.total > len(self.table.rows)

    @property
    def summary(self) -> str:
        """What the page shows of a shortened table, said plainly."""
        sentence = _FIRST_ROWS.get((self.section_key, self.table.key), _FIRST_ROWS_OF_ANY)
        return sentence.format(shown=len(self.table.rows), total=self.total) + "."


def shown_table(section_key: str, table: FigureTable) -> ShownTable:
    """The table as the dashboard shows it (its first ``SHOWN_ROWS`` rows when longer)."""
    rows = table.rows
    shown = replace(table, rows=rows[:SHOWN_ROWS]) if len(rows) > SHOWN_ROWS else table
    return ShownTable(section_key, shown, len(rows))


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

    @property
    def shown_tables(self) -> tuple[ShownTable, ...]:
        return tuple(shown_table(self.key, table) for table in self.section.tables)


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
