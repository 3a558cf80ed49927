"""State-changing operations on accounts. Each one writes its audit line in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User


@transaction.atomic
def confirm_totp_device(*, device: TOTPDevice, by: Any, request: HttpRequest | None = None) -> None:
    """Confirm a TOTP device after its first valid code; other devices of the user are removed."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(AuditKind.OTP_ENABLED, actor=by, request=request)


@transaction.atomic
def remove_totp_devices(*, user: User | Any, by: Any, request: HttpRequest | None = None) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    record(AuditKind.OTP_DISABLED, actor=by, request=request, details={"user": user.pk})


@transaction.atomic
def link_proconnect_identity(user: User, *, sub: str, request: HttpRequest) -> None:
    """Remember the user's ProConnect identity, so that the next logins match it by sub."""
    user.proconnect_sub = sub
    user.save(update_fields=["proconnect_sub"])
    record(
        AuditKind.PROCONNECT_LINKED,
        actor=user,
        request=request,
        what=f"Compte associé à l'identité ProConnect de {user.email}",
        details={"sub": sub},
    )
