"""The person's right of access: she downloads her data from her space (« Mes données »);
her team records her request (dated, due within a month) and downloads the same files to
hand them over. JSON (machine-readable) and PDF (readable), the same content."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from binome.access.audit import record_read
from binome.core.typing import AuthenticatedRequest
from binome.people.models import Person
from binome.retention import actions, export
from binome.retention.forms import AccessRequestForm
from binome.retention.models import DataAccessRequest
from binome.support import space
from binome.support.access import get_file_for_user

FORMATS = {"json": "application/json", "pdf": "application/pdf"}


def _download(person: Person, file_format: str) -> HttpResponse:
    data = export.person_data(person)
    if file_format == "json":
        body: bytes = json.dumps(data, ensure_ascii=False, indent=2).encode()
    else:
        body = export.render_pdf(data)
    response = HttpResponse(body, content_type=FORMATS[file_format])
    filename = f"donnees-binome-{person.pk}-{timezone.localdate():%Y%m%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_person_or_404(request: AuthenticatedRequest) -> Person:
    person = space.own_person(request.user)
    if person is None:
        raise Http404
    return person


@login_required
@require_GET
def my_data(request: AuthenticatedRequest) -> HttpResponse:
    person = _own_person_or_404(request)
    return render(
        request,
        "retention/my_data.html",
        {
            "title": "Mes données",
            "requests": DataAccessRequest.objects.filter(person=person),
        },
    )


@login_required
@require_GET
def my_data_download(request: AuthenticatedRequest, file_format: str) -> HttpResponse:
    person = _own_person_or_404(request)
    if file_format not in FORMATS:
        raise Http404
    today = timezone.localdate()
    access_request = DataAccessRequest.objects.filter(
        person=person, by_person=True, requested_on=today
    ).first() or actions.record_access_request(
        person=person, requested_on=today, by=request.user, by_person=True
    )
    actions.answer_access_request(
        access_request=access_request, by=request.user, file_format=file_format
    )
    record_read(
        request=request, obj=person, person_id=person.pk, what="Mes données (téléchargement)"
    )
    return _download(person, file_format)


@login_required
@require_http_methods(["GET", "POST"])
def file_access(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The team's page of the person's right of access: her requests, their deadlines."""
    person, _access = get_file_for_user(request, pk, what="Droit d'accès : demandes")
    form = AccessRequestForm(request.POST or None, initial={"requested_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_access_request(
                person=person, requested_on=form.cleaned_data["requested_on"], by=request.user
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                form.add_error("requested_on", errors)
        else:
            messages.success(
                request, "La demande est enregistrée : la réponse est due dans un mois."
            )
            return redirect("retention:file_access", person.pk)
    return render(
        request,
        "retention/file_access.html",
        {
            "title": f"Droit d'accès de {person.full_name}",
            "person": person,
            "form": form,
            "requests": DataAccessRequest.objects.filter(person=person),
            "today": timezone.localdate(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def file_access_download(
    request: AuthenticatedRequest, pk: int, request_pk: int, file_format: str
) -> HttpResponse:
    person, _access = get_file_for_user(request, pk, what="Droit d'accès : données remises")
    if file_format not in FORMATS:
        raise Http404
    access_request = get_object_or_404(DataAccessRequest, pk=request_pk, person=person)
    actions.answer_access_request(
        access_request=access_request, by=request.user, file_format=file_format
    )
    return _download(person, file_format)
