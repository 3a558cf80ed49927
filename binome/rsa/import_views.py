"""The territory administrator's RSA imports: upload, progress, report, history."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods

from binome.access import predicates
from binome.core.forms import BinomeForm
from binome.core.typing import AuthenticatedRequest
from binome.core.widgets import UploadInput
from binome.rsa.imports import (
    MAX_FILE_BYTES,
    fail_stale_imports,
    start_import,
    unfinished_import,
)
from binome.rsa.models import FlowImport, ImportStatus
from binome.territories.models import Department

REPORT_ROWS_SHOWN = 500
FLOW_SUFFIXES = {".xml"}


class FlowUploadForm(BinomeForm, forms.Form):
    file = forms.FileField(
        label="Flux XML de la CAF ou de la MSA",
        widget=UploadInput(accept=".xml"),
        help_text="Flux « bénéficiaires » mensuel ou « instruction » journalier, au format XML.",
    )

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        if PurePath(upload.name or "").suffix.lower() not in FLOW_SUFFIXES:
            raise forms.ValidationError("Format non accepté : un fichier .xml est attendu.")
        if (upload.size or 0) > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"Fichier trop gros ({filesizeformat(upload.size or 0)}) : "
                f"{filesizeformat(MAX_FILE_BYTES)} au plus."
            )
        if not upload.size:
            raise forms.ValidationError("Le fichier est vide.")
        return upload


def _department_for_admin(request: AuthenticatedRequest, code: str) -> Department:
    """The territory, 404 outside the user's reach, 403 for a role that may not import."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    return department


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Upload a flow, and the territory's past imports. One import at a time per territory."""
    department = _department_for_admin(request, code)
    unfinished = unfinished_import(code)
    form = (
        FlowUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else FlowUploadForm()
    )
    if unfinished is None and form.is_bound and form.is_valid():
        upload: UploadedFile[bytes] = form.cleaned_data["file"]
        flow = start_import(
            department=department,
            file_name=PurePath(upload.name or "flux.xml").name,
            content=upload.read(),
            by=request.user,
        )
        return redirect("rsa_imports:import_detail", code, flow.pk)
    flows = (
        FlowImport.objects.for_department(code)
        .defer("content", "rejections")
        .select_related("by")[:50]
    )
    return render(
        request,
        "rsa/imports/list.html",
        {
            "title": f"Imports RSA — {department}",
            "department": department,
            "form": form,
            "unfinished": unfinished,
            "flows": flows,
            "max_size": MAX_FILE_BYTES,
        },
    )


def _flow_for_admin(request: AuthenticatedRequest, code: str, pk: int) -> FlowImport:
    _department_for_admin(request, code)
    fail_stale_imports(department_id=code)
    return get_object_or_404(
        FlowImport.objects.defer("content").select_related("department", "by"),
        pk=pk,
        department_id=code,
    )


def _report_context(flow: FlowImport) -> dict[str, Any]:
    earlier = None
    if flow.status == ImportStatus.APPLIED and flow.file_hash:
        earlier = (
            FlowImport.objects.for_department(flow.department_id)
            .filter(file_hash=flow.file_hash, status=ImportStatus.APPLIED)
            .filter(started_at__lt=flow.started_at)
            .defer("content", "rejections")
            .order_by("started_at")
            .first()
        )
    return {
        "flow": flow,
        "rejections": flow.rejections[:REPORT_ROWS_SHOWN],
        "rejections_hidden": max(0, len(flow.rejections) - REPORT_ROWS_SHOWN),
        "earlier": earlier,
    }


@login_required
@require_GET
def import_detail(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """One import: its progress while it runs (the page polls), then its report."""
    flow = _flow_for_admin(request, code, pk)
    return render(
        request,
        "rsa/imports/detail.html",
        {
            "title": f"Import RSA du {flow.started_at:%d/%m/%Y à %H:%M}",
            "department": flow.department,
            **_report_context(flow),
        },
    )


@login_required
@require_GET
def import_progress(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The progress fragment the page polls every second (then the report, once done)."""
    flow = _flow_for_admin(request, code, pk)
    return render(request, "rsa/imports/_progress.html", _report_context(flow))
