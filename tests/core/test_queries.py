"""The prepared queries of the busy pages: compiled once, run with the request's values."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.core.queries import PreparedQuery, instance_columns, instance_from_row
from binome.organisations.models import Membership, Organisation, OrganisationKind
from binome.support.models import Accompaniment
from tests.factories import make_member, make_organisation

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


def test_a_list_parameter_is_one_array_whatever_the_number_of_values() -> None:
    first, second, third = (
        make_organisation(f"CCAS {i}", OrganisationKind.CCAS) for i in ("A", "B", "C")
    )
    query = PreparedQuery(
        lambda p: Organisation.objects.filter(pk__any=p.ids).order_by("name").values("name"),
        ids=list,
    )

    assert [row["name"] for row in query.run(ids=[third.pk, first.pk])] == ["CCAS A", "CCAS C"]
    assert query.run(ids=[]) == []
    assert len(query.run(ids=[first.pk, second.pk, third.pk, first.pk])) == 3
    # One compiled statement, its one parameter the list.
    [(sql, slots)] = query._compiled.values()
    assert slots == [("ids", None)]
    assert "= ANY(%s::bigint[])" in sql


def test_the_any_lookup_finds_what_in_finds() -> None:
    ids = [make_organisation(f"CCAS {i}", OrganisationKind.CCAS).pk for i in range(3)]
    make_organisation("Autre", OrganisationKind.CAF)
    wanted = [ids[0], ids[2], 10**12]

    assert sorted(Organisation.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == (
        sorted(Organisation.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    )


def test_instances_built_from_a_prepared_row_are_those_of_select_related() -> None:
    toulon = make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    quimper = make_organisation("CCAS de Quimper", OrganisationKind.CCAS, department="29")
    user = make_member("Sophie", toulon)
    Membership.objects.create(user=user, organisation=quimper)
    related = ("organisation", "organisation__department")
    query = PreparedQuery(
        lambda p: Membership.objects.working(p.user).values(
            *instance_columns(Membership, *related)
        ),
        user=int,
    )
    expected = list(Membership.objects.working(user))

    with CaptureQueriesContext(connection) as captured:
        built = [instance_from_row(row, Membership, *related) for row in query.run(user=user.pk)]
        names = [(m.organisation.name, m.organisation.department.name) for m in built]

    assert len(captured) == 1  # the related rows came with their membership
    assert names == [(m.organisation.name, m.organisation.department.name) for m in expected]
    for mine, theirs in zip(built, expected, strict=True):
        for a, b in (
            (mine, theirs),
            (mine.organisation, theirs.organisation),
            (mine.organisation.department, theirs.organisation.department),
        ):
            assert type(a) is type(b)
            assert {f.attname: getattr(a, f.attname) for f in type(a)._meta.concrete_fields} == {
                f.attname: getattr(b, f.attname) for f in type(b)._meta.concrete_fields
            }
            assert not a._state.adding and a._state.db == "default"
    built[0].save(update_fields=["job_title"])  # a saved row, not a new one


def test_an_empty_outer_join_gives_no_related_instance() -> None:
    organisation = make_organisation("Sans commune", OrganisationKind.CCAS)
    Organisation.objects.filter(pk=organisation.pk).update(commune=None)
    query = PreparedQuery(
        lambda p: Organisation.objects.filter(pk=p.pk).values(
            *instance_columns(Organisation, "commune")
        ),
        pk=int,
    )
    [row] = query.run(pk=organisation.pk)
    built = instance_from_row(row, Organisation, "commune")

    with CaptureQueriesContext(connection) as captured:
        assert built.commune is None
    assert len(captured) == 0
