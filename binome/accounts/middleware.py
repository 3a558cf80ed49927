from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from binome.access.predicates import requires_second_factor

_ACTIVITY_KEY = "_last_activity"
LOGIN_KEY = "_logged_in_at"
# Refresh the idle timestamp at most every five minutes: no session write on each request.
_REFRESH_EVERY = 300


class IdleSessionTimeoutMiddleware:
    """Log out a session left idle for SESSION_IDLE_TIMEOUT seconds, and any session
    SESSION_COOKIE_AGE seconds after its login, however busy.

    The lifetime is counted from the login time kept in the session: the session's own
    expiry moves forward at each save (the idle timestamp's included), so it cannot say.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        now = int(time.time())
        last = session.get(_ACTIVITY_KEY)
        logged_in_at = session.get(LOGIN_KEY)
        if (last is not None and now - last > settings.SESSION_IDLE_TIMEOUT) or (
            logged_in_at is not None and now - logged_in_at >= settings.SESSION_COOKIE_AGE
        ):
            session.flush()
            request.session_expired = True  # type: ignore[attr-defined]
        elif session.get("_auth_user_id"):
            if logged_in_at is None:
                session[LOGIN_KEY] = now
            if last is None or now - last > _REFRESH_EVERY:
                session[_ACTIVITY_KEY] = now
        response = self.get_response(request)
        if session.get("_auth_user_id") and LOGIN_KEY not in session:
            # Logged in by this request: the session's working day starts now.
            session[LOGIN_KEY] = now
        return response


_OTP_FREE_PATHS = (
    "/static/",
    "/connexion/",
    "/deconnexion/",
    "/accessibilite/",
    "/mentions-legales/",
    "/donnees-personnelles/",
)


class SecondFactorMiddleware:
    """A logged-in user who must use a second factor reaches nothing else until they do.

    Applies to users who enabled TOTP and to administrators (organisation or territory),
    for whom it is mandatory: they are sent to enrol if they have no device yet.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(_OTP_FREE_PATHS)
        ):
            from django_otp import user_has_device

            back = urlencode({"next": request.get_full_path()})
            if user_has_device(user):
                return redirect(f"{reverse('accounts:otp_verify')}?{back}")
            if requires_second_factor(user):
                if getattr(request, "session_expired", False):
                    logout(request)
                    return redirect("accounts:login")
                messages.info(
                    request,
                    "Votre rôle (administration ou archive) demande une double "
                    "authentification : "
                    "activez-la pour continuer.",
                )
                return redirect(f"{reverse('accounts:otp_setup')}?{back}")
        return self.get_response(request)
