"""Protecting the NIR (numéro de sécurité sociale) at rest.

The NIR is never stored in clear. Two columns hold it:

- ``nir_hash``: HMAC-SHA256 of the compact NIR with ``PERSON_MATCHING_KEY``: the same NIR
  always gives the same hash, so a duplicate is found by an indexed equality, but a dump
  of the database does not reveal it (without the key, the 10^13 possible NIRs cannot be
  tried against the hash).
- ``nir_encrypted``: the NIR encrypted with Fernet (AES-128-CBC + HMAC) and
  ``PERSON_ENCRYPTION_KEY``, decrypted only to show it to a role that needs it.

Both keys come from the environment; in development they are derived from SECRET_KEY.
A key that is not a valid Fernet key stops the start (``check_keys``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def fernet() -> Fernet:
    """The Fernet of ``PERSON_ENCRYPTION_KEY`` (to encrypt many values with one instance)."""
    return _fernet()


def _fernet() -> Fernet:
    try:
        return Fernet(settings.PERSON_ENCRYPTION_KEY)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "PERSON_ENCRYPTION_KEY n'est pas une clé Fernet valide : 32 octets encodés en "
            'base64 url-safe (44 caractères). Générez-en une avec : python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        ) from None


def check_keys() -> None:
    """Fail at start, with the variable's name, when a key is missing or malformed."""
    _fernet()
    if len(settings.PERSON_MATCHING_KEY) < 32:
        raise ImproperlyConfigured(
            "PERSON_MATCHING_KEY doit compter au moins 32 caractères (clé secrète du hachage "
            "des identifiants)."
        )


def derived_key(secret: str, purpose: str) -> str:
    """A development key derived from SECRET_KEY, distinct for each purpose."""
    digest = hashlib.sha256(f"binome:{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def identifier_hash(value: str) -> str:
    """Keyed hash of an identifier, for exact matching without storing it readable."""
    key = settings.PERSON_MATCHING_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear value, or "" when the token cannot be read (a key was changed)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
