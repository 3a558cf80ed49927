"""Errors raised outside the endpoints (unknown path, wrong method, a crash) as JSON."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from binome.api.errors import crash_response, error_response

API_PREFIX = "/api/v1/"
# Exceptions Django turns into a 4xx response (converted by ``__call__``), not crashes.
_ANSWERED_BY_DJANGO = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)


def _without_slash_hint(request: HttpRequest, status: int) -> str | None:
    """For ``/api/v1/services/``: the address exists without its final slash."""
    path = request.path
    if status != 404 or not path.endswith("/") or path == API_PREFIX:
        return None
    try:
        resolve(path.rstrip("/"))
    except Resolver404:
        return None
    return f"Cette adresse n'existe pas dans l'API : retirez la barre oblique finale ({path[:-1]})."


class JsonErrorsMiddleware:
    """Under ``/api/v1/``, an error response that is not JSON becomes the API's JSON error.

    The endpoints answer their own errors (``binome.api.endpoints``); this catches what
    Django answers before or around them: 404 of an unknown path, 405, 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            converted = error_response(
                response.status_code, message=_without_slash_hint(request, response.status_code)
            )
            if response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX) or isinstance(exception, _ANSWERED_BY_DJANGO):
            return None
        return crash_response(request.path, exception)
