"""Probable duplicates of a département's persons, for its territory administrators.

The criteria are those of ``PersonQuerySet.matching`` (used when a file is created):
the same NIR (keyed hash), France Travail id or CAF/MSA number, or the same birth date
and similar names (trigram similarity of the accent-free names, ``NAME_SIMILARITY``).
Here they run on the whole département at once, as one query: a UNION of one equality
join per criterion, so that each join uses its index (an OR of the criteria in a single
join would compare every pair of persons).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from binome.access.predicates import is_territory_admin
from binome.people.models import NAME_SIMILARITY, Person

DUPLICATES_SHOWN = 50

_PAIRS_SQL = """
WITH live AS (
    SELECT id, birth_date, search_name, nir_hash, france_travail_id, caf_number
    FROM people_person
    -- A file in the intermediate archive is out of reach: never proposed for a merge.
    WHERE department_id = %(department)s AND merged_into_id IS NULL AND archived_until IS NULL
)
SELECT first_id, second_id, array_agg(DISTINCT reason ORDER BY reason) FROM (
    SELECT a.id AS first_id, b.id AS second_id, 'nir' AS reason
    FROM live a JOIN live b ON b.nir_hash = a.nir_hash AND b.id > a.id
    WHERE a.nir_hash <> ''
    UNION ALL
    SELECT a.id, b.id, 'france_travail_id'
    FROM live a JOIN live b ON b.france_travail_id = a.france_travail_id AND b.id > a.id
    WHERE a.france_travail_id <> ''
    UNION ALL
    SELECT a.id, b.id, 'caf_number'
    FROM live a JOIN live b ON b.caf_number = a.caf_number AND b.id > a.id
    WHERE a.caf_number <> ''
    UNION ALL
    SELECT a.id, b.id, 'names'
    FROM live a JOIN live b ON b.birth_date = a.birth_date AND b.id > a.id
    WHERE similarity(a.search_name, b.search_name) >= %(similarity)s
) pairs
GROUP BY first_id, second_id
ORDER BY first_id, second_id
LIMIT %(limit)s
"""

REASONS = {
    "nir": "même NIR",
    "france_travail_id": "même identifiant France Travail",
    "caf_number": "même numéro allocataire",
    "names": "même date de naissance et noms proches",
}


def can_merge_persons(user: Any, department_id: str) -> bool:
    """Only the territory's administrators merge the département's duplicate files."""
    return is_territory_admin(user, department_id)


@dataclass
class DuplicatePair:
    first: Person
    second: Person
    reasons: list[str]


def probable_duplicates(department_id: str, limit: int = DUPLICATES_SHOWN) -> list[DuplicatePair]:
    """Pairs of live files of the département that may be the same person."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PAIRS_SQL,
            {"department": department_id, "similarity": NAME_SIMILARITY, "limit": limit},
        )
        rows = cursor.fetchall()
    ids = {pk for first, second, _ in rows for pk in (first, second)}
    persons = Person.objects.select_related("commune", "organisation").in_bulk(ids)
    return [
        DuplicatePair(persons[first], persons[second], [REASONS[r] for r in reasons])
        for first, second, reasons in rows
    ]
