"""The person's last contact, defined once: every rule of retention reads it from here.

The last contact is the latest of the events that involve the person herself:

- the opening of her file;
- a line of her timeline written by a professional about something done with her: a note
  of an interview (dated by the interview), a diagnostic, a change of her plan, a step of
  an accompaniment, a consent, a referral, a childcare request or answer — not the lines
  the periodic jobs write (reminders, expiries: no author), nor the team's own changes
  (who joins or leaves) or a correction of her file by an administrator;
- an appointment held (its date, never a planned or missed one);
- an event of her RSA dossier (a state the CAF/MSA flow told of);
- her own login to her space.

A professional merely reading the file is no contact: reads are in the audit log, never in
these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection
from django.db.models import DateTimeField, QuerySet
from django.db.models.expressions import RawSQL

from binome.people.models import Person
from binome.support.models import AppointmentStatus, EventKind

# The timeline's kinds that are a contact with the person (when a professional wrote them).
CONTACT_EVENT_KINDS = (
    EventKind.CONSENT,
    EventKind.ACCOMPANIMENT,
    EventKind.NOTE,
    EventKind.DIAGNOSTIC,
    EventKind.PLAN,
    EventKind.REFERRAL,
    EventKind.CHILDCARE,
)

_KINDS = ", ".join(f"'{kind.value}'" for kind in CONTACT_EVENT_KINDS)


def last_contact_sql(alias: str = "people_person") -> str:
    """The SQL expression of the last contact of the person row ``alias`` (a timestamp with
    time zone, never NULL: at the latest the file's opening). Every index it needs exists:
    the timeline's (person, at), the appointments' and the RSA beneficiaries' person keys."""
    return f"""GREATEST(
        {alias}.created_at,
        (SELECT max(t.at) FROM support_timelineevent t
          WHERE t.person_id = {alias}.id AND t.actor_id IS NOT NULL
            AND t.kind IN ({_KINDS})),
        (SELECT max(a.at) FROM support_appointment a
          WHERE a.person_id = {alias}.id AND a.status = '{AppointmentStatus.HELD.value}'
            AND a.at <= now()),
        (SELECT max(s.known_on)::timestamptz FROM rsa_dossierstate s
          JOIN rsa_beneficiary b ON b.dossier_id = s.dossier_id
          WHERE b.person_id = {alias}.id),
        (SELECT u.last_login FROM accounts_user u WHERE u.id = {alias}.user_id)
    )"""  # noqa: S608 (fixed fragments: the alias is ours, the kinds are the model's choices)


def with_last_contact(qs: QuerySet[Person]) -> QuerySet[Person]:
    """The persons annotated with ``last_contact`` (a datetime)."""
    table = Person._meta.db_table
    return qs.annotate(
        last_contact=RawSQL(last_contact_sql(table), (), output_field=DateTimeField())  # noqa: S611
    )


def last_contact(person: Person) -> datetime:
    """One person's last contact."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {last_contact_sql('p')} FROM people_person p WHERE p.id = %s",  # noqa: S608
            [person.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Person.DoesNotExist
    value: datetime = row[0]
    return value


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the 29th of February of a year that has
    none becomes the 28th)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
