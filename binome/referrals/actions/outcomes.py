"""The outcome of a referral to a service: started, completed, abandoned, no-show, all
through :func:`record_outcome`."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.accounts.models import User
from binome.referrals import notices
from binome.referrals.actions.transitions import actor_name, transition
from binome.referrals.models import (
    OUTCOME_STATES,
    EventAction,
    Referral,
    Status,
    Via,
)
from binome.referrals.records import trace


def _check_outcome_date(on: date | None, referral: Referral) -> None:
    if on is None:
        return
    if on > timezone.localdate():
        raise ValidationError("La date ne peut pas être dans le futur.")
    if on < timezone.localdate(referral.sent_at):
        raise ValidationError(
            "La date ne peut pas précéder l'envoi de l'orientation "
            f"({timezone.localtime(referral.sent_at):%d/%m/%Y})."
        )


# The outcomes of a referral to a service: the step each records and the date it sets.
# From which states each may come is the state machine's (``TRANSITIONS``).
OUTCOMES: dict[str, tuple[str, str]] = {
    Status.STARTED: (EventAction.STARTED, "started_at"),
    Status.COMPLETED: (EventAction.COMPLETED, "closed_at"),
    Status.ABANDONED: (EventAction.ABANDONED, "closed_at"),
    Status.NO_SHOW: (EventAction.NO_SHOW, "closed_at"),
}
assert set(OUTCOMES) == set(OUTCOME_STATES)


@transaction.atomic
def record_outcome(
    *,
    referral: Referral,
    outcome: str,
    by: User | None,
    via: str = Via.APP,
    on: date | None = None,
    message: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """The outcome of a referral to a service, ``on`` the day it happened (not in the
    future, not before the sending): its step, its timeline line, the sender notified."""
    action, date_field = OUTCOMES[outcome]
    _check_outcome_date(on, referral)
    locked, _ = transition(
        referral,
        to_status=outcome,
        action=action,
        by=by,
        via=via,
        message=message,
        fields={date_field: timezone.now(), "outcome_message": message},
        details={"on": on.isoformat()} if on else None,
    )
    label = locked.get_status_display().lower()
    when = f" le {on:%d/%m/%Y}" if on else ""
    trace(
        locked,
        by=by,
        via=via,
        summary=f"Orientation vers {locked.target_label} : {label}{when} "
        f"(indiqué par {actor_name(by, via, locked)})",
        request=request,
    )
    notices.outcome(locked, actor=by)
    return locked


# The four outcomes a service records are one action, named for its callers.
start = partial(record_outcome, outcome=Status.STARTED)  # the person started with the service
complete = partial(record_outcome, outcome=Status.COMPLETED)  # went through it to its end
abandon = partial(record_outcome, outcome=Status.ABANDONED)  # left it before its end
no_show = partial(record_outcome, outcome=Status.NO_SHOW)  # never came
