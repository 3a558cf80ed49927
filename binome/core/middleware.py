"""Response headers that protect what a page shows once it has left the server.

- ``PrivateResponsesMiddleware``: no browser or proxy keeps a copy of a response that may
  carry a person's data. Binôme runs on shared agency PCs: the next user of the session's
  browser must not find a person's file in its cache or in its back/forward history.
- ``PermissionsPolicyMiddleware``: no page may use the browser's powerful features
  (camera, microphone, geolocation, payment…); none of Binôme's pages needs one.
- ``OwnErrorPagesMiddleware``: Binôme's own error pages, in the demo too.
- ``RequestBodyLimitMiddleware``: request bodies are capped before anything reads them whole.
- ``BoundedPathIntsMiddleware``, ``RefuseNulCharacterMiddleware``: bad input answered at
  the door (a 404, a French 400 page), never a 500 further in.

The Content-Security-Policy is Django's own (``django.middleware.csp``, ``SECURE_CSP`` in
the settings).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from tempfile import SpooledTemporaryFile
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.wsgi import LimitedStream
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers

from binome.core.http import BIGINT_MAX
from binome.core.views import database_unreachable, error_404, error_500, error_503

logger = logging.getLogger("django.request")
# Answered by Django with a 400 or 403 whatever DEBUG says (the 403 with Binôme's page).
_CLIENT_ERRORS = (PermissionDenied, SuspiciousOperation, BadRequest, MultiPartParserError)

# The URL namespaces whose pages are reached without login yet show a person's data: the
# signed link of a referral shows the structure the person's first name and the referral.
ANONYMOUS_PRIVATE_NAMESPACES = frozenset({"referral_links"})


def is_private(request: HttpRequest) -> bool:
    """Whether the response to ``request`` may carry a person's data."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    match = request.resolver_match
    return match is not None and bool(ANONYMOUS_PRIVATE_NAMESPACES & set(match.namespaces))


class PrivateResponsesMiddleware:
    """``Cache-Control: no-store`` on every response to a logged-in user and on the signed
    links' pages.

    One rule for all those responses rather than a decorator per view: a person's data is on
    the file's pages, on their htmx fragments, in PDFs, exports, attachments, the person's own
    space, the inbox and the worklists, and a view added tomorrow is covered without anyone
    remembering to. Pages of a logged-in user that show no person's data (the directory) lose
    nothing that matters: they are built for each request anyway. Static files never reach
    this middleware (WhiteNoise, above it, answers them with their own long-lived caching),
    and anonymous pages (login, public directory pages) keep Django's default headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request):
            # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private; Expires.
            add_never_cache_headers(response)
            response.headers["Pragma"] = "no-cache"  # HTTP/1.0 proxies
        return response


# Every feature a page could ask the browser for, refused to the page and to any frame:
# none of Binôme's pages films, records, locates (the commune is typed, never detected),
# pays, reads the clipboard, or talks to devices. Only features Chromium knows are named
# (it warns about the others); web-share is known where the agents work (Windows, Android).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "captured-surface-control",
        "clipboard-read",
        "clipboard-write",
        "compute-pressure",
        "digital-credentials-get",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "interest-cohort",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "speaker-selection",
        "usb",
        "web-share",
        "window-management",
        "xr-spatial-tracking",
    )
)


class PermissionsPolicyMiddleware:
    """The ``Permissions-Policy`` header, unless a view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


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
        if database_unreachable(exception):
            logger.error("Base de données injoignable : %s", request.path, exc_info=exception)
            return error_503(request)
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exception,
            extra={"status_code": 500, "request": request},
        )
        return error_500(request)


CHUNK = 64 * 1024


def body_limit(request: HttpRequest) -> int:
    """The largest body the URL's legitimate use sends (``REQUEST_BODY_MAX_BYTES_BY_URL``
    by URL name, else ``REQUEST_BODY_MAX_BYTES``)."""
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        name = ""
    limits: dict[str, int] = settings.REQUEST_BODY_MAX_BYTES_BY_URL
    return limits.get(name, settings.REQUEST_BODY_MAX_BYTES)


