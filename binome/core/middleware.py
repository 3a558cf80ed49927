"""Binôme's own error pages, in the demo too."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve

from binome.core.views import error_404, error_500

logger = logging.getLogger("django.request")
# Answered by Django with a 400 or 403 whatever DEBUG says (the 403 with Binôme's page).
_CLIENT_ERRORS = (PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)


class OwnErrorPagesMiddleware:
    """With DEBUG on (``make run``), answer an unknown address or a crash with Binôme's
    French 404 and 500 pages, not Django's technical pages (in English, listing every URL
    of the service and its settings). The traceback of a crash still goes to the console.

    With DEBUG off, Django serves the same pages through the handlers of ``binome.urls``;
    a 403 is always answered by its handler.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.DEBUG:
            # An unknown address fails before any view, where no middleware hears of it.
            try:
                resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return error_404(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not settings.DEBUG or isinstance(exception, _CLIENT_ERRORS):
            return None
        if isinstance(exception, Http404):
            return error_404(request, exception)
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return error_500(request)
