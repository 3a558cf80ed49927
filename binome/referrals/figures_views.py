"""The territory's referral figures: for its administrators and its steering officers
(figures only, never a named referral)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from binome.access.predicates import is_territory_admin, works_in_department
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.referrals.figures import figures_by_receiver, figures_for
from binome.support.access import is_steering
from binome.territories.models import Department


def can_view_territory_figures(user: Any, department_id: str) -> bool:
    """The territory's administrators and steering officers see its referral figures."""
    return is_territory_admin(user, department_id) or is_steering(user, department_id)


@login_required
@require_GET
def territory(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code):
        raise Http404
    if not can_view_territory_figures(request.user, code):
        raise PermissionDenied
    by_receiver = figures_by_receiver(code)
    organisations = Organisation.objects.in_bulk(list(by_receiver))
    rows = sorted(
        (
            (organisations[pk], figures)
            for pk, figures in by_receiver.items()
            if pk in organisations
        ),
        key=lambda row: (-row[1].sent, row[0].name),
    )
    return render(
        request,
        "referrals/figures/territory.html",
        {
            "title": f"Orientations : délais et taux — {department.name}",
            "department": department,
            "figures": figures_for("department", code),
            "rows": rows,
        },
    )
