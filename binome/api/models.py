"""Access tokens of the partners' API, one set per organisation, and their rate counters.

A token is shown once, when it is created: only its SHA-256 hash is stored (the secret is
32 random bytes, so a fast hash is enough: there is nothing to guess by brute force), with
a short prefix that lets the organisation recognise it in lists.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "binome_"  # noqa: S105 - the public marker of the tokens, not a secret
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8  # "binome_AbC12xYz": what lists show


def new_secret() -> str:
    """A new token: ``binome_`` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest stored instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A token with which an organisation's system calls the API."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="organisation",
    )
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("début du jeton", max_length=PREFIX_LENGTH)
    key_hash = models.CharField("empreinte SHA-256", max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="créé par",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    # Updated by the first request of each rate window: accurate to the minute.
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="révoqué par",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiRateWindow(models.Model):
    """Requests of one token in one fixed window (a minute): the shared rate counter.

    Every web process increments the same row with one ``INSERT … ON CONFLICT DO UPDATE
    … RETURNING`` (``binome.api.auth``); the table is UNLOGGED (migration 0001): a counter
    lost in a crash costs nothing. Past windows are deleted by the token's next window.
    """

    # The unique constraint (token, window_start) is the index of the token.
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+", db_index=False)
    window_start = models.DateTimeField("début de la fenêtre")
    hits = models.PositiveIntegerField("requêtes", default=0)

    class Meta:
        verbose_name = "compteur de requêtes"
        verbose_name_plural = "compteurs de requêtes"
        constraints = [
            models.UniqueConstraint(fields=["token", "window_start"], name="api_rate_window")
        ]

    def __str__(self) -> str:
        return f"{self.token_id} @ {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"
