"""The small territory of ``tests/factories.py`` is what it says it is."""

from __future__ import annotations

from binome.access import predicates
from binome.support import access as file_rules
from tests.factories import SmallTerritory


def test_the_small_territory_has_its_binôme_and_its_outsiders(small_var: SmallTerritory) -> None:
    alice_access = file_rules.file_access(small_var.alice, small_var.person)
    bob_access = file_rules.file_access(small_var.bob, small_var.person)
    assert alice_access is not None and alice_access.team_roles == {"dedicated_counselor"}
    assert bob_access is not None and file_rules.can_view_nir(bob_access)
    assert not file_rules.can_view_nir(alice_access)
    for outsider in (small_var.carol, small_var.dan, small_var.charlie):
        assert file_rules.file_access(outsider, small_var.person) is None
    assert predicates.is_steering(small_var.dan, "83")
