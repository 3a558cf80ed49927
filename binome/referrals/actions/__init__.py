"""State-changing operations on referrals, one module per step of their life cycle:
``send`` (send, withdraw), ``answer`` (seen, accepted, declined), ``outcomes`` (what became
of a referral to a service), ``reminders`` (an unanswered referral reminded, nudged,
expired), ``reorient``, ``assign`` (the receiving organisation's inbox) and ``territory``
(the delays and partners). ``transitions`` is what they share: lock, check the state
machine, apply, write the step.

Each is one transaction: the change under a row lock, its :class:`ReferralEvent`, the
line in the person's timeline with its audit row (``binome.referrals.records.trace``), and
the notifications. Refusals are ``ValidationError`` with a French message, shown as is.

``by`` is None for an answer given through a signed link (``via="link"``) or by the
periodic job (``via="job"``). Callers use ``binome.referrals.actions.<name>``.
"""

from binome.referrals.actions.answer import ACCOMPANIMENT_OF, accept, decline, mark_seen
from binome.referrals.actions.assign import assign
from binome.referrals.actions.outcomes import (
    OUTCOMES,
    abandon,
    complete,
    no_show,
    record_outcome,
    start,
)
from binome.referrals.actions.reminders import can_nudge_now, expire, last_nudge, nudge, remind
from binome.referrals.actions.reorient import reorient
from binome.referrals.actions.send import (
    MAX_ATTACHMENTS,
    SHARED_MODELS,
    SOCIAL_KINDS,
    has_referral_consent,
    is_partner,
    send_referral,
    withdraw,
)
from binome.referrals.actions.territory import declare_partner, remove_partner, set_delays
from binome.referrals.deadlines import run_deadlines

__all__ = [
    "ACCOMPANIMENT_OF",
    "MAX_ATTACHMENTS",
    "OUTCOMES",
    "SHARED_MODELS",
    "SOCIAL_KINDS",
    "abandon",
    "accept",
    "assign",
    "can_nudge_now",
    "complete",
    "declare_partner",
    "decline",
    "expire",
    "has_referral_consent",
    "is_partner",
    "last_nudge",
    "mark_seen",
    "no_show",
    "nudge",
    "record_outcome",
    "remind",
    "remove_partner",
    "reorient",
    "run_deadlines",
    "send_referral",
    "set_delays",
    "start",
    "withdraw",
]
