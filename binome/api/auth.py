"""Authentication by token and rate limit per token, in one SQL statement per request.

``Authorization: Bearer binome_…``: the token's hash is looked up among the active tokens
of active organisations, and the request is counted in the token's current window (a
minute) by the same statement — an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on the
shared table ``api_apiratewindow``, so the limit holds across any number of web processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.security import HttpBearer

from binome.api.errors import ApiError
from binome.api.models import TOKEN_PREFIX, ApiToken, hash_secret

WINDOW_SECONDS = 60

# One statement: find the token (active, of an active organisation) and count the request.
_COUNT_SQL = """
WITH token AS (
    SELECT t.id, t.organisation_id
    FROM api_apitoken t
    JOIN organisations_organisation o ON o.id = t.organisation_id
    WHERE t.key_hash = %s AND t.revoked_at IS NULL AND o.is_active
)
INSERT INTO api_apiratewindow AS w (token_id, window_start, hits)
SELECT token.id, date_bin(%s::interval, now(), timestamptz 'epoch'), 1 FROM token
ON CONFLICT (token_id, window_start) DO UPDATE SET hits = w.hits + 1
RETURNING w.token_id,
          (SELECT organisation_id FROM token),
          w.hits,
          extract(epoch FROM w.window_start + %s::interval - now())
"""
# The first request of a window: drop the token's past windows, note the use.
_NEW_WINDOW_SQL = """
WITH past AS (
    DELETE FROM api_apiratewindow
    WHERE token_id = %s AND window_start < date_bin(%s::interval, now(), timestamptz 'epoch')
)
UPDATE api_apitoken SET last_used_at = now() WHERE id = %s
"""


@dataclass(frozen=True)
class ApiClient:
    """Who calls: set as ``request.auth`` for the endpoints."""

    token_id: int
    organisation_id: int


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="binome"'})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <jeton>``; 401 or 429 as JSON errors."""

    def __call__(self, request: HttpRequest) -> ApiClient:
        value = request.headers.get("Authorization", "")
        if not value:
            raise _unauthorized(
                "jeton_absent",
                "Jeton d'API absent : envoyez l'en-tête « Authorization: Bearer <jeton> ». "
                "Les administrateurs d'une organisation créent ses jetons depuis sa page "
                "dans Binôme.",
            )
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                "jeton_invalide",
                "En-tête Authorization mal formé : attendu « Bearer <jeton> ».",
            )
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient:
        window = f"{WINDOW_SECONDS} seconds"
        row: Any = None
        if token.startswith(TOKEN_PREFIX) and len(token) < 200:
            with connection.cursor() as cursor:
                cursor.execute(_COUNT_SQL, [hash_secret(token), window, window])
                row = cursor.fetchone()
        if row is None:
            raise self._refused(token)
        token_id, organisation_id, hits, seconds_left = row
        if hits == 1:
            with connection.cursor() as cursor:
                cursor.execute(_NEW_WINDOW_SQL, [token_id, window, token_id])
        limit = settings.API_RATE_LIMIT
        if hits > limit:
            retry_after = max(1, math.ceil(seconds_left))
            raise ApiError(
                429,
                "trop_de_requetes",
                f"Trop de requêtes : ce jeton a droit à {limit} requêtes par minute. "
                f"Réessayez dans {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
        return ApiClient(token_id=token_id, organisation_id=organisation_id)

    @staticmethod
    def _refused(token: str) -> ApiError:
        """Why a token is refused (only on this failure path: one more query)."""
        known = (
            ApiToken.objects.filter(key_hash=hash_secret(token))
            .values_list("revoked_at", "organisation__is_active")
            .first()
            if token.startswith(TOKEN_PREFIX) and len(token) < 200
            else None
        )
        if known is not None and known[0] is not None:
            return _unauthorized(
                "jeton_revoque",
                "Ce jeton a été révoqué : demandez-en un nouveau à un administrateur de "
                "votre organisation.",
            )
        if known is not None:
            return _unauthorized(
                "organisation_inactive",
                "L'organisation de ce jeton est désactivée dans Binôme.",
            )
        return _unauthorized("jeton_invalide", "Jeton d'API inconnu.")
