"""The commune picker's text: what the user typed, else the chosen commune."""

from __future__ import annotations

from django import template
from django.forms import BoundField

from binome.territories.forms import TypedCommune
from binome.territories.models import Commune

register = template.Library()


@register.filter
def picker_text(field: BoundField) -> str:
    """The text of the picker for a commune field: a commune typed and not chosen is shown
    again as typed (with its error), a chosen one as « Toulon (83000) »."""
    form = field.form
    if form.is_bound:
        cleaned = getattr(form, "cleaned_data", {}).get(field.name)
        if isinstance(cleaned, Commune):
            return str(cleaned)
        if isinstance(field.data, TypedCommune):
            return str(field.data)
    commune = getattr(getattr(form, "instance", None), "commune", None)
    return str(commune) if commune else ""


@register.filter
def picker_code(field: BoundField) -> str:
    """The INSEE code of the picker's hidden field: the commune chosen, or the one a typed
    text was understood as (so that the next submission need not read the text again)."""
    if field.form.is_bound:
        cleaned = getattr(field.form, "cleaned_data", {}).get(field.name)
        if isinstance(cleaned, Commune):
            return cleaned.insee_code
        if isinstance(field.data, TypedCommune):
            return ""
    value = field.value()
    return "" if value is None else str(value)
