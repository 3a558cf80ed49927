"""normalize() and the database's lower(unaccent(…)) give the same words."""

from __future__ import annotations

import pytest
from django.db import connection

from binome.core.text import normalize

pytestmark = pytest.mark.django_db

# What the directory's trigger stores in search_name (lower(unaccent(name))), cut into
# words the way pg_trgm reads it: any character other than a-z and 0-9 separates words.
SQL_WORDS = (
    "SELECT text, trim(regexp_replace(lower(public.unaccent(text)), '[^a-z0-9]+', ' ', 'g'))"
    " FROM unnest(%s::text[]) AS text"
)

TRICKY = [
    "Cœur de Causse",
    "Marcq-en-Barœul",
    "L'ŒUVRE DES SŒURS",
    "Ærø",
    "Straße",
    "aujourd\u2019hui",
    "l\u2019école « Émile-Zola »",
    "Saint-Étienne — Jean\u2011Moulin",  # em dash, non-breaking hyphen
    "crèche CRÈCHE Crèche",
    "ÉCOLE élémentaire à Ça-ira",
    "Noël, Maïté, Hélène",
    "permis  de   conduire",
    "Łódź Øresund Þingvellir Đakovo",
    "ﬁlle ﬂeur",  # typographic ligatures
    "100 % d'ɐ",
    "",
]
# Every letter of Latin-1 and Latin Extended-A, between two letters.
LATIN = [f"a{chr(code)}b" for code in range(0xC0, 0x180)]


def _database_words(texts: list[str]) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(SQL_WORDS, [texts])
        return dict(cursor.fetchall())


@pytest.mark.parametrize("texts", [TRICKY, LATIN], ids=["tricky", "latin"])
def test_normalize_agrees_with_the_database(texts: list[str]) -> None:
    database = _database_words(texts)
    different = {t: (normalize(t), database[t]) for t in texts if normalize(t) != database[t]}
    assert different == {}


def test_normalize_examples() -> None:
    assert normalize("Saint-Étienne") == "saint etienne"
    assert normalize("Marcq-en-Barœul") == "marcq en baroeul"
    assert normalize("aujourd\u2019hui") == "aujourd hui"
    assert normalize("  Crèche AVIP ! ") == "creche avip"
