"""``binome.core.bulk.copy_like``: rows written with ``COPY`` from a prototype instance and
the values of a few fields, as ``copy_insert`` writes the same instances."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from binome.core.bulk import copy_insert, copy_like
from binome.organisations.models import OrganisationKind
from binome.people.models import Person
from binome.support.models import TimelineEvent
from tests.factories import make_organisation

COLUMNS = ("first_name", "last_name", "birth_date", "search_name")


def _person_values(pk: int) -> dict[str, object]:
    values = Person.objects.filter(pk=pk).values().get()
    del values["id"], values["created_at"]
    return values


def test_each_row_is_the_prototype_with_its_own_values_and_its_new_key(db: None) -> None:
    holder = make_organisation("Département du Var", OrganisationKind.DEPARTMENT)
    rows = [
        ("Hélène", "Lefèvre", datetime.date(1980, 1, 2), "helene lefevre"),
        ("Noël", "Martin", datetime.date(1975, 3, 4), "noel martin"),
    ]
    started = datetime.datetime.now(tz=datetime.UTC)

    pks = copy_like(Person(department_id="83", organisation=holder, sex="F"), COLUMNS, rows)

    assert len(pks) == 2 and pks[0] < pks[1]
    written = {p.pk: p for p in Person.objects.filter(pk__in=pks)}
    for pk, (first_name, last_name, birth_date, search_name) in zip(pks, rows, strict=True):
        person = written[pk]
        assert (person.first_name, person.last_name, person.birth_date, person.search_name) == (
            first_name,
            last_name,
            birth_date,
            search_name,
        )
        assert (person.department_id, person.organisation_id, person.sex) == ("83", holder.pk, "F")
        assert person.created_at >= started  # ``auto_now_add``, as an insert sets it


def test_a_row_is_written_as_copy_insert_writes_the_same_instance(db: None) -> None:
    holder = make_organisation("Département du Var", OrganisationKind.DEPARTMENT)
    values = ("Zoé", "Garcia", datetime.date(1990, 5, 4), "zoe garcia")
    instance = Person(
        department_id="83", organisation=holder, **dict(zip(COLUMNS, values, strict=True))
    )
    copy_insert([instance])

    (pk,) = copy_like(Person(department_id="83", organisation=holder), COLUMNS, [values])

    assert _person_values(pk) == _person_values(instance.pk)


def test_nothing_is_written_for_no_rows(db: None) -> None:
    holder = make_organisation("Département du Var", OrganisationKind.DEPARTMENT)

    assert copy_like(Person(department_id="83", organisation=holder), COLUMNS, []) == []
    assert not Person.objects.exists()


def test_a_field_that_must_differ_from_row_to_row_or_an_unsaved_relation_is_refused(
    db: None,
) -> None:
    holder = make_organisation("Département du Var", OrganisationKind.DEPARTMENT)
    person = Person(department_id="83", organisation=holder, first_name="Léa")

    with pytest.raises(ValueError, match="related object is not saved"), transaction.atomic():
        copy_like(
            TimelineEvent(person=person, organisation=holder, kind="person"),
            ("summary",),
            [("Dossier créé",)],
        )
    with pytest.raises(ValueError, match="must be among the varying fields"):
        copy_like(Person(department_id="83", organisation=holder, user_id=1), COLUMNS, [()])
    assert not TimelineEvent.objects.exists()
