"""The territory's settings: the referrals' delays and the partner organisations of other
départements."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import (
    Organisation,
    Partnership,
)
from binome.referrals.models import (
    DEFAULT_URGENT_HOURS,
    URGENT_HOURS_MAX,
    URGENT_HOURS_MIN,
    ReferralSettings,
)


@transaction.atomic
def set_delays(
    *,
    department_id: str,
    reminder_days: int,
    expiry_days: int,
    urgent_hours: int = DEFAULT_URGENT_HOURS,
    by: User,
    request: HttpRequest | None = None,
) -> ReferralSettings:
    """The territory's delays; they apply to the referrals sent from now on."""
    if not (1 <= reminder_days <= 90 and 1 <= expiry_days <= 180):
        raise ValidationError("Relance entre 1 et 90 jours, expiration entre 1 et 180 jours.")
    if not URGENT_HOURS_MIN <= urgent_hours <= URGENT_HOURS_MAX:
        raise ValidationError(
            f"Le délai de réponse d'une orientation urgente est entre {URGENT_HOURS_MIN} et "
            f"{URGENT_HOURS_MAX} heures."
        )
    found, _ = ReferralSettings.objects.update_or_create(
        department_id=department_id,
        defaults={
            "reminder_days": reminder_days,
            "expiry_days": expiry_days,
            "urgent_hours": urgent_hours,
        },
    )
    record(
        AuditKind.REFERRAL_SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what=f"Délais des orientations : relance après {reminder_days} jours, expiration "
        f"{expiry_days} jours plus tard, réponse à une orientation urgente en "
        f"{urgent_hours} heures",
        request=request,
    )
    return found


@transaction.atomic
def declare_partner(
    *,
    department_id: str,
    organisation: Organisation,
    by: User,
    request: HttpRequest | None = None,
) -> Partnership:
    """Declare an organisation of another département a partner of the territory."""
    if organisation.department_id == department_id:
        raise ValidationError(f"« {organisation.name} » fait déjà partie du territoire.")
    partnership, created = Partnership.objects.get_or_create(
        department_id=department_id, organisation=organisation, defaults={"declared_by": by}
    )
    if created:
        record(
            AuditKind.REFERRAL_SETTINGS_CHANGED,
            actor=by,
            department_id=department_id,
            target=partnership,
            what=f"Partenaire déclaré : {organisation.name} ({organisation.department_id})",
            request=request,
        )
    return partnership


@transaction.atomic
def remove_partner(
    *, partnership: Partnership, by: User, request: HttpRequest | None = None
) -> None:
    """The referrals already sent stay; new ones to that organisation are refused."""
    record(
        AuditKind.REFERRAL_SETTINGS_CHANGED,
        actor=by,
        department_id=partnership.department_id,
        target=partnership,
        what=f"Partenaire retiré : {partnership.organisation.name}",
        request=request,
    )
    partnership.delete()
