"""The formatting of the dashboard's numbers, the French way."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString

from binome.core.figures import Number

register = template.Library()

NO_VALUE = "—"


def _number(value: int | float) -> str:
    text = f"{value:,.1f}".removesuffix(".0") if isinstance(value, float) else f"{value:,}"
    return text.replace(",", "\u202f").replace(".", ",")


@register.filter
def cell(value: object) -> str:
    """A cell of a table: numbers the French way, nothing as « — »."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return _number(value)
    return str(value)


@register.filter
def shown_rows(table: Any) -> list[SafeString]:
    """Each row of a table as HTML, its first cell the row's header, each cell as ``cell``
    writes it, escaped: in one pass in Python rather than a loop and a filter per cell in the
    template (a département's tables have thousands of cells)."""
    return [
        SafeString(
            f'<th scope="row">{escape(cell(row[0]))}</th>'
            + "".join(f"<td>{escape(cell(value))}</td>" for value in row[1:])
        )
        if row
        else SafeString("")
        for row in table.rows
    ]


@register.filter
def figure(value: Number, unit: str = "") -> str:
    """12.5 with « % » → « 12,5 % »; 21 with « jours » → « 21 jours »."""
    if value is None:
        return NO_VALUE
    text = _number(value)
    if unit == "%":
        return f"{text}\u00a0%"
    return f"{text}\u00a0{unit}" if unit else text


@register.filter
def change(value: Number, unit: str = "") -> str:
    """The difference with the previous period, signed: « +3 », « -2,5 points » (with a
    true minus sign)."""
    if value is None:
        return NO_VALUE
    if value == 0:
        return "stable"
    sign = "+" if value > 0 else "\u2212"
    text = _number(abs(value))
    if unit == "%":
        return f"{sign}{text}\u00a0point{'s' if abs(value) >= 2 else ''}"
    return f"{sign}{text}\u00a0{unit}" if unit else f"{sign}{text}"


@register.simple_tag
def export_url(place: Any, section: str, table: str, extension: str, query: str = "") -> str:
    """The address of a table's export, for the period on the page."""
    address: str = place.export_url(section, table, extension)
    return f"{address}?{query}" if query else address


@register.simple_tag
def full_table_url(place: Any, section: str, table: str, query: str = "") -> str:
    """The address of the page that shows a table whole, for the period on the page."""
    address: str = place.table_url(section, table)
    return f"{address}?{query}" if query else address


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@register.filter
def chartable(table: Any) -> bool:
    """A table is drawn when its second column holds numbers and one of them is not 0."""
    values = [row[1] for row in table.rows if len(row) > 1]
    return bool(values) and all(v is None or _is_number(v) for v in values) and any(values)


@register.filter
def chart_x(table: Any) -> str:
    """The bar chart's labels: the first column (``x`` of ``<bar-chart>``, a list of lists)."""
    return json.dumps([[str(row[0]) for row in table.rows]], ensure_ascii=False)


@register.filter
def chart_y(table: Any) -> str:
    """The bar chart's values: the second column, an empty value drawn as 0."""
    return json.dumps([[row[1] or 0 for row in table.rows]])


@register.filter
def chart_name(table: Any) -> str:
    return json.dumps([str(table.columns[1])], ensure_ascii=False)


@register.filter
def chart_ratio(table: Any) -> str:
    """Width over height: taller as the bars are more."""
    return "2.5" if len(table.rows) <= 4 else "1.5" if len(table.rows) <= 8 else "1.1"
