"""« Qui a consulté mon dossier » : one line per visit of a professional, and the lists
that showed the person's name."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.support.space import reads_of_file
from tests.people.conftest import clock_at

SPACE = reverse("space:home")
FILE_PAGE_WHAT = "Dossier : page de la personne"


def _visit_file_page(client: Any, person: Person) -> int:
    """Open the file page and the fragments it loads (htmx), as a browser does; the
    number of read lines written."""
    before = AuditEvent.objects.filter(kind=AuditKind.READ, person_id=person.pk).count()
    page = client.get(reverse("people:detail", args=[person.pk]))
    assert page.status_code == 200
    fragments = [
        html.unescape(url)
        for url in re.findall(r'hx-get="([^"]+)"', page.content.decode())
        if f"/{person.pk}/" in html.unescape(url)
    ]
    assert fragments, "the file page loads fragments of the file"
    for url in fragments:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    return AuditEvent.objects.filter(kind=AuditKind.READ, person_id=person.pk).count() - before


def _lines_of(person: Person, first_name: str) -> list[AuditEvent]:
    return [read for read in reads_of_file(person) if read.actor.first_name == first_name]


def test_a_visit_of_the_file_page_and_its_fragments_is_one_line(
    client_for: Any, nadia_file: Person
) -> None:
    written = _visit_file_page(client_for("ines"), nadia_file)
    assert written >= 2  # the page and its fragments are each logged…
    _visit_file_page(client_for("marc"), nadia_file)
    response = client_for("nadia").get(SPACE)
    shown = [read for read in response.context["reads"] if read.actor.first_name == "Inès"]
    assert [read.what for read in shown] == [FILE_PAGE_WHAT]  # …and shown as one visit
    assert len(_lines_of(nadia_file, "Marc")) == 1
    assert response.content.decode().count(FILE_PAGE_WHAT) == 2


def test_visits_apart_are_lines_apart(client_for: Any, nadia_file: Person) -> None:
    ines = client_for("ines")
    start = timezone.now() - timedelta(hours=1)
    for minutes in (0, 3, 20):  # a visit, a page of the same visit, then a new visit
        with clock_at(start + timedelta(minutes=minutes)):
            _visit_file_page(ines, nadia_file)
    lines = _lines_of(nadia_file, "Inès")
    assert [line.created_at for line in lines] == [
        start + timedelta(minutes=20),
        start,
    ]
    assert {line.what for line in lines} == {FILE_PAGE_WHAT}


def test_the_visits_are_paginated_as_visits(client_for: Any, nadia_file: Person) -> None:
    """Twenty visits, each of several reads, fill the first page; the 21st is on the second."""
    ines = client_for("ines")
    start = timezone.now() - timedelta(hours=5)
    for visit in range(21):
        with clock_at(start + visit * timedelta(minutes=10)):
            _visit_file_page(ines, nadia_file)
    nadia = client_for("nadia")
    first = nadia.get(SPACE).context["reads"]
    assert first.paginator.count == 21
    assert len(first) == 20
    second = nadia.get(SPACE + "?page=2").context["reads"]
    assert [read.created_at for read in second] == [start]


def test_the_worklist_names_its_persons_in_one_line(
    client_for: Any, nadia_file: Person, personas: dict[str, Any]
) -> None:
    ines = client_for("ines")
    lines_before = AuditEvent.objects.count()
    page = html.unescape(ines.get(reverse("support:worklist")).content.decode())
    assert nadia_file.full_name in page
    line = AuditEvent.objects.get(actor=personas["ines"], kind=AuditKind.READ)
    assert AuditEvent.objects.count() == lines_before + 1  # one line for the page view
    assert nadia_file.pk in line.person_ids
    for listed in Person.objects.filter(pk__in=line.person_ids):
        assert listed.full_name in page
    response = client_for("nadia").get(SPACE)
    seen = [read for read in response.context["reads"] if read.actor.first_name == "Inès"]
    assert [read.what for read in seen] == ["Nom dans la liste « Mes personnes »"]
    assert "Nom dans la liste « Mes personnes »" in html.unescape(response.content.decode())
