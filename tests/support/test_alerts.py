"""The accompaniment's deadline alerts (daily job) and the situation 6 months after exit."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification, NotificationKind
from binome.people.models import Person
from binome.support import actions, tasks
from binome.support.models import (
    Accompaniment,
    FollowupOutcome,
    Kind,
    State,
    TeamMember,
    TeamRole,
    TimelineEvent,
    add_months,
)

ENDING = NotificationKind.ACCOMPANIMENT_END_APPROACHING
FOLLOWUP = NotificationKind.POST_EXIT_FOLLOWUP


@pytest.fixture
def accompaniment(nadia_file: Person) -> Accompaniment:
    """Nadia's active global accompaniment, Inès and Marc on its team."""
    return Accompaniment.objects.get(person=nadia_file)


def run(today: date, capture: Any) -> tasks.AlertCounts:
    with capture(execute=True):
        return tasks.send_accompaniment_alerts(today)


def team_organisation(accompaniment: Accompaniment, user: Any) -> Any:
    return TeamMember.objects.get(accompaniment=accompaniment, user=user).organisation


def end_on(accompaniment: Accompaniment, day: date) -> None:
    Accompaniment.objects.filter(pk=accompaniment.pk).update(planned_end_on=day)


def test_alerts_two_months_and_two_weeks_before_the_end_once_each(
    accompaniment: Accompaniment, personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    end = today + timedelta(days=61)
    end_on(accompaniment, end)
    team = sorted([personas["ines"].email, personas["marc"].email])

    assert run(today, django_capture_on_commit_callbacks).end_approaching == 2
    assert sorted(m.to[0] for m in mail.outbox) == team
    assert {m.subject for m in mail.outbox} == {"Fin d'un accompagnement global dans 2 mois"}
    assert f"fin prévue le {end:%d/%m/%Y}" in mail.outbox[0].body
    assert "Nadia" not in mail.outbox[0].body and "Belkacem" not in mail.outbox[0].body
    notification = Notification.objects.filter(kind=ENDING).first()
    assert notification is not None
    assert notification.url == reverse("people:detail", args=[accompaniment.person_id])

    # Twice the same day, then the next days (catching up): nothing more.
    for day in (today, today + timedelta(days=1), today + timedelta(days=6)):
        assert run(day, django_capture_on_commit_callbacks).end_approaching == 0
    assert len(mail.outbox) == 2
    # Nothing between the milestones; two weeks before the end, the second alert.
    assert run(end - timedelta(days=20), django_capture_on_commit_callbacks).end_approaching == 0
    assert run(end - timedelta(days=14), django_capture_on_commit_callbacks).end_approaching == 2
    assert run(end - timedelta(days=13), django_capture_on_commit_callbacks).end_approaching == 0
    assert len(mail.outbox) == 4
    assert mail.outbox[-1].subject == "Fin d'un accompagnement global dans 2 semaines"
    assert Notification.objects.filter(kind=ENDING).count() == 4


def test_an_extension_moves_the_alerts(
    accompaniment: Accompaniment, personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    end_on(accompaniment, today + timedelta(days=14))
    assert run(today, django_capture_on_commit_callbacks).end_approaching == 2
    accompaniment.refresh_from_db()
    new_end = today + timedelta(days=120)
    actions.extend_accompaniment(
        accompaniment=accompaniment,
        new_end_on=new_end,
        justification="Formation qualifiante en cours, fin en mars.",
        by=personas["ines"],
        organisation=team_organisation(accompaniment, personas["ines"]),
    )
    assert run(today, django_capture_on_commit_callbacks).end_approaching == 0
    later = new_end - timedelta(days=61)
    assert run(later, django_capture_on_commit_callbacks).end_approaching == 2
    assert (
        run(new_end - timedelta(days=14), django_capture_on_commit_callbacks).end_approaching == 2
    )
    keys = sorted(
        Notification.objects.filter(recipient=personas["ines"]).values_list("dedup_key", flat=True)
    )
    assert keys == sorted(
        [
            f"accompaniment-{accompaniment.pk}-end-{today + timedelta(days=14)}-2w",
            f"accompaniment-{accompaniment.pk}-end-{new_end}-2m",
            f"accompaniment-{accompaniment.pk}-end-{new_end}-2w",
        ]
    )


def test_only_active_global_accompaniments_and_their_current_team(
    accompaniment: Accompaniment, personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    end_on(accompaniment, today + timedelta(days=61))
    TeamMember.objects.filter(accompaniment=accompaniment, user=personas["marc"]).update(
        left_at=timezone.now()
    )
    assert run(today, django_capture_on_commit_callbacks).end_approaching == 1
    assert [m.to for m in mail.outbox] == [[personas["ines"].email]]
    Notification.objects.all().delete()
    for change in ({"state": State.SUSPENDED}, {"kind": Kind.SOCIAL}):
        Accompaniment.objects.filter(pk=accompaniment.pk).update(**change)
        assert run(today, django_capture_on_commit_callbacks).end_approaching == 0
        Accompaniment.objects.filter(pk=accompaniment.pk).update(
            state=State.ACTIVE, kind=Kind.GLOBAL
        )


def _end(accompaniment: Accompaniment, personas: dict[str, Any], ended_on: date) -> Accompaniment:
    Accompaniment.objects.filter(pk=accompaniment.pk).update(
        started_on=ended_on - timedelta(days=200)
    )
    accompaniment.refresh_from_db()
    return actions.end_accompaniment(
        accompaniment=accompaniment,
        ended_on=ended_on,
        reason="emploi_durable",
        situation="CDI d'agent d'entretien.",
        by=personas["ines"],
        organisation=team_organisation(accompaniment, personas["ines"]),
    )


def test_the_team_is_asked_the_situation_six_months_after_exit_once(
    accompaniment: Accompaniment, personas: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    ended_on = today - timedelta(days=190)
    accompaniment = _end(accompaniment, personas, ended_on)
    due = add_months(ended_on, 6)
    assert accompaniment.followup_due_on == due
    assert run(due - timedelta(days=1), django_capture_on_commit_callbacks).followup == 0
    assert run(due, django_capture_on_commit_callbacks).followup == 2
    assert run(due, django_capture_on_commit_callbacks).followup == 0
    assert run(due + timedelta(days=2), django_capture_on_commit_callbacks).followup == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [personas["ines"].email, personas["marc"].email]
    )
    assert mail.outbox[0].subject == "Situation 6 mois après une sortie à renseigner"
    assert Notification.objects.filter(kind=FOLLOWUP).count() == 2


def test_the_job_costs_the_same_queries_for_one_or_many_accompaniments(
    accompaniment: Accompaniment,
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    today = timezone.localdate()
    end_on(accompaniment, today + timedelta(days=61))
    # 3 reads, 1 insert, the e-mails' read and update, the savepoint and its release.
    with django_assert_max_num_queries(8):
        assert run(today, django_capture_on_commit_callbacks).end_approaching == 2
    organisation = team_organisation(accompaniment, personas["ines"])
    for offset in range(5):  # five other persons (one open global accompaniment each)
        person = Person.objects.get(pk=accompaniment.person_id)
        person.pk = None
        person.user = None
        person.first_name = f"Personne {offset}"
        person.save()
        extra = Accompaniment.objects.create(
            person=person,
            kind=Kind.GLOBAL,
            state=State.ACTIVE,
            started_on=today - timedelta(days=300),
            planned_end_on=today + timedelta(days=14 - offset),
        )
        for user in (personas["ines"], personas["marc"]):
            TeamMember.objects.create(
                accompaniment=extra,
                person=person,
                user=user,
                organisation=organisation,
                role=TeamRole.MEMBER,
            )
    mail.outbox.clear()
    with django_assert_max_num_queries(8):
        assert run(today, django_capture_on_commit_callbacks).end_approaching == 10
    assert len(mail.outbox) == 10


def test_the_job_is_a_daily_periodic_task() -> None:
    from procrastinate.contrib.django import app

    crons = {t.task.name: t.cron for t in app.periodic_registry.periodic_tasks.values()}
    assert crons[tasks.accompaniment_alerts.name] == "30 5 * * *"


# --- The form "situation 6 mois après la sortie" ------------------------------------------


def test_record_the_situation_six_months_after_exit(
    accompaniment: Accompaniment, personas: dict[str, Any], client_for: Any
) -> None:
    accompaniment = _end(accompaniment, personas, timezone.localdate() - timedelta(days=190))
    marc = client_for("marc")
    worklist = marc.get(reverse("support:worklist")).content.decode()
    assert "Situation à 6 mois à renseigner" in worklist
    file_page = marc.get(reverse("people:detail", args=[accompaniment.person_id])).content.decode()
    url = reverse("support:accompaniment_followup", args=[accompaniment.pk])
    assert f'href="{url}"' in file_page
    assert "Emploi durable (CDI ou CDD de plus de 6 mois)" in marc.get(url).content.decode()

    response = marc.post(url, {"outcome": "formation_qualifiante", "situation": "CAP cuisine."})

    assert response.status_code == 302
    accompaniment.refresh_from_db()
    assert accompaniment.followup_outcome == FollowupOutcome.TRAINING
    assert accompaniment.followup_situation == "CAP cuisine."
    assert accompaniment.followup_recorded_on == timezone.localdate()
    summary = "Situation 6 mois après la sortie : Formation qualifiante"
    assert TimelineEvent.objects.filter(person=accompaniment.person, summary=summary).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.ACCOMPANIMENT_FOLLOWUP, actor=personas["marc"], what=summary
    ).exists()
    assert (
        "Situation à 6 mois à renseigner"
        not in marc.get(reverse("support:worklist")).content.decode()
    )
    file_page = marc.get(reverse("people:detail", args=[accompaniment.person_id])).content.decode()
    assert "Situation 6 mois après la sortie : Formation qualifiante — CAP cuisine." in file_page
    # Recorded once: the form sends back to the file.
    assert marc.get(url).status_code == 302


def test_outsiders_get_a_404_and_the_read_only_role_a_403(
    accompaniment: Accompaniment, personas: dict[str, Any], client_for: Any
) -> None:
    accompaniment = _end(accompaniment, personas, timezone.localdate() - timedelta(days=190))
    url = reverse("support:accompaniment_followup", args=[accompaniment.pk])
    data = {"outcome": "emploi_durable"}
    assert client_for("charlie").post(url, data).status_code == 404
    assert client_for("paul").get(url).status_code == 404
    assert client_for("claire").post(url, data).status_code == 403
    accompaniment.refresh_from_db()
    assert accompaniment.followup_recorded_on is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choisissez la situation de la personne."),
        ({"outcome": "millionnaire"}, "Cette situation n'existe pas"),
        ({"outcome": "autre", "situation": " "}, "Précisez la situation quand vous choisissez"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    accompaniment: Accompaniment,
    personas: dict[str, Any],
    client_for: Any,
    data: dict[str, str],
    message: str,
) -> None:
    accompaniment = _end(accompaniment, personas, timezone.localdate() - timedelta(days=190))
    url = reverse("support:accompaniment_followup", args=[accompaniment.pk])
    response = client_for("ines").post(url, data)
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    accompaniment.refresh_from_db()
    assert accompaniment.followup_recorded_on is None


def test_the_situation_is_not_recorded_before_six_months(
    accompaniment: Accompaniment, personas: dict[str, Any], client_for: Any
) -> None:
    accompaniment = _end(accompaniment, personas, timezone.localdate() - timedelta(days=30))
    url = reverse("support:accompaniment_followup", args=[accompaniment.pk])
    response = client_for("ines").post(url, {"outcome": "emploi_durable"})
    assert response.status_code == 200
    due = accompaniment.followup_due_on
    assert due is not None
    assert f"La situation à 6 mois se renseigne à partir du {due:%d/%m/%Y}." in html.unescape(
        response.content.decode()
    )
    accompaniment.refresh_from_db()
    assert accompaniment.followup_recorded_on is None
