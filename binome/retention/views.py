"""The territory administrators' page of retention: the files near or past the end of their
retention (« ce qui serait anonymisé »), those kept and why, the legal holds, the reports
of the last runs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from binome.access import predicates
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.retention import actions
from binome.retention import settings as retention_settings
from binome.retention.forms import ArchiveSettingsForm, EraseForm, HoldForm, RestoreForm
from binome.retention.models import Archive, ArchiveSettings, LegalHold, RetentionRun
from binome.territories.models import Department

COUNTS = ("notify", "anonymise", "kept", "archive", "archive_expired")


def _department_for_admin(request: AuthenticatedRequest, code: str) -> Department:
    """The département, 404 outside it, 403 for who is not its territory administrator."""
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    return department


def _page(
    request: AuthenticatedRequest,
    department: Department,
    *,
    hold_form: HoldForm | None = None,
    erase_form: EraseForm | None = None,
    archive_form: ArchiveSettingsForm | None = None,
    restore_form: RestoreForm | None = None,
    status: int = 200,
) -> HttpResponse:
    code = department.code
    plan = actions.plan(today=timezone.localdate(), department_id=code)
    listed = [
        c
        for name in ("notify", "anonymise", "waiting", "kept", "archive", "archive_expired")
        for c in getattr(plan, name)
    ]
    organisations = Organisation.objects.in_bulk([c.organisation_id for c in listed])
    for candidate in listed:
        candidate.organisation_name = organisations[candidate.organisation_id].name
    per_organisation = sorted(
        (
            (organisations[pk].name if pk in organisations else str(pk), counts)
            for pk, counts in plan.by_organisation().items()
        ),
        key=lambda row: row[0],
    )
    holds = (
        LegalHold.objects.active()
        .filter(person__department_id=code)
        .select_related("set_by")
        .order_by("-set_at")
    )
    runs = [
        (run, {name: run.by_department.get(code, {}).get(name, 0) for name in COUNTS})
        for run in RetentionRun.objects.filter(dry_run=False).order_by("-started_at")[:10]
    ]
    settings = ArchiveSettings.for_department(code)
    context: dict[str, Any] = {
        "title": f"Conservation des dossiers — {department.name}",
        "department": department,
        "retention_months": retention_settings.retention_months(),
        "notice_days": retention_settings.notice_days(),
        "audit_months": retention_settings.audit_months(),
        "plan": plan,
        "per_organisation": per_organisation,
        "holds": holds,
        "runs": runs,
        "hold_form": hold_form or HoldForm(department_id=code),
        "erase_form": erase_form or EraseForm(department_id=code),
        "archive_settings": settings,
        "archived_count": Archive.objects.current().filter(department_id=code).count(),
        "archive_form": archive_form
        or ArchiveSettingsForm(
            initial={
                "enabled": settings.enabled,
                "years": settings.years,
                "justification": settings.justification,
            }
        ),
        "restore_form": restore_form or RestoreForm(department_id=code),
    }
    return render(request, "retention/territory.html", context, status=status)


@login_required
@require_GET
def territory(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _page(request, _department_for_admin(request, code))


@login_required
@require_POST
def hold(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = _department_for_admin(request, code)
    form = HoldForm(request.POST, department_id=code)
    if form.is_valid():
        try:
            actions.set_legal_hold(
                person=form.cleaned_data["person"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                form.add_error("reason", errors)
        else:
            messages.success(
                request, "Le dossier est conservé jusqu'à la levée de la conservation."
            )
            return redirect("retention:territory", code)
    return _page(request, department, hold_form=form, status=400)


@login_required
@require_POST
def lift(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    _department_for_admin(request, code)
    legal_hold = get_object_or_404(LegalHold.objects.active(), pk=pk, person__department_id=code)
    actions.lift_legal_hold(hold=legal_hold, by=request.user)
    messages.success(request, "La conservation pour motif légal est levée.")
    return redirect("retention:territory", code)


@login_required
@require_POST
def erase(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Erase at once a file created by mistake (a duplicate, the wrong person), with a
    reason: what identifies the person goes as at the end of retention."""
    department = _department_for_admin(request, code)
    form = EraseForm(request.POST, department_id=code)
    if form.is_valid():
        try:
            actions.erase_mistaken_file(
                person=form.cleaned_data["person"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                form.add_error("reason", errors)
        else:
            messages.success(request, "Le dossier créé par erreur est effacé.")
            return redirect("retention:territory", code)
    return _page(request, department, erase_form=form, status=400)
