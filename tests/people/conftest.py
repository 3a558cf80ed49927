from __future__ import annotations

from typing import Any

import pytest

from binome.people.models import Person
from binome.support.models import Note, Visibility


@pytest.fixture
def nadia_file(personas: dict[str, Any]) -> Person:
    """Nadia's shared file of the demo: Inès (France Travail Toulon) and Marc (Var)."""
    return Person.objects.get(user=personas["nadia"])


@pytest.fixture
def marc_private_note(nadia_file: Person) -> Note:
    """Marc's note visible to his organisation (Département du Var) only."""
    return Note.objects.get(person=nadia_file, visibility=Visibility.ORGANISATION)
