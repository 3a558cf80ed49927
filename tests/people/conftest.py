from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

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


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Requests made inside happen at ``moment`` (their audit lines are dated so): the
    read log groups the reads of one visit, and some tests need visits apart."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield
