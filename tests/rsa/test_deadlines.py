"""The RSA deadlines job: warned before six weeks, delegated to France Travail after, the
contract warned before its month and flagged after; each once, whatever the runs."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification, NotificationKind
from binome.rsa import orientations
from binome.rsa.deadlines import DeadlineCounts, run_deadlines
from binome.rsa.models import Beneficiary, Orientation, OrientationKind
from binome.support.models import EventKind, TimelineEvent
from tests.rsa.conftest import RsaTerritory


def rsa_notifications(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=NotificationKind.RSA)
        .order_by("pk")
        .values_list("title", flat=True)
    )


def test_the_orientation_managers_are_warned_once_before_six_weeks(
    rsa_var: RsaTerritory,
) -> None:
    today = timezone.localdate()
    assert run_deadlines(today) == DeadlineCounts(orientations_warned=1)  # Hélène, in 3 days
    assert rsa_notifications(rsa_var.mia) == ["RSA : 1 personne(s) à orienter dans les 7 jours"]
    assert run_deadlines(today) == DeadlineCounts()
    assert len(rsa_notifications(rsa_var.mia)) == 1


def test_past_six_weeks_the_orientation_is_delegated_to_france_travail(
    rsa_var: RsaTerritory,
) -> None:
    today = timezone.localdate()
    farid = rsa_var.people["Farid"]
    Beneficiary.objects.filter(pk=farid.pk).update(
        orientation_due_on=today - datetime.timedelta(days=1)
    )
    counts = run_deadlines(today)
    assert counts.delegated == 1
    orientation = Orientation.objects.get(beneficiary=farid)
    assert orientation.delegated and orientation.referent_body == rsa_var.var.france_travail
    assert orientation.decided_by is None and orientation.notified_on == today
    farid.refresh_from_db()
    assert farid.oriented_on == today
    line = TimelineEvent.objects.get(person=farid.person, kind=EventKind.RSA)
    assert "six semaines passées sans décision" in line.summary
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_DEADLINE, person_id=farid.person_id)
    assert rsa_notifications(rsa_var.var.alice) == [
        "RSA : 1 orientation(s) déléguée(s) à France Travail"
    ]
    assert "RSA : 1 orientation(s) déléguée(s) à France Travail" in rsa_notifications(rsa_var.mia)
    assert run_deadlines(today).delegated == 0
    assert Orientation.objects.filter(beneficiary=farid).count() == 1


def test_the_contract_is_warned_before_its_month_and_flagged_after(
    rsa_var: RsaTerritory,
) -> None:
    today = timezone.localdate()
    orientation = orientations.orient(
        beneficiary=rsa_var.people["Noël"],
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )
    Orientation.objects.filter(pk=orientation.pk).update(
        contract_due_on=today + datetime.timedelta(days=2)
    )
    assert run_deadlines(today).contracts_warned == 1
    assert run_deadlines(today).contracts_warned == 0
    # No referent yet: the referent body's members are warned.
    warned = rsa_notifications(rsa_var.ccas_worker)
    assert warned[-1].startswith("RSA : contrat d'engagement à signer avant le")
    # A month later, still unsigned.
    Orientation.objects.filter(pk=orientation.pk).update(
        contract_due_on=today - datetime.timedelta(days=1)
    )
    assert run_deadlines(today).contracts_late == 1
    assert run_deadlines(today).contracts_late == 0
    assert rsa_notifications(rsa_var.ccas_worker)[-1] == "RSA : contrat d'engagement en retard"
    assert rsa_notifications(rsa_var.mia)[-1] == "RSA : contrat d'engagement en retard"
    assert TimelineEvent.objects.filter(
        person_id=orientation.person_id, summary__startswith="Contrat d'engagement non signé"
    ).exists()


def test_a_signed_contract_is_never_flagged(rsa_var: RsaTerritory) -> None:
    today = timezone.localdate()
    orientation = orientations.orient(
        beneficiary=rsa_var.people["Noël"],
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )
    orientations.designate_referent(
        orientation=orientation, referent=rsa_var.ccas_worker, by=rsa_var.ccas_worker
    )
    orientations.record_contract_signature(
        orientation=orientation, signed_on=today, by=rsa_var.ccas_worker
    )
    Orientation.objects.filter(pk=orientation.pk).update(
        contract_due_on=today - datetime.timedelta(days=1)
    )
    assert run_deadlines(today).contracts_late == 0


def test_the_job_costs_the_same_queries_for_one_person_or_many(rsa_var: RsaTerritory) -> None:
    today = timezone.localdate()
    people = rsa_var.people

    def delegated_queries(names: list[str]) -> int:
        Beneficiary.objects.filter(pk__in=[people[n].pk for n in names]).update(
            orientation_due_on=today - datetime.timedelta(days=1)
        )
        with CaptureQueriesContext(connection) as queries:
            assert run_deadlines(today).delegated == len(names)
        return len(queries)

    one = delegated_queries(["Hélène"])
    assert delegated_queries(["Noël", "Farid"]) == one
