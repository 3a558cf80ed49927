"""Assigning the referrals an organisation received to one of its members."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import (
    Membership,
    Organisation,
)
from binome.referrals import notices
from binome.referrals.models import (
    OPEN,
    EventAction,
    Referral,
    Via,
)
from binome.referrals.records import record_event
from binome.support import actions as support_actions
from binome.support.models import (
    EventKind,
)


@transaction.atomic
def assign(
    *,
    referrals: Sequence[Referral],
    to_user: User | None,
    organisation: Organisation,
    by: User,
    request: HttpRequest | None = None,
) -> int:
    """Assign open referrals received by ``organisation`` to one of its active members (or
    to nobody). Returns the number changed."""
    if (
        to_user is not None
        and not Membership.objects.active().filter(user=to_user, organisation=organisation).exists()
    ):
        raise ValidationError(f"{to_user.get_full_name()} n'est pas membre de {organisation}.")
    ids = sorted({r.pk for r in referrals})
    locked = list(
        Referral.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, to_organisation=organisation, status__in=OPEN)
        .select_related("person", "sender", "sender_organisation", "to_organisation")
        .order_by("pk")
    )
    changed = 0
    for referral in locked:
        if referral.assigned_to_id == (to_user.pk if to_user else None):
            continue
        referral.assigned_to = to_user
        referral.save(update_fields=["assigned_to"])
        record_event(
            referral,
            action=EventAction.ASSIGNED,
            from_status=referral.status,
            by=by,
            via=Via.APP,
            details={"to": to_user.pk if to_user else None},
        )
        support_actions.trace(
            EventKind.REFERRAL,
            AuditKind.REFERRAL_ASSIGNED,
            person=referral.person,
            by=by,
            organisation=referral.sender_organisation,
            target=referral,
            summary=(
                f"Orientation attribuée à {to_user.get_full_name()} ({organisation.name})"
                if to_user
                else f"Orientation remise à toute l'équipe de {organisation.name}"
            ),
            request=request,
        )
        if to_user is not None:
            notices.assigned(referral, actor=by)
        changed += 1
    return changed
