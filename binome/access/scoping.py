"""Fetch objects within the user's reach, or 404 (never a 403 that confirms they exist)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from binome.organisations.models import Organisation


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    return get_object_or_404(
        Organisation.objects.visible_to(user).select_related("department", "commune"), pk=pk
    )
