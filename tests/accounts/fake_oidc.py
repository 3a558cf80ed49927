"""A small ProConnect stand-in: a real HTTP server on 127.0.0.1 that speaks OpenID Connect.

It serves what Binôme reads from ProConnect — the discovery document, the keys (JWKS),
/authorize, /token (an RS256 ID token echoing the nonce), /userinfo (a signed JWT, as
ProConnect sends it) and /session/end — so that the tests drive our views end to end and
our code makes real HTTP calls. It signs with PyJWT, not with the library Binôme verifies
with, so that one library's bug cannot hide itself.

Tests choose who logs in (``next_identity``) and can make the provider misbehave
(``deny``, ``token_status``, ``tamper_id_token``, ``tamper_userinfo``, ``id_token_claims``).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "binome-test"
CLIENT_SECRET = "secret-de-test"


class FakeProConnect:
    """Start with ``with FakeProConnect() as provider:``; ``provider.issuer`` is its URL."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "cle-de-test"
        self.next_identity: dict[str, Any] = {}
        # Misbehaviours a test can ask for.
        self.deny = False
        self.token_status = 200
        self.tamper_id_token = False
        self.tamper_userinfo = False
        self.id_token_claims: dict[str, Any] = {}
        # What the provider saw.
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.userinfo_requests = 0
        self.end_session_requests: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.issuer = f"http://{host!s}:{port}/api/v2"

    def __enter__(self) -> FakeProConnect:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- Documents ------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/session/end",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "email", "given_name", "usual_name", "siret", "uid"],
            "acr_values_supported": ["eidas1"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "userinfo_signing_alg_values_supported": ["RS256", "ES256"],
        }

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    # --- Endpoints ------------------------------------------------------------------------

    def authorize(self, params: dict[str, str]) -> str:
        """Record the request and return where the browser is sent back (the Location)."""
        self.authorize_requests.append(params)
        back = {"state": params.get("state", "")}
        if self.deny:
            back |= {"error": "access_denied", "error_description": "L'agent a annulé."}
        else:
            code = secrets.token_urlsafe(16)
            self._codes[code] = {
                "nonce": params.get("nonce"),
                "redirect_uri": params.get("redirect_uri"),
                "identity": dict(self.next_identity),
            }
            back["code"] = code
        return f"{params['redirect_uri']}?{urlencode(back)}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """The token response; None is a server failure, answered with an HTML page."""
        self.token_requests.append(form)
        if self.token_status != 200:
            return self.token_status, None
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        identity = grant["identity"]
        claims = {
            "iss": self.issuer,
            "sub": identity["sub"],
            "aud": CLIENT_ID,
            "exp": now + 60,
            "iat": now,
            "auth_time": now,
            "nonce": grant["nonce"],
            "acr": "eidas1",
            "amr": ["pwd"],
            "idp_id": "fia1v2",
        } | self.id_token_claims
        id_token = self.sign(claims)
        if self.tamper_id_token:
            id_token = _tamper(id_token)
        access_token = secrets.token_urlsafe(24)
        self._access_tokens[access_token] = identity
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 60,
            "id_token": id_token,
            "scope": "openid email given_name usual_name siret uid",
        }

    def userinfo(self, authorization: str) -> tuple[int, str]:
        self.userinfo_requests += 1
        identity = self._access_tokens.get(authorization.removeprefix("Bearer "))
        if identity is None:
            return 401, ""
        now = int(time.time())
        signed = self.sign(
            {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 60} | identity
        )
        return 200, _tamper(signed) if self.tamper_userinfo else signed


def _tamper(token: str) -> str:
    """The same JWT with one character of its signature changed."""
    head, payload, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"
    return ".".join([head, payload, signature[:10] + flipped + signature[11:]])


def _handler(provider: FakeProConnect) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

        def _send(self, status: int, body: str, content_type: str, **headers: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload), "application/json")

        def _redirect(self, location: str) -> None:
            self._send(302, "", "text/plain", Location=location)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = url.path.removeprefix(urlsplit(provider.issuer).path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            if path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif path == "/jwks":
                self._json(200, provider.jwks())
            elif path == "/authorize":
                self._redirect(provider.authorize(params))
            elif path == "/userinfo":
                status, body = provider.userinfo(self.headers.get("Authorization", ""))
                self._send(status, body, "application/jwt; charset=utf-8")
            elif path == "/session/end":
                provider.end_session_requests.append(params)
                back = params.get("post_logout_redirect_uri", "")
                self._redirect(f"{back}?{urlencode({'state': params.get('state', '')})}")
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path.endswith("/token"):
                status, payload = provider.token(form)
                if payload is None:
                    self._send(status, "<h1>Erreur interne</h1>", "text/html")
                else:
                    self._json(status, payload)
            else:
                self._json(404, {"error": "not_found"})

    return Handler
