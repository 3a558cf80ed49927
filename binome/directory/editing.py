"""Views of the organisations editing their directory entries ("Nos services"), of the
territory's moderation, and of error reports. Thin: parse, call one action, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.core.http import safe_next
from binome.core.typing import AuthenticatedRequest
from binome.directory import actions
from binome.directory.forms import RejectForm, ServiceForm, StructureForm
from binome.directory.models import (
    PublicationStatus,
    ReportStatus,
    Service,
    ServiceReport,
    Structure,
)
from binome.directory.scoping import (
    get_organisation_for_editor,
    get_report_for_resolver,
    get_service_for_editor,
    get_structure_for_editor,
    get_structure_for_moderator,
)
from binome.territories.models import Department


@login_required
@require_GET
def my_services(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """ "Nos services": the organisation's structures, services and open error reports."""
    organisation = get_organisation_for_editor(request.user, pk)
    structures = list(
        Structure.objects.filter(owner=organisation).select_related("commune").order_by("name")
    )
    services = list(
        Service.objects.filter(owner=organisation)
        .select_related("structure", "commune")
        .annotate(open_reports=Count("reports", filter=Q(reports__status=ReportStatus.OPEN)))
        .order_by("structure__name", "name")
    )
    stale_count = 0
    for service in services:
        service.stale = service.needs_checking()  # type: ignore[attr-defined]
        stale_count += service.stale  # type: ignore[attr-defined]
        service.missing = (  # type: ignore[attr-defined]
            actions.missing_for_publication(service)
            if service.status == PublicationStatus.DRAFT
            else []
        )
    reports = list(
        ServiceReport.objects.open()
        .filter(service__owner=organisation)
        .select_related("service", "reporter", "reporter_organisation")
        .order_by("-created_at")
    )
    return render(
        request,
        "directory/my_services.html",
        {
            "title": f"Nos services — {organisation.name}",
            "organisation": organisation,
            "structures": structures,
            "services": services,
            "reports": reports,
            "stale_count": stale_count,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_organisation_for_editor(request.user, pk)
    form = StructureForm(request.POST or None, instance=Structure(owner=organisation))
    if request.method == "POST" and form.is_valid():
        structure = actions.declare_structure(
            organisation=organisation, structure=form.instance, by=request.user, request=request
        )
        messages.success(
            request,
            f"La structure « {structure.name} » est enregistrée. Elle est en attente de "
            "modération : l'administrateur du territoire la valide avant que ses services "
            "soient publiés.",
        )
        return redirect("directory:my_services", organisation.pk)
    return render(
        request,
        "directory/structure_form.html",
        {
            "title": "Déclarer une structure",
            "form": form,
            "organisation": organisation,
            "structure": None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    structure = get_structure_for_editor(request.user, pk)
    form = StructureForm(request.POST or None, instance=structure)
    if request.method == "POST" and form.is_valid():
        actions.update_structure(
            structure=form.instance, changed=form.changed_data, by=request.user, request=request
        )
        messages.success(request, f"La structure « {structure.name} » est modifiée.")
        return redirect("directory:my_services", structure.owner_id)
    return render(
        request,
        "directory/structure_form.html",
        {
            "title": f"Modifier la structure « {structure.name} »",
            "form": form,
            "organisation": structure.owner,
            "structure": structure,
        },
    )


def _service_form_page(
    request: AuthenticatedRequest, service: Service, *, created: bool
) -> HttpResponse:
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        publish = request.POST.get("action") == "publier"
        service = form.instance
        was_public = service.status in (PublicationStatus.PUBLISHED, PublicationStatus.PENDING)
        try:
            actions.save_service(
                service=service,
                changed=form.changed_data,
                publish=publish,
                by=request.user,
                request=request,
            )
        except actions.PublicationRefused as refused:
            gaps = " ; ".join(refused.missing)
            if was_public:
                form.add_error(
                    None,
                    f"Le service est publié : il doit garder ce qu'un conseiller doit savoir. "
                    f"Il manque : {gaps}. Rien n'a été enregistré.",
                )
            else:
                actions.save_service(
                    service=service,
                    changed=form.changed_data,
                    publish=False,
                    by=request.user,
                    request=request,
                )
                messages.warning(
                    request,
                    f"Le service est enregistré comme brouillon. Pour le publier, il manque : "
                    f"{gaps}.",
                )
                return redirect("directory:service_edit", service.pk)
        else:
            if service.status == PublicationStatus.PENDING:
                text = (
                    f"Le service « {service.name} » sera publié dès que l'administrateur du "
                    "territoire aura validé la structure."
                )
            elif service.status == PublicationStatus.PUBLISHED:
                text = f"Le service « {service.name} » est publié dans l'annuaire."
            else:
                text = f"Le brouillon « {service.name} » est enregistré."
            messages.success(request, text)
            return redirect("directory:my_services", service.owner_id)
    missing = [] if created or form.errors else actions.missing_for_publication(service)
    return render(
        request,
        "directory/service_form.html",
        {
            "title": "Nouveau service" if created else f"Modifier « {service.name} »",
            "form": form,
            "service": service,
            "structure": service.structure,
            # An imported service taken in charge by an organisation may belong to a structure
            # without one: the service's organisation first.
            "organisation": service.owner or service.structure.owner,
            "created": created,
            "missing": missing,
            "is_draft": service.status in (PublicationStatus.DRAFT, PublicationStatus.REJECTED),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    structure = get_structure_for_editor(request.user, pk)
    service = Service(structure=structure, status=PublicationStatus.DRAFT)
    return _service_form_page(request, service, created=True)


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_service_for_editor(request.user, pk)
    return _service_form_page(request, service, created=False)


@login_required
@require_POST
def service_unpublish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_service_for_editor(request.user, pk)
    actions.unpublish_service(service=service, by=request.user, request=request)
    messages.success(
        request, f"Le service « {service.name} » est retiré de l'annuaire (brouillon)."
    )
    return redirect("directory:my_services", service.owner_id)


@login_required
@require_POST
def service_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = get_service_for_editor(request.user, pk)
    actions.confirm_service(service=service, by=request.user, request=request)
    messages.success(request, f"Merci : « {service.name} » est confirmé à jour aujourd'hui.")
    return redirect("directory:my_services", service.owner_id)


@login_required
@require_POST
def report_resolve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = get_report_for_resolver(request.user, pk)
    actions.resolve_report(report=report, by=request.user, request=request)
    messages.success(
        request, f"Le signalement sur « {report.service.name} » est marqué comme traité."
    )
    fallback = (
        reverse("directory:my_services", args=[report.service.owner_id])
        if report.service.owner_id
        else reverse("directory:moderation", args=[report.service.department_id])
    )
    return redirect(safe_next(request, request.POST.get("next") or fallback))


# --- Moderation ---------------------------------------------------------------------------


@login_required
@require_GET
def moderation(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's queue: declared structures to approve, reports on unowned services."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.can_moderate_structures(request.user, code):
        raise PermissionDenied
    pending = list(
        Structure.objects.filter(department=department, status=PublicationStatus.PENDING)
        .select_related("owner", "commune", "edited_by")
        .annotate(service_count=Count("services"))
        .order_by("created_at")
    )
    reports = list(
        ServiceReport.objects.open()
        .filter(service__owner__isnull=True, service__department=department)
        .select_related("service", "reporter", "reporter_organisation")
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "directory/moderation.html",
        {
            "title": f"Modération de l'annuaire — {department}",
            "department": department,
            "pending": pending,
            "reports": reports,
        },
    )


@login_required
@require_POST
def structure_approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    structure = get_structure_for_moderator(request.user, pk)
    try:
        actions.approve_structure(structure=structure, by=request.user, request=request)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"La structure « {structure.name} » est validée et publiée.")
    return redirect("directory:moderation", structure.department_id)


@login_required
@require_POST
def structure_reject(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    structure = get_structure_for_moderator(request.user, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("directory:moderation", structure.department_id)
    try:
        actions.reject_structure(
            structure=structure,
            reason=form.cleaned_data["reason"],
            by=request.user,
            request=request,
        )
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"La structure « {structure.name} » est refusée ; l'organisation est prévenue."
        )
    return redirect("directory:moderation", structure.department_id)
