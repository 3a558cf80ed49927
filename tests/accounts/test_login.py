import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind

LOGIN = "/connexion/"


def post_login(client: Client, email: str, password: str, **extra: str):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def current_code(user) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_professional_logs_in_with_password(personas):
    client = Client()
    response = post_login(client, "INES.benali@francetravail.test", settings.DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Bonjour Inès" in client.get("/").content.decode()
    assert AuditEvent.objects.filter(kind=AuditKind.LOGIN, actor=personas["ines"]).exists()


def test_wrong_password_gets_a_french_message_and_is_logged(personas):
    client = Client()
    response = post_login(client, "ines.benali@francetravail.test", "mauvais")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(
        kind=AuditKind.LOGIN_FAILED, actor_label="ines.benali@francetravail.test"
    ).exists()


def test_repeated_failures_lock_the_account_even_with_the_right_password(personas):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "marc.lefevre@var.test", "mauvais")
    response = post_login(client, "marc.lefevre@var.test", settings.DEMO_PASSWORD)
    assert response.status_code == 429
    assert "Connexion bloquée" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(kind=AuditKind.LOCKOUT).exists()
    # Another account is not affected.
    assert (
        post_login(Client(), "ines.benali@francetravail.test", settings.DEMO_PASSWORD).status_code
        == 302
    )


def test_next_is_followed_only_when_local(personas):
    response = post_login(
        Client(),
        "ines.benali@francetravail.test",
        settings.DEMO_PASSWORD,
        next="https://evil.example/",
    )
    assert response["Location"] == "/"
    response = post_login(
        Client(), "ines.benali@francetravail.test", settings.DEMO_PASSWORD, next="/organisations/"
    )
    assert response["Location"] == "/organisations/"


def test_administrator_must_give_the_totp_code(personas, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = Client()
    response = post_login(client, "claire.dubois@var.test", settings.DEMO_PASSWORD)
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    # Nothing else is reachable before the code.
    assert client.get("/organisations/")["Location"].startswith(reverse("accounts:otp_verify"))
    response = client.post(reverse("accounts:otp_verify"), {"token": "000000"})
    assert "Ce code est incorrect" in response.content.decode()
    assert AuditEvent.objects.filter(kind=AuditKind.OTP_FAILED, actor=personas["claire"]).exists()
    response = client.post(
        reverse("accounts:otp_verify"), {"token": current_code(personas["claire"])}
    )
    assert response.status_code == 302
    assert client.get("/organisations/").status_code == 200


def test_administrator_without_device_must_enrol(personas, orgs):
    from binome.organisations.models import Membership, Role

    Membership.objects.filter(user=personas["marc"]).update(role=Role.ADMIN)
    client = Client()
    response = post_login(client, "marc.lefevre@var.test", settings.DEMO_PASSWORD)
    assert response["Location"].startswith(reverse("accounts:otp_setup"))
    page = client.get(reverse("accounts:otp_setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=personas["marc"], confirmed=False)
    assert client.get("/organisations/").status_code == 302
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    response = client.post(reverse("accounts:otp_setup"), {"token": f"{totp.token():06d}"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/organisations/").status_code == 200
    assert AuditEvent.objects.filter(kind=AuditKind.OTP_ENABLED, actor=personas["marc"]).exists()


def test_totp_cannot_be_disabled_by_an_administrator(client_for, personas):
    client = client_for("claire")
    response = client.post(reverse("accounts:otp_disable"), follow=True)
    assert "ne peut pas être désactivée" in response.content.decode()
    assert TOTPDevice.objects.filter(user=personas["claire"]).exists()


def test_password_reset_by_email_then_link_expires_after_use(personas):
    client = Client()
    response = client.post(
        reverse("accounts:password_reset"), {"email": "ines.benali@francetravail.test"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ines.benali@francetravail.test"]
    assert "deux heures" in message.body
    link = re.search(r"http://\S+", message.body).group(0).replace("http://testserver", "")
    form_page = client.get(link, follow=True)
    assert "Choisir un nouveau mot de passe" in form_page.content.decode()
    new_password = "Un-nouveau-mot-de-passe-2026"
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    personas["ines"].refresh_from_db()
    assert personas["ines"].check_password(new_password)
    again = Client().get(link, follow=True)
    assert "n'est plus valable" in again.content.decode()


def test_password_reset_for_unknown_email_reveals_nothing(db):
    response = Client().post(
        reverse("accounts:password_reset"), {"email": "personne@nulle-part.test"}
    )
    assert response.status_code == 302
    assert mail.outbox == []


def test_forged_session_cookie_is_just_anonymous(personas):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "forged-session-key"
    response = client.get("/organisations/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_idle_session_expires(client_for, settings):
    client = client_for("ines")
    assert client.get("/organisations/").status_code == 200
    session = client.session
    session["_last_activity"] = session["_last_activity"] - settings.SESSION_IDLE_TIMEOUT - 1
    session.save()
    assert client.get("/organisations/").status_code == 302


@pytest.mark.parametrize("token", ["abc", "12345", "1234567"])
def test_totp_form_rejects_malformed_codes(client_for, personas, token):
    client = Client()
    post_login(client, "claire.dubois@var.test", settings.DEMO_PASSWORD)
    response = client.post(reverse("accounts:otp_verify"), {"token": token})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert "chiffres" in response.content.decode()


def test_repeated_wrong_codes_are_throttled(personas):
    client = Client()
    post_login(client, "claire.dubois@var.test", settings.DEMO_PASSWORD)
    client.post(reverse("accounts:otp_verify"), {"token": "000000"})
    code = current_code(personas["claire"])
    response = client.post(reverse("accounts:otp_verify"), {"token": code})
    assert "patientez" in response.content.decode()
    assert client.get("/organisations/").status_code == 302


def test_expired_reset_link_changes_nothing(personas, settings):
    client = Client()
    client.post(reverse("accounts:password_reset"), {"email": "ines.benali@francetravail.test"})
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0).replace("http://testserver", "")
    settings.PASSWORD_RESET_TIMEOUT = -1  # two hours have passed
    page = client.get(link, follow=True)
    assert "n'est plus valable" in page.content.decode()
    personas["ines"].refresh_from_db()
    assert personas["ines"].check_password(settings.DEMO_PASSWORD)
