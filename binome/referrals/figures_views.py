"""The referral figures (figures only, never a named referral): a territory's, for its
administrators and its steering officers; an organisation's, for whoever sees its page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from binome.access.predicates import is_steering, is_territory_admin, works_in_department
from binome.access.scoping import get_organisation_for_user
from binome.core.replica import on_replica
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.referrals.figures import figures_by_receiver, figures_for
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
    by_receiver = on_replica(figures_by_receiver, code)
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
            "figures": on_replica(figures_for, "department", code),
            "rows": rows,
        },
    )


@login_required
@require_GET
def organisation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An organisation's figures, loaded by its page after the page itself (htmx): they
    aggregate a year of steps, a cost the rest of the page need not wait for. Asked for
    without htmx (no JavaScript), they come as a page of their own."""
    found = get_organisation_for_user(request.user, pk)
    context = {
        "organisation": found,
        "received": figures_for("receiver", found.pk),
        "sent": figures_for("sender", found.pk),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "referrals/figures/_organisation.html", context)
    return render(
        request,
        "referrals/figures/organisation.html",
        {**context, "title": f"Orientations : délais et taux — {found.name}"},
    )
