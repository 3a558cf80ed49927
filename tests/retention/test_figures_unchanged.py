"""Anonymisation keeps the structure of what happened: on a generated territory, every
registered steering figure, the FSE+ export and each FSE+ operation's export give the same
numbers (and the same pseudonymous identifiers) before and after the old files are
anonymised — or archived, then anonymised at the end of the archive."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from binome.core.figures import FigureScope, registered_sections
from binome.core.generation import GENERATED_DOMAIN
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.retention import actions, archive
from binome.retention.models import Anonymisation, Archive
from binome.steering import fse, operations
from binome.steering.models import FseOperation
from binome.support.models import Accompaniment, Kind, State

pytestmark = pytest.mark.django_db


def everything(scopes: list[FigureScope], today: date) -> dict[str, Any]:
    autodiscover_modules("figures")
    sections = registered_sections()
    assert len(sections) >= 5  # support, referrals, rsa, childcare, steering
    return (
        {f"{key} {scope}": function(scope) for scope in scopes for key, function in sections}
        | {f"fse {scope}": fse.participants(scope) for scope in scopes}
        | {
            f"operation {operation.pk}": operations.export_table(operation, today=today)
            for operation in FseOperation.objects.all()
        }
    )


def _operations(departments: list[str], today: date) -> None:
    """The generated global accompaniments activated a fortnight after their start, and one
    FSE+ operation per département over every year, covering all its organisations (the
    ages at activation then fall on other days than the ages at the start)."""
    Accompaniment.objects.filter(kind=Kind.GLOBAL).exclude(state=State.PROPOSED).update(
        activated_on=F("started_on") + timedelta(days=15)
    )
    # Where it fits the accompaniment, the activation falls on the first day of the person's
    # birth month, before her birthday: the age from a birth date kept as a year and a month
    # would be one year more.
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE support_accompaniment a SET activated_on = d.day
               FROM (SELECT a2.id, make_date(extract(year FROM a2.started_on)::int + 1,
                                             extract(month FROM p.birth_date)::int, 1) AS day
                     FROM support_accompaniment a2 JOIN people_person p ON p.id = a2.person_id
                     WHERE a2.kind = 'global' AND a2.state <> 'proposed'
                       AND extract(day FROM p.birth_date) > 1) d
               WHERE a.id = d.id AND d.day <= %s
                 AND (a.ended_on IS NULL OR a.ended_on > d.day)""",
            [today],
        )
        assert cursor.rowcount >= 5
    creator = get_user_model().objects.filter(email__endswith=GENERATED_DOMAIN).first()
    for code in departments:
        operation = FseOperation.objects.create(
            department_id=code,
            name=f"Opération {code}",
            starts_on=date(2000, 1, 1),
            ends_on=today,
            created_by=creator,
        )
        operation.organisations.set(Organisation.objects.filter(department_id=code))


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
    _operations(departments, today)
    before = everything(scopes, today)
    assert any(table.rows for key, table in before.items() if key.startswith("fse"))
    assert any(table.rows for key, table in before.items() if key.startswith("operation"))

    # Three years on, every file without an open accompaniment is past its retention: the
    # teams are told, then the files are anonymised a month later.
    later = today + timedelta(days=3 * 365)
    assert actions.run(today=later).notified
    anonymised = actions.run(today=later + timedelta(days=31)).anonymised
    assert anonymised == Anonymisation.objects.count() >= 10
    assert not Person.objects.filter(pk__in=Anonymisation.objects.values("person_id")).exclude(
        first_name="Personne"
    )

    after = everything(scopes, today)
    assert after.keys() == before.keys()
    for key, section in before.items():
        assert after[key] == section, key


def test_every_figure_and_the_fse_export_are_the_same_after_archiving_then_anonymising() -> None:
    """Where the territories keep an intermediate archive, the archived files still count
    the same in every figure and export, and so do they once anonymised at its end."""
    call_command("generate", "--scale", "tiny", "--seed", "11", stdout=StringIO())
    generated = Person.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    departments = sorted(set(generated.values_list("department_id", flat=True)))
    today = timezone.localdate()
    scopes = [
        FigureScope(department=code, start=start, end=today)
        for code in departments
        for start in (date(2000, 1, 1), today - timedelta(days=365))
    ] + [FigureScope(department=None, start=date(2000, 1, 1), end=today)]
    _operations(departments, today)
    creator = get_user_model().objects.filter(email__endswith=GENERATED_DOMAIN).first()
    for code in departments:
        archive.set_archive_settings(
            department_id=code, enabled=True, years=1, justification="Contentieux", by=creator
        )
    before = everything(scopes, today)

    later = today + timedelta(days=3 * 365)
    assert actions.run(today=later).notified
    report = actions.run(today=later + timedelta(days=31))
    assert report.archived == Archive.objects.count() >= 10 and report.anonymised == 0
    assert Person.objects.filter(archived_until__isnull=False).count() == report.archived
    archived = everything(scopes, today)
    assert archived.keys() == before.keys()
    for key, section in before.items():
        assert archived[key] == section, key

    end = later + timedelta(days=31 + 366)
    report = actions.run(today=end)
    assert report.archive_expired == report.anonymised == Anonymisation.objects.count() >= 10
    anonymised = everything(scopes, today)
    for key, section in before.items():
        assert anonymised[key] == section, key
