"""What a correction of a person's file changes, said in French, and the file's version.

The timeline line and the audit line of a correction say what changed field by field:
identity fields with their old and new value (« Nom : Belkacim → Belkacem »), contact
details and identifiers only that they changed (« Téléphone modifié ») — the audit log is
append-only and is not the place to keep old contact details; the NIR's value never.

The edit form carries the file's *version*: a keyed fingerprint of the values the form
shows. A save whose version is no longer the file's current one (someone saved meanwhile,
through this form, a merge or any other path) is refused with :class:`StalePersonEdit`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.crypto import salted_hmac

from binome.people.models import HouseholdRelation, Sex

if TYPE_CHECKING:
    from binome.people.models import Person

# Every field of the edit form, in the form's order, with its label in the summaries.
FIELD_LABELS = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "birth_name": "Nom de naissance",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "phone": "Téléphone",
    "email": "E-mail",
    "address": "Adresse",
    "commune": "Commune",
    "france_travail_id": "Identifiant France Travail",
    "caf_number": "Numéro allocataire CAF/MSA",
    "nir": "NIR",
}
# Identity: the summary shows the old and the new value.
SHOWN_VALUES = frozenset(
    {"first_name", "last_name", "birth_name", "birth_date", "sex", "commune", "relation"}
)
# Contact details and identifiers: the summary says only that they changed (the label's
# gender for « modifié » / « modifiée »).
FEMININE = frozenset({"address"})
# The fields that make an identity: their change is checked against the other files.
IDENTITY_FIELDS = frozenset({"first_name", "last_name", "birth_name", "birth_date"})
MEMBER_LABELS = {"relation": "Lien", "first_name": "Prénom", "birth_date": "Date de naissance"}
EMPTY = "(vide)"
SUMMARY_MAX_LENGTH = 300  # a timeline line's summary, an audit line's "what"


def shown(name: str, value: Any) -> str:
    """A value as the summaries and the stale-edit table show it."""
    if value in (None, ""):
        return EMPTY
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if name == "sex":
        return str(dict(Sex.choices).get(value, value))
    if name == "relation":
        return str(dict(HouseholdRelation.choices).get(value, value))
    return str(value)


def change_line(name: str, before: Any, after: Any, labels: dict[str, str]) -> str:
    """One change, in French: values for identity fields, only the fact for the others."""
    label = labels[name]
    if name in SHOWN_VALUES:
        return f"{label} : {shown(name, before)} → {shown(name, after)}"
    ending = "e" if name in FEMININE else ""
    if before in (None, ""):
        return f"{label} ajouté{ending}"
    if after in (None, ""):
        return f"{label} retiré{ending}"
    return f"{label} modifié{ending}"


def summary_of(
    changes: list[tuple[str, Any, Any]], labels: dict[str, str], *, prefix: str = ""
) -> str:
    """« Nom : Belkacim → Belkacem ; Téléphone modifié », after ``prefix``. A timeline line
    holds 300 characters: beyond, the changes are named without their values."""
    lines = [change_line(name, before, after, labels) for name, before, after in changes]
    summary = prefix + " ; ".join(lines)
    if len(summary) > SUMMARY_MAX_LENGTH:
        names = ", ".join(labels[name].lower() for name, _before, _after in changes)
        summary = f"{prefix}{names} modifiés"
    return summary[:SUMMARY_MAX_LENGTH]


def _stored(person: Person, name: str) -> str:
    if name == "commune":
        return str(person.commune_id or "")
    if name == "nir":
        return person.nir_hash
    return str(getattr(person, name))


def person_version(person: Person) -> str:
    """The file's version: a keyed fingerprint of every value the edit form shows (the NIR
    by its hash). It reveals nothing of the values and changes with any of them."""
    values = [_stored(person, name) for name in FIELD_LABELS]
    key = "binome.people.person_version"
    return salted_hmac(key, "\x1f".join(values), algorithm="sha256").hexdigest()[:32]


class StalePersonEdit(Exception):
    """The file changed since the edit form was opened: the save is refused."""

    def __init__(
        self, changes: list[tuple[str, str, str]], *, version: str, who: str = "", at: Any = None
    ) -> None:
        self.changes = changes  # (field label, value saved meanwhile, value typed)
        self.version = version  # the current one: a second save applies the user's input
        if who and at is not None:
            intro = f"{who} a corrigé ce dossier le {timezone.localtime(at):%d/%m/%Y à %H:%M}"
        else:
            intro = "Ce dossier a été modifié"
        super().__init__(
            f"{intro}, pendant que vous le modifiiez : votre enregistrement n'a pas été fait. "
            "Vos saisies sont conservées ci-dessous ; comparez-les aux valeurs enregistrées, "
            "puis enregistrez à nouveau pour les appliquer."
        )
