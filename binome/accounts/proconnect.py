"""Login of agents through ProConnect, the State's OpenID Connect identity federation.

The protocol is authlib's: discovery, authorization code flow with state and nonce kept in
the session, code exchange, ID token verified against the provider's JWKS (signature, iss,
aud, exp, nonce). ProConnect returns userinfo as a signed JWT (``application/jwt``), which
authlib's client does not read: ``ProConnectClient.userinfo_claims`` verifies it with the
same keys. ProConnect is a first factor only: administrators still give their TOTP code
(SecondFactorMiddleware).

A ProConnect identity is matched to a Binôme account by its ``sub``; the first time, by
e-mail address, and the account is then linked. Nobody is created here: an unknown
address is refused, and the agent asks their organisation's administrator for an invitation.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_otp import user_has_device
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.access.predicates import requires_second_factor
from binome.accounts import actions
from binome.accounts.models import User
from binome.core.http import safe_next

logger = logging.getLogger(__name__)

ACR_VALUES = "eidas1"
# Seconds allowed between our clock and the provider's when checking exp and iat.
LEEWAY = 120
# Seconds to wait for the provider on each HTTP call.
TIMEOUT = 10
# The discovery document and the keys are fetched again after this many seconds (and the
# keys at once when a token names a key we do not know: authlib does that).
METADATA_TTL = 6 * 3600
# Where the ID token is kept after login, for the logout at ProConnect (id_token_hint).
ID_TOKEN_SESSION_KEY = "proconnect_id_token"  # noqa: S105 (a key name, not a secret)
_NAME = "proconnect"


class ProConnectError(Exception):
    """ProConnect could not be used for this login; nothing was changed."""


class ProviderUnavailable(ProConnectError):
    """ProConnect could not be reached, or answered with an error."""


class ResponseRefused(ProConnectError):
    """ProConnect's answer did not pass our checks (signature, claims, content type)."""


@dataclass(frozen=True)
class Identity:
    """Who ProConnect says is logging in."""

    sub: str
    email: str
    email_verified: bool | None
    given_name: str
    usual_name: str
    id_token: str


class ProConnectClient(DjangoOAuth2App):
    """authlib's Django OpenID Connect client, plus ProConnect's signed userinfo."""

    def load_server_metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = super().load_server_metadata()
        issuer = str(metadata.get("issuer", "")).rstrip("/")
        if issuer != settings.PROCONNECT_ISSUER:
            # OpenID Connect Discovery §4.3: the document must name the issuer we asked.
            raise ProviderUnavailable(
                f"Discovery document names issuer {issuer!r}, "
                f"expected {settings.PROCONNECT_ISSUER!r}"
            )
        return metadata

    def _decode_signed(self, value: str, algorithms: list[str] | None) -> jwt.Token:
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            keys = KeySet.import_key_set(self.fetch_jwk_set())
            return jwt.decode(value, keys, registry=registry)
        except InvalidKeyIdError:
            keys = KeySet.import_key_set(self.fetch_jwk_set(force=True))
            return jwt.decode(value, keys, registry=registry)

    def userinfo_claims(self, token: dict[str, Any], *, sub: str) -> dict[str, Any]:
        """Fetch the userinfo JWT, verify its signature and claims, and return its claims."""
        metadata = self.load_server_metadata()
        # The bearer header is set here: ProConnect's access tokens live 60 seconds, which
        # authlib's token auth takes for expired (it keeps a 60-second margin).
        response = self.get(
            metadata["userinfo_endpoint"],
            withhold_token=True,
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        response.raise_for_status()
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/jwt":
            raise ResponseRefused(f"Userinfo is {content_type!r}, not a signed JWT")
        decoded = self._decode_signed(
            response.text.strip(), metadata.get("userinfo_signing_alg_values_supported")
        )
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"value": metadata["issuer"]},
            aud={"value": self.client_id},
            # OpenID Connect Core §5.3.2: the userinfo sub must be the ID token's.
            sub={"essential": True, "value": sub},
        ).validate(decoded.claims)
        return decoded.claims

    def identify(self, *, code: str, redirect_uri: str, nonce: str) -> Identity:
        """Exchange the authorization code and return the verified identity."""
        try:
            token = self.fetch_access_token(code=code, redirect_uri=redirect_uri)
            if "id_token" not in token:
                raise ResponseRefused("The token response has no ID token")
            metadata = self.load_server_metadata()
            id_claims = self.parse_id_token(
                token,
                nonce=nonce,
                claims_options={
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                },
                leeway=LEEWAY,
            )
            info = self.userinfo_claims(token, sub=id_claims["sub"])
        except JoseError as error:
            raise ResponseRefused(f"{type(error).__name__}: {error}") from error
        except (requests.RequestException, OAuthError, ValueError, KeyError) as error:
            raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error
        verified = info.get("email_verified")
        return Identity(
            sub=str(id_claims["sub"]),
            email=str(info.get("email") or "").strip().lower(),
            email_verified=verified if isinstance(verified, bool) else None,
            given_name=str(info.get("given_name") or ""),
            usual_name=str(info.get("usual_name") or ""),
            id_token=token["id_token"],
        )


