"""The territory administrator's RSA imports: upload, progress, report, history."""

from __future__ import annotations

import io
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
from binome.rsa.actions import open_source, planned_changes, save_mapping
from binome.rsa.flux import DossierRefused, FluxRefused
from binome.rsa.imports import (
    MAX_FILE_BYTES,
    draft_content,
    fail_stale_imports,
    queue_draft,
    set_draft_mapping,
    start_import,
    store_spreadsheet,
    unfinished_import,
)
from binome.rsa.models import FlowImport, ImportStatus, SpreadsheetMapping
from binome.rsa.spreadsheets import (
    FIELDS,
    Spreadsheet,
    Table,
    guess_mapping,
    is_spreadsheet,
    read_table,
)
from binome.territories.models import Department

REPORT_ROWS_SHOWN = 500
ROW_STATUSES = {
    "create": "À créer",
    "update": "À mettre à jour",
    "unchanged": "À jour",
    "error": "Erreur",
}
ACCEPTED = ".xml,.xlsx,.ods,.csv"


class FlowUploadForm(BinomeForm, forms.Form):
    file = forms.FileField(
        label="Flux XML de la CAF ou de la MSA, ou tableur du département",
        widget=UploadInput(accept=ACCEPTED),
        help_text="Flux « bénéficiaires » ou « instruction » au format XML ; ou tableur XLSX, "
        "ODS ou CSV (UTF-8 ou Windows-1252), une ligne par personne.",
    )
    mapping = forms.ModelChoiceField(
        label="Correspondance de colonnes (tableurs)",
        queryset=SpreadsheetMapping.objects.none(),
        required=False,
        empty_label="Nouvelle correspondance",
        help_text="Pour un tableur : la correspondance enregistrée qui dit quelle colonne "
        "contient quel champ. Vous la vérifierez avant l'import.",
    )

    def __init__(self, *args: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mapping = self.fields["mapping"]
        assert isinstance(mapping, forms.ModelChoiceField)
        mapping.queryset = SpreadsheetMapping.objects.filter(department=department)

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        suffix = PurePath(upload.name or "").suffix.lower()
        if suffix != ".xml" and not is_spreadsheet(upload.name or ""):
            raise forms.ValidationError(
                "Format non accepté : un flux .xml ou un tableur .xlsx, .ods ou .csv est attendu."
            )
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
        FlowUploadForm(request.POST, request.FILES, department=department)
        if request.method == "POST"
        else FlowUploadForm(department=department)
    )
    if unfinished is None and form.is_bound and form.is_valid():
        upload: UploadedFile[bytes] = form.cleaned_data["file"]
        name = PurePath(upload.name or "flux.xml").name
        mapping: SpreadsheetMapping | None = form.cleaned_data["mapping"]
        if is_spreadsheet(name):
            draft = store_spreadsheet(
                department=department,
                file_name=name,
                content=upload.read(),
                by=request.user,
                mapping=mapping,
            )
            step = "import_preview" if mapping else "import_mapping"
            return redirect(f"rsa_imports:{step}", code, draft.pk)
        flow = start_import(
            department=department, file_name=name, content=upload.read(), by=request.user
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
            "mappings": SpreadsheetMapping.objects.filter(department=department),
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
    if flow.status == ImportStatus.DRAFT:
        return redirect("rsa_imports:import_preview", code, flow.pk)
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


# --- Spreadsheets: the mapping of their columns, the preview, then the import ----------


class MappingForm(BinomeForm, forms.Form):
    """A name, and for each field the file's column that holds it."""

    name = forms.CharField(
        label="Nom de la correspondance",
        max_length=100,
        help_text="Par exemple « Tableau mensuel du Département » : vous la choisirez pour les "
        "prochains fichiers de même forme.",
    )

    def __init__(self, *args: Any, headers: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— Aucune colonne —"), *((h, h) for h in headers if h)]
        for field in FIELDS:
            self.fields[f"column_{field.key}"] = forms.ChoiceField(
                label=field.label,
                choices=choices,
                required=field.required,
                error_messages={"required": f"Choisissez la colonne du champ « {field.label} »."},
            )

    def columns(self) -> dict[str, str]:
        return {
            field.key: self.cleaned_data[f"column_{field.key}"]
            for field in FIELDS
            if self.cleaned_data.get(f"column_{field.key}")
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = [cleaned.get(f"column_{field.key}") for field in FIELDS]
        repeated = sorted({c for c in chosen if c and chosen.count(c) > 1})
        if repeated:
            raise forms.ValidationError(
                f"Une colonne ne peut tenir qu'un champ : « {repeated[0]} » est choisie deux fois."
            )
        return cleaned


def _draft_for_admin(request: AuthenticatedRequest, code: str, pk: int) -> FlowImport:
    """A spreadsheet « à vérifier » of the territory (404 otherwise)."""
    _department_for_admin(request, code)
    return get_object_or_404(
        FlowImport.objects.defer("content").select_related("department", "mapping"),
        pk=pk,
        department_id=code,
        status=ImportStatus.DRAFT,
    )


def _table(flow: FlowImport) -> Table:
    return read_table(io.BytesIO(draft_content(flow)), flow.file_name)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Which column of the uploaded spreadsheet holds which field: a mapping saved for the
    territory (a new one, or the chosen one, edited)."""
    flow = _draft_for_admin(request, code, pk)
    try:
        table = _table(flow)
    except FluxRefused as refusal:
        return render(
            request,
            "rsa/imports/mapping.html",
            {"title": "Fichier illisible", "flow": flow, "refusal": str(refusal), "form": None},
        )
    if flow.mapping is not None:
        initial = {"name": flow.mapping.name}
        columns = {k: v for k, v in flow.mapping.columns.items() if v in table.headers}
    else:
        initial = {"name": ""}
        columns = guess_mapping(table.headers)
    initial.update({f"column_{key}": header for key, header in columns.items()})
    form = (
        MappingForm(request.POST, headers=table.headers)
        if request.method == "POST"
        else MappingForm(initial=initial, headers=table.headers)
    )
    if form.is_bound and form.is_valid():
        mapping = save_mapping(
            department=flow.department,
            name=form.cleaned_data["name"].strip(),
            columns=form.columns(),
            by=request.user,
        )
        set_draft_mapping(flow, mapping)
        return redirect("rsa_imports:import_preview", code, flow.pk)
    return render(
        request,
        "rsa/imports/mapping.html",
        {
            "title": f"Correspondance des colonnes — {flow.file_name}",
            "flow": flow,
            "form": form,
            "headers": table.headers,
            "refusal": "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The first rows as the mapping reads them, and each row's status, before the import."""
    flow = _draft_for_admin(request, code, pk)
    if flow.mapping is None:
        return redirect("rsa_imports:import_mapping", code, flow.pk)
    if request.method == "POST":
        if unfinished_import(code) is None and queue_draft(flow):
            return redirect("rsa_imports:import_detail", code, flow.pk)
        return redirect("rsa_imports:import_list", code)
    context: dict[str, Any] = {
        "title": f"Aperçu avant import — {flow.file_name}",
        "flow": flow,
        "unfinished": unfinished_import(code),
    }
    try:
        sheet = open_source(io.BytesIO(draft_content(flow)), flow.file_name, mapping=flow.mapping)
    except FluxRefused as refusal:
        return render(request, "rsa/imports/preview.html", {**context, "refusal": str(refusal)})
    assert isinstance(sheet, Spreadsheet)
    planned = planned_changes(flow.department, sheet.dossiers(), sheet.header)
    fields = [f for f in FIELDS if f.key in sheet.columns]
    rows = [
        {
            "line": row.line,
            "number": row.number,
            "status": (status := "error" if row.reason else planned.get(row.number, "error")),
            "label": ROW_STATUSES[status],
            "error": row.error,
            "values": [row.values.get(f.key, "") for f in fields],
        }
        for row in sheet.rows
    ]
    counts = {key: 0 for key in ROW_STATUSES}
    for row in rows:
        counts[str(row["status"])] += 1
    return render(
        request,
        "rsa/imports/preview.html",
        {
            **context,
            "refusal": "",
            "fields": fields,
            "preview": rows[: len(sheet.preview())],
            "rows": rows[:REPORT_ROWS_SHOWN],
            "rows_hidden": max(0, len(rows) - REPORT_ROWS_SHOWN),
            "statuses": ROW_STATUSES,
            "counts": [(ROW_STATUSES[key], count) for key, count in counts.items()],
            "households": sum(1 for d in sheet.dossiers() if not isinstance(d, DossierRefused)),
        },
    )
