"""The session's lifetime (10 hours) is counted from the login, however busy the session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client

from binome.accounts.middleware import LOGIN_KEY

HALF_HOUR = 1800


def let_time_pass(client: Client, seconds: int) -> None:
    """Age the session's timestamps as the clock would."""
    session = client.session
    for key in ("_last_activity", LOGIN_KEY):
        if key in session:
            session[key] -= seconds
    session.save()


def test_a_session_used_every_half_hour_ends_ten_hours_after_login(
    personas: dict[str, Any],
) -> None:
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    client = Client()
    response = client.post(
        "/connexion/", {"username": personas["ines"].email, "password": settings.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/organisations/").status_code == 200
    for _ in range(19):
        let_time_pass(client, HALF_HOUR)
        assert client.get("/organisations/").status_code == 200
    # 9 h 30 after the login: still open. At 10 h: ended, however busy.
    let_time_pass(client, HALF_HOUR)
    response = client.get("/organisations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")
    assert "_auth_user_id" not in client.session


def test_a_new_login_starts_a_new_working_day(personas: dict[str, Any]) -> None:
    client = Client()
    credentials = {"username": personas["ines"].email, "password": settings.DEMO_PASSWORD}
    client.post("/connexion/", credentials)
    let_time_pass(client, 10 * 3600)
    assert client.get("/organisations/").status_code == 302
    client.post("/connexion/", credentials)
    assert client.get("/organisations/").status_code == 200
