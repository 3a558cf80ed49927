"""The referrals section of the person's file: its own query, whatever the file's size."""

from __future__ import annotations

from typing import Any

from django import template

from binome.referrals.models import Referral

register = template.Library()
SHOWN = 20


@register.inclusion_tag("referrals/_file_section.html")
def file_referrals(person: Any) -> dict[str, Any]:
    """The person's referrals, latest first (one query)."""
    referrals = list(
        Referral.objects.filter(person=person)
        .select_related("sender_organisation", "to_organisation", "structure", "service")
        .order_by("-sent_at", "-id")[: SHOWN + 1]
    )
    return {"person": person, "referrals": referrals[:SHOWN], "more": len(referrals) > SHOWN}
