from __future__ import annotations

from typing import Any

from django import template

from binome.notifications.forms import PreferencesForm
from binome.notifications.models import EmailFrequency, NotificationPreference

register = template.Library()


@register.inclusion_tag("notifications/_preferences.html", takes_context=True)
def notification_preferences(context: template.Context) -> dict[str, Any]:
    """The user's e-mail preference form, for the account page (one query)."""
    user = context["user"]
    frequency = (
        NotificationPreference.objects.filter(user=user)
        .values_list("email_frequency", flat=True)
        .first()
    ) or EmailFrequency.IMMEDIATE
    return {
        "form": PreferencesForm(initial={"email_frequency": frequency}),
        "csrf_token": context.get("csrf_token"),
    }
