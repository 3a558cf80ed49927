from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from binome.access.predicates import roles_of
from binome.organisations.models import TerritoryRole
from binome.people.space import is_accompanied_person


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "core/landing.html", {"title": "Accueil"})
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
        "core/home.html",
        {
            "title": "Tableau de bord",
            "memberships": memberships or [],
            "territory_roles": territory_roles,
            "administered_departments": sorted(
                code for code, kinds in roles.territory.items() if "territory_admin" in kinds
            ),
        },
    )


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html", {"title": "Déclaration d'accessibilité"})


@require_GET
def legal(request: HttpRequest) -> HttpResponse:
    return render(request, "core/legal.html", {"title": "Mentions légales"})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html", {"title": "Données personnelles"})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"title": "Page introuvable"}, status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"title": "Accès refusé"}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: the page must render even when the database is unreachable.
    return HttpResponse(render_to_string("500.html"), status=500)
