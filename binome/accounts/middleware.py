from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import device_classes

from binome.access.predicates import requires_second_factor
from binome.accounts.models import User
from binome.core.queries import PreparedQuery

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


@cache
def _device_queries() -> list[PreparedQuery]:
    """For each kind of device installed, whether a user has a confirmed one: the query of
    ``django_otp.user_has_device`` (its manager's ``devices_for_user``), compiled once per
    process and reading one key, not every device's row."""

    def confirmed(model: Any) -> Callable[[Any], Any]:
        return lambda p: model.objects.devices_for_user(User(pk=p.user), confirmed=True).values(
            "pk"
        )[:1]

    return [PreparedQuery(confirmed(model), user=int) for model in device_classes()]


def has_confirmed_device(user: Any) -> bool:
    """``django_otp.user_has_device(user)``: the user has a confirmed device of any kind
    (checked on every request of a user not verified yet)."""
    return any(query.run(user=user.pk) for query in _device_queries())


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
            back = urlencode({"next": request.get_full_path()})
            if has_confirmed_device(user):
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