_client: ProConnectClient | None = None
_client_key: tuple[str, ...] = ()


def get_client() -> ProConnectClient:
    """The client for the configured provider; its discovery document is kept a few hours."""
    global _client, _client_key
    key = (
        settings.PROCONNECT_ISSUER,
        settings.PROCONNECT_CLIENT_ID,
        settings.PROCONNECT_CLIENT_SECRET,
        settings.PROCONNECT_SCOPES,
    )
    client = _client
    loaded_at = client.server_metadata.get("_loaded_at", time.time()) if client else 0
    if client is None or _client_key != key or time.time() - loaded_at > METADATA_TTL:
        client = ProConnectClient(
            DjangoIntegration(_NAME),
            _NAME,
            client_id=settings.PROCONNECT_CLIENT_ID,
            client_secret=settings.PROCONNECT_CLIENT_SECRET,
            server_metadata_url=(f"{settings.PROCONNECT_ISSUER}/.well-known/openid-configuration"),
            client_kwargs={
                "scope": settings.PROCONNECT_SCOPES,
                "token_endpoint_auth_method": "client_secret_post",
                "default_timeout": TIMEOUT,
            },
            authorize_params={"acr_values": ACR_VALUES},
        )
        _client, _client_key = client, key
    return client


def reset_client() -> None:
    """Forget the client and the provider's documents (tests, or a change of settings)."""
    global _client, _client_key
    _client, _client_key = None, ()


# --- Accounts ----------------------------------------------------------------------------


