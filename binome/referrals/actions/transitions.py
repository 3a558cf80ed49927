"""What every answer and outcome does: lock the referral, check its state machine
(``TRANSITIONS``), apply the change and write its step. Shared by the modules of this package;
each caller then writes its timeline line and its notifications."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from binome.accounts.models import User
from binome.referrals.models import (
    EventAction,
    Referral,
    Status,
    Via,
)
from binome.referrals.records import lock, record_event


def refusal(referral: Referral, to_status: str) -> ValidationError:
    """Why the referral cannot go to that state, for the one who tried."""
    label = dict(Status.choices)
    last = referral.events.exclude(action__in=[EventAction.REMINDED, EventAction.ASSIGNED]).last()
    if last is not None and referral.status != Status.SENT:
        when = timezone.localtime(last.at)
        return ValidationError(
            f"Cette orientation est déjà « {label[referral.status].lower()} » (le "
            f"{when:%d/%m/%Y à %H:%M}, par {last.actor_label}) : votre action n'a pas été "
            "enregistrée."
        )
    return ValidationError(
        f"Une orientation « {label[referral.status].lower()} » ne peut pas passer à "
        f"« {label.get(to_status, to_status).lower()} »."
    )


def transition(
    referral: Referral,
    *,
    to_status: str,
    action: str,
    by: User | None,
    via: str,
    message: str = "",
    fields: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Referral, str]:
    """Lock, check the state machine, apply; returns the locked referral and its former
    status. The caller writes the trace and the notifications."""
    locked = lock(referral)
    if not locked.can_go_to(to_status):
        raise refusal(locked, to_status)
    from_status = locked.status
    locked.status = to_status
    update = ["status"]
    for name, value in (fields or {}).items():
        setattr(locked, name, value)
        update.append(name)
    locked.save(update_fields=update)
    record_event(
        locked,
        action=action,
        from_status=from_status,
        by=by,
        via=via,
        message=message,
        details=details,
    )
    return locked, from_status


def actor_name(by: User | None, via: str, referral: Referral) -> str:
    if by is not None:
        return by.get_full_name()
    if via == Via.LINK:
        return f"{referral.target_label} (lien sécurisé)"
    return "Binôme (traitement automatique)"
