"""The territory administrator's page of retention: what would be anonymised, the legal
holds (set with a reason, lifted), the reports of the runs; and the demo's two files."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from binome.people.models import Person
from binome.retention import actions
from binome.retention.demo import load_demo_retention
from binome.retention.models import Archive, ArchiveSettings, LegalHold, RetentionNotice
from tests.conftest import login_as
from tests.factories import SmallTerritory, make_member
from tests.retention.conftest import age_file, days_until_deadline_is

pytestmark = pytest.mark.django_db


def territory_admin(small_var: SmallTerritory) -> User:
    claire = make_member("Claire", small_var.departement)
    TerritoryRole.objects.create(
        user=claire, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=claire, name="téléphone", confirmed=True)
    return claire


def admin_client(claire: User) -> Client:
    return login_as(Client(), claire)


def test_the_page_lists_what_would_be_anonymised(closed_file: SmallTerritory) -> None:
    claire = territory_admin(closed_file)
    person = closed_file.person
    age_file(person, days_until_deadline_is(10))
    actions.run()
    age_file(person, 30)  # told 30 days ago: due
    page = admin_client(claire).get(reverse("retention:territory", args=["83"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"n° {person.pk}" in html
    assert "anonymisé au prochain passage" in html
    assert "Zoé" not in html  # a number, never a name
    assert "24 mois" in html


def test_a_professional_is_refused(closed_file: SmallTerritory) -> None:
    page = closed_file.client(closed_file.alice).get(reverse("retention:territory", args=["83"]))
    assert page.status_code == 403


def test_a_hold_is_set_with_its_reason_then_lifted(closed_file: SmallTerritory) -> None:
    claire = territory_admin(closed_file)
    client = admin_client(claire)
    person = closed_file.person
    path = reverse("retention:hold", args=["83"])
    refused = client.post(path, {"hold-person": str(person.pk), "hold-reason": "  "})
    assert refused.status_code == 400
    assert "Indiquez le motif." in refused.content.decode()
    unknown = client.post(path, {"hold-person": "99999999999", "hold-reason": "Contentieux"})
    assert "Aucun dossier de ce territoire ne porte ce numéro." in unknown.content.decode()
    assert not LegalHold.objects.exists()
    done = client.post(path, {"hold-person": str(person.pk), "hold-reason": "Contentieux"})
    assert done.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.person, hold.reason, hold.set_by) == (person, "Contentieux", claire)
    assert AuditEvent.objects.filter(kind=AuditKind.LEGAL_HOLD_SET, person_id=person.pk).exists()
    client.post(reverse("retention:lift", args=["83", hold.pk]))
    hold.refresh_from_db()
    assert hold.lifted_by == claire
    assert AuditEvent.objects.filter(kind=AuditKind.LEGAL_HOLD_LIFTED, person_id=person.pk).exists()


def test_the_demo_has_a_file_told_to_its_team_and_a_held_one(small_var: SmallTerritory) -> None:
    claire = territory_admin(small_var)
    users = {"ines": small_var.alice, "claire": claire}
    load_demo_retention(users, {"ft_toulon": small_var.france_travail})
    load_demo_retention(users, {"ft_toulon": small_var.france_travail})  # idempotent
    henri = Person.objects.get(first_name="Henri")
    lucie = Person.objects.get(first_name="Lucie")
    assert RetentionNotice.objects.filter(person=henri).count() == 1
    assert LegalHold.objects.active().filter(person=lucie).count() == 1
    plan = actions.plan(today=timezone.localdate())
    assert [c.person_id for c in plan.waiting] == [henri.pk]
    assert [c.person_id for c in plan.kept] == [lucie.pk]
    # The Var keeps an intermediate archive, with its justification: Gérard's file is in it.
    assert ArchiveSettings.for_department("83").enabled
    assert ArchiveSettings.for_department("83").justification
    gerard = Person.objects.get(first_name="Gérard")
    assert gerard.archived_until is not None
    assert Archive.objects.current().filter(person=gerard).count() == 1
    assert RetentionNotice.objects.filter(person=gerard).count() == 1


def test_a_file_created_by_mistake_is_erased_at_once_with_a_reason(
    small_var: SmallTerritory,
) -> None:
    claire = territory_admin(small_var)
    client = admin_client(claire)
    person = small_var.person
    path = reverse("retention:erase", args=["83"])
    unconfirmed = client.post(path, {"erase-person": str(person.pk), "erase-reason": "Doublon"})
    assert unconfirmed.status_code == 400
    assert Person.objects.get(pk=person.pk).first_name == "Zoé"
    done = client.post(
        path, {"erase-person": str(person.pk), "erase-reason": "Doublon", "erase-confirm": "on"}
    )
    assert done.status_code == 302
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("Personne", "anonymisée")
    line = AuditEvent.objects.get(kind=AuditKind.FILE_ERASED, person_id=person.pk)
    assert (line.actor, line.details) == (claire, {"reason": "Doublon"})
    again = client.post(
        path, {"erase-person": str(person.pk), "erase-reason": "Doublon", "erase-confirm": "on"}
    )
    assert "Ce dossier est déjà anonymisé." in again.content.decode()


def test_a_held_file_is_not_erased(small_var: SmallTerritory) -> None:
    claire = territory_admin(small_var)
    actions.set_legal_hold(person=small_var.person, reason="Contentieux", by=claire)
    response = admin_client(claire).post(
        reverse("retention:erase", args=["83"]),
        {
            "erase-person": str(small_var.person.pk),
            "erase-reason": "Doublon",
            "erase-confirm": "on",
        },
    )
    assert response.status_code == 400
    assert "abord la conservation" in response.content.decode()
