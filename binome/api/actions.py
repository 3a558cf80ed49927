"""Creating and revoking API tokens: one transaction each, with its audit line."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.api.models import PREFIX_LENGTH, ApiToken, hash_secret, new_secret
from binome.organisations.models import Organisation

MAX_ACTIVE_TOKENS = 20


@transaction.atomic
def create_token(
    *, organisation: Organisation, name: str, by: User, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """A new token of the organisation, and its secret (shown once, never stored)."""
    # Lock the organisation: two concurrent creations cannot both pass the limit.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    if ApiToken.objects.active().filter(organisation=organisation).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError(
            f"Cette organisation a déjà {MAX_ACTIVE_TOKENS} jetons actifs : révoquez ceux qui "
            "ne servent plus avant d'en créer un autre."
        )
    secret = new_secret()
    token = ApiToken.objects.create(
        organisation=organisation,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        created_by=by,
    )
    record(
        AuditKind.API_TOKEN_CREATED,
        actor=by,
        organisation=organisation,
        target=token,
        what=f"{token.name} ({token.prefix}…)",
        request=request,
    )
    return token, secret


@transaction.atomic
def revoke_token(*, token: ApiToken, by: User, request: HttpRequest | None = None) -> ApiToken:
    """The token stops working at once (its next request gets a 401)."""
    token = ApiToken.objects.select_for_update().select_related("organisation").get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError("Ce jeton est déjà révoqué.")
    token.revoked_at = timezone.now()
    token.revoked_by = by
    token.save(update_fields=["revoked_at", "revoked_by"])
    record(
        AuditKind.API_TOKEN_REVOKED,
        actor=by,
        organisation=token.organisation,
        target=token,
        what=f"{token.name} ({token.prefix}…)",
        request=request,
    )
    return token
