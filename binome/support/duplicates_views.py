"""Territory administrators: probable duplicates of the département, and their merge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from binome.access import predicates
from binome.access.audit import record_read
from binome.core.typing import AuthenticatedRequest
from binome.people.duplicates import can_merge_persons, probable_duplicates
from binome.people.models import Person
from binome.support import actions
from binome.support.models import Accompaniment
from binome.territories.models import Department


def _check_admin(request: AuthenticatedRequest, code: str) -> None:
    """404 outside the département, 403 for its professionals who are not its admins."""
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not can_merge_persons(request.user, code):
        raise PermissionDenied


@login_required
@require_GET
def duplicates(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = get_object_or_404(Department, code=code)
    _check_admin(request, code)
    pairs = probable_duplicates(code)
    for pair in pairs:
        for person in (pair.first, pair.second):
            record_read(
                request=request,
                obj=person,
                person_id=person.pk,
                what="Identité minimale : liste des doublons probables",
            )
    return render(
        request,
        "people/duplicates.html",
        {"title": f"Doublons probables — {department}", "department": department, "pairs": pairs},
    )


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: AuthenticatedRequest, code: str, first: int, second: int) -> HttpResponse:
    """Compare two files, choose the one to keep, confirm."""
    _check_admin(request, code)
    persons = Person.objects.select_related("commune", "organisation").filter(
        department_id=code, merged_into__isnull=True, archived_until__isnull=True
    )
    one = get_object_or_404(persons, pk=first)
    other = get_object_or_404(persons, pk=second)
    if one.pk == other.pk:
        raise Http404
    error = ""
    if request.method == "POST":
        kept_id = request.POST.get("kept", "")
        if kept_id not in (str(one.pk), str(other.pk)):
            error = "Choisissez le dossier à conserver."
        else:
            kept, merged = (one, other) if kept_id == str(one.pk) else (other, one)
            try:
                actions.merge_persons(kept=kept, merged=merged, by=request.user, request=request)
            except ValidationError as exc:
                error = exc.messages[0]
            else:
                messages.success(
                    request,
                    f"Les dossiers sont fusionnés : le dossier n° {merged.pk} est réuni dans le "
                    f"dossier n° {kept.pk} ({kept.full_name}), avec tout son historique.",
                )
                return redirect("people:duplicates", code)
    else:
        for person in (one, other):
            record_read(
                request=request,
                obj=person,
                person_id=person.pk,
                what="Identité minimale : comparaison avant fusion de doublons",
            )
    counts = {
        person.pk: Accompaniment.objects.filter(person=person).count() for person in (one, other)
    }
    return render(
        request,
        "people/merge.html",
        {
            "title": "Fusionner deux dossiers",
            "code": code,
            "candidates": [(one, counts[one.pk]), (other, counts[other.pk])],
            "error": error,
        },
        status=400 if error else 200,
    )
