"""A closed file whose past can be moved back in time: the retention tests let two years go
by in a line."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from binome.people.models import Person
from binome.retention.contact import add_months
from binome.support import actions as support_actions
from binome.support.models import ExitReason, Medium
from tests.factories import SmallTerritory


def age_file(person: Person, days: int) -> None:
    """Let ``days`` pass for the file: every date it holds (and every date retention noted
    about it) moves ``days`` back."""
    shift = timedelta(days=days)
    with connection.cursor() as cursor:
        for sql in (
            "UPDATE people_person SET created_at = created_at - %s WHERE id = %s",
            "UPDATE support_timelineevent SET at = at - %s WHERE person_id = %s",
            "UPDATE support_appointment SET at = at - %s WHERE person_id = %s",
            "UPDATE support_note SET date = date - %s WHERE person_id = %s",
            "UPDATE accounts_user SET last_login = last_login - %s "
            "WHERE id = (SELECT user_id FROM people_person WHERE id = %s)",
            "UPDATE retention_retentionnotice SET last_contact_on = last_contact_on - %s, "
            "deadline = deadline - %s, anonymise_on = anonymise_on - %s, "
            "notified_on = notified_on - %s WHERE person_id = %s",
        ):
            count = sql.count("%s") - 1
            cursor.execute(sql, [shift] * count + [person.pk])


def days_until_deadline_is(person_deadline_offset: int) -> int:
    """How many days to age a file whose last contact is today so that its deadline falls
    ``person_deadline_offset`` days from today (negative: past)."""
    today = timezone.localdate()
    last_contact = add_months(today + timedelta(days=person_deadline_offset), -24)
    return (today - last_contact).days


@pytest.fixture
def referential(db: Any) -> None:
    """The départements and communes, put back if a transactional test before emptied them."""
    from tests.database import ensure_referential

    ensure_referential()


@pytest.fixture
def closed_file(small_var: SmallTerritory) -> SmallTerritory:
    """Zoé's global accompaniment ended for a job, with a note that names her situation."""
    support_actions.write_note(
        person=small_var.person,
        author=small_var.alice,
        organisation=small_var.france_travail,
        date=timezone.localdate(),
        medium=Medium.IN_PERSON,
        text="Zoé vit chez sa sœur, rue des Lilas ; dettes de loyer.",
        accompaniment=small_var.accompaniment,
    )
    support_actions.end_accompaniment(
        accompaniment=small_var.accompaniment,
        ended_on=timezone.localdate(),
        reason=ExitReason.DURABLE_JOB,
        situation="CDI chez un boulanger de Toulon",
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    return small_var


def today() -> date:
    return timezone.localdate()


__all__: list[Any] = ["age_file", "closed_file", "days_until_deadline_is", "today"]
