"""State-changing operations on accounts. Each one writes its audit line in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.audit import client_ip, record
from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.accounts.tokens import MAGIC_LINK_MAX_AGE, make_magic_link_token


@transaction.atomic
def confirm_totp_device(*, device: TOTPDevice, by: Any, request: HttpRequest | None = None) -> None:
    """Confirm a TOTP device after its first valid code; other devices of the user are removed."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(AuditKind.OTP_ENABLED, actor=by, request=request)


def pending_totp_device(*, user: User | Any) -> TOTPDevice:
    """The user's TOTP device being set up (created unconfirmed on the first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Application d'authentification", confirmed=False
        )
    return device


def record_otp_failure(*, user: User | Any, request: HttpRequest) -> None:
    record(AuditKind.OTP_FAILED, actor=user, request=request)


def record_address_lockout(*, email: str, request: HttpRequest) -> None:
    """A login refused because the client address failed too often (``lockout``)."""
    record(
        AuditKind.LOCKOUT,
        actor_label=email[:254],
        request=request,
        what="Connexion bloquée : trop d'échecs depuis cette adresse IP",
    )


def record_magic_link_refused(*, request: HttpRequest) -> None:
    record(
        AuditKind.MAGIC_LINK_REFUSED, request=request, what="Lien falsifié, expiré ou déjà utilisé"
    )


@transaction.atomic
def change_password(
    *, user: User | Any, password: str, request: HttpRequest | None = None, what: str = ""
) -> None:
    """Set the user's password (already validated by the form) and audit it."""
    user.set_password(password)
    user.save(update_fields=["password"])
    record(AuditKind.PASSWORD_CHANGED, actor=user, request=request, what=what)


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


# A person may ask for this many links per e-mail address (and per IP address) in the
# validity window of a link; further requests get the same answer and no e-mail.
MAGIC_LINKS_PER_WINDOW = 3
# The same for password reset links, per e-mail address (and 3 times as many per IP
# address) in 15 minutes.
PASSWORD_RESETS_PER_WINDOW = 3
PASSWORD_RESET_WINDOW = timedelta(minutes=15)


def _over_limit(
    kind: AuditKind, *, email: str, request: HttpRequest, per_address: int, window: timedelta
) -> bool:
    """Whether the requests of this kind recorded in the audit log within the window
    reached the limit for this e-mail address (or three times it for the client address)."""
    recent = AuditEvent.objects.filter(kind=kind, created_at__gte=timezone.now() - window)
    if recent.filter(actor_label=email)[:per_address].count() >= per_address:
        return True
    ip, per_ip = client_ip(request), per_address * 3
    return ip is not None and recent.filter(ip_address=ip)[:per_ip].count() >= per_ip


def send_magic_link(*, email: str, request: HttpRequest) -> bool:
    """E-mail a 15-minute login link to the person whose account has this address.

    Returns whether an e-mail left (the page says the same thing either way, so that
    nobody learns from it whether an address has an account). Throttled on the audit
    log: at most ``MAGIC_LINKS_PER_WINDOW`` requests per address and per IP address in
    15 minutes. Professionals log in with their password and second factor: no link.
    """
    email = email.strip().lower()
    throttled = _over_limit(
        AuditKind.MAGIC_LINK_REQUESTED,
        email=email,
        request=request,
        per_address=MAGIC_LINKS_PER_WINDOW,
        window=timedelta(seconds=MAGIC_LINK_MAX_AGE),
    )
    user = (
        User.objects.filter(email__iexact=email, is_active=True, person__isnull=False).first()
        if not throttled
        else None
    )
    record(
        AuditKind.MAGIC_LINK_REQUESTED,
        actor_label=email,
        request=request,
        what="Limite atteinte : aucun e-mail envoyé"
        if throttled
        else ("Lien envoyé" if user else "Aucun compte de personne : aucun e-mail envoyé"),
    )
    if user is None:
        return False
    link = settings.BASE_URL + reverse(
        "accounts:magic_link_login", args=[make_magic_link_token(user)]
    )
    send_mail(
        subject="Binôme : votre lien de connexion",
        message=render_to_string(
            "accounts/email/magic_link.txt",
            {"user": user, "link": link, "minutes": MAGIC_LINK_MAX_AGE // 60},
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True


def admit_password_reset(*, email: str, request: HttpRequest) -> bool:
    """Record a request for a password reset link; whether the link may be sent.

    Throttled on the audit log like the login links: at most
    ``PASSWORD_RESETS_PER_WINDOW`` requests per address (three times as many per client
    address) in 15 minutes. Beyond, the page answers the same and no e-mail leaves.
    """
    email = email.strip().lower()
    throttled = _over_limit(
        AuditKind.PASSWORD_RESET_REQUESTED,
        email=email,
        request=request,
        per_address=PASSWORD_RESETS_PER_WINDOW,
        window=PASSWORD_RESET_WINDOW,
    )
    record(
        AuditKind.PASSWORD_RESET_REQUESTED,
        actor_label=email,
        request=request,
        what="Limite atteinte : aucun e-mail envoyé" if throttled else "Demande reçue",
    )
    return not throttled
