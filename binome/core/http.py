"""HTTP helpers shared by the views: where a ``next`` parameter may send the user, and how
a query parameter that names a row is read."""

from __future__ import annotations

import unicodedata

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

# PostgreSQL's bigint: an id or a number past it cannot name a row (and would make the
# query fail rather than find nothing).
BIGINT_MAX = 2**63 - 1


def safe_next(request: HttpRequest, target: str | None) -> str:
    """``target`` if it is a path of this site, else the home page.

    Only a local path is kept: never another site (an open redirect), never a bare word
    (``redirect()`` would take it for the name of a view), never a control character (a
    path this site writes has them percent-encoded).
    """
    if (
        target
        and target.startswith("/")
        and not any(unicodedata.category(c).startswith("C") for c in target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return reverse("site:home")


def parse_id(value: object) -> int | None:
    """The id a query parameter names (digits only, within PostgreSQL's bigint), else None."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(BIGINT_MAX)):
        return None
    number = int(text)
    return number if 0 < number <= BIGINT_MAX else None
