"""Fetch objects within the user's reach, or 404 (never a 403 that confirms they exist)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from binome.access.predicates import roles_of
from binome.organisations.models import Organisation, OrganisationQuerySet


def visible_organisations(user: Any) -> OrganisationQuerySet:
    """Organisations of the départements where the user works (member or territory role)."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    if user.is_superuser:
        return Organisation.objects.all()
    # The user's départements are loaded once per request (roles_of); filtering on the
    # list keeps the cost proportional to the territory, not to the country.
    return Organisation.objects.in_departments(roles_of(user).departments)


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    return get_object_or_404(
        visible_organisations(user).select_related("department", "commune"), pk=pk
    )
