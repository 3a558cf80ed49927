"""The figures each app offers to the territory's steering, and how they are found.

An app that has figures to show on the steering dashboard (childcare's places, the RSA's
delays, the accompaniments' exits) writes a module ``figures.py`` and registers there a
function of a :class:`FigureScope` returning a :class:`FigureSection` (or ``None`` when it
has nothing for that scope)::

    from binome.core.figures import FigureScope, FigureSection, register

    @register("childcare", order=40)
    def childcare_section(scope: FigureScope) -> FigureSection | None: ...

The steering app imports every installed app's ``figures`` module
(:func:`django.utils.module_loading.autodiscover_modules`) and asks each registered function
for its section: an app that is not installed simply has no section, and no app imports the
steering app. A section's numbers are read in SQL over the scope's period; the steering app
asks twice (the period and the previous one of the same length) to compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.template.defaultfilters import floatformat
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

type Number = int | float | None


@dataclass(frozen=True)
class FigureScope:
    """What a section is asked about: a territory (a département's code, or ``None`` for
    the whole country), optionally one organisation, and a period whose both ends are
    included."""

    department: str | None
    start: date
    end: date
    organisation_id: int | None = None
    # Only the figures are read (the previous period, compared figure by figure): a section
    # may leave its tables out and spare their statements.
    figures_only: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Figure:
    """One number with its French label, its unit (``""``, ``"%"``, ``"jours"``,
    ``"heures"``) and the definition shown one click away."""

    key: str
    label: str
    value: Number
    unit: str = ""
    definition: str = ""


@dataclass(frozen=True)
class FigureTable:
    """A table of figures (by organisation, by month, by reason…): its column headers and
    its rows, in the order shown. The same rows are exported as CSV and XLSX."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    definition: str = ""

    @property
    def shown_rows(self) -> list[SafeString]:
        """Each row as HTML (its first cell the row's header, « — » for nothing, a number
        in the locale's format with at most one decimal, a text as it is): written here in
        one pass rather than by a template tag per cell — a département's table of referent
        bodies has a thousand cells."""
        return [
            format_html(
                '<th scope="row">{}</th>{}',
                "—" if row[0] is None else localize(row[0]),
                format_html_join("", "<td>{}</td>", ((_shown(cell),) for cell in row[1:])),
            )
            for row in self.rows
            if row
        ]


def _shown(cell: object) -> object:
    if cell is None:
        return "—"
    if isinstance(cell, int | float | Decimal) and not isinstance(cell, bool):
        return floatformat(cell, "-1")
    return localize(cell)  # a date as the templates show it, a text as it is


@dataclass(frozen=True)
class FigureSection:
    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[FigureTable, ...] = ()
    notes: tuple[str, ...] = field(default=())


type SectionFunction = Callable[[FigureScope], FigureSection | None]


@dataclass(frozen=True)
class _Registered:
    key: str
    order: int
    function: SectionFunction


_registry: dict[str, _Registered] = {}


def register(key: str, *, order: int = 100) -> Callable[[SectionFunction], SectionFunction]:
    """Register a section function under ``key`` (registering the same key again replaces
    it, so that a module imported twice does not count twice)."""

    def decorate(function: SectionFunction) -> SectionFunction:
        _registry[key] = _Registered(key, order, function)
        return function

    return decorate


def registered_sections() -> list[tuple[str, SectionFunction]]:
    """The registered section functions, in their order."""
    return [(r.key, r.function) for r in sorted(_registry.values(), key=lambda r: (r.order, r.key))]