class Refusal(Exception):
    """This ProConnect identity may not log in to Binôme; the message is for the agent."""

    def __init__(self, reason: str, message: str, user: User | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.user = user


def find_account(identity: Identity) -> tuple[User, bool]:
    """The account this identity logs in to, and whether it must be linked first.

    Raises Refusal when no active account can be used.
    """
    user = User.objects.filter(proconnect_sub=identity.sub).first()
    must_link = user is None
    if user is None:
        if not identity.email:
            raise Refusal(
                "no_email",
                "ProConnect n'a pas transmis d'adresse e-mail : Binôme ne peut pas retrouver "
                "votre compte. Connectez-vous avec votre adresse e-mail et votre mot de passe.",
            )
        if identity.email_verified is False:
            raise Refusal(
                "email_unverified",
                f"Votre fournisseur d'identité n'a pas confirmé l'adresse {identity.email} : "
                "Binôme ne peut pas l'associer à votre compte. Connectez-vous avec votre "
                "adresse e-mail et votre mot de passe.",
            )
        user = User.objects.filter(email__iexact=identity.email).first()
        if user is None:
            raise Refusal(
                "unknown_email",
                f"Aucun compte Binôme n'est associé à l'adresse {identity.email}, demandez à "
                "l'administrateur de votre organisation de vous inviter.",
            )
        if user.proconnect_sub:
            raise Refusal(
                "linked_elsewhere",
                f"Le compte Binôme de l'adresse {identity.email} est déjà associé à une autre "
                "identité ProConnect. Demandez à l'administrateur de votre organisation de "
                "vérifier votre compte.",
                user,
            )
    if not user.is_active:
        raise Refusal(
            "inactive",
            f"Votre compte Binôme ({user.email}) est désactivé : demandez à l'administrateur "
            "de votre organisation de le réactiver.",
            user,
        )
    return user, must_link


# --- Views -------------------------------------------------------------------------------


def _require_enabled() -> None:
    if not settings.PROCONNECT_ENABLED:
        raise Http404("ProConnect n'est pas configuré.")


def _failure(request: HttpRequest, title: str, message: str, *, status: int) -> HttpResponse:
    return render(
        request,
        "accounts/proconnect_error.html",
        {"title": title, "message": message},
        status=status,
    )


def _unavailable(request: HttpRequest) -> HttpResponse:
    return _failure(
        request,
        "ProConnect ne répond pas",
        "Binôme n'a pas pu joindre ProConnect, ou ProConnect a répondu par une erreur. "
        "Vous n'êtes pas connecté. Réessayez dans quelques minutes ; en attendant, vous pouvez "
        "vous connecter avec votre adresse e-mail et votre mot de passe.",
        status=502,
    )


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Send the agent to ProConnect, with a fresh state and nonce kept in the session."""
    _require_enabled()
    next_url = safe_next(request, request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(next_url)
    client = get_client()
    redirect_uri = request.build_absolute_uri(reverse("accounts:proconnect_callback"))
    try:
        authorization = client.create_authorization_url(redirect_uri)
    except (ProConnectError, requests.RequestException, ValueError, KeyError, RuntimeError):
        logger.warning("ProConnect discovery failed", exc_info=True)
        return _unavailable(request)
    client.save_authorize_data(request, redirect_uri=redirect_uri, next=next_url, **authorization)
    return HttpResponseRedirect(authorization["url"])


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """ProConnect sends the agent back here with a code (or an error) and our state."""
    _require_enabled()
    client = get_client()
    state = request.GET.get("state", "")
    pending = client.framework.get_state_data(request.session, state) if state else None
    if not pending:
        return _failure(
            request,
            "Demande de connexion non reconnue",
            "Cette réponse de ProConnect ne correspond à aucune demande de connexion faite "
            "depuis ce navigateur : elle a expiré, a déjà servi, ou ne vient pas de Binôme. "
            "Vous n'êtes pas connecté : recommencez depuis la page de connexion.",
            status=400,
        )
    client.framework.clear_state_data(request.session, state)
    if error := request.GET.get("error"):
        logger.info("ProConnect returned %s: %s", error, request.GET.get("error_description"))
        return _failure(
            request,
            "Connexion ProConnect annulée",
            "ProConnect n'a pas confirmé votre identité : la connexion a été annulée ou "
            "refusée. Vous n'êtes pas connecté. Vous pouvez recommencer, ou vous connecter "
            "avec votre adresse e-mail et votre mot de passe.",
            status=400,
        )
    try:
        identity = client.identify(
            code=request.GET.get("code", ""),
            redirect_uri=pending["redirect_uri"],
            nonce=pending["nonce"],
        )
    except ResponseRefused as error:
        logger.warning("ProConnect response refused: %s", error)
        record(
            AuditKind.PROCONNECT_REFUSED,
            actor_label="ProConnect",
            request=request,
            what="Réponse de ProConnect refusée par les contrôles de sécurité",
            details={"reason": "invalid_response", "error": str(error)[:300]},
        )
        return _failure(
            request,
            "Réponse de ProConnect refusée",
            "La réponse de ProConnect n'a pas passé les contrôles de sécurité de Binôme "
            "(signature, émetteur, destinataire ou validité). Par précaution, vous n'êtes pas "
            "connecté. Recommencez ; si le problème persiste, prévenez l'équipe Binôme.",
            status=502,
        )
    except ProviderUnavailable as error:
        logger.warning("ProConnect unavailable: %s", error)
        return _unavailable(request)
    try:
        user, must_link = find_account(identity)
    except Refusal as refusal:
        record(
            AuditKind.PROCONNECT_REFUSED,
            actor=refusal.user,
            actor_label="" if refusal.user else identity.email or identity.sub,
            request=request,
            what=refusal.message,
            details={"reason": refusal.reason, "sub": identity.sub, "email": identity.email},
        )
        return render(
            request,
            "accounts/proconnect_refused.html",
            {"title": "Connexion ProConnect refusée", "message": refusal.message},
            status=403,
        )
    if must_link:
        actions.link_proconnect_identity(user, sub=identity.sub, request=request)
    request.login_method = "ProConnect"  # type: ignore[attr-defined]
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[ID_TOKEN_SESSION_KEY] = identity.id_token
    next_url = safe_next(request, pending.get("next", ""))
    if user_has_device(user) or requires_second_factor(user):
        # ProConnect is the first factor; SecondFactorMiddleware holds the rest back.
        target = "accounts:otp_verify" if user_has_device(user) else "accounts:otp_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': next_url})}")
    return redirect(next_url)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Log out of Binôme, then of ProConnect when this session came from it."""
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    auth_logout(request)
    if id_token and settings.PROCONNECT_ENABLED:
        try:
            response: HttpResponse = get_client().logout_redirect(
                request,
                post_logout_redirect_uri=request.build_absolute_uri(
                    reverse("accounts:proconnect_logout_callback")
                ),
                id_token_hint=id_token,
            )
            return response
        except (ProConnectError, requests.RequestException, ValueError, KeyError, RuntimeError):
            logger.warning("ProConnect logout failed", exc_info=True)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("site:home")


@require_GET
def logout_callback(request: HttpRequest) -> HttpResponse:
    """ProConnect sends the agent back here once logged out there too."""
    _require_enabled()
    try:
        get_client().validate_logout_response(request)
    except OAuthError:
        return redirect("site:home")
    messages.success(request, "Vous êtes déconnecté de Binôme et de ProConnect.")
    return redirect("site:home")
