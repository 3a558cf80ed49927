"""The formatting of the referrals' figures."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def days(value: float | None) -> str:
    """4.25 → « 4,3 jours »; no value → « — »."""
    if value is None:
        return "—"
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text} jour{'s' if value >= 2 else ''}"


@register.filter
def percent(value: float | None) -> str:
    """0.756 → « 76 % »; no value → « — »."""
    if value is None:
        return "—"
    return f"{round(value * 100)}\u00a0%"
