"""The demo of retention: two closed files of the Var whose last contact is nearly two years
old — one told to its team and waiting for its anonymisation, one kept by Claire for a legal
reason. ``binome demo`` shows them on Claire's page « Conservation des dossiers »."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.retention import actions
from binome.retention.contact import add_months
from binome.support import actions as support_actions
from binome.support.models import ExitReason, Kind, Medium, TeamRole

FILES = (
    # first name, last name, birth date, days before the end of retention, held
    ("Henri", "Castel", date(1968, 3, 12), 20, False),
    ("Lucie", "Marchetti", date(1979, 11, 2), 10, True),
)


def _age(person: Person, days: int) -> None:
    """Move the file's past ``days`` back (the demo is loaded today, its story is older)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_person SET created_at = created_at - %s * interval '1 day' "
            "WHERE id = %s",
            [days, person.pk],
        )
        cursor.execute(
            "UPDATE support_timelineevent SET at = at - %s * interval '1 day' WHERE person_id = %s",
            [days, person.pk],
        )
        cursor.execute(
            "UPDATE support_note SET date = date - %s WHERE person_id = %s", [days, person.pk]
        )


@transaction.atomic
def load_demo_retention(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    """Idempotent: the files are made once."""
    ines, claire = users["ines"], users["claire"]
    toulon = organisations["ft_toulon"]
    today = timezone.localdate()
    for first_name, last_name, birth_date, days_left, held in FILES:
        if Person.objects.filter(
            department_id="83", first_name=first_name, last_name=last_name
        ).exists():
            continue
        person = support_actions.create_person(
            data={"first_name": first_name, "last_name": last_name, "birth_date": birth_date},
            by=ines,
            organisation=toulon,
            kind=Kind.GLOBAL,
            role=TeamRole.DEDICATED_COUNSELOR,
        )
        support_actions.write_note(
            person=person,
            author=ines,
            organisation=toulon,
            date=today,
            medium=Medium.IN_PERSON,
            text="Dernier entretien : reprise d'emploi confirmée.",
        )
        support_actions.end_accompaniment(
            accompaniment=person.accompaniments.get(),
            ended_on=today,
            reason=ExitReason.DURABLE_JOB,
            situation="CDI",
            by=ines,
            organisation=toulon,
        )
        last_contact = add_months(today + timedelta(days=days_left), -24)
        _age(person, (today - last_contact).days)
        if held:
            actions.set_legal_hold(
                person=person,
                reason="Procédure contentieuse en cours devant le tribunal administratif",
                by=claire,
            )
        else:
            for candidate in actions.candidates(today=today, department_id="83"):
                if candidate.person_id == person.pk and candidate.notice is None:
                    actions.send_notice(candidate, today=today)
