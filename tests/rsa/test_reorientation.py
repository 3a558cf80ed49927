"""The orientation the law requires is not an ordinary referral: never refused, never left to
expire; the referent body may only ask, with a reason, for a reorientation, which goes back
to the orientation managers."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification
from binome.referrals import actions as referral_actions
from binome.referrals.deadlines import run_deadlines
from binome.referrals.models import DeclineReason, Referral, Status
from binome.rsa import orientations
from binome.rsa.models import Orientation, OrientationKind
from binome.support.models import EventKind, TimelineEvent
from tests.rsa.conftest import RsaTerritory


@pytest.fixture
def oriented(rsa_var: RsaTerritory) -> Orientation:
    return orientations.orient(
        beneficiary=rsa_var.people["Hélène"],
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )


def test_the_referrals_job_neither_reminds_nor_expires_an_rsa_orientation(
    oriented: Orientation,
) -> None:
    referral = oriented.referral
    assert referral is not None
    long_ago = timezone.localdate() - datetime.timedelta(days=90)
    Referral.objects.filter(pk=referral.pk).update(due_on=long_ago, expires_on=long_ago)

    assert run_deadlines() == (0, 0)
    referral.refresh_from_db()
    assert referral.status == Status.SENT and referral.reminded_at is None
    assert not referral_actions.expire(referral=referral)
    assert not referral_actions.remind(referral=referral)
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_the_referent_body_cannot_decline_it(rsa_var: RsaTerritory, oriented: Orientation) -> None:
    referral = oriented.referral
    assert referral is not None
    with pytest.raises(ValidationError, match="ne se refuse pas : l'organisme référent peut"):
        referral_actions.decline(
            referral=referral, by=rsa_var.ccas_worker, reason=DeclineReason.NO_PLACE
        )
    referral.refresh_from_db()
    assert referral.status == Status.SENT
    assert not referral.can_go_to(Status.DECLINED) and not referral.can_go_to(Status.EXPIRED)


def test_the_referent_body_asks_for_a_reorientation_which_goes_back_to_the_managers(
    rsa_var: RsaTerritory, oriented: Orientation
) -> None:
    client = rsa_var.var.client(rsa_var.ccas_worker)
    url = reverse("rsa:ask_reorientation", args=[oriented.pk])
    assert (
        "Demander une réorientation"
        in client.get(reverse("rsa:orientation", args=[oriented.pk])).content.decode()
    )
    response = client.post(url, {"reason": "Un emploi à mi-temps trouvé : orientation emploi."})
    assert response.status_code == 302

    oriented.refresh_from_db()
    assert oriented.reorientation_asked_by == rsa_var.ccas_worker
    assert oriented.reorientation_reason == "Un emploi à mi-temps trouvé : orientation emploi."
    person = rsa_var.people["Hélène"].person
    line = TimelineEvent.objects.filter(person=person, kind=EventKind.RSA).latest("pk")
    assert line.summary.startswith("Réorientation RSA demandée par Cyril")
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_REORIENTATION_ASKED).exists()
    assert Notification.objects.filter(
        recipient=rsa_var.mia, title="Réorientation RSA demandée"
    ).exists()

    manager = rsa_var.var.client(rsa_var.mia)
    listed = manager.get(reverse("rsa:to_orient", args=["83"]))
    assert [o.pk for o in listed.context["reorientations"]] == [oriented.pk]
    assert "Un emploi à mi-temps trouvé" in listed.content.decode()

    form = manager.get(reverse("rsa:orient", args=[rsa_var.people["Hélène"].pk]))
    assert "CCAS de Toulon demande la réorientation depuis le" in form.content.decode()

    # The manager's new decision replaces the orientation: the request is settled.
    orientations.orient(
        beneficiary=rsa_var.people["Hélène"],
        decision=orientations.Decision(
            referent_body=rsa_var.var.france_travail, kind=OrientationKind.EMPLOYMENT
        ),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )
    listed = manager.get(reverse("rsa:to_orient", args=["83"]))
    assert listed.context["reorientations"] == []


def test_a_reorientation_request_needs_a_reason_and_a_member(
    rsa_var: RsaTerritory, oriented: Orientation
) -> None:
    url = reverse("rsa:ask_reorientation", args=[oriented.pk])
    client = rsa_var.var.client(rsa_var.ccas_worker)
    empty = client.post(url, {"reason": "   "})
    assert empty.status_code == 400
    assert "Motivez la demande de réorientation" in empty.content.decode()
    for outsider in (rsa_var.var.charlie, rsa_var.var.alice, rsa_var.mia):
        assert rsa_var.var.client(outsider).post(url, {"reason": "x"}).status_code == 404
    oriented.refresh_from_db()
    assert oriented.reorientation_asked_at is None

    assert client.post(url, {"reason": "Suivi santé d'abord"}).status_code == 302
    twice = client.post(url, {"reason": "Encore"})
    assert twice.status_code == 400 and "déjà été demandée" in twice.content.decode()
    oriented.refresh_from_db()
    assert oriented.reorientation_reason == "Suivi santé d'abord"
