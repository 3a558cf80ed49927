"""A territory's pages of the accompaniment: its bounds on extending a global
accompaniment (its administrators), and the exits counted by outcome (its administrators and
steering officers; an organisation's, for whoever sees the organisation). Figures only,
never a named person."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from binome.access import predicates
from binome.access.scoping import get_organisation_for_user
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.support import actions, figures
from binome.support.forms import SupportSettingsForm
from binome.support.models import SupportSettings
from binome.territories.models import Department


def _department(request: AuthenticatedRequest, code: str) -> Department:
    """The département, 404 for someone who does not work in it."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    return department


@login_required
@require_http_methods(["GET", "POST"])
def support_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's administrators bound the extensions of a global accompaniment."""
    department = _department(request, code)
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    current = SupportSettings.for_department(code)
    form = SupportSettingsForm(
        request.POST or None,
        initial={
            "max_extensions": current.max_extensions,
            "extension_months": current.extension_months,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_support_settings(
                department_id=code, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                form.add_error(name, errors)
        else:
            messages.success(request, "Les règles de prolongation sont enregistrées.")
            return redirect("support:settings", code)
    return render(
        request,
        "support/settings.html",
        {
            "title": f"Accompagnement global : prolongations — {department.name}",
            "department": department,
            "form": form,
        },
    )


@login_required
@require_GET
def territory_exits(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = _department(request, code)
    if not (
        predicates.is_territory_admin(request.user, code)
        or predicates.is_steering(request.user, code)
    ):
        raise PermissionDenied
    by_organisation = figures.exits_by_organisation(code)
    organisations = Organisation.objects.in_bulk(list(by_organisation))
    rows = sorted(
        ((organisations[pk], row) for pk, row in by_organisation.items() if pk in organisations),
        key=lambda row: (-row[1].total, row[0].name),
    )
    return render(
        request,
        "support/exits.html",
        {
            "title": f"Sorties de l'accompagnement global — {department.name}",
            "figures": figures.territory_exits(code),
            "rows": rows,
            "scope": "territoire",
        },
    )


@login_required
@require_GET
def organisation_exits(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, pk)
    return render(
        request,
        "support/exits.html",
        {
            "title": f"Sorties de l'accompagnement global — {organisation.name}",
            "figures": figures.organisation_exits(organisation.pk),
            "rows": [],
            "scope": "organisation",
        },
    )
