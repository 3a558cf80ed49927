"""The data·inclusion v1 referentials, read from the ``data-inclusion-schema`` package.

Never a hand copy: choices, labels and the thématique → catégorie link come from the
package's enums, so a new version of the schema brings its new codes.
"""

from __future__ import annotations

from functools import cache

from data_inclusion.schema import v1


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(member.value, member.label) for member in enum]  # type: ignore[attr-defined]


THEMATIQUES = _choices(v1.Thematique)
CATEGORIES = _choices(v1.Categorie)
TYPES = _choices(v1.TypeService)
FRAIS = _choices(v1.Frais)
PUBLICS = _choices(v1.Public)
MODES_ACCUEIL = _choices(v1.ModeAccueil)
MODES_MOBILISATION = _choices(v1.ModeMobilisation)
MOBILISABLE_PAR = _choices(v1.PersonneMobilisatrice)
RESEAUX_PORTEURS = _choices(v1.ReseauPorteur)


@cache
def thematiques_of_category(category: str) -> tuple[str, ...]:
    """All the sub-thématiques of a catégorie ("mobilite" → "mobilite--preparer-un-permis"…)."""
    return tuple(code for code, _label in THEMATIQUES if code.split("--", 1)[0] == category)


@cache
def labels() -> dict[str, str]:
    """Every code of every referential → its French label."""
    table: dict[str, str] = {}
    for choices in (
        THEMATIQUES,
        CATEGORIES,
        TYPES,
        FRAIS,
        PUBLICS,
        MODES_ACCUEIL,
        MODES_MOBILISATION,
        MOBILISABLE_PAR,
        RESEAUX_PORTEURS,
    ):
        table.update(choices)
    return table
