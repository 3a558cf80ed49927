"""Who sees and answers a referral.

- The **sending organisation**'s members see the referrals it sent and may withdraw them
  before an answer.
- The **receiving organisation**'s members see the referrals addressed to it (with the
  person's identity and contact, and exactly the items of the file the sender shared) and
  answer them; an orientation to the binôme at France Travail is answered by the agency's
  dedicated counselors (``binome.referrals.dedicated``), also when sent inside the agency.
- A **reorientation request** is seen and decided by the territory's orientation managers.
- Everyone else gets a 404, steering roles included (a referral names a person).
Every read of a referral's page is written to the audit log (the person sees it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from binome.access.audit import record_read_when_shown
from binome.access.predicates import is_steering, roles_of
from binome.organisations.models import TerritoryRoleKind
from binome.referrals.dedicated import is_dedicated_counselor_of, reaches_dedicated_counselors
from binome.referrals.models import Referral, ReferralKind
from binome.support.access import FileAccess


@dataclass(frozen=True)
class ReferralAccess:
    """The user's sides of one referral, computed once per request."""

    sender: bool
    receiver: bool
    manager: bool
    # A member of the receiving organisation who does not answer this referral (an
    # orientation to its dedicated counselors): sees it, as in the inbox, without acting.
    colleague: bool = False

    @property
    def any(self) -> bool:
        return self.sender or self.receiver or self.manager or self.colleague


def is_orientation_manager(user: Any, department_id: str) -> bool:
    """The user decides the reorientation requests of the département."""
    return roles_of(user).has_territory_role(department_id, TerritoryRoleKind.ORIENTATION_MANAGER)


def referral_access(user: Any, referral: Referral) -> ReferralAccess:
    if not user.is_authenticated or is_steering(user, referral.department_id):
        return ReferralAccess(False, False, False)
    member_of = roles_of(user).member_of
    receiving = referral.to_organisation_id is not None and referral.to_organisation_id in member_of
    sending = referral.sender_organisation_id in member_of
    if receiving and reaches_dedicated_counselors(referral):
        # To the binôme at France Travail: its dedicated counselors answer; inside the agency,
        # they are the receiving side and their colleagues the sending one.
        answers = is_dedicated_counselor_of(user, referral.to_organisation_id) and (
            referral.sender_id != user.pk
        )
        internal = referral.sender_organisation_id == referral.to_organisation_id
        return ReferralAccess(
            sender=sending and not (internal and answers),
            receiver=answers,
            manager=False,
            colleague=not answers and not sending,
        )
    return ReferralAccess(
        sender=sending,
        receiver=receiving,
        manager=referral.kind == ReferralKind.REORIENTATION
        and is_orientation_manager(user, referral.department_id),
    )


def can_send_referral(access: FileAccess | None) -> bool:
    """A current team member of the person's file orients the person."""
    return access is not None and access.is_team


def can_answer_referral(access: ReferralAccess, referral: Referral) -> bool:
    """The receiving organisation's members answer (the orientation managers for a
    reorientation request), while an answer is awaited."""
    return (access.receiver or access.manager) and referral.is_awaiting


def can_report_outcome(access: ReferralAccess, referral: Referral) -> bool:
    """The receiving side tells what became of an accepted referral to a service."""
    return access.receiver and bool(
        referral.allowed_transitions() & {"started", "completed", "abandoned", "no_show"}
    )


def can_withdraw_referral(access: ReferralAccess, referral: Referral) -> bool:
    """The sending organisation withdraws its referral before an answer."""
    return access.sender and referral.is_awaiting


def can_nudge_referral(access: ReferralAccess, referral: Referral) -> bool:
    """The sender's side may « Relancer » a referral waiting for an answer."""
    return access.sender and not access.receiver and referral.is_awaiting


def can_assign_referrals(user: Any, organisation_id: int) -> bool:
    """Members of the receiving organisation share its inbox between them."""
    return organisation_id in roles_of(user).member_of


def get_referral_for_user(
    request: HttpRequest, pk: int, *, what: str = "", record: bool = True
) -> tuple[Referral, ReferralAccess]:
    """The referral and the user's sides of it, or 404 outside their reach. A GET is a read
    of the person's data: written to the audit log with ``what``."""
    referral = get_object_or_404(
        Referral.objects.select_related(
            "person",
            "person__commune",
            "sender",
            "sender_organisation",
            "to_organisation",
            "structure",
            "service",
            "assigned_to",
            "accompaniment",
            "appointment",
        ),
        pk=pk,
        person__merged_into__isnull=True,
    )
    access = referral_access(request.user, referral)
    if not access.any:
        raise Http404
    if record and what:
        record_read_when_shown(
            request=request, obj=referral, person_id=referral.person_id, what=what
        )
    return referral, access
