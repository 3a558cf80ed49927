"""Authentication events written to the audit log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from binome.access.audit import record
from binome.access.models import AuditKind


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    method = getattr(request, "login_method", "mot de passe") if request is not None else ""
    record(AuditKind.LOGIN, actor=user, request=request, what=f"Connexion ({method})")


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(AuditKind.LOGOUT, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    record(
        AuditKind.LOGIN_FAILED,
        actor_label=email,
        request=request,
        what=f"Échec de connexion pour {email}",
    )


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def audit_lockout(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    record(
        AuditKind.LOCKOUT,
        actor_label=username or "",
        request=request,
        what=f"Connexion bloquée après des échecs répétés ({username or 'adresse IP'})",
    )
