"""The demo of FSE+: the Var's operation for the current year, covering France Travail
Toulon and the Département, with participants whose questionnaire is complete and others
whose entry or exit is still to complete (Nadia's entry among them, for Marc)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.steering import actions
from binome.steering.models import FseOperation
from binome.support import actions as support_actions
from binome.support.models import Accompaniment, ExitReason, Kind, State, TeamRole

ENTRY = {
    "labour_status": "chomeur_longue_duree",
    "education": "cite_3_4",
    "disability": "non",
    "third_country": "non",
    "foreign_background": "refus",
    "minority": "refus",
    "homeless": "non",
    "rural": "non",
}
EXIT = {
    "exit_job_searching": "non",
    "exit_in_training": "non",
    "exit_qualification": "non",
    "exit_employed": "oui",
}
# first name, last name, birth date, sex, days since the activation, entry answered, exit
PARTICIPANTS = (
    ("Sébastien", "Roux", date(1996, 2, 14), "M", 200, True, True),
    ("Fatou", "Diallo", date(1970, 8, 30), "F", 150, True, False),
    ("Kevin", "Martin", date(2004, 11, 3), "M", 40, False, False),
)


def operation_name(year: int) -> str:
    return f"Accompagnement global du Var {year}"


@transaction.atomic
def load_demo_fse(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    """Idempotent: the operation and its participants are made once."""
    today = timezone.localdate()
    name = operation_name(today.year)
    if FseOperation.objects.filter(department_id="83", name=name).exists():
        return
    ines, paul = users["ines"], users["paul"]
    toulon, dep = organisations["ft_toulon"], organisations["dep83"]
    first_day = date(today.year, 1, 1)
    for first_name, last_name, birth_date, sex, days, entry, ended in PARTICIPANTS:
        person = support_actions.create_person(
            data={
                "first_name": first_name,
                "last_name": last_name,
                "birth_date": birth_date,
                "sex": sex,
            },
            by=ines,
            organisation=toulon,
            kind=Kind.GLOBAL,
            role=TeamRole.DEDICATED_COUNSELOR,
            started_on=max(first_day, today - timedelta(days=days + 10)),
        )
        accompaniment = person.accompaniments.get()
        # The demo's story is older than its loading: the activation is dated back.
        activated_on = max(first_day, today - timedelta(days=days))
        Accompaniment.objects.filter(pk=accompaniment.pk).update(
            state=State.ACTIVE, activated_on=activated_on
        )
        accompaniment.refresh_from_db()
        if entry:
            support_actions.record_fse_answers(
                accompaniment=accompaniment,
                stage="entree",
                answers={"gender": "homme" if sex == "M" else "femme", **ENTRY},
                by=ines,
                organisation=toulon,
            )
        if ended:
            support_actions.end_accompaniment(
                accompaniment=accompaniment,
                ended_on=min(today, activated_on + timedelta(days=150)),
                reason=ExitReason.DURABLE_JOB,
                situation="CDI d'agent logistique.",
                by=ines,
                organisation=toulon,
            )
            support_actions.record_fse_answers(
                accompaniment=accompaniment,
                stage="sortie",
                answers=EXIT,
                by=ines,
                organisation=toulon,
            )
    actions.create_fse_operation(
        department_id="83",
        name=name,
        starts_on=first_day,
        ends_on=date(today.year, 12, 31),
        organisations=[toulon, dep],
        by=paul,
    )
