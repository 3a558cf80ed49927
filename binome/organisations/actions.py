"""State-changing operations on organisations, members and roles.

Each is one transaction with its audit line; views only parse, call and render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.accounts.tokens import make_invitation_token
from binome.organisations.models import (
    FUNCTIONS_BY_KIND,
    Membership,
    Organisation,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.territories.models import Department


@transaction.atomic
def create_organisation(
    *, department: Department, data: dict[str, Any], by: User, request: HttpRequest | None = None
) -> Organisation:
    organisation = Organisation.objects.create(department=department, **data)
    record(
        AuditKind.ORGANISATION_CREATED,
        actor=by,
        target=organisation,
        department_id=department.code,
        what=organisation.name,
        request=request,
    )
    return organisation


@transaction.atomic
def update_organisation(
    *, organisation: Organisation, changed: list[str], by: User, request: HttpRequest | None = None
) -> Organisation:
    organisation.save()
    record(
        AuditKind.ORGANISATION_UPDATED,
        actor=by,
        target=organisation,
        department_id=organisation.department_id,
        what=organisation.name,
        details={"fields": changed},
        request=request,
    )
    return organisation


def _send_invitation(
    *, user: User, organisation: Organisation, by: User, new_account: bool
) -> None:
    link = ""
    if new_account:
        link = settings.BASE_URL + reverse(
            "accounts:accept_invitation", args=[make_invitation_token(user)]
        )
    context = {
        "user": user,
        "organisation": organisation,
        "by": by,
        "link": link,
        "login_url": settings.BASE_URL + reverse("accounts:login"),
        "days": settings.INVITATION_TIMEOUT_DAYS,
    }
    send_mail(
        subject=f"Binôme : {by.get_full_name()} vous invite à rejoindre {organisation.name}",
        message=render_to_string("organisations/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def invite_member(
    *,
    organisation: Organisation,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    job_title: str = "",
    function: str = "",
    by: User,
    request: HttpRequest | None = None,
) -> Membership:
    """Add a member: creates the account if needed and e-mails the invitation."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    new_account = user is None
    if user is None:
        user = User.objects.create_user(
            email=email, password=None, first_name=first_name.strip(), last_name=last_name.strip()
        )
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    if membership is not None and membership.is_active:
        raise ValidationError(f"{user.email} est déjà membre de {organisation.name}.")
    if membership is None:
        membership = Membership.objects.create(
            user=user,
            organisation=organisation,
            role=role,
            job_title=job_title,
            function=function,
            invited_by=by,
        )
    else:
        membership.is_active = True
        membership.role = role
        membership.function = function
        membership.deactivated_at = None
        membership.invited_by = by
        membership.save(
            update_fields=["is_active", "role", "function", "deactivated_at", "invited_by"]
        )
    record(
        AuditKind.MEMBER_INVITED,
        actor=by,
        organisation=organisation,
        target=membership,
        what=f"{user.email} invité comme {membership.get_role_display()}",
        request=request,
    )
    transaction.on_commit(
        lambda: _send_invitation(
            user=user, organisation=organisation, by=by, new_account=new_account
        )
    )
    return membership


@transaction.atomic
def deactivate_member(
    *, membership: Membership, by: User, request: HttpRequest | None = None
) -> None:
    if not membership.is_active:
        return
    if membership.role == Role.ADMIN and _last_admin(membership):
        raise ValidationError(
            "C'est le dernier administrateur de l'organisation : nommez d'abord un autre "
            "administrateur."
        )
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    record(
        AuditKind.MEMBER_DEACTIVATED,
        actor=by,
        organisation=membership.organisation,
        target=membership,
        what=f"{membership.user.email} désactivé",
        request=request,
    )


@transaction.atomic
def reactivate_member(
    *, membership: Membership, by: User, request: HttpRequest | None = None
) -> None:
    if membership.is_active:
        return
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    record(
        AuditKind.MEMBER_REACTIVATED,
        actor=by,
        organisation=membership.organisation,
        target=membership,
        what=f"{membership.user.email} réactivé",
        request=request,
    )


def _last_admin(membership: Membership) -> bool:
    return not (
        Membership.objects.select_for_update()
        .filter(organisation=membership.organisation, role=Role.ADMIN, is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def change_member_function(
    *, membership: Membership, function: str, by: User, request: HttpRequest | None = None
) -> None:
    """Declare what the member does: it bounds what they see of the files they work on
    (``binome.support.access``), from their next request."""
    if function and function not in FUNCTIONS_BY_KIND.get(membership.organisation.kind, ()):
        raise ValidationError("Cette fonction n'existe pas dans ce type d'organisation.")
    if membership.function == function:
        return
    previous = membership.get_function_display() or "non déclarée"
    membership.function = function
    membership.save(update_fields=["function"])
    record(
        AuditKind.ROLE_CHANGED,
        actor=by,
        organisation=membership.organisation,
        target=membership,
        what=(
            f"{membership.user.email} : fonction {previous} → "
            f"{membership.get_function_display() or 'non déclarée'}"
        ),
        request=request,
    )


@transaction.atomic
def change_member_role(
    *, membership: Membership, role: str, by: User, request: HttpRequest | None = None
) -> None:
    if membership.role == role:
        return
    if membership.role == Role.ADMIN and _last_admin(membership):
        raise ValidationError(
            "C'est le dernier administrateur de l'organisation : nommez d'abord un autre "
            "administrateur."
        )
    previous = membership.get_role_display()
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        AuditKind.ROLE_CHANGED,
        actor=by,
        organisation=membership.organisation,
        target=membership,
        what=f"{membership.user.email} : {previous} → {membership.get_role_display()}",
        request=request,
    )


@transaction.atomic
def grant_territory_role(
    *, user: User, department: Department, role: str, by: User, request: HttpRequest | None = None
) -> TerritoryRole:
    try:
        with transaction.atomic():
            granted = TerritoryRole.objects.create(
                user=user, department=department, role=role, granted_by=by
            )
    except IntegrityError:
        raise ValidationError(
            f"{user.email} a déjà le rôle « {TerritoryRoleKind(role).label} » sur ce territoire."
        ) from None
    record(
        AuditKind.TERRITORY_ROLE_GRANTED,
        actor=by,
        department_id=department.code,
        target=granted,
        what=f"{user.email} : {granted.get_role_display()}",
        request=request,
    )
    return granted


@transaction.atomic
def revoke_territory_role(
    *, territory_role: TerritoryRole, by: User, request: HttpRequest | None = None
) -> None:
    if (
        territory_role.role == TerritoryRoleKind.TERRITORY_ADMIN
        and not TerritoryRole.objects.select_for_update()
        .filter(department=territory_role.department, role=TerritoryRoleKind.TERRITORY_ADMIN)
        .exclude(pk=territory_role.pk)
        .exists()
    ):
        raise ValidationError(
            "C'est le dernier administrateur du territoire : il ne peut pas être retiré."
        )
    record(
        AuditKind.TERRITORY_ROLE_REVOKED,
        actor=by,
        department_id=territory_role.department_id,
        target=territory_role,
        what=f"{territory_role.user.email} : {territory_role.get_role_display()}",
        request=request,
    )
    territory_role.delete()
