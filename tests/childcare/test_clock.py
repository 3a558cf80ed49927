"""The 24-hour clock of an emergency, with or without weekends as the territory sets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind
from binome.childcare.actions import due_time
from binome.childcare.models import ChildcareRequest, ChildcareSettings
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from tests.childcare.conftest import Essonne
from tests.childcare.test_requests import file_request
from tests.conftest import login_as

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 (the 4th is a Friday), Paris time."""
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (at(4, 18), at(7, 18)),  # Friday 18:00 → Monday 18:00
        (at(3, 9, 30), at(4, 9, 30)),  # Thursday → Friday, no weekend in between
        (at(4, 0), at(5, 0)),  # Friday 0:00 → Saturday 0:00, exactly
        (at(5, 11), at(8, 0)),  # Saturday → the clock starts on Monday 0:00
        (at(6, 23), at(8, 0)),  # Sunday late → Tuesday 0:00
        (at(11, 23, 59), at(14, 23, 59)),  # Friday 23:59 → Monday 23:59
    ],
)
def test_an_emergency_with_weekends_not_counted(filed: datetime, due: datetime) -> None:
    assert due_time("urgence", filed, weekends_count=False) == due


def test_weekends_counted_and_places_are_calendar_time() -> None:
    assert due_time("urgence", at(4, 18), weekends_count=True) == at(5, 18)
    assert due_time("place", at(4, 18), weekends_count=False) == at(19, 18)


def test_the_territory_s_setting_applies_to_the_requests_it_files(essonne: Essonne) -> None:
    admin = essonne.nina
    TerritoryRole.objects.create(
        user=admin, department_id="91", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=admin, name="Application", confirmed=True)
    url = reverse("childcare:settings", args=["91"])
    assert essonne.var.client(essonne.charlie).get(url).status_code == 404
    client = login_as(Client(), admin)
    assert client.get(reverse("childcare:settings", args=["83"])).status_code == 404
    assert url in client.get(reverse("childcare:coordination_inbox")).content.decode()
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 302
    assert ChildcareSettings.for_department("91").emergency_weekends_count is False
    assert AuditEvent.objects.filter(kind=AuditKind.CHILDCARE_SETTINGS_CHANGED).exists()
    childcare_request = file_request(essonne)
    assert childcare_request == ChildcareRequest.objects.get()
    expected = due_time("urgence", childcare_request.created_at, weekends_count=False)
    assert childcare_request.due_at == expected
    if timezone.localtime(childcare_request.created_at).weekday() >= 4:
        assert childcare_request.due_at > childcare_request.created_at + timedelta(hours=24)
