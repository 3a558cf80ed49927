"""The demo of retention: two closed files of the Var whose last contact is nearly two years
old — one told to its team and waiting for the end of its retention, one kept by Claire for a
legal reason — and the Var's intermediate archive, turned on by Claire with its written
justification, holding a third file past its retention. ``binome demo`` shows the first two
on Claire's page « Conservation des dossiers », the archived one on Agnès's « Archive
intermédiaire » (the Var's archivist)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.retention import actions, archive
from binome.retention.contact import add_months
from binome.retention.models import ArchiveSettings
from binome.support import actions as support_actions
from binome.support.models import ExitReason, Kind, Medium, TeamRole

FILES = (
    # first name, last name, birth date, days before the end of retention, held
    ("Henri", "Castel", date(1968, 3, 12), 20, False),
    ("Lucie", "Marchetti", date(1979, 11, 2), 10, True),
    # Past its retention (told 45 days before today): in the intermediate archive.
    ("Gérard", "Pons", date(1962, 6, 21), -45, False),
)
ARCHIVE_JUSTIFICATION = (
    "Les aides versées au titre de l'insertion peuvent être contestées ou récupérées pendant "
    "trois ans : le Département garde les dossiers clos en archive intermédiaire, lisibles par "
    "sa seule déléguée à la protection des données, le temps de ces recours."
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
    if not ArchiveSettings.objects.filter(department_id="83").exists():
        archive.set_archive_settings(
            department_id="83",
            enabled=True,
            years=3,
            justification=ARCHIVE_JUSTIFICATION,
            by=claire,
        )
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
            continue
        for candidate in actions.candidates(
            today=today, department_id="83", person_ids=[person.pk]
        ):
            if candidate.notice is None:
                actions.send_notice(
                    candidate, today=today - timedelta(days=45) if days_left < 0 else today
                )
            if days_left < 0:
                archive.archive_many(
                    {person.pk: candidate.last_contact_on},
                    years_by_department=archive.archiving_years(),
                    today=today,
                    run=None,
                )
