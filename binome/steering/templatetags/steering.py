"""The formatting of the dashboard's numbers, the French way."""

from __future__ import annotations

from typing import Any

from django import template

from binome.core.figures import Number

register = template.Library()

NO_VALUE = "—"


def _number(value: int | float) -> str:
    if isinstance(value, float):
        text = f"{value:,.1f}".removesuffix(".0")
    else:
        text = f"{value:,}"
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
    """The difference with the previous period, signed: « +3 », « −2,5 points »."""
    if value is None:
        return NO_VALUE
    if value == 0:
        return "stable"
    sign = "+" if value > 0 else "−"
    text = _number(abs(value))
    if unit == "%":
        return f"{sign}{text}\u00a0point{'s' if abs(value) >= 2 else ''}"
    return f"{sign}{text}\u00a0{unit}" if unit else f"{sign}{text}"


@register.simple_tag
def export_url(place: Any, section: str, table: str, extension: str, query: str = "") -> str:
    """The address of a table's export, for the period on the page."""
    address: str = place.export_url(section, table, extension)
    return f"{address}?{query}" if query else address
