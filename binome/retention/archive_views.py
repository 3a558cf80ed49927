"""The intermediate archive's pages.

- The territory's archivist (``TerritoryRoleKind.ARCHIVIST``) lists the archived files (their
  numbers, never a name) and reads one, read-only, after giving the reason of the read: each
  read is a line « consultation d'archive » of the audit log. Anyone else gets a 404, the
  former team and the territory's administrators included.
- The territory's administrators turn the archive on or off (duration, written justification)
  and restore a file archived by mistake, from their page « Conservation des dossiers ».
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.core.typing import AuthenticatedRequest
from binome.people.models import Person
from binome.retention import archive, export
from binome.retention.forms import ArchiveReadForm, ArchiveSettingsForm, RestoreForm
from binome.retention.models import Archive, ArchiveSettings
from binome.retention.views import _department_for_admin, _page
from binome.territories.models import Department


def _department_for_archivist(request: AuthenticatedRequest, code: str) -> Department:
    """The département, 404 for anyone who is not its archivist."""
    department = get_object_or_404(Department, code=code)
    if not predicates.is_archivist(request.user, code):
        raise Http404
    return department


@login_required
@require_GET
def archive_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = _department_for_archivist(request, code)
    archives = (
        Archive.objects.current()
        .filter(department_id=code)
        .select_related("organisation")
        .order_by("ends_on", "person_id")
    )
    return render(
        request,
        "retention/archive_list.html",
        {
            "title": f"Archive intermédiaire — {department.name}",
            "department": department,
            "settings": ArchiveSettings.for_department(code),
            "archives": archives,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def archive_read(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """One archived file, read-only, once the reason of the read is given (a POST: the
    file is shown in its answer, never at a URL one could reopen without a reason)."""
    department = _department_for_archivist(request, code)
    found = get_object_or_404(
        Archive.objects.current().select_related("organisation"), person_id=pk, department_id=code
    )
    form = ArchiveReadForm(request.POST if request.method == "POST" else None)
    context = {
        "title": f"Dossier archivé n° {found.person_id} — {department.name}",
        "department": department,
        "archive": found,
        "form": form,
    }
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "retention/archive_read.html", context, status=400)
        archive.record_archive_read(
            request=request, archive=found, reason=form.cleaned_data["reason"]
        )
        person = Person.objects.select_related("organisation", "commune").get(pk=pk)
        context["data"] = export.person_data(person)
        context["reason"] = form.cleaned_data["reason"]
    return render(request, "retention/archive_read.html", context)


@login_required
@require_POST
def archive_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = _department_for_admin(request, code)
    form = ArchiveSettingsForm(request.POST)
    if form.is_valid():
        try:
            archive.set_archive_settings(
                department_id=code, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name, errors)
        else:
            messages.success(request, "Le réglage de l'archive intermédiaire est enregistré.")
            return redirect("retention:territory", code)
    return _page(request, department, archive_form=form, status=400)


@login_required
@require_POST
def restore(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """A file archived by mistake, given back to its team (with a reason)."""
    department = _department_for_admin(request, code)
    form = RestoreForm(request.POST, department_id=code)
    if form.is_valid():
        try:
            archive.restore(
                person=form.cleaned_data["person"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                form.add_error("reason", errors)
        else:
            messages.success(
                request,
                "Le dossier est rétabli : sans nouveau contact, il sera archivé de nouveau "
                "après le délai d'avertissement.",
            )
            return redirect("retention:territory", code)
    return _page(request, department, restore_form=form, status=400)
