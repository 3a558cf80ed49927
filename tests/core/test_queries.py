"""The prepared queries of the busy pages: compiled once, run with the request's values."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.core.queries import PreparedQuery
from binome.organisations.models import Organisation, OrganisationKind
from binome.support.models import Accompaniment
from tests.factories import make_organisation

pytestmark = pytest.mark.django_db


def by_kind_and_name() -> PreparedQuery:
    return PreparedQuery(
        lambda p: (
            Organisation.objects.filter(kind=p.kind, department_id=p.department)
            .order_by("name")
            .values("id", label=F("name"))
        ),
        kind=str,
        department=str,
    )


def test_a_prepared_query_returns_the_rows_of_the_values_given_at_each_run() -> None:
    make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    make_organisation("CCAS de Hyères", OrganisationKind.CCAS)
    make_organisation("CCAS de Quimper", OrganisationKind.CCAS, department="29")
    make_organisation("Crèche de Toulon", OrganisationKind.CHILDCARE)
    query = by_kind_and_name()

    ccas = query.run(kind=OrganisationKind.CCAS, department="83")
    childcare = query.run(kind=OrganisationKind.CHILDCARE, department="83")

    assert [row["label"] for row in ccas] == ["CCAS de Hyères", "CCAS de Toulon"]
    assert [row["label"] for row in childcare] == ["Crèche de Toulon"]
    assert set(ccas[0]) == {"id", "label"}
    assert [row["label"] for row in query.run(kind=OrganisationKind.CCAS, department="29")] == [
        "CCAS de Quimper"
    ]
    assert query.run(kind=OrganisationKind.CAF, department="83") == []


def test_it_is_compiled_once_and_sent_as_one_logged_query() -> None:
    query = by_kind_and_name()
    query.run(kind=OrganisationKind.CCAS, department="83")
    compiled = dict(query._compiled)

    with CaptureQueriesContext(connection) as captured:
        query.run(kind=OrganisationKind.CAF, department="91")

    assert query._compiled == compiled
    assert len(captured) == 1
    assert "'91'" in captured[0]["sql"]


def test_dates_and_datetimes_are_parameters_too() -> None:
    now = timezone.now()
    query = PreparedQuery(
        lambda p: Accompaniment.objects.filter(
            started_on__gte=p.since, created_at__lt=p.before
        ).values("id"),
        since=date,
        before=datetime,
    )
    assert query.run(since=date(2000, 1, 1), before=now + timedelta(days=1)) == []


def test_a_parameter_used_transformed_is_refused_when_the_query_is_first_compiled() -> None:
    escaped = PreparedQuery(
        lambda p: Organisation.objects.filter(name__startswith=p.prefix).values("id"),
        prefix=str,
    )
    with pytest.raises(ValueError, match="prefix"):
        escaped.run(prefix="CCAS")
    query = PreparedQuery(
        lambda p: Accompaniment.objects.filter(started_on__gte=p.today - timedelta(days=30)),
        today=date,
    )
    with pytest.raises(ValueError, match="today"):
        query.run(today=date(2026, 12, 7))


def test_the_values_must_be_the_declared_parameters() -> None:
    query = by_kind_and_name()
    with pytest.raises(TypeError, match="department"):
        query.run(kind=OrganisationKind.CCAS)
    bad: dict[str, Any] = {"kind": "ccas", "department": "83", "other": 1}
    with pytest.raises(TypeError):
        query.run(**bad)
