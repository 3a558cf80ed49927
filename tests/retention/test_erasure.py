"""Every free text about a person is erased by anonymisation, or said to be structural with
a reason: the models are walked, so a text added tomorrow to a model of the file fails here
until it is erased or explained."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.utils import timezone

from binome.notifications.actions import notify
from binome.notifications.models import Notification, NotificationKind
from binome.people.models import ConsentMethod, ConsentScope, Person
from binome.retention import actions, erasure
from binome.support import actions as support_actions
from binome.support.models import Accompaniment
from tests.factories import SmallTerritory

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
TEXT_FIELDS = (models.CharField, models.TextField, models.FileField, models.JSONField)


def person_lookups() -> dict[str, str]:
    """``{"app.Model": lookup to the person's id}`` for every model whose rows belong to one
    person's file, following the foreign keys (at most three steps)."""
    found: dict[str, str] = {}
    for model in apps.get_models():
        queue: deque[tuple[type[models.Model], str, int]] = deque([(model, "", 0)])
        seen = {model}
        while queue:
            current, path, depth = queue.popleft()
            if current is Person:
                found[model._meta.label] = f"{path}id" if path else "id"
                break
            if depth == 3:
                continue
            for field in current._meta.concrete_fields:
                target = field.related_model
                if field.is_relation and target is not None and target not in seen:
                    seen.add(target)
                    queue.append((target, f"{path}{field.name}__", depth + 1))
    return found


def is_text(field: models.Field[Any, Any]) -> bool:
    if field.primary_key or field.choices:
        return False  # a code of a closed list is no free text
    if isinstance(field, ArrayField):
        return is_text(field.base_field)
    return isinstance(field, TEXT_FIELDS)


def empty(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    if isinstance(field, ArrayField):
        return []
    return {} if isinstance(field, models.JSONField) else ""


def test_every_text_of_a_persons_file_is_erased_or_structural_with_a_reason() -> None:
    lookups = person_lookups()
    # The walk finds the file's far corners (not only the models with a ``person`` key).
    assert {"steering.ComiteCase", "referrals.ReferralEvent", "childcare.RequestChild"} <= set(
        lookups
    )
    erased = erasure.erased_fields()
    missing = [
        f"{label}.{field.name}"
        for label in sorted(lookups)
        for field in apps.get_model(label)._meta.concrete_fields
        if is_text(field)
        and field.name not in erased.get(label, ())
        and f"{label}.{field.name}" not in erasure.STRUCTURAL
    ]
    assert not missing, f"Textes ni effacés ni déclarés structurels : {missing}"
    for key, reason in erasure.STRUCTURAL.items():
        label, name = key.rsplit(".", 1)
        assert label in lookups and reason.strip()
        apps.get_model(label)._meta.get_field(name)  # an entry that no longer exists fails
    for entry in erasure.ERASED:
        # Its lookup leads to the person (a wrong one fails to compile).
        str(entry.model._default_manager.filter(**{f"{entry.person}__in": [1]}).query)
        assert entry.person.endswith("person_id")
        for name in entry.values:
            entry.model._meta.get_field(name)


@pytest.mark.django_db
def test_no_text_of_an_anonymised_file_names_its_person(personas: dict[str, Any]) -> None:
    """The demo's files anonymised: no text left in any model of a file (but the structural
    ones) holds a name of its person, and each erased field says nothing."""
    lookups = person_lookups()
    persons = {
        pk: (first, last, birth)
        for pk, first, last, birth in Person.objects.values_list(
            "pk", "first_name", "last_name", "birth_name"
        )
    }
    texts = {
        label: [
            f.name
            for f in apps.get_model(label)._meta.concrete_fields
            if is_text(f) and f"{label}.{f.name}" not in erasure.STRUCTURAL
        ]
        for label in lookups
    }
    written_before = {
        label: apps.get_model(label)
        ._default_manager.filter(**{f"{lookups[label]}__in": list(persons)})
        .exclude(**{name: empty(apps.get_model(label), name) for name in names})
        .count()
        for label, names in texts.items()
        if names and label != "people.Person"
    }
    # The demo has texts in most corners of a file: the check below is not vacuous.
    covered = sorted(label for label, count in written_before.items() if count)
    assert len(covered) >= 10, covered

    erasure.erase_persons(list(persons))

    for label, names in texts.items():
        model = apps.get_model(label)
        for pk, *values in model._default_manager.filter(
            **{f"{lookups[label]}__in": list(persons)}
        ).values_list(lookups[label], *names):
            for name, value in zip(names, values, strict=True):
                text = str(value or "").casefold()
                for part in persons[pk]:
                    if len(part) > 2:
                        assert part.casefold() not in text, f"{label}.{name} : {value!r}"
    for entry in erasure.ERASED:
        for name, value in entry.values.items():
            if isinstance(value, str):
                assert (
                    not entry.model._default_manager.filter(
                        **{f"{entry.person}__in": list(persons)}
                    )
                    .exclude(**{name: value})
                    .exists()
                ), f"{entry.label}.{name}"


@pytest.mark.django_db
def test_the_age_at_the_start_stays_when_the_birth_day_goes(small_var: SmallTerritory) -> None:
    accompaniment = small_var.accompaniment
    Accompaniment.objects.filter(pk=accompaniment.pk).update(
        started_on=accompaniment.person.birth_date.replace(year=2025, day=2)
    )  # born a 4th of May: 34 years old on the 2nd of May 2025, not 35
    erasure.erase_persons([small_var.person.pk])
    person = Person.objects.get(pk=small_var.person.pk)
    assert person.birth_date.day == 1
    accompaniment.refresh_from_db()
    assert accompaniment.age_at_start == 34


@pytest.mark.django_db
def test_a_notification_that_quotes_the_person_forgets_her_name(
    small_var: SmallTerritory,
) -> None:
    person = small_var.person
    notify(
        recipients=[small_var.bob],
        kind=NotificationKind.RSA,
        title="Vous êtes désigné(e) référent de parcours RSA",
        body=f"Alice vous a désigné(e) référent de parcours de {person.full_name}.",
        url="/",
        actor=small_var.alice,
    )
    erasure.erase_persons([person.pk])
    [notification] = Notification.objects.filter(kind=NotificationKind.RSA)
    assert notification.body == "Alice vous a désigné(e) référent de parcours de une personne."


@pytest.mark.django_db
def test_uploaded_files_leave_the_storage_once_committed(
    small_var: SmallTerritory,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    person = small_var.person
    consent = support_actions.record_consent(
        person=person,
        scope=ConsentScope.CHILDCARE_CAF,
        method=ConsentMethod.SIGNED_DOCUMENT,
        given_on=timezone.localdate(),
        by=small_var.alice,
        organisation=small_var.france_travail,
        document=SimpleUploadedFile("consentement.pdf", PDF, "application/pdf"),
    )
    assert [path for path in tmp_path.rglob("*") if path.is_file()]
    with django_capture_on_commit_callbacks(execute=True):
        actions.erase_mistaken_file(person=person, reason="Doublon", by=small_var.dan)
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]
    consent.refresh_from_db()
    assert consent.document.name == ""
