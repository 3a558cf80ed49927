from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from binome.access.predicates import roles_of
from binome.organisations.models import TerritoryRole
from binome.support.space import is_accompanied_person


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "site/landing.html", {"title": "Accueil"})
    if not request.current_membership and is_accompanied_person(  # type: ignore[attr-defined]
        request.user
    ):
        # A person (no professional membership) lands on their own space.
        return redirect("space:home")
    roles = roles_of(request.user)
    territory_roles = (
        TerritoryRole.objects.filter(user=request.user)
        .select_related("department")
        .order_by("department_id", "role")
    )
    memberships = (
        request._memberships  # type: ignore[attr-defined]
        if request.current_membership  # type: ignore[attr-defined]
        else []
    )
    return render(
        request,
        "site/home.html",
        {
            "title": "Tableau de bord",
            "memberships": memberships or [],
            "territory_roles": territory_roles,
            "administered_departments": sorted(
                code for code, kinds in roles.territory.items() if "territory_admin" in kinds
            ),
        },
    )
