"""The referrals section of the person's file: its own query, whatever the file's size."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from binome.referrals.access import referral_access
from binome.referrals.models import Referral, ReferralKind, Status

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
            "answered_at",
            "appointment_at",
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
    return {
        "person": person,
        "referrals": referrals[:SHOWN],
        "more": len(referrals) > SHOWN,
        "diagnostic_to_plan": diagnostic_to_plan(referrals, context.get("plan")),
    }


def diagnostic_to_plan(referrals: list[Referral], plan: Any) -> Referral | None:
    """The orientation to the binôme accepted and not followed by a shared diagnostic yet
    (the next step the file shows), from what the page already loaded."""
    accepted = next(
        (r for r in referrals if r.kind == ReferralKind.GLOBAL and r.status == Status.ACCEPTED),
        None,
    )
    if accepted is None:
        return None
    diagnostic = getattr(plan, "diagnostic", None)
    if diagnostic is not None and (
        accepted.answered_at is None
        or diagnostic.made_on >= timezone.localdate(accepted.answered_at)
    ):
        return None
    return accepted
