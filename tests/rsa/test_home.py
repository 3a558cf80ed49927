"""The home page's RSA counter: how many persons the orientation manager has to orient and
the first ones by deadline, in one query."""

from __future__ import annotations

from binome.rsa import orientations
from binome.rsa.home import to_orient_first
from binome.rsa.models import OrientationKind
from tests.rsa.conftest import RsaTerritory


def test_the_count_and_the_first_lines_in_one_query(
    rsa_var: RsaTerritory, django_assert_num_queries
) -> None:
    mia = rsa_var.mia
    to_orient_first(mia)  # the user's roles, read once per request
    with django_assert_num_queries(1):
        count, rows = to_orient_first(mia, limit=2)
    assert count == 3
    assert [row.person.first_name for row in rows] == ["Hélène", "Noël"]
    orientations.orient(
        beneficiary=rsa_var.people["Hélène"],
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=mia,
        organisation=rsa_var.var.departement,
    )
    count, rows = to_orient_first(mia, limit=2)
    assert count == 2 and [row.person.first_name for row in rows] == ["Noël", "Farid"]


def test_nobody_to_orient_for_who_orients_nobody(rsa_var: RsaTerritory) -> None:
    assert to_orient_first(rsa_var.var.alice) == (0, [])
    assert to_orient_first(rsa_var.var.dan) == (0, [])