def too_large(limit: int) -> HttpResponse:
    """413, with a French page (rendered without the request: nothing of the session is
    read for a request refused this early)."""
    return HttpResponse(render_to_string("413.html", {"limit": filesizeformat(limit)}), status=413)


class RequestBodyLimitMiddleware:
    """Answers 413 when a request announces a body (``Content-Length``) larger than its URL
    takes, before anything reads it; a body sent in chunks without ``Content-Length`` is
    read up to that limit and no further (413 past it), then handed to Django as if its
    length had been announced. Django's own limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``…) then
    apply to the fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        announced = request.META.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if announced.isdigit():
            # Only the URLs that take files need their own limit: no lookup below it.
            if int(announced) > settings.REQUEST_BODY_MAX_BYTES:
                limit = body_limit(request)
                if int(announced) > limit:
                    return too_large(limit)
        elif chunked and "wsgi.input" in request.META:
            limit = body_limit(request)
            body = self._read_at_most(request.META["wsgi.input"], limit)
            if body is None:
                return too_large(limit)
            size = body.seek(0, 2)
            body.seek(0)
            request.META["CONTENT_LENGTH"] = str(size)
            # Django read nothing of a body without a length: give it the one read here.
            request._stream = LimitedStream(body, size)  # type: ignore[arg-type, assignment]
        return self.get_response(request)

    @staticmethod
    def _read_at_most(stream: object, limit: int) -> SpooledTemporaryFile[bytes] | None:
        """The body, spooled to disk past the in-memory size, or None past ``limit``."""
        # Handed to the request (it lives as long as the request does), or closed here.
        body: SpooledTemporaryFile[bytes] = SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        )
        size = 0
        while True:
            chunk = stream.read(min(CHUNK, limit + 1 - size))  # type: ignore[attr-defined]
            if not chunk:
                return body
            size += len(chunk)
            if size > limit:
                body.close()
                return None
            body.write(chunk)


# The partners' API (``binome.api``) answers bad input with its own JSON errors.
API_PREFIX = "/api/v1/"


class BoundedPathIntsMiddleware:
    """An ``<int:…>`` of a URL past PostgreSQL's bigint is a 404, like any id that names no row.

    Django's ``int`` converter accepts any number of digits, and Django 6 no longer lets a
    project register its own converter under that name: without this, ``/personnes/2**63/``
    reaches the view. The ORM's lookups find no row for it, but a raw query, an OFFSET or a
    value written back would fail (``bigint out of range``). Checked once here, for every
    URL, rather than in each view. The API answers its own 404, naming the parameter.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if request.path.startswith(API_PREFIX):
            return
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > BIGINT_MAX:
                raise Http404("Identifiant hors limites.")


class RefuseNulCharacterMiddleware:
    """A request whose address or fields hold a NUL character (0x00) is refused with a 400.

    PostgreSQL stores no NUL in text: a value read straight from the query string or the
    body and given to a query (a département's code, a filter) would make the query fail.
    No browser sends one from what a user types; refusing it here, with the parameter
    named, spares every view the check. Forms would say the same (Django's fields refuse
    NUL), but only for what goes through a form. The API answers its own errors.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            where = _nul_in(request)
            if where is not None:
                return render(
                    request,
                    "core/bad_request.html",
                    {
                        "title": "Demande refusée",
                        "message": (
                            f"{where} contient un caractère invisible que Binôme n'accepte pas "
                            "(le caractère nul). Retapez la valeur sans la copier, puis "
                            "recommencez."
                        ),
                    },
                    status=400,
                )
        return self.get_response(request)


def _nul_in(request: HttpRequest) -> str | None:
    """Where the request holds a NUL character (said in French), or None."""
    if "\x00" in request.path:
        return "L'adresse de la page"
    fields = [request.GET]
    if request.method == "POST":
        fields.append(request.POST)
    for data in fields:
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                shown = name.replace("\x00", "").strip()[:40] or "?"
                return f"Le champ « {shown} »"
    return None
