"""The team withdraws a request: the open solicitations are closed, their providers told."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.childcare.models import (
    ChildcareRequest,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
)
from binome.support.models import TimelineEvent
from tests.childcare.conftest import Essonne
from tests.childcare.test_requests import file_request, send_to_both


def withdraw_url(childcare_request: ChildcareRequest) -> str:
    return reverse("childcare:request_withdraw", args=[childcare_request.pk])


def test_withdrawing_closes_the_open_solicitations_and_tells_their_providers(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    childcare_request = send_to_both(essonne)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = essonne.var.client(essonne.charlie).post(
            withdraw_url(childcare_request),
            {"withdrawn_reason": "La famille a trouvé une solution"},
        )
    assert response.status_code == 302
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.WITHDRAWN
    assert childcare_request.closed_at is not None
    assert set(Solicitation.objects.values_list("status", flat=True)) == {SolicitationStatus.CLOSED}
    assert {m.to[0] for m in mail.outbox} == {essonne.nina.email, essonne.omar.email}
    assert all("retirée" in m.subject for m in mail.outbox)
    assert TimelineEvent.objects.filter(
        person=essonne.parent,
        summary="Demande de garde d'enfant retirée : La famille a trouvé une solution",
    ).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.CHILDCARE_REQUEST_CHANGED, what__contains="retirée"
    ).exists()
    # The provider can no longer accept it.
    solicitation = Solicitation.objects.get(provider=essonne.creche)
    response = essonne.var.client(essonne.nina).post(
        reverse("childcare:solicitation_accept", args=[solicitation.pk]),
        {"start_on": "2099-01-01", "place_details": "Section des moyens"},
        follow=True,
    )
    assert "n&#x27;attend plus de réponse" in response.content.decode()


def test_withdrawing_needs_a_reason_and_happens_once(essonne: Essonne) -> None:
    childcare_request = file_request(essonne)
    client = essonne.var.client(essonne.charlie)
    response = client.post(withdraw_url(childcare_request), {"withdrawn_reason": "  "})
    assert response.status_code == 400
    assert "Indiquez pourquoi la demande est retirée." in response.content.decode()
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.DRAFT
    client.post(withdraw_url(childcare_request), {"withdrawn_reason": "Entretien annulé"})
    response = client.post(
        withdraw_url(childcare_request), {"withdrawn_reason": "Encore"}, follow=True
    )
    assert "ne peut plus être retirée" in response.content.decode()
    childcare_request.refresh_from_db()
    assert childcare_request.withdrawn_reason == "Entretien annulé"


def test_only_the_team_withdraws(essonne: Essonne) -> None:
    childcare_request = file_request(essonne)
    for outsider in (essonne.nina, essonne.var.alice):
        response = essonne.var.client(outsider).post(
            withdraw_url(childcare_request), {"withdrawn_reason": "Non"}
        )
        assert response.status_code == 404
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.DRAFT


def test_the_request_page_offers_the_withdrawal_to_the_team(essonne: Essonne) -> None:
    childcare_request = file_request(essonne)
    response = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_detail", args=[childcare_request.pk])
    )
    assert response.status_code == 200
    assert withdraw_url(childcare_request) in response.content.decode()
