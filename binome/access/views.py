from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from binome.access import predicates
from binome.access.models import AuditEvent, AuditKind
from binome.territories.models import Department


@login_required
@require_GET
def audit_log(request: HttpRequest, code: str) -> HttpResponse:
    """The territory's audit log, read-only, for its administrators."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.can_view_audit_log(request.user, code):
        raise PermissionDenied
    events = AuditEvent.objects.filter(department=department)
    kind = request.GET.get("evenement", "")
    if kind in AuditKind.values:
        events = events.filter(kind=kind)
    page = Paginator(events.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "access/audit_log.html",
        {
            "title": f"Journal d'audit — {department}",
            "department": department,
            "page": page,
            "kind": kind,
            "kinds": AuditKind.choices,
        },
    )
