"""A childcare request from the person's file, its matching providers, and the answers."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.childcare import actions
from binome.childcare.models import (
    ChildcareRequest,
    Provider,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
)
from binome.notifications.models import Notification
from binome.people.models import Consent, ConsentScope
from binome.support.models import TimelineEvent
from tests.childcare.conftest import Essonne, request_data
from tests.factories import make_childcare_provider


def child_of(essonne: Essonne) -> str:
    return str(essonne.parent.household.get().pk)


def file_request(essonne: Essonne, **overrides: str) -> ChildcareRequest:
    client = essonne.var.client(essonne.charlie)
    response = client.post(
        reverse("childcare:request_create", args=[essonne.parent.pk]),
        request_data(child_ids=[child_of(essonne)], **overrides),
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    return ChildcareRequest.objects.get()


def test_an_emergency_is_due_in_24_hours_and_records_the_consent(essonne: Essonne) -> None:
    before = timezone.now()
    childcare_request = file_request(essonne)
    assert childcare_request.status == RequestStatus.DRAFT
    assert before + timedelta(hours=24) <= childcare_request.due_at
    assert childcare_request.due_at <= timezone.now() + timedelta(hours=24)
    assert childcare_request.under_25 is False
    assert [c.first_name for c in childcare_request.children.all()] == ["Léo"]
    consent = Consent.objects.get(person=essonne.parent, scope=ConsentScope.CHILDCARE_CAF)
    assert childcare_request.consent == consent
    assert TimelineEvent.objects.filter(person=essonne.parent, kind="childcare").exists()
    assert AuditEvent.objects.filter(kind=AuditKind.CHILDCARE_REQUEST_SENT).exists()


def test_a_place_is_due_in_15_days(essonne: Essonne) -> None:
    needed = (timezone.localdate() + timedelta(days=12)).isoformat()
    childcare_request = file_request(essonne, urgency="place", needed_on=needed)
    delay = childcare_request.due_at - childcare_request.created_at
    assert delay == timedelta(days=15)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent_now": ""}, "Sans le consentement de la personne"),
        ({"needed_on": "2020-01-01"}, "Cette date est passée"),
        ({"child_ids": [], "other_first_name": "Lina"}, "Indiquez la date de naissance"),
        ({"child_ids": []}, "Choisissez au moins un enfant du foyer"),
        (
            {"child_ids": [], "other_first_name": "Sam", "other_birth_date": "2012-01-01"},
            "Aucun accueil à moins de 15 km n&#x27;a de place",
        ),
        ({"radius_km": "-3"}, "Entre 1 et 100 km."),
        ({"reason_on": "2020-01-01"}, "Cet entretien est déjà passé"),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_written(
    essonne: Essonne, overrides: dict[str, object], message: str
) -> None:
    client = essonne.var.client(essonne.charlie)
    data = request_data(child_ids=[child_of(essonne)])
    data.update(overrides)
    response = client.post(reverse("childcare:request_create", args=[essonne.parent.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ChildcareRequest.objects.exists()
    assert not Consent.objects.filter(scope=ConsentScope.CHILDCARE_CAF).exists()


def test_no_consent_is_refused_by_the_action_itself(essonne: Essonne) -> None:
    with pytest.raises(ValidationError, match="consentement"):
        actions.create_request(
            person=essonne.parent,
            organisation=essonne.charlie.memberships.get().organisation,
            accompaniment=None,
            children=[("Léo", essonne.parent.household.get().birth_date)],
            reason="entretien",
            reason_on=None,
            needed_on=timezone.localdate(),
            schedule="9 h - 12 h",
            urgency="urgence",
            single_parent=True,
            qpv=False,
            rsa=False,
            radius_km=15,
            by=essonne.charlie,
        )
    assert not ChildcareRequest.objects.exists()


def test_an_interview_already_past_is_refused_by_the_action_itself(essonne: Essonne) -> None:
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError, match="Cet entretien est déjà passé"):
        actions.create_request(
            person=essonne.parent,
            organisation=essonne.charlie.memberships.get().organisation,
            accompaniment=None,
            children=[("Léo", essonne.parent.household.get().birth_date)],
            reason="entretien",
            reason_on=yesterday,
            needed_on=timezone.localdate(),
            schedule="9 h - 12 h",
            urgency="urgence",
            single_parent=False,
            qpv=False,
            rsa=False,
            radius_km=15,
            by=essonne.charlie,
            consent_now=True,
        )
    assert not ChildcareRequest.objects.exists()
    assert not Consent.objects.filter(scope=ConsentScope.CHILDCARE_CAF).exists()


def test_a_job_already_started_is_a_valid_reason(essonne: Essonne) -> None:
    started = (timezone.localdate() - timedelta(days=3)).isoformat()
    childcare_request = file_request(essonne, reason="emploi", reason_on=started)
    assert childcare_request.reason_on is not None
    assert childcare_request.reason_on.isoformat() == started


def test_the_form_says_the_qpv_criterion_is_declared_not_deduced(essonne: Essonne) -> None:
    response = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_create", args=[essonne.parent.pk])
    )
    content = response.content.decode()
    assert "Habite un quartier prioritaire (QPV) : à cocher par vous" in content
    assert "Binôme ne le déduit pas encore de l'adresse" in content
    assert "la CAF et les accueils le verront comme un critère déclaré" in content


def test_matching_lists_the_fitting_providers_nearest_first(essonne: Essonne) -> None:
    far, _ = make_childcare_provider("Crèche de Toulon", department="83")
    full, _ = make_childcare_provider("Crèche pleine", free_places=0)
    babies, _ = make_childcare_provider("Crèche des bébés", max_age_months=12)
    childcare_request = file_request(essonne)
    page = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_detail", args=[childcare_request.pk])
    )
    content = page.content.decode()
    assert content.index("Crèche des Tilleuls") < content.index("Garde à domicile Essonne")
    for unfit in (far, full, babies):
        assert unfit.organisation.name not in content
    # A place (not an emergency) is not offered by the home-care service without places.
    Solicitation.objects.all().delete()
    ChildcareRequest.objects.update(urgency="place")
    page = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_detail", args=[childcare_request.pk])
    )
    assert "Garde à domicile Essonne" not in page.content.decode()


def send_to_both(essonne: Essonne, on_commit: Any = None) -> ChildcareRequest:
    childcare_request = file_request(essonne)
    mail.outbox.clear()
    with on_commit(execute=True) if on_commit else contextlib.nullcontext():
        response = essonne.var.client(essonne.charlie).post(
            reverse("childcare:request_detail", args=[childcare_request.pk]),
            {"providers": [str(essonne.creche.pk), str(essonne.home_care.pk)]},
        )
    assert response.status_code == 302
    return childcare_request


def test_an_emergency_goes_to_several_providers_who_are_told(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    childcare_request = send_to_both(essonne, django_capture_on_commit_callbacks)
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.SENT
    assert Solicitation.objects.filter(request=childcare_request).count() == 2
    assert {m.to[0] for m in mail.outbox} == {essonne.nina.email, essonne.omar.email}
    for message in mail.outbox:
        assert "urgente" in message.subject
        assert "Awa" not in message.body and "Diallo" not in message.body
        assert "Léo" not in message.body


def test_a_place_goes_to_one_provider_only(essonne: Essonne) -> None:
    make_childcare_provider("Crèche du Parc")
    needed = (timezone.localdate() + timedelta(days=12)).isoformat()
    childcare_request = file_request(essonne, urgency="place", needed_on=needed)
    second = Provider.objects.get(organisation__name="Crèche du Parc")
    response = essonne.var.client(essonne.charlie).post(
        reverse("childcare:request_detail", args=[childcare_request.pk]),
        {"providers": [str(essonne.creche.pk), str(second.pk)]},
    )
    assert response.status_code == 400
    assert "s&#x27;adresse à un seul accueil" in response.content.decode()
    assert not Solicitation.objects.exists()


def test_the_provider_sees_only_what_the_request_needs(essonne: Essonne) -> None:
    send_to_both(essonne)
    solicitation = Solicitation.objects.get(provider=essonne.creche)
    page = essonne.var.client(essonne.nina).get(
        reverse("childcare:solicitation", args=[solicitation.pk])
    )
    content = page.content.decode()
    assert "Awa D." in content and "Léo (2" in content
    assert "Diallo" not in content and "1999" not in content
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ, person_id=essonne.parent.pk, actor=essonne.nina
    ).exists()
    # Another provider, the person's counselor or someone else: 404.
    for outsider in (essonne.omar, essonne.charlie, essonne.var.alice):
        response = essonne.var.client(outsider).get(
            reverse("childcare:solicitation", args=[solicitation.pk])
        )
        assert response.status_code == 404


def test_the_first_acceptance_wins_and_the_second_is_refused(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    childcare_request = send_to_both(essonne)
    mail.outbox.clear()
    start = timezone.localdate() + timedelta(days=1)
    first = Solicitation.objects.get(provider=essonne.home_care)
    with django_capture_on_commit_callbacks(execute=True):
        response = essonne.var.client(essonne.omar).post(
            reverse("childcare:solicitation_accept", args=[first.pk]),
            {"start_on": start.isoformat(), "place_details": "Garde au domicile, 8 h - 12 h"},
        )
    assert response.status_code == 302
    second = Solicitation.objects.get(provider=essonne.creche)
    response = essonne.var.client(essonne.nina).post(
        reverse("childcare:solicitation_accept", args=[second.pk]),
        {"start_on": start.isoformat(), "place_details": "Section des moyens"},
        follow=True,
    )
    assert "Un autre accueil a déjà accepté cette demande" in response.content.decode()
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.ACCEPTED
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (SolicitationStatus.ACCEPTED, SolicitationStatus.CLOSED)
    recipients = {m.to[0] for m in mail.outbox}
    assert essonne.charlie.email in recipients  # the team
    assert essonne.nina.email in recipients  # the other provider is told
    assert TimelineEvent.objects.filter(
        person=essonne.parent, summary__startswith="Garde d'enfant acceptée"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_acceptances_give_one_winner(essonne: Essonne) -> None:
    """Two threads, two database connections: one acceptance wins (the request's row is
    locked); the other gets a French message and changes nothing."""
    send_to_both(essonne)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    start = timezone.localdate() + timedelta(days=1)

    def answer(solicitation: Solicitation, user: object) -> None:
        try:
            barrier.wait()
            actions.accept(
                solicitation=solicitation,
                start_on=start,
                place_details="Une place",
                by=user,  # type: ignore[arg-type]
            )
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=answer, args=(Solicitation.objects.get(provider=p), u))
        for p, u in ((essonne.creche, essonne.nina), (essonne.home_care, essonne.omar))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "won"
    assert sorted(outcomes)[0].startswith("Un autre accueil a déjà accepté cette demande")
    assert Solicitation.objects.filter(status=SolicitationStatus.ACCEPTED).count() == 1
    assert Solicitation.objects.filter(status=SolicitationStatus.CLOSED).count() == 1
    assert TimelineEvent.objects.filter(summary__startswith="Garde d'enfant acceptée").count() == 1


def test_a_decline_with_a_reason_tells_the_team_and_lets_it_send_again(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    needed = (timezone.localdate() + timedelta(days=12)).isoformat()
    childcare_request = file_request(essonne, urgency="place", needed_on=needed)
    essonne.var.client(essonne.charlie).post(
        reverse("childcare:request_detail", args=[childcare_request.pk]),
        {"providers": [str(essonne.creche.pk)]},
    )
    solicitation = Solicitation.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = essonne.var.client(essonne.nina).post(
            reverse("childcare:solicitation_decline", args=[solicitation.pk]),
            {"decline_reason": "horaires", "decline_details": ""},
        )
    assert response.status_code == 302
    childcare_request.refresh_from_db()
    assert childcare_request.status == RequestStatus.DECLINED
    assert [m.to[0] for m in mail.outbox] == [essonne.charlie.email]
    assert Notification.objects.filter(recipient=essonne.charlie, kind="childcare").exists()
    response = essonne.var.client(essonne.nina).post(
        reverse("childcare:solicitation_decline", args=[solicitation.pk]), {}
    )
    assert response.status_code in (302, 400)
    solicitation.refresh_from_db()
    assert solicitation.decline_reason == "horaires"


def test_a_start_date_in_the_past_is_refused(essonne: Essonne) -> None:
    send_to_both(essonne)
    solicitation = Solicitation.objects.get(provider=essonne.creche)
    response = essonne.var.client(essonne.nina).post(
        reverse("childcare:solicitation_accept", args=[solicitation.pk]),
        {"start_on": "2020-01-01", "place_details": "Section des moyens"},
        follow=True,
    )
    assert "La date de début est passée" in response.content.decode()
    solicitation.refresh_from_db()
    assert solicitation.status == SolicitationStatus.PENDING


def test_the_request_page_is_the_team_s(essonne: Essonne) -> None:
    childcare_request = file_request(essonne)
    url = reverse("childcare:request_detail", args=[childcare_request.pk])
    for outsider in (essonne.nina, essonne.var.alice, essonne.var.dan):
        assert essonne.var.client(outsider).get(url).status_code == 404
    create = reverse("childcare:request_create", args=[essonne.parent.pk])
    assert essonne.var.client(essonne.var.alice).get(create).status_code == 404


def test_the_file_section_lists_the_requests_for_the_team(essonne: Essonne) -> None:
    childcare_request = file_request(essonne)
    url = reverse("childcare:file_section", args=[essonne.parent.pk])
    content = essonne.var.client(essonne.charlie).get(url).content.decode()
    assert reverse("childcare:request_detail", args=[childcare_request.pk]) in content
    assert reverse("childcare:request_create", args=[essonne.parent.pk]) in content
    file_page = essonne.var.client(essonne.charlie).get(
        reverse("people:detail", args=[essonne.parent.pk])
    )
    assert url in file_page.content.decode()
    for outsider in (essonne.nina, essonne.var.alice):
        assert essonne.var.client(outsider).get(url).status_code == 404


def test_the_provider_page_lists_the_requests_awaiting_an_answer_first(
    essonne: Essonne,
) -> None:
    send_to_both(essonne)
    answered = Solicitation.objects.get(provider=essonne.creche)
    actions.decline(solicitation=answered, reason="horaires", details="", by=essonne.nina)
    ChildcareRequest.objects.update(status=RequestStatus.DECLINED)
    second = file_request_again(essonne)
    essonne.var.client(essonne.charlie).post(
        reverse("childcare:request_detail", args=[second.pk]),
        {"providers": [str(essonne.creche.pk)]},
    )
    pending = Solicitation.objects.get(request=second, provider=essonne.creche)
    page = essonne.var.client(essonne.nina).get(
        reverse("childcare:provider_places", args=[essonne.creche.organisation_id])
    )
    content = page.content.decode()
    first_link = reverse("childcare:solicitation", args=[pending.pk])
    later_link = reverse("childcare:solicitation", args=[answered.pk])
    assert content.index(first_link) < content.index(later_link)


def file_request_again(essonne: Essonne) -> ChildcareRequest:
    client = essonne.var.client(essonne.charlie)
    response = client.post(
        reverse("childcare:request_create", args=[essonne.parent.pk]),
        request_data(child_ids=[child_of(essonne)]),
    )
    assert response.status_code == 302
    return ChildcareRequest.objects.latest("id")
