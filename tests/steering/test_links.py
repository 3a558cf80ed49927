"""Where the steering pages are reached from: the national dashboard from the home page and
the territory's dashboard (for the holders of the permission only), the FSE+ operations from
the territory's dashboard, an organisation's dashboard and its FSE+ completeness from the
organisation's page."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.accounts.models import User
from binome.steering.models import FseOperation
from tests.conftest import login_as
from tests.steering.conftest import QUERY, Known

NATIONAL = reverse("steering:national")
HOME = reverse("site:home")


def _with_national_permission(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="view_national_dashboard"))
    return User.objects.get(pk=user.pk)  # permissions are cached per object


def _admin(known: Known) -> Client:
    TOTPDevice.objects.create(user=known.dep_admin, name="Téléphone", confirmed=True)
    return login_as(Client(), known.dep_admin)


def test_the_national_dashboard_is_linked_for_its_permission_holders_only(known: Known) -> None:
    var = known.var
    territory = reverse("steering:territory", args=["83"])
    dan = var.client(var.dan)
    assert NATIONAL not in dan.get(HOME).content.decode()
    assert NATIONAL not in dan.get(territory, QUERY).content.decode()
    dan = var.client(_with_national_permission(var.dan))
    home = dan.get(HOME).content.decode()
    assert f'href="{NATIONAL}"' in home
    assert "Pilotage national" in home
    assert f'href="{NATIONAL}"' in dan.get(territory, QUERY).content.decode()
    assert dan.get(NATIONAL).status_code == 200
    # A file team's professional given the permission sees it too; without it, not.
    alice = var.client(var.alice)
    assert NATIONAL not in alice.get(HOME).content.decode()


def test_the_territory_dashboard_leads_to_the_fse_operations(known: Known) -> None:
    var = known.var
    body = var.client(var.dan).get(reverse("steering:territory", args=["83"])).content.decode()
    operations = reverse("steering:fse_operations", args=["83"])
    assert f'href="{operations}"' in body
    assert var.client(var.dan).get(operations).status_code == 200


def test_an_organisation_admin_reaches_its_fse_completeness_from_its_page(known: Known) -> None:
    var = known.var
    operation = FseOperation.objects.create(
        department_id="83",
        name="Accompagnement global du Var 2026",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        created_by=var.dan,
    )
    operation.organisations.set([var.departement])
    other = FseOperation.objects.create(
        department_id="83",
        name="Opération de la CAF",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        created_by=var.dan,
    )
    other.organisations.set([var.caf])
    admin = _admin(known)
    page = admin.get(reverse("organisations:detail", args=[var.departement.pk])).content.decode()
    dashboard = reverse("steering:organisation", args=[var.departement.pk])
    assert f'href="{dashboard}"' in page
    body = admin.get(dashboard).content.decode()
    completeness = reverse("steering:fse_operation", args=[operation.pk])
    assert f'href="{completeness}"' in body
    assert reverse("steering:fse_operation", args=[other.pk]) not in body
    response = admin.get(completeness)
    assert response.status_code == 200
    assert "Complétude des données par organisation" in response.content.decode()
    # Out of reach: the CAF's operation (403), and from the Essonne (404).
    assert admin.get(reverse("steering:fse_operation", args=[other.pk])).status_code == 403
    assert var.client(var.charlie).get(completeness).status_code == 404


def test_a_member_who_is_not_an_admin_has_no_dashboard_link(known: Known) -> None:
    var = known.var
    page = var.client(var.bob).get(reverse("organisations:detail", args=[var.departement.pk]))
    assert page.status_code == 200
    dashboard = reverse("steering:organisation", args=[var.departement.pk])
    assert dashboard not in page.content.decode()
    assert var.client(var.bob).get(dashboard).status_code == 403
