from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from binome.access import predicates
from binome.core.typing import AuthenticatedRequest
from binome.directory import actions
from binome.directory import referentials as ref
from binome.directory.forms import ReportForm, ServiceSearchForm
from binome.directory.models import PublicationStatus, Service
from binome.directory.opening_hours import describe
from binome.directory.search import (
    DEFAULT_RADIUS_KM,
    MAX_TEXT,
    RADII_KM,
    SearchResult,
    search_services,
)
from binome.territories.zones import describe_zone

SEARCH_FIELDS = ("q", "commune", "rayon", "categorie", "thematique", "public", "frais", "type")
# What a search's URL may carry besides its page: the form's fields and the picker's text.
SEARCH_PARAMETERS = (*SEARCH_FIELDS, "accueil", "commune_recherche")


def _label(service: Service) -> None:
    """French labels of the service's codes, for the templates."""
    labels = ref.labels()
    service.labels = {  # type: ignore[attr-defined]
        "thematiques": [labels.get(code, code) for code in service.thematiques],
        "publics": [labels.get(code, code) for code in service.publics],
        "reception_modes": [labels.get(code, code) for code in service.reception_modes],
        "mobilisation_modes": [labels.get(code, code) for code in service.mobilisation_modes],
        "mobilisable_by": [labels.get(code, code) for code in service.mobilisable_by],
    }


@login_required
@require_GET
def service_search(request: AuthenticatedRequest) -> HttpResponse:
    """The directory's search: a GET form, so that a search has a shareable URL."""
    searched = any(request.GET.get(name) for name in SEARCH_PARAMETERS)
    form = ServiceSearchForm(request.GET if searched else None)
    if not searched:
        # A first visit searches around the user's organisation: its commune is proposed.
        membership = getattr(request, "current_membership", None)
        commune = membership.organisation.commune if membership else None
        if commune is not None:
            form.initial["commune"] = commune.insee_code
            form.instance.commune = commune
    result: SearchResult | None = None
    if searched and form.is_valid():
        try:
            page = int(request.GET.get("page", "1"))
        except ValueError:
            page = 1
        arguments = form.search_arguments()
        result = search_services(**arguments, page=min(max(page, 1), 10_000))
        if result.page > result.num_pages:  # a page past the end: show the last one
            result = search_services(**arguments, page=result.num_pages)
        for service in result.services:
            _label(service)
    wider_radii: list[int] = []
    if result is not None and not result.total and form.cleaned_data.get("commune"):
        # Nothing around the commune: the next distances of the form's choices.
        radius = form.cleaned_data.get("rayon") or DEFAULT_RADIUS_KM
        wider_radii = [km for km in RADII_KM if km > radius]
    return render(
        request,
        "directory/search.html",
        {
            "title": "Annuaire des solutions du territoire",
            "form": form,
            "result": result,
            "page": result.page_obj if result else None,
            "wider_radii": wider_radii,
            # The filters fold on a phone once there are results to show first.
            "fold_filters": result is not None and not form.errors,
            "can_orient": predicates.can_create_person_here(
                request.user, request.current_membership
            ),
            "moderated_departments": sorted(
                code
                for code, roles in predicates.roles_of(request.user).territory.items()
                if "territory_admin" in roles
            ),
        },
    )


def _published_service(pk: int) -> Service:
    return get_object_or_404(
        Service.objects.select_related("structure", "commune", "structure__commune"),
        pk=pk,
        status=PublicationStatus.PUBLISHED,
    )


@login_required
@require_GET
def service_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Everything a counselor needs to mobilise a service."""
    return _service_page(request, _published_service(pk), ReportForm())


@login_required
@require_POST
def service_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A professional reports an error on the service; its editors are told."""
    service = _published_service(pk)
    if not predicates.can_report_service(request.user):
        raise PermissionDenied
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _service_page(request, service, form, status=400)
    actions.report_service(
        service=service,
        reasons=form.cleaned_data["reasons"],
        details=form.cleaned_data["details"],
        by=request.user,
        organisation=request.current_membership.organisation
        if request.current_membership
        else None,
        request=request,
    )
    messages.success(
        request,
        "Merci : votre signalement est transmis aux personnes qui tiennent ce service à jour.",
    )
    return redirect("directory:service_detail", service.pk)


def _service_page(
    request: AuthenticatedRequest, service: Service, report_form: ReportForm, status: int = 200
) -> HttpResponse:
    _label(service)
    # Back to the search the counselor came from (its criteria carried by the result's
    # link), re-encoded from the search's own parameters only.
    came_from = QueryDict(request.GET.get("recherche", ""))
    kept = QueryDict(mutable=True)
    for name in (*SEARCH_PARAMETERS, "page"):
        if came_from.get(name):
            kept[name] = came_from[name][:MAX_TEXT]
    back_url = reverse("directory:search") + (f"?{kept.urlencode()}" if kept else "")
    now = timezone.localtime().replace(tzinfo=None)
    hours = describe(service.opening_hours or service.structure.opening_hours, now)
    return render(
        request,
        "directory/service.html",
        {
            "title": service.name,
            "service": service,
            "back_url": back_url,
            "zone": describe_zone(service.eligibility_zone),
            "hours": hours,
            "stale": service.needs_checking(),
            "report_form": report_form,
            "can_report": predicates.can_report_service(request.user),
            "can_edit": predicates.can_edit_directory_entry(request.user, service),
            "can_orient": predicates.can_create_person_here(
                request.user, request.current_membership
            ),
        },
        status=status,
    )
