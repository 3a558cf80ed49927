"""The signed link's panel on a referral's page (the sender sees it and re-sends it)."""

from __future__ import annotations

from typing import Any

from django import template

from binome.referrals.models import Referral, ReferralLink

register = template.Library()


@register.inclusion_tag("referrals/link/_panel.html")
def referral_link_panel(referral: Referral, access: Any) -> dict[str, Any]:
    """One query, for a referral to a structure without an account only."""
    if referral.has_account:
        return {"show": False}
    link = ReferralLink.objects.filter(referral=referral).select_related("sent_by").first()
    return {
        "show": True,
        "referral": referral,
        "link": link,
        "can_resend": bool(access.sender) and referral.is_open,
    }
