"""The notification centre, the header's count and the e-mail preferences."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binome.notifications.actions import notify
from binome.notifications.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
)


def make(user: Any, number: int, *, read: bool = False, url: str = "/annuaire/") -> Notification:
    """A notification of ``user``, ``number`` hours old."""
    [notification] = notify(
        recipients=[user],
        kind=NotificationKind.DIRECTORY,
        title=f"Notification {number}",
        body=f"Message {number}.",
        url=url,
    )
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(hours=number),
        read_at=timezone.now() if read else None,
    )
    return notification


def test_the_list_shows_unread_first_then_newest(personas: dict[str, Any], client_for: Any) -> None:
    ines = personas["ines"]
    make(ines, 1, read=True)
    make(ines, 5)
    make(ines, 3)
    make(personas["marc"], 2)  # not hers
    body = client_for("ines").get(reverse("notifications:list")).content.decode()
    positions = [body.index(f"Notification {n}<") for n in (3, 5, 1)]
    assert positions == sorted(positions)
    assert "Notification 2<" not in body
    assert "2 notifications non lues." in body
    assert body.count("Marquer comme lue<") == 2


def test_the_list_is_paginated(
    personas: dict[str, Any], client_for: Any, django_assert_max_num_queries: Any
) -> None:
    for number in range(1, 26):
        make(personas["ines"], number)
    client = client_for("ines")
    client.get(reverse("notifications:list"))  # the session and memberships warm up
    with django_assert_max_num_queries(10):
        first = client.get(reverse("notifications:list")).content.decode()
    second = client.get(reverse("notifications:list") + "?page=2").content.decode()
    assert "Notification 1<" in first and "Notification 20<" in first
    assert "Notification 21<" not in first
    assert "Notification 25<" in second and "Notification 1<" not in second
    assert "Page suivante" in first


def test_opening_marks_read_and_follows_the_link(personas: dict[str, Any], client_for: Any) -> None:
    notification = make(personas["ines"], 1, url="/suivi/personnes/?tri=fin")
    response = client_for("ines").get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/suivi/personnes/?tri=fin"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_users_notification_is_a_404_and_stays_unread(
    personas: dict[str, Any], client_for: Any
) -> None:
    notification = make(personas["ines"], 1)
    marc = client_for("marc")
    assert marc.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert marc.post(reverse("notifications:mark_read", args=[notification.pk])).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_one_and_all_as_read(personas: dict[str, Any], client_for: Any) -> None:
    ines = personas["ines"]
    one, _two, _three = make(ines, 1), make(ines, 2), make(ines, 3)
    marc_s = make(personas["marc"], 1)
    client = client_for("ines")
    client.post(reverse("notifications:mark_read", args=[one.pk]))
    assert list(Notification.objects.filter(recipient=ines).unread().order_by("pk")) == [
        _two,
        _three,
    ]
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert "2 notifications marquées comme lues." in response.content.decode()
    assert not Notification.objects.filter(recipient=ines).unread().exists()
    assert Notification.objects.get(pk=marc_s.pk).read_at is None


def test_the_header_loads_the_unread_count_after_the_page(
    personas: dict[str, Any], client_for: Any
) -> None:
    """The page costs no query for the count; the header fetches it (htmx), one query,
    the user's own unread notifications only."""
    ines = personas["ines"]
    make(ines, 1)
    make(ines, 2)
    make(ines, 3, read=True)
    client = client_for("ines")
    client.get(reverse("directory:search"))
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("directory:search")).content.decode()
    assert not [q for q in queries if '"notifications_notification"' in q["sql"]]
    badge_url = reverse("notifications:unread_badge")
    assert f'hx-get="{badge_url}"' in body
    assert 'href="/notifications/"' in body
    with CaptureQueriesContext(connection) as queries:
        badge = client.get(badge_url).content.decode()
    counts = [q["sql"] for q in queries if '"notifications_notification"' in q["sql"]]
    assert len(counts) == 1 and "COUNT(" in counts[0]
    assert "binome-unread-count" in badge
    assert '2<span class="fr-sr-only"> non lues</span>' in badge
    make(personas["marc"], 1)  # another's does not count
    Notification.objects.filter(recipient=ines).update(read_at=timezone.now())
    badge = client.get(badge_url).content.decode()
    assert "non lue" not in badge and "binome-unread-count" not in badge


def test_choose_the_daily_digest_on_the_account_page(
    personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for("ines")
    page = client.get(reverse("accounts:security")).content.decode()
    assert "E-mails de notification" in page
    assert 'id="id_email_frequency_0" checked' in page  # at once, the default
    response = client.post(
        reverse("notifications:preferences"), {"email_frequency": "daily"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:security")
    assert "Préférence enregistrée : un résumé quotidien par e-mail." in response.content.decode()
    assert NotificationPreference.objects.get(user=personas["ines"]).email_frequency == "daily"
    page = client.get(reverse("accounts:security")).content.decode()
    assert 'id="id_email_frequency_1" checked' in page


def test_a_bad_preference_is_refused_with_a_message(
    personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for("ines")
    for data, message in (
        ({"email_frequency": "hourly"}, "Ce choix d'e-mails de notification n'existe pas."),
        ({}, "Choisissez comment recevoir les e-mails de notification."),
    ):
        response = client.post(reverse("notifications:preferences"), data)
        assert response.status_code == 400
        assert message in html.unescape(response.content.decode())
    assert not NotificationPreference.objects.exists()
