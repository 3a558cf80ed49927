"""The FSE+ participant data of a territory over a period: one line per participant, with a
pseudonymous identifier (never a name, a NIR or an address), what Binôme knows at entry, at
exit and six months after. A participant is counted once (her first global accompaniment
that started in the period); an accompaniment of a single day is not a participation."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import connection

from binome.core.figures import FigureScope, FigureTable
from binome.people.models import Person
from binome.support.models import Accompaniment, ExitReason, FollowupOutcome

COLUMNS = (
    "Identifiant du participant",
    "Entrée le",
    "Sexe",
    "Âge à l'entrée",
    "Moins de 18 ans",
    "18 à 29 ans",
    "55 ans et plus",
    "Sortie le",
    "Motif de sortie",
    "Situation à six mois",
)


def pseudonym(person_id: int, department: str) -> str:
    """A stable identifier that says nothing of the person: a keyed hash of her number."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"fse:{department}:{person_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16].upper()


def participants(scope: FigureScope) -> FigureTable:
    sql = f"""
        SELECT DISTINCT ON (a.person_id)
            a.person_id, a.started_on, p.sex,
            COALESCE(a.age_at_start, date_part('year', age(a.started_on, p.birth_date)))::int,
            a.ended_on, a.exit_reason, a.followup_outcome
        FROM {Accompaniment._meta.db_table} a
        JOIN {Person._meta.db_table} p ON p.id = a.person_id
        WHERE a.kind = 'global' AND p.department_id = %(department)s
          AND a.started_on BETWEEN %(start)s AND %(end)s
          AND (a.ended_on IS NULL OR a.ended_on > a.started_on)
          AND a.exit_reason <> 'non_pertinent'
        ORDER BY a.person_id, a.started_on, a.id
    """  # noqa: S608 - table names from the models
    params: dict[str, Any] = {
        "department": scope.department,
        "start": scope.start,
        "end": scope.end,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    reasons = dict(ExitReason.choices)
    outcomes = dict(FollowupOutcome.choices)
    sexes = {"F": "Femme", "M": "Homme"}
    department = scope.department or ""
    lines = sorted(
        (
            (
                pseudonym(person_id, department),
                started_on,
                sexes.get(sex, "Non renseigné"),
                age,
                "oui" if age < 18 else "non",
                "oui" if 18 <= age <= 29 else "non",
                "oui" if age >= 55 else "non",
                ended_on,
                reasons.get(exit_reason, ""),
                outcomes.get(followup, ""),
            )
            for person_id, started_on, sex, age, ended_on, exit_reason, followup in rows
        ),
        key=lambda line: (line[1], line[0]),
    )
    return FigureTable(
        "fse",
        "FSE+ : données des participants",
        COLUMNS,
        tuple(lines),
        definition="Une ligne par participant (son premier accompagnement global commencé "
        "dans la période) ; un accompagnement d'un seul jour n'est pas une participation.",
    )
