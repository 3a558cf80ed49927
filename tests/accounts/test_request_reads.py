"""What every request reads before its page: the session and the second factor's check,
each by a query compiled once per process — the same rows, the same answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.accounts.middleware import has_confirmed_device
from binome.accounts.sessions import SessionStore
from binome.organisations.models import OrganisationKind
from tests.factories import make_member, make_organisation

pytestmark = pytest.mark.django_db

PAGE = "/organisations/"


def test_the_device_check_answers_as_django_otp_and_guards_the_pages() -> None:
    user = make_member("Sophie", make_organisation("CCAS de Toulon", OrganisationKind.CCAS))
    client = Client()
    client.force_login(user)
    assert has_confirmed_device(user) is user_has_device(user) is False
    assert client.get(PAGE).status_code == 200

    device = TOTPDevice.objects.create(user=user, name="téléphone", confirmed=False)
    assert has_confirmed_device(user) is user_has_device(user) is False
    assert client.get(PAGE).status_code == 200  # a device not confirmed asks nothing

    device.confirmed = True
    device.save()
    assert has_confirmed_device(user) is user_has_device(user) is True
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))


def test_the_session_is_read_by_its_key_until_it_expires() -> None:
    user = make_member("Sophie", make_organisation("CCAS de Toulon", OrganisationKind.CCAS))
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    assert isinstance(client.session, SessionStore)
    assert SessionStore(key).load()["_auth_user_id"] == str(user.pk)
    assert client.get(PAGE).status_code == 200

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # a new key if it is ever saved, as Django does
    assert client.get(PAGE)["Location"].startswith(reverse("accounts:login"))
    assert SessionStore("0123456789abcdefghijklmnopqrstuv").load() == {}
