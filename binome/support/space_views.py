"""The person's own space (``/mon-espace/``): their file as they see it, their consents,
who read their file, and their engagement PDF. Professionals get a 404 here."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from binome.access.audit import record_read
from binome.core.typing import AuthenticatedRequest
from binome.people.models import Consent, Person
from binome.support import actions, space
from binome.support.engagement import engagement_filename, render_engagement_pdf
from binome.support.models import Appointment

READS_PAGE_SIZE = 20
NOTES_SHOWN = 20


def _own_person_or_404(request: AuthenticatedRequest) -> Person:
    person = space.own_person(request.user)
    if person is None:
        raise Http404
    return person


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    person = _own_person_or_404(request)
    record_read(request=request, obj=person, person_id=person.pk, what="Mon espace")
    accompaniments = space.accompaniments_of(person)
    accompaniment = space.plan_accompaniment(accompaniments)
    now = timezone.now()
    appointments = list(
        Appointment.objects.filter(person=person).exclude(status="cancelled").order_by("at", "id")
    )
    return render(
        request,
        "people/space.html",
        {
            "title": "Mon espace",
            "person": person,
            "accompaniments": accompaniments,
            "accompaniment": accompaniment,
            "objectives": space.person_objectives(accompaniment),
            "today": timezone.localdate(),
            "upcoming": [a for a in appointments if a.at >= now],
            "past": [a for a in reversed(appointments) if a.at < now][:NOTES_SHOWN],
            "notes": list(space.person_notes(person)[:NOTES_SHOWN]),
            "consents": list(Consent.objects.filter(person=person).select_related("organisation")),
            "reads": Paginator(space.reads_of_file(person), READS_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "reads_kept_months": settings.BINOME_AUDIT_RETENTION_MONTHS,
            "reads_kept_since": space.reads_kept_since(timezone.localdate()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: AuthenticatedRequest, consent_pk: int) -> HttpResponse:
    """Confirm, then withdraw one of the person's own consents."""
    person = _own_person_or_404(request)
    consent = get_object_or_404(Consent, pk=consent_pk, person=person)
    if request.method == "POST":
        try:
            actions.withdraw_own_consent(consent=consent, person=person, request=request)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(
                request,
                "Votre consentement est retiré. Il prend effet immédiatement : les partages "
                "qui en dépendaient sont arrêtés.",
            )
        return redirect("space:home")
    return render(
        request,
        "people/space_consent_withdraw.html",
        {"title": "Retirer mon consentement", "person": person, "consent": consent},
    )


@login_required
@require_GET
def engagement_pdf(request: AuthenticatedRequest) -> HttpResponse:
    person = _own_person_or_404(request)
    record_read(request=request, obj=person, person_id=person.pk, what="PDF : contrat d'engagement")
    return pdf_response(person)


def pdf_response(person: Person) -> HttpResponse:
    response = HttpResponse(render_engagement_pdf(person), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{engagement_filename(person)}"'
    return response
