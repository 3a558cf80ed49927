"""The territory administrator's directory imports: upload, progress, report, history."""

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
from binome.directory.imports import (
    MAX_FILE_BYTES,
    fail_stale_imports,
    start_import,
    unfinished_import,
)
from binome.directory.models import ImportRun
from binome.territories.models import Department

REPORT_ROWS_SHOWN = 500


class ImportForm(BinomeForm, forms.Form):
    structures = forms.FileField(
        label="Fichier des structures",
        required=False,
        widget=UploadInput(accept=".json,.csv"),
        help_text="data·inclusion v1, JSON ou CSV (UTF-8).",
    )
    services = forms.FileField(
        label="Fichier des services",
        required=False,
        widget=UploadInput(accept=".json,.csv"),
        help_text="data·inclusion v1, JSON ou CSV (UTF-8). Leurs structures doivent être dans "
        "le fichier des structures ou déjà dans l'annuaire.",
    )

    def _check_file(self, name: str) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get(name)
        if upload is None:
            return None
        if PurePath(upload.name or "").suffix.lower() not in {".json", ".csv"}:
            raise forms.ValidationError(
                "Format non accepté : un fichier .json ou .csv est attendu."
            )
        if (upload.size or 0) > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"Fichier trop gros ({filesizeformat(upload.size or 0)}) : "
                f"{filesizeformat(MAX_FILE_BYTES)} au plus."
            )
        return upload

    def clean_structures(self) -> UploadedFile | None:
        return self._check_file("structures")

    def clean_services(self) -> UploadedFile | None:
        return self._check_file("services")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not (cleaned.get("structures") or cleaned.get("services")):
            raise forms.ValidationError("Choisissez au moins un fichier à importer.")
        return cleaned

    def files_to_import(self) -> list[tuple[str, bytes]]:
        return [
            (upload.name or name, upload.read())
            for name in ("structures", "services")
            if (upload := self.cleaned_data.get(name)) is not None
        ]


def _department_for_admin(request: AuthenticatedRequest, code: str) -> Department:
    """The territory, 404 outside the user's reach, 403 for a role that may not import."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.can_import_directory(request.user, code):
        raise PermissionDenied
    return department


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Upload files for an import, and the territory's past imports.

    One import at a time per territory: while one waits or runs, the page links to it
    instead of offering the form (an import left "En cours" by a dead worker is failed
    first, see ``imports.fail_stale_imports``)."""
    department = _department_for_admin(request, code)
    unfinished = unfinished_import(code)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if unfinished is None and form.is_bound and form.is_valid():
        run = start_import(department=department, files=form.files_to_import(), by=request.user)
        return redirect("directory:import_detail", code, run.pk)
    runs = (
        ImportRun.objects.for_department(code)
        .select_related("created_by")
        .prefetch_related("files")[:50]
    )
    return render(
        request,
        "directory/imports/list.html",
        {
            "title": f"Imports de l'annuaire — {department}",
            "department": department,
            "form": form,
            "unfinished": unfinished,
            "runs": runs,
            "max_size": MAX_FILE_BYTES,
        },
    )


def _run_for_admin(request: AuthenticatedRequest, code: str, pk: int) -> ImportRun:
    _department_for_admin(request, code)
    fail_stale_imports(department_id=code)
    return get_object_or_404(
        ImportRun.objects.select_related("department", "created_by"), pk=pk, department_id=code
    )


def _report_context(run: ImportRun) -> dict[str, Any]:
    return {
        "run": run,
        "rejected": run.rejected[:REPORT_ROWS_SHOWN],
        "rejected_hidden": max(0, len(run.rejected) - REPORT_ROWS_SHOWN),
        "counts": run.counts,
        # Runs before warnings existed have none in their counts.
        "warnings": (run.counts or {}).get("warnings", [])[:REPORT_ROWS_SHOWN],
    }


@login_required
@require_GET
def import_detail(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """One import: its progress while it runs (the page polls), then its report."""
    run = _run_for_admin(request, code, pk)
    return render(
        request,
        "directory/imports/detail.html",
        {
            "title": f"Import du {run.created_at:%d/%m/%Y à %H:%M}",
            "department": run.department,
            "files": list(run.files.values_list("name", "size")),
            **_report_context(run),
        },
    )


@login_required
@require_GET
def import_progress(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The progress fragment the page polls every second (then the report, once done)."""
    run = _run_for_admin(request, code, pk)
    return render(request, "directory/imports/_progress.html", _report_context(run))
