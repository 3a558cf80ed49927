"""Text helpers shared by the apps."""

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Letters that Unicode does not decompose into a base letter and an accent, spelled as
# PostgreSQL's ``unaccent`` spells them: the database computes the same keys with
# ``lower(unaccent(…))`` (the directory's ``search_name``), and both sides must agree
# ("Marcq-en-Barœul" is "marcq en baroeul" on both). tests/core/test_text.py compares
# them on every letter of Latin-1 and Latin Extended-A.
_LETTERS = str.maketrans(
    {
        "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "ẞ": "SS",
        "Ð": "D", "ð": "d", "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Þ": "TH", "þ": "th",
        "Ħ": "H", "ħ": "h", "\u0131": "i", "ĸ": "q", "Ł": "L", "ł": "l", "Ŋ": "N", "ŋ": "n",
        "Ŀ": "L", "ŀ": "l", "Ŧ": "T", "ŧ": "t",
    }
)  # fmt: skip


def normalize(text: str) -> str:
    """Lower-case, accent-free, punctuation as single spaces: "Saint-Étienne" → "saint etienne",
    "Cœur" → "coeur"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_LETTERS))
    # Accents go; any other character that is not a-z or 0-9 separates words, as in the
    # database ("aujourd\u2019hui" → "aujourd hui", not "aujourdhui").
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_ALNUM.sub(" ", letters.lower()).strip()
