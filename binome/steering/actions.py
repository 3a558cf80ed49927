"""The steering's changes: the territory's target delay."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from binome.access.audit import record
from binome.accounts.models import User
from binome.steering.models import TARGET_DAYS_BOUNDS, SteeringSettings

# The audit log's kind of this change (a plain code: access's list of kinds names it when
# it is given a label).
SETTINGS_CHANGED = "steering_settings_changed"


@transaction.atomic(durable=True)
def set_steering_settings(
    *, department_id: str, target_days: int, by: User, request: HttpRequest | None = None
) -> SteeringSettings:
    """The territory's target: the days from the orientation to the diagnostic partagé and
    to the activation, against which the dashboard counts."""
    low, high = TARGET_DAYS_BOUNDS
    if not low <= target_days <= high:
        raise ValidationError(
            {"target_days": f"L'objectif est compris entre {low} et {high} jours."}
        )
    found, _ = SteeringSettings.objects.update_or_create(
        department_id=department_id, defaults={"target_days": target_days}
    )
    record(
        SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what=f"Pilotage : objectif de {target_days} jours de l'orientation au diagnostic",
        request=request,
        details={"target_days": target_days},
    )
    return found
