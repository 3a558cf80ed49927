"""Request bodies are capped before anything reads them whole."""

from __future__ import annotations

from collections.abc import Callable
from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

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
