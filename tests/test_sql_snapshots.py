"""The SQL of the pages professionals use all day, pinned as text: a review sees a new query
(or a changed one), not only a new count. Literals are masked, so the snapshots do not
depend on ids, dates or names.

After a deliberate change: ``binome test tests/test_sql_snapshots.py --snapshot-update``
and read the diff of ``tests/__snapshots__/test_sql_snapshots.ambr`` in the review."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from binome.people.models import Person
from binome.referrals.demo import load_demo_referrals
from binome.rsa.demo import load_demo_rsa
from binome.site.demo import demo_organisations, load_demo_directory

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?(?![\w\"])")
_LIST = re.compile(r"\((?:\?|%s)(?:, (?:\?|%s))*\)")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def masked(sql: str) -> str:
    sql = _STRING.sub("?", sql)
    sql = _NUMBER.sub("?", sql)
    sql = _LIST.sub("(…)", sql)
    return _SAVEPOINT.sub('"savepoint"', sql)


def page_sql(client: Any, url: str) -> list[str]:
    client.get(url)  # the session's first touch (second factor, organisation)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [masked(query["sql"]) for query in queries.captured_queries]


@pytest.fixture
def demo_directory(personas: dict[str, Any]) -> None:
    load_demo_directory()


def test_the_person_file_page(personas: dict[str, Any], client_for: Any, snapshot: Any) -> None:
    nadia = Person.objects.get(user=personas["nadia"])
    url = reverse("people:detail", args=[nadia.pk])
    assert page_sql(client_for("ines"), url) == snapshot


def test_the_worklist(personas: dict[str, Any], client_for: Any, snapshot: Any) -> None:
    assert page_sql(client_for("marc"), reverse("support:worklist")) == snapshot


def test_the_referrals_inbox(personas: dict[str, Any], client_for: Any, snapshot: Any) -> None:
    assert page_sql(client_for("gwenael"), reverse("referrals:inbox")) == snapshot


def test_the_directory_search(demo_directory: None, client_for: Any, snapshot: Any) -> None:
    url = reverse("directory:search") + "?q=cr%C3%A8che&commune=83137&rayon=20"
    assert page_sql(client_for("ines"), url) == snapshot


def test_the_home_page(personas: dict[str, Any], client_for: Any, snapshot: Any) -> None:
    """« À traiter »: one query per block, whatever the number of rows."""
    load_demo_referrals(personas, demo_organisations())
    assert page_sql(client_for("sophie"), reverse("site:home")) == snapshot


def test_the_rsa_list_to_orient(personas: dict[str, Any], client_for: Any, snapshot: Any) -> None:
    """« À orienter »: the page of persons and their total in one query, whatever their number."""
    load_demo_rsa(personas, demo_organisations())
    assert page_sql(client_for("claire"), reverse("rsa:to_orient", args=["83"])) == snapshot


def test_the_orientation_managers_home_page(
    personas: dict[str, Any], client_for: Any, snapshot: Any
) -> None:
    """Claire's « À traiter »: the block of the RSA beneficiaries to orient, one query."""
    load_demo_rsa(personas, demo_organisations())
    assert page_sql(client_for("claire"), reverse("site:home")) == snapshot
