"""What makes « à orienter », its counters and the figures fast at national volume: the
dossier's département and state of the right copied onto its adults by the database (kept
right on every write), the partial indexes the pages' statements read, and the page of keys
(``keyed_page``) that counts and pages on the index before reading 50 rows."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from binome.core.figures import FigureScope
from binome.core.pagination import count_query, keyed_page
from binome.core.text import normalize
from binome.rsa import figures
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow
from binome.rsa.home import to_orient_first
from binome.rsa.models import Beneficiary, Dossier
from binome.rsa.views import to_orient_keys, to_orient_rows
from binome.territories.models import Department
from tests.rsa.conftest import RsaTerritory, rsa_flow


def lefevre_closed(created_on: datetime.date) -> Any:
    """A newer flow: the Lefèvre household's right closed."""
    return rsa_flow(
        FluxHeader("CAF", "M", created_on, None),
        DossierRow(
            number="1001",
            matricule="1111111",
            requested_on=created_on - datetime.timedelta(days=40),
            state=RightState.CLOSED,
            family_situation="MAR",
            persons=(
                PersonRow(Role.APPLICANT, "Lefèvre", "Hélène", datetime.date(1985, 5, 3)),
                PersonRow(Role.SPOUSE, "Lefèvre", "Noël", datetime.date(1983, 2, 9), sex="1"),
            ),
        ),
    )


def copied(beneficiary: Beneficiary) -> tuple[str | None, str, bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT department_id, dossier_state, no_fixed_address FROM rsa_beneficiary "
            "WHERE id = %s",
            [beneficiary.pk],
        )
        return cursor.fetchone()


def test_the_import_copies_the_dossiers_department_state_and_address(
    rsa_var: RsaTerritory,
) -> None:
    people = rsa_var.people
    assert copied(people["Hélène"]) == ("83", RightState.OPEN, False)
    assert copied(people["Farid"]) == ("83", RightState.AWAITING_DECISION, True)


def test_a_newer_flow_closing_the_right_takes_the_household_off_the_list(
    rsa_var: RsaTerritory,
) -> None:
    mia = rsa_var.mia
    assert to_orient_first(mia)[0] == 3
    result = import_flux(
        lefevre_closed(timezone.localdate() - datetime.timedelta(days=2)),
        department=Department.objects.get(code="83"),
        by=mia,
    )
    assert result.updated == 1
    assert copied(rsa_var.people["Hélène"]) == ("83", RightState.CLOSED, False)
    assert copied(rsa_var.people["Noël"]) == ("83", RightState.CLOSED, False)
    count, rows = to_orient_first(mia)
    assert count == 1 and [row.person.first_name for row in rows] == ["Farid"]
    # The figures' stock follows the dossier's state as well.
    today = timezone.localdate()
    scope = FigureScope(department="83", start=today - datetime.timedelta(days=60), end=today)
    assert figures.rsa_figures(scope).stock == 1


def test_any_write_of_a_dossiers_state_reaches_its_adults(rsa_var: RsaTerritory) -> None:
    farid = rsa_var.people["Farid"]
    Dossier.objects.filter(pk=farid.dossier_id).update(
        state=RightState.REFUSED, no_fixed_address=False
    )
    assert copied(farid) == ("83", RightState.REFUSED, False)
    # A beneficiary saved whole with what it held before keeps the dossier's state: the
    # database copies it again, whatever the instance held.
    farid.save()
    assert copied(farid) == ("83", RightState.REFUSED, False)
    assert not Beneficiary.objects.to_orient().filter(pk=farid.pk).exists()


def explain(sql: str, params: Any = None) -> str:
    with connection.cursor() as cursor:
        # The test's tables are tiny: make any index cheaper than reading the table, so that
        # the plan says which index the statement can use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_bitmapscan")
    return plan


