"""The childcare clocks: half-time reminders, escalation past due, places to confirm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.childcare.deadlines import remind_places_to_confirm, run_deadlines
from binome.childcare.models import ChildcareRequest, Provider
from binome.notifications.models import Notification
from binome.organisations.models import MemberFunction, Organisation, OrganisationKind
from binome.support.models import TimelineEvent
from tests.childcare.conftest import Essonne
from tests.childcare.test_requests import send_to_both
from tests.factories import make_member


def caf_agent_of_the_essonne() -> Any:
    caf = Organisation.objects.create(
        name="CAF de l'Essonne", kind=OrganisationKind.CAF, department_id="91"
    )
    return make_member("Karima", caf, function=MemberFunction.CAF_AGENT)


def test_half_time_reminds_the_providers_once(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    childcare_request = send_to_both(essonne)
    now = childcare_request.created_at + timedelta(hours=11)
    assert run_deadlines(now) == (0, 0)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_deadlines(now + timedelta(hours=2)) == (1, 0)
    assert {m.to[0] for m in mail.outbox} == {essonne.nina.email, essonne.omar.email}
    assert all("Awa" not in m.body for m in mail.outbox)
    assert run_deadlines(now + timedelta(hours=3)) == (0, 0)


def test_past_due_escalates_to_the_coordinator_and_tells_the_team_once(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    coordinator = caf_agent_of_the_essonne()
    childcare_request = send_to_both(essonne)
    mail.outbox.clear()
    later = childcare_request.due_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_deadlines(later) == (0, 1)
    assert {m.to[0] for m in mail.outbox} == {coordinator.email, essonne.charlie.email}
    assert all("Awa" not in m.body and "Diallo" not in m.body for m in mail.outbox)
    assert TimelineEvent.objects.filter(
        person=essonne.parent, summary__contains="signalée à la coordination"
    ).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.CHILDCARE_REQUEST_CHANGED, person_id=essonne.parent.pk
    ).exists()
    # Twice: nothing more.
    assert run_deadlines(later + timedelta(minutes=15)) == (0, 0)
    assert Notification.objects.filter(recipient=coordinator).count() == 1
    # The coordinator sees the criteria, not the file; the team's page stays the team's.
    client = essonne.var.client(coordinator)
    page = client.get(reverse("childcare:coordination", args=[childcare_request.pk]))
    assert page.status_code == 200 and "Awa D." in page.content.decode()
    assert "Diallo" not in page.content.decode()
    detail = reverse("childcare:request_detail", args=[childcare_request.pk])
    assert client.get(detail).status_code == 404


def test_an_answered_request_is_not_escalated(essonne: Essonne) -> None:
    childcare_request = send_to_both(essonne)
    ChildcareRequest.objects.filter(pk=childcare_request.pk).update(status="acceptee")
    assert run_deadlines(childcare_request.due_at + timedelta(hours=1)) == (0, 0)


def test_the_caf_checks_the_criteria(essonne: Essonne) -> None:
    coordinator = caf_agent_of_the_essonne()
    childcare_request = send_to_both(essonne)
    client = essonne.var.client(coordinator)
    inbox = client.get(reverse("childcare:coordination_inbox"))
    assert "Awa D." in inbox.content.decode()
    url = reverse("childcare:coordination", args=[childcare_request.pk])
    refused = client.post(url, {"eligibility": "non_eligible", "eligibility_reason": ""})
    assert refused.status_code == 400
    assert "Indiquez pourquoi la demande n&#x27;est pas éligible." in refused.content.decode()
    assert client.post(url, {"eligibility": "eligible"}).status_code == 302
    childcare_request.refresh_from_db()
    assert childcare_request.eligibility == "eligible"
    assert childcare_request.checked_by == coordinator
    # Outside the coordination: 404 (a provider, the Var's CAF agent, the counselor).
    for outsider in (essonne.nina, essonne.var.carol, essonne.charlie):
        assert essonne.var.client(outsider).get(url).status_code == 404


def test_places_not_confirmed_for_a_month_are_reminded_once(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    Provider.objects.filter(pk=essonne.creche.pk).update(
        confirmed_at=timezone.now() - timedelta(days=31)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_places_to_confirm(timezone.now()) == 1
    assert [m.to[0] for m in mail.outbox] == [essonne.nina.email]
    assert remind_places_to_confirm(timezone.now()) == 0
