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
    # Only the columns the table shows: the directory's rows carry long texts and search
    # vectors, and every column selected is also a column the ORM compiles on each page.
    referrals = list(
        Referral.objects.filter(person=person)
        .select_related("sender_organisation", "to_organisation", "structure", "service")
        .only(
            "kind",
            "status",
            "urgency",
            "sent_at",
            "sender_organisation__name",
            "to_organisation__name",
            "structure__name",
            "service__name",
        )
        .order_by("-sent_at", "-id")[: SHOWN + 1]
    )
    return {"person": person, "referrals": referrals[:SHOWN], "more": len(referrals) > SHOWN}
