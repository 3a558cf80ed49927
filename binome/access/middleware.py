"""Reads of a person's file that only the answer tells: see ``record_read_when_shown``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from binome.access.audit import DEFERRED_READS, record_many

# The answers of a POST that show its page again: with the form's errors (200, or 400 for
# the pages that say so); a redirect, a 403 or a 404 shows nothing of the file.
SHOWN_AGAIN = (200, 400)


class DeferredReadsMiddleware:
    """Writes the reads a POST deferred when its answer shows the page again (a form with
    its errors and the person's data), not when it redirects or fails."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        deferred = request.__dict__.pop(DEFERRED_READS, None)
        if deferred and response.status_code in SHOWN_AGAIN:
            record_many(deferred)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A view that failed (a bad request, a refusal) showed nothing of the file."""
        request.__dict__.pop(DEFERRED_READS, None)
