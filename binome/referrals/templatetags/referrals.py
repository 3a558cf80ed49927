"""The referrals section of the person's file: its own query, whatever the file's size."""

from __future__ import annotations

from typing import Any

from django import template

from binome.referrals.access import referral_access
from binome.referrals.models import Referral

register = template.Library()
SHOWN = 20


@register.inclusion_tag("referrals/_file_section.html", takes_context=True)
def file_referrals(context: dict[str, Any], person: Any) -> dict[str, Any]:
    """The person's referrals, latest first (one query). A referral's page is for its
    sending and receiving sides: for the rest of the team, its line has no link."""
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
            "department_id",
            "sender_organisation__name",
            "to_organisation__name",
            "structure__name",
            "service__name",
        )
        .order_by("-sent_at", "-id")[: SHOWN + 1]
    )
    user = context["request"].user
    for referral in referrals:
        referral.openable = referral_access(user, referral).any  # type: ignore[attr-defined]
    return {"person": person, "referrals": referrals[:SHOWN], "more": len(referrals) > SHOWN}
