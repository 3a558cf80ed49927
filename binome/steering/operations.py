"""An FSE+ operation's participants, their answers and their completeness, in SQL.

A participant of an operation is a person whose global accompaniment was activated (her
entry) within the operation's period, with a member of a covered organisation on its team
(now or before). She counts once per operation: her first such accompaniment. An
accompaniment that ended the day it was activated is not a participation. The identifier is
:func:`binome.steering.fse.pseudonym` of the person's number, which the retention job's
anonymisation keeps: the line of a person anonymised later keeps its identifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from binome.core.figures import FigureTable
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.steering.fse import pseudonym
from binome.steering.models import FseOperation
from binome.support.fse import Declinable, FseAnswers
from binome.support.models import Accompaniment, ExitReason, TeamMember

_A = Accompaniment._meta.db_table
_T = TeamMember._meta.db_table
_P = Person._meta.db_table
_F = FseAnswers._meta.db_table
_O = Organisation._meta.db_table

# The participants: one accompaniment per person, her first in the operation. The
# département is the accompaniment's copy of the person's (migration ``support/0013``).
PARTICIPANTS = f"""
    SELECT DISTINCT ON (a.person_id)
        a.id, a.person_id, a.activated_on, a.state, a.ended_on, a.exit_reason,
        a.followup_due_on, a.age_at_activation
    FROM {_A} a
    WHERE a.kind = 'global' AND a.department_id = %(department)s
      AND a.activated_on BETWEEN %(start)s AND %(end)s
      AND (a.ended_on IS NULL OR a.ended_on > a.activated_on)
      AND EXISTS (
          SELECT 1 FROM {_T} t
          WHERE t.accompaniment_id = a.id AND t.organisation_id = ANY(%(organisations)s)
      )
    ORDER BY a.person_id, a.activated_on, a.id
"""  # noqa: S608 - table names from the models

# A stage is expected once it happened (as in the file: ``binome.support.fse.stage_open``).
EXIT_EXPECTED = f"(a.state = 'ended' AND a.exit_reason <> '{ExitReason.NOT_PERTINENT.value}')"
FOLLOWUP_EXPECTED = f"({EXIT_EXPECTED} AND COALESCE(a.followup_due_on <= %(today)s, false))"


def _yes(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 'oui' ELSE 'non' END"


def _answer(column: str) -> str:
    """A question's answer as the export writes it; empty when not answered yet."""
    return (
        f"CASE f.{column} WHEN 'oui' THEN 'oui' WHEN 'non' THEN 'non' "
        f"WHEN '{Declinable.REFUSED.value}' THEN 'refuse de répondre' ELSE '' END"
    )


def _when_entry(expression: str) -> str:
    return f"CASE WHEN f.entry_recorded_at IS NULL THEN '' ELSE {expression} END"


# The age read first from the one kept when the file was anonymised (``binome.retention``).
AGE = "COALESCE(a.age_at_activation, date_part('year', age(a.activated_on, p.birth_date)))::int"
EXPORT_SQL = f"""
    WITH participants AS ({PARTICIPANTS})
    SELECT
        a.person_id,
        a.activated_on,
        CASE f.gender WHEN 'femme' THEN 'Femme' WHEN 'homme' THEN 'Homme'
             WHEN 'non_binaire' THEN 'Non binaire' ELSE '' END,
        {AGE},
        {_yes(f"{AGE} < 18")},
        {_yes(f"{AGE} BETWEEN 18 AND 29")},
        {_yes(f"{AGE} >= 55")},
        {_when_entry(_yes("f.labour_status IN ('chomeur', 'chomeur_longue_duree')"))},
        {_when_entry(_yes("f.labour_status = 'chomeur_longue_duree'"))},
        {_when_entry(_yes("f.labour_status = 'inactif'"))},
        {_when_entry(_yes("f.labour_status = 'en_emploi'"))},
        {_when_entry(_yes("f.education = 'cite_0_2'"))},
        {_when_entry(_yes("f.education = 'cite_3_4'"))},
        {_when_entry(_yes("f.education = 'cite_5_8'"))},
        {_answer("disability")},
        {_answer("third_country")},
        {_answer("foreign_background")},
        {_answer("minority")},
        {_answer("homeless")},
        {_answer("rural")},
        {_yes("f.entry_recorded_at IS NOT NULL")},
        a.ended_on,
        {_answer("exit_job_searching")},
        {_answer("exit_in_training")},
        {_answer("exit_qualification")},
        {_answer("exit_employed")},
        CASE WHEN NOT {EXIT_EXPECTED} THEN 'sans objet'
             ELSE {_yes("f.exit_recorded_at IS NOT NULL")} END,
        {_answer("followup_employed")},
        {_answer("followup_improved")},
        CASE WHEN NOT {FOLLOWUP_EXPECTED} THEN 'sans objet'
             ELSE {_yes("f.followup_recorded_at IS NOT NULL")} END
    FROM participants a
    JOIN {_P} p ON p.id = a.person_id
    LEFT JOIN {_F} f ON f.accompaniment_id = a.id
    ORDER BY a.activated_on, a.person_id
"""  # noqa: S608 - table names from the models

