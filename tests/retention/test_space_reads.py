"""« Qui a consulté mon dossier » says how far back the log goes, from the setting."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from binome.accounts.models import User
from binome.support.space import reads_kept_since
from tests.factories import SmallTerritory

pytestmark = pytest.mark.django_db


def test_the_kept_months_start_on_the_first_of_a_month() -> None:
    assert reads_kept_since(date(2026, 12, 7)) == date(2025, 12, 1)
    with override_settings(BINOME_AUDIT_RETENTION_MONTHS=6):
        assert reads_kept_since(date(2026, 3, 31)) == date(2025, 9, 1)


@override_settings(BINOME_AUDIT_RETENTION_MONTHS=6)
def test_the_space_says_how_far_back_the_reads_go(small_var: SmallTerritory) -> None:
    person = small_var.person
    person.user = User.objects.create_user(
        email="zoe@exemple.test", password=None, first_name="Zoé", last_name="Exemple"
    )
    person.save(update_fields=["user"])
    client = Client()
    client.force_login(person.user)
    html = client.get(reverse("space:home")).content.decode()
    assert "Le journal des consultations est conservé 6 mois" in html