@pytest.mark.parametrize(
    "filters",
    [{}, {"sdf": True}, {"due": "overdue"}, {"q": "lefevre"}],
    ids=["whole", "no_fixed_address", "overdue", "name"],
)
def test_the_lists_keys_and_count_are_read_on_the_partial_index(
    rsa_var: RsaTerritory, filters: dict[str, Any]
) -> None:
    """The list's predicate is the index's, word for word, and its filters read the index's
    columns: PostgreSQL answers the page's keys and its total from ``rsa_beneficiary_to_orient``
    alone (any change to one without the other fails here)."""
    keys = to_orient_keys("83")
    if filters.get("sdf"):
        keys = keys.filter(no_fixed_address=True)
    if filters.get("due"):
        keys = keys.filter(orientation_due_on__lt=timezone.localdate())
    if filters.get("q"):
        keys = keys.named(filters["q"])
    sql, params = keys.values("pk")[:50].query.sql_with_params()
    plan = explain(sql, params)
    assert re.search(r"Index (Only )?Scan using rsa_beneficiary_to_orient\b", plan), plan
    sql, params = count_query(keys).query.sql_with_params()
    plan = explain(sql, params)
    assert re.search(r"Index (Only )?Scan using rsa_beneficiary_to_orient\b", plan), plan
    # A name is compared with the key the index stores: no unaccent() on each row.
    assert "unaccent" not in plan, plan


def test_a_name_is_found_whatever_its_accents_case_and_punctuation(
    rsa_var: RsaTerritory,
) -> None:
    def named(text: str) -> list[str]:
        return sorted(b.first_name for b in to_orient_keys("83").named(text))

    assert named("lefevre") == named("LEFÈVRE") == named("Lefèvre") == ["Hélène", "Noël"]
    assert named("helene lefevre") == named("lefèvre   hélène") == ["Hélène"]
    assert named("noel-lefevre") == named("noël, lefèvre") == ["Noël"]  # first then last
    assert named("efe") == ["Hélène", "Noël"]  # any part of a name
    assert named("lefevre zorro") == []  # every word
    assert named("% _ -") == named("") == ["Farid", "Hélène", "Noël"]  # nothing to look for
    # The key the database stores is the one ``normalize`` writes.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rsa_name_key(%s, %s)", ["Jean-Pierre", "N'Diaye-Lefèvre Œuvré"])
        assert cursor.fetchone()[0] == normalize("Jean-Pierre N'Diaye-Lefèvre Œuvré")


def test_the_figures_read_their_indexes(rsa_var: RsaTerritory) -> None:
    today = timezone.localdate()
    params = figures._params(
        FigureScope(department="83", start=today - datetime.timedelta(days=364), end=today),
        today,
    )
    entrants = explain(figures._ENTRANTS, params)
    assert "rsa_beneficiary_opened" in entrants and "rsa_orientation_first" in entrants
    assert "rsa_dossier" not in entrants
    assert "Seq Scan on rsa_orientation" not in explain(figures._ORIENTATIONS, params)


def test_a_keyed_page_counts_pages_and_falls_back_to_the_last_page(
    rsa_var: RsaTerritory, django_assert_num_queries
) -> None:
    keys, rows = to_orient_keys("83"), to_orient_rows("83")
    with django_assert_num_queries(1):
        page = keyed_page(keys, rows, "2", 2)
    assert page.paginator.count == 3 and page.number == 2
    assert [row.first_name for row in page.object_list] == ["Farid"]
    assert page.object_list[0].dossier.no_fixed_address  # the row's joins are read
    first = keyed_page(keys, rows, "nonsense", 2)
    assert first.number == 1 and [r.first_name for r in first.object_list] == ["Hélène", "Noël"]
    past = keyed_page(keys, rows, "99", 2)
    assert past.number == 2 and [r.first_name for r in past.object_list] == ["Farid"]
    nobody = keyed_page(keys.filter(last_name="Personne"), rows, "3", 2)
    assert nobody.paginator.count == 0 and nobody.number == 1 and not nobody.object_list