COLUMNS = (
    "Identifiant du participant",
    "Entrée le",
    "Genre",
    "Âge à l'entrée",
    "Moins de 18 ans",
    "18 à 29 ans",
    "55 ans et plus",
    "Chômeur (y compris de longue durée)",
    "Chômeur de longue durée",
    "Inactif",
    "En emploi, y compris indépendant",
    "CITE 0 à 2",
    "CITE 3 et 4",
    "CITE 5 à 8",
    "Handicap",
    "Ressortissant d'un pays tiers",
    "D'origine étrangère",
    "Minorité",
    "Sans domicile ou exclu du logement",
    "Zone rurale",
    "Entrée complète",
    "Sortie le",
    "Sortie : à la recherche d'un emploi",
    "Sortie : en formation ou études",
    "Sortie : qualification obtenue",
    "Sortie : en emploi",
    "Sortie complète",
    "Six mois : en emploi",
    "Six mois : situation améliorée",
    "Six mois complets",
)


def _params(operation: FseOperation, today: date | None = None) -> dict[str, Any]:
    return {
        "department": operation.department_id,
        "start": operation.starts_on,
        "end": operation.ends_on,
        "organisations": list(operation.organisations.values_list("pk", flat=True)),
        "today": today or timezone.localdate(),
    }


def export_table(operation: FseOperation, today: date | None = None) -> FigureTable:
    """One line per participant, under her pseudonymous identifier: never a name."""
    with connection.cursor() as cursor:
        cursor.execute(EXPORT_SQL, _params(operation, today))
        rows = cursor.fetchall()
    department = operation.department_id
    return FigureTable(
        "fse-operation",
        f"FSE+ : participants de l'opération « {operation.name} »",
        COLUMNS,
        tuple((pseudonym(row[0], department), *row[1:]) for row in rows),
        definition="Une ligne par participant : son premier accompagnement global activé "
        "pendant l'opération, avec un membre d'une organisation couverte dans l'équipe ; un "
        "accompagnement d'un seul jour n'est pas une participation. Une réponse vide : "
        "question pas encore renseignée.",
    )


@dataclass(frozen=True)
class Completeness:
    organisation_id: int
    organisation: str
    participants: int
    entry_complete: int
    exits: int
    exit_complete: int
    followups: int
    followup_complete: int


COMPLETENESS_SQL = f"""
    WITH participants AS ({PARTICIPANTS})
    SELECT o.id, o.name,
        count(DISTINCT a.id),
        count(DISTINCT a.id) FILTER (WHERE f.entry_recorded_at IS NOT NULL),
        count(DISTINCT a.id) FILTER (WHERE {EXIT_EXPECTED}),
        count(DISTINCT a.id) FILTER (WHERE {EXIT_EXPECTED} AND f.exit_recorded_at IS NOT NULL),
        count(DISTINCT a.id) FILTER (WHERE {FOLLOWUP_EXPECTED}),
        count(DISTINCT a.id) FILTER (
            WHERE {FOLLOWUP_EXPECTED} AND f.followup_recorded_at IS NOT NULL)
    FROM participants a
    JOIN {_T} t ON t.accompaniment_id = a.id AND t.organisation_id = ANY(%(organisations)s)
    JOIN {_O} o ON o.id = t.organisation_id
    LEFT JOIN {_F} f ON f.accompaniment_id = a.id
    GROUP BY o.id, o.name
    ORDER BY o.name, o.id
"""  # noqa: S608 - table names from the models


def completeness(operation: FseOperation, today: date | None = None) -> list[Completeness]:
    """Per covered organisation (a participant counts for each organisation on her team):
    how many participants, and how many have their entry, exit and six months complete."""
    with connection.cursor() as cursor:
        cursor.execute(COMPLETENESS_SQL, _params(operation, today))
        return [Completeness(*row) for row in cursor.fetchall()]


TO_COMPLETE_SQL = f"""
    WITH participants AS ({PARTICIPANTS})
    SELECT a.id
    FROM participants a
    LEFT JOIN {_F} f ON f.accompaniment_id = a.id
    WHERE (f.entry_recorded_at IS NULL
           OR ({EXIT_EXPECTED} AND f.exit_recorded_at IS NULL)
           OR ({FOLLOWUP_EXPECTED} AND f.followup_recorded_at IS NULL))
      AND EXISTS (
          SELECT 1 FROM {_T} t
          WHERE t.accompaniment_id = a.id AND t.user_id = %(user)s AND t.left_at IS NULL
      )
"""  # noqa: S608 - table names from the models


def to_complete_for(
    operation: FseOperation, user_id: int, today: date | None = None
) -> list[Accompaniment]:
    """The participants' files with a stage to complete whose team the user is on now: the
    only files a professional may open (the shared secret), newest entry first."""
    with connection.cursor() as cursor:
        cursor.execute(TO_COMPLETE_SQL, {**_params(operation, today), "user": user_id})
        ids = [row[0] for row in cursor.fetchall()]
    return list(
        Accompaniment.objects.filter(pk__in=ids)
        .select_related("person", "fse")
        .order_by("-activated_on", "-id")
    )
