"""The referrals' figures on an organisation's page, and their formatting."""

from __future__ import annotations

from typing import Any

from django import template

from binome.referrals.figures import figures_for

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


@register.inclusion_tag("referrals/figures/_organisation.html")
def organisation_referral_figures(organisation: Any) -> dict[str, Any]:
    """The organisation's referrals received and sent in the last twelve months (two
    queries, whatever their number)."""
    return {
        "organisation": organisation,
        "received": figures_for("receiver", organisation.pk),
        "sent": figures_for("sender", organisation.pk),
    }
