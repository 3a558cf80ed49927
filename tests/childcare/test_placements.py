"""The place's life: an accepted solicitation becomes a placement of six months, renewed
after a review or ended with the parent's situation, asked again six months later."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.childcare import actions
from binome.childcare.deadlines import ask_placement_followups, remind_placement_reviews
from binome.childcare.models import Placement, PlacementStatus, Provider, Solicitation
from binome.support.models import Accompaniment, TimelineEvent
from tests.childcare.conftest import Essonne
from tests.childcare.test_requests import send_to_both


def accepted(essonne: Essonne, start_on: date | None = None) -> Placement:
    send_to_both(essonne)
    solicitation = Solicitation.objects.get(provider=essonne.creche)
    start_on = start_on or timezone.localdate() + timedelta(days=11)
    actions.accept(
        solicitation=solicitation, start_on=start_on, place_details="Moyens", by=essonne.nina
    )
    return Placement.objects.get()


def test_an_acceptance_opens_a_placement_of_six_months_linked_to_the_accompaniment(
    essonne: Essonne,
) -> None:
    placement = accepted(essonne, start_on=date(2099, 8, 31))
    assert placement.status == PlacementStatus.ONGOING
    assert placement.started_on == date(2099, 8, 31)
    assert placement.ends_on == date(2100, 2, 28)
    assert placement.accompaniment == Accompaniment.objects.get(person=essonne.parent)
    assert placement.provider == essonne.creche
    assert placement.person == essonne.parent
    # Both the team and the provider see it.
    team_page = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_detail", args=[placement.request_id])
    )
    assert "28/02/2100" in team_page.content.decode()
    provider_page = essonne.var.client(essonne.nina).get(
        reverse("childcare:solicitation", args=[placement.solicitation_id])
    )
    assert "28/02/2100" in provider_page.content.decode()


def test_renewal_after_review_adds_six_months(essonne: Essonne) -> None:
    placement = accepted(essonne, start_on=date(2099, 1, 15))
    response = essonne.var.client(essonne.nina).post(
        reverse("childcare:placement_renew", args=[placement.pk])
    )
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.ends_on == date(2100, 1, 15)
    assert placement.renewals == 1
    assert TimelineEvent.objects.filter(
        person=essonne.parent, summary__contains="renouvelé après revue, jusqu'au 15/01/2100"
    ).exists()


def test_the_end_records_the_reason_and_situation_and_frees_the_place(
    essonne: Essonne,
) -> None:
    placement = accepted(essonne, start_on=timezone.localdate())
    free_before = Provider.objects.get(pk=essonne.creche.pk).free_places
    client = essonne.var.client(essonne.charlie)
    url = reverse("childcare:placement_end", args=[placement.pk])
    # Bad input: a French message, nothing written.
    response = client.post(url, {"ended_on": "2001-01-01"}, follow=True)
    assert "Motif de fin : Ce champ est obligatoire." in response.content.decode()
    response = client.post(
        url,
        {"ended_on": "2001-01-01", "end_reason": "relais", "end_outcome": "emploi_durable"},
        follow=True,
    )
    assert "La fin ne peut pas précéder le début" in response.content.decode()
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ONGOING
    response = client.post(
        url,
        {
            "ended_on": timezone.localdate().isoformat(),
            "end_reason": "relais",
            "end_outcome": "emploi_durable",
        },
    )
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ENDED
    assert placement.end_outcome == "emploi_durable"
    assert placement.followup_due_on is not None
    assert placement.followup_due_on > timezone.localdate() + timedelta(days=180)
    assert Provider.objects.get(pk=essonne.creche.pk).free_places == free_before + 1
    assert TimelineEvent.objects.filter(
        person=essonne.parent, summary__contains="situation du parent : emploi durable"
    ).exists()


def test_the_situation_six_months_later_is_asked_of_the_team_and_recorded_once(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    placement = accepted(essonne, start_on=timezone.localdate())
    actions.end_placement(
        placement=placement,
        ended_on=timezone.localdate(),
        reason="echeance",
        outcome="recherche_emploi",
        details="",
        by=essonne.nina,
        organisation=essonne.creche.organisation,
    )
    url = reverse("childcare:placement_followup", args=[placement.pk])
    client = essonne.var.client(essonne.charlie)
    response = client.post(url, {"followup_outcome": "formation_qualifiante"}, follow=True)
    assert "La situation à 6 mois se renseigne à partir du" in response.content.decode()
    assert ask_placement_followups(timezone.localdate()) == 0
    Placement.objects.update(followup_due_on=timezone.localdate())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_placement_followups(timezone.localdate()) == 1
    assert [m.to[0] for m in mail.outbox] == [essonne.charlie.email]
    assert ask_placement_followups(timezone.localdate()) == 0
    # The provider does not record the parent's situation six months later.
    assert (
        essonne.var.client(essonne.nina)
        .post(url, {"followup_outcome": "formation_qualifiante"})
        .status_code
        == 404
    )
    client.post(url, {"followup_outcome": "formation_qualifiante"})
    placement.refresh_from_db()
    assert placement.followup_outcome == "formation_qualifiante"
    assert placement.followup_recorded_on == timezone.localdate()
    response = client.post(url, {"followup_outcome": "emploi_durable"}, follow=True)
    assert "déjà enregistrée" in response.content.decode()


def test_the_review_is_announced_once_before_the_end(
    essonne: Essonne, django_capture_on_commit_callbacks: Any
) -> None:
    placement = accepted(essonne)
    early = placement.ends_on - timedelta(days=15)
    assert remind_placement_reviews(early) == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_placement_reviews(placement.ends_on - timedelta(days=14)) == 1
    assert {m.to[0] for m in mail.outbox} == {essonne.nina.email, essonne.charlie.email}
    assert all("Awa" not in m.body for m in mail.outbox)
    assert remind_placement_reviews(placement.ends_on - timedelta(days=10)) == 0
    # Renewed: the next end is announced in its turn.
    actions.renew_placement(
        placement=placement, by=essonne.nina, organisation=essonne.creche.organisation
    )
    placement.refresh_from_db()
    assert remind_placement_reviews(placement.ends_on - timedelta(days=3)) == 1


def test_outsiders_cannot_touch_a_placement(essonne: Essonne) -> None:
    placement = accepted(essonne)
    for outsider in (essonne.omar, essonne.var.alice):
        client = essonne.var.client(outsider)
        assert (
            client.post(reverse("childcare:placement_renew", args=[placement.pk])).status_code
            == 404
        )
    placement.refresh_from_db()
    assert placement.renewals == 0
