"""Freshness: "à vérifier" on the pages, the monthly reminder to the editors."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.directory.models import FreshnessReminder, PublicationStatus, Service
from binome.directory.tasks import send_freshness_reminders
from binome.organisations.models import Membership, Role
from binome.site.demo import load_demo_directory

OLD = 400  # days: past the default frequency (183)


@pytest.fixture
def demo(personas: dict[str, Any]) -> dict[str, Service]:
    load_demo_directory()
    return {s.source_id: s for s in Service.objects.filter(source="demo")}


def age(service: Service, days: int) -> None:
    Service.objects.filter(pk=service.pk).update(
        updated_on=timezone.localdate() - timedelta(days=days)
    )


def test_a_stale_service_shows_a_verifier_on_the_list_and_its_page(
    client_for: Any, demo: dict[str, Service]
) -> None:
    stale, fresh = demo["petits-pas-avip"], demo["moussaillons-avip"]
    age(stale, OLD)
    client = client_for("ines")
    listing = html.unescape(
        client.get(
            reverse("directory:search"), {"categorie": "famille", "commune": "83137", "rayon": 20}
        ).content.decode()
    )
    assert listing.count(">À vérifier</p>") == 1
    page = html.unescape(
        client.get(reverse("directory:service_detail", args=[stale.pk])).content.decode()
    )
    assert "À vérifier : mis à jour le" in page
    page = html.unescape(
        client.get(reverse("directory:service_detail", args=[fresh.pk])).content.decode()
    )
    assert "À vérifier" not in page


def test_the_queryset_and_the_model_agree_on_what_needs_checking(demo: dict[str, Service]) -> None:
    age(demo["petits-pas-avip"], OLD)
    Service.objects.filter(pk=demo["mousses-avip"].pk).update(
        update_frequency_days=30, updated_on=timezone.localdate() - timedelta(days=31)
    )
    in_sql = set(Service.objects.needs_checking().values_list("pk", flat=True))
    in_python = {s.pk for s in Service.objects.all() if s.needs_checking()}
    assert in_sql == in_python
    assert {demo["petits-pas-avip"].pk, demo["mousses-avip"].pk} <= in_sql


def test_the_monthly_reminder_lists_each_editor_s_services_once_a_month(
    demo: dict[str, Service], personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    age(demo["petits-pas-avip"], OLD)
    age(demo["garage-location"], OLD)  # no organisation: nobody to remind
    age(demo["moussaillons-avip"], OLD)
    Service.objects.filter(pk=demo["moussaillons-avip"].pk).update(
        status=PublicationStatus.DRAFT  # not published: not listed
    )
    # A professional of the crèche is reminded too; a deactivated member is not.
    from binome.accounts.models import User

    assistant = User.objects.create_user(
        email="assistante@creche-toulon.test", password=None, first_name="Zoé", last_name="Petit"
    )
    Membership.objects.create(
        user=assistant, organisation=orgs["creche_toulon"], role=Role.PROFESSIONAL
    )
    gone = User.objects.create_user(
        email="ancienne@creche-toulon.test", password=None, first_name="Iris", last_name="Bon"
    )
    Membership.objects.create(
        user=gone, organisation=orgs["creche_toulon"], role=Role.PROFESSIONAL, is_active=False
    )

    today = date(2026, 12, 1)
    assert send_freshness_reminders(today) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "assistante@creche-toulon.test",
        personas["lea"].email,
    ]
    body = mail.outbox[0].body
    assert "Places en crèche AVIP pour parents en recherche d'emploi — Toulon" in body
    assert reverse("directory:service_edit", args=[demo["petits-pas-avip"].pk]) in body
    assert "Les Moussaillons" not in body and "garage" not in body.lower()
    assert mail.outbox[0].subject == "Binôme : 1 service de l'annuaire à vérifier"
    reminder = FreshnessReminder.objects.get(user=personas["lea"])
    assert reminder.month == date(2026, 12, 1)
    assert reminder.services == [demo["petits-pas-avip"].pk]

    # Twice in the same month: nothing more.
    mail.outbox.clear()
    assert send_freshness_reminders(date(2026, 12, 15)) == 0
    assert mail.outbox == []
    # The next month, again (still not checked).
    assert send_freshness_reminders(date(2027, 1, 1)) == 2


def test_a_confirmed_service_is_not_reminded(client_for: Any, demo: dict[str, Service]) -> None:
    age(demo["petits-pas-avip"], OLD)
    client_for("lea").post(reverse("directory:service_confirm", args=[demo["petits-pas-avip"].pk]))
    assert send_freshness_reminders() == 0
    assert mail.outbox == []


def test_the_reminder_is_a_monthly_periodic_task() -> None:
    from procrastinate.contrib.django import app

    from binome.directory import tasks

    periodic = [
        task
        for task in app.periodic_registry.periodic_tasks.values()
        if task.task.name == tasks.freshness_reminders.name
    ]
    assert [task.cron for task in periodic] == ["0 8 1 * *"]
