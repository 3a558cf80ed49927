from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from binome.access.audit import record_list_read
from binome.access.predicates import can_view_national_steering, roles_of
from binome.organisations.models import TerritoryRole
from binome.site.today import blocks_for, steered, today_for
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
    # « À traiter »: each block one query, whatever the volume (binome/site/today.py).
    day = today_for(request)
    blocks = blocks_for(day)
    steered_departments = steered(day)
    # The national dashboard's link: the permission is looked up (two queries) only for those
    # who steer a territory or belong to no organisation, never on a file team's busy home.
    national_steering = (
        bool(steered_departments) or not request.current_membership  # type: ignore[attr-defined]
    ) and can_view_national_steering(request.user)
    record_list_read(
        request=request,
        person_ids=[pk for block in blocks for pk in block.result.person_ids],
        what="Nom sur la page d'accueil « À traiter »",
    )
    return render(
        request,
        "site/home.html",
        {
            "title": "À traiter",
            "blocks": [block for block in blocks if block.result.count],
            "up_to_date": [block for block in blocks if not block.result.count],
            "steered_departments": steered_departments,
            "national_steering": national_steering,
            "memberships": memberships or [],
            "territory_roles": territory_roles,
            "administered_departments": sorted(
                code for code, kinds in roles.territory.items() if "territory_admin" in kinds
            ),
        },
    )
