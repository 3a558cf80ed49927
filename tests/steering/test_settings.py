"""The territory's administrators set the target delay the dashboard counts against."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent
from binome.organisations.models import Role, TerritoryRole, TerritoryRoleKind
from binome.steering.models import SteeringSettings
from tests.conftest import login_as
from tests.factories import SmallTerritory, make_member

URL = reverse("steering:settings", args=["83"])


def _admin(var: SmallTerritory) -> Client:
    admin = make_member("Tania", var.departement, role=Role.ADMIN)
    TerritoryRole.objects.create(
        user=admin, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=admin, name="Téléphone", confirmed=True)
    return login_as(Client(), admin)


def test_the_territory_admin_sets_the_target(small_var: SmallTerritory) -> None:
    client = _admin(small_var)
    assert 'value="21"' in client.get(URL).content.decode()
    response = client.post(URL, {"target_days": "15"})
    assert response.status_code == 302
    assert SteeringSettings.target_days_for("83") == 15
    event = AuditEvent.objects.get(kind="steering_settings_changed")
    assert event.details == {"target_days": 15}
    dashboard = client.get(reverse("steering:territory", args=["83"])).content.decode()
    assert "Diagnostics faits dans l&#x27;objectif de 15 jours" in dashboard
    assert "Régler l'objectif de délai du territoire" in dashboard


def test_a_bad_target_gets_a_message_and_changes_nothing(small_var: SmallTerritory) -> None:
    client = _admin(small_var)
    for value, message in [
        ("0", "Assurez-vous que cette valeur est supérieure ou égale à 1."),
        ("trois", "Saisissez un nombre entier."),
        ("", "Ce champ est obligatoire."),
    ]:
        response = client.post(URL, {"target_days": value})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not SteeringSettings.objects.exists()
    assert not AuditEvent.objects.filter(kind="steering_settings_changed").exists()


def test_only_the_territory_admin_sets_it(small_var: SmallTerritory) -> None:
    assert small_var.client(small_var.dan).get(URL).status_code == 403  # steering reads only
    assert small_var.client(small_var.dan).post(URL, {"target_days": "5"}).status_code == 403
    assert small_var.client(small_var.charlie).get(URL).status_code == 404
    assert not SteeringSettings.objects.exists()
