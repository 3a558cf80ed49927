from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from binome.access.predicates import active_memberships
from binome.organisations.models import Membership

SESSION_KEY = "current_organisation_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership the user works under now: chosen in the header, else the first one."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = active_memberships(user)  # shared with roles_of: one query
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.organisation_id == wanted:
            chosen = membership
            break
    else:
        # Until the user chooses, they work for their first (main) organisation.
        chosen = min(memberships, key=lambda m: (m.created_at, m.pk))
    request._memberships = memberships  # type: ignore[attr-defined]
    return chosen


class CurrentOrganisationMiddleware:
    """Sets ``request.current_membership`` lazily (no query on pages that do not use it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.current_membership = SimpleLazyObject(lambda: current_membership(request))  # type: ignore[attr-defined]
        return self.get_response(request)
