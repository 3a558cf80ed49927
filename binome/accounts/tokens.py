"""Signed, expiring, single-use links for invitations."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core import signing

from binome.accounts.models import User

_SALT = "binome.accounts.invitation"


def _state(user: User) -> str:
    # Changes once the password is set or the user logs in: the link then stops working.
    raw = f"{user.pk}:{user.password}:{user.last_login}:{user.is_active}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def make_invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=_SALT)


def read_invitation_token(token: str) -> User | None:
    """The invited user, or None if the link is forged, expired or already used."""
    try:
        data: dict[str, Any] = signing.loads(
            token, salt=_SALT, max_age=settings.INVITATION_TIMEOUT_DAYS * 86400
        )
    except signing.BadSignature:
        return None
    user_id = data.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or _state(user) != data.get("s"):
        return None
    return user


# --- Magic links: a person logs in to their space from a link sent by e-mail ------------

_MAGIC_SALT = "binome.accounts.magic_link"
MAGIC_LINK_MAX_AGE = 15 * 60  # seconds


def make_magic_link_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=_MAGIC_SALT)


def read_magic_link_token(token: str) -> User | None:
    """The user, or None if the link is forged, older than 15 minutes or already used.

    Single use: logging in changes ``last_login``, which is part of the signed state.
    """
    try:
        data: dict[str, Any] = signing.loads(token, salt=_MAGIC_SALT, max_age=MAGIC_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    user_id = data.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True, person__isnull=False).first()
    if user is None or _state(user) != data.get("s"):
        return None
    return user
