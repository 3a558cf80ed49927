"""FSE+ operations: the territory's list and creation, an operation's completeness per
organisation, the files a professional has to complete, the export of its participants."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from binome.access.audit import record, record_list_read
from binome.access.models import AuditKind
from binome.access.predicates import roles_of, works_in_department
from binome.core.typing import AuthenticatedRequest
from binome.steering import actions, exports, operations
from binome.steering.forms import OperationForm
from binome.steering.models import FseOperation
from binome.steering.periods import Period
from binome.steering.views import can_steer_territory
from binome.support.fse import statuses
from binome.territories.models import Department


def _covered_member(user: Any, operation: FseOperation) -> set[int]:
    """The covered organisations the user is a member of."""
    covered = set(operation.organisations.values_list("pk", flat=True))
    return covered & set(roles_of(user).member_of)


def get_operation_for_user(user: Any, pk: int) -> tuple[FseOperation, bool, set[int]]:
    """The operation, 404 outside its territory; its steering sees everything, a member of a
    covered organisation sees the organisation's completeness and her own files to complete."""
    operation = FseOperation.objects.select_related("department").filter(pk=pk).first()
    if operation is None or not works_in_department(user, operation.department_id):
        raise Http404
    steers = can_steer_territory(user, operation.department_id)
    own = _covered_member(user, operation)
    if not steers and not own:
        raise PermissionDenied
    return operation, steers, own


@login_required
@require_http_methods(["GET", "POST"])
def operations_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's FSE+ operations, and the creation of one."""
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code):
        raise Http404
    if not can_steer_territory(request.user, code):
        raise PermissionDenied
    form = OperationForm(request.POST or None, department_id=code)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            operation = actions.create_fse_operation(
                department_id=code,
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                organisations=list(data["organisations"]),
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"L'opération « {operation.name} » est créée.")
            return redirect("steering:fse_operation", operation.pk)
    return render(
        request,
        "steering/fse_operations.html",
        {
            "title": f"Opérations FSE+ — {department.name}",
            "operations": FseOperation.objects.filter(department_id=code),
            "form": form,
        },
    )


@login_required
@require_GET
def operation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Completeness per organisation (figures only), and the user's own files to complete."""
    found, steers, own = get_operation_for_user(request.user, pk)
    rows = operations.completeness(found)
    if not steers:
        rows = [row for row in rows if row.organisation_id in own]
    files = operations.to_complete_for(found, request.user.pk)
    for accompaniment in files:
        stages = statuses(accompaniment, getattr(accompaniment, "fse", None))
        accompaniment.fse_missing = ", ".join(  # type: ignore[attr-defined]
            status.label.lower() for status in stages if not status.complete
        )
    record_list_read(
        request=request,
        person_ids=[accompaniment.person_id for accompaniment in files],
        what=f"Opération FSE+ « {found.name} » : dossiers à compléter",
    )
    return render(
        request,
        "steering/fse_operation.html",
        {
            "title": f"Opération FSE+ : {found.name}",
            "operation": found,
            "organisations": found.organisations.order_by("name"),
            "rows": rows,
            "files": files,
            "can_export": steers,
        },
    )


@login_required
@require_GET
def operation_export(request: AuthenticatedRequest, pk: int, extension: str) -> HttpResponse:
    """The operation's participants, one line each, pseudonymised (the territory's steering)."""
    found, steers, _ = get_operation_for_user(request.user, pk)
    if not steers:
        raise PermissionDenied
    if extension not in exports.FORMATS:
        raise Http404
    table = operations.export_table(found)
    record(
        AuditKind.FSE_EXPORTED,
        actor=request.user,
        department_id=found.department_id,
        target=found,
        what=f"Export FSE+ de l'opération « {found.name} » ({len(table.rows)} participants, "
        "pseudonymisés)",
        request=request,
    )
    write = exports.as_csv if extension == "csv" else exports.as_xlsx
    return write(table, place=found.name, period=Period(found.starts_on, found.ends_on))
