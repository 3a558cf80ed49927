"""Anonymisation keeps the structure of what happened: on a generated territory, every
registered steering figure and the FSE+ export give the same numbers (and the same
pseudonymous identifiers) before and after the old files are anonymised."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from binome.core.figures import FigureScope, registered_sections
from binome.core.generation import GENERATED_DOMAIN
from binome.people.models import Person
from binome.retention import actions
from binome.retention.models import Anonymisation
from binome.steering import fse

pytestmark = pytest.mark.django_db


def everything(scopes: list[FigureScope]) -> dict[str, Any]:
    autodiscover_modules("figures")
    sections = registered_sections()
    assert len(sections) >= 5  # support, referrals, rsa, childcare, steering
    return {f"{key} {scope}": function(scope) for scope in scopes for key, function in sections} | {
        f"fse {scope}": fse.participants(scope) for scope in scopes
    }


def test_every_figure_and_the_fse_export_are_the_same_after_anonymisation() -> None:
    call_command("generate", "--scale", "tiny", "--seed", "11", stdout=StringIO())
    generated = Person.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    departments = sorted(set(generated.values_list("department_id", flat=True)))
    today = timezone.localdate()
    scopes = [
        FigureScope(department=code, start=start, end=today)
        for code in departments
        for start in (date(2000, 1, 1), today - timedelta(days=365))
    ] + [FigureScope(department=None, start=date(2000, 1, 1), end=today)]
    before = everything(scopes)
    assert any(table.rows for key, table in before.items() if key.startswith("fse"))

    # Three years on, every file without an open accompaniment is past its retention: the
    # teams are told, then the files are anonymised a month later.
    later = today + timedelta(days=3 * 365)
    assert actions.run(today=later).notified
    anonymised = actions.run(today=later + timedelta(days=31)).anonymised
    assert anonymised == Anonymisation.objects.count() >= 10
    assert not Person.objects.filter(pk__in=Anonymisation.objects.values("person_id")).exclude(
        first_name="Personne"
    )

    after = everything(scopes)
    assert after.keys() == before.keys()
    for key, section in before.items():
        assert after[key] == section, key
