"""The home page's block of the diagnostics to validate: what each side of the binôme sees,
and that every line opens."""

from __future__ import annotations

from django.utils import timezone

from binome.people.models import ConsentMethod, ConsentScope
from binome.support import actions
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import BarrierLevel
from binome.support.referential import themes
from tests.factories import SmallTerritory
from tests.site.test_today import _block, _home


def _draft_by_alice_with_bob(world: SmallTerritory):
    return actions.record_diagnostic(
        person=world.person,
        by=world.alice,
        organisation=world.france_travail,
        made_on=timezone.localdate(),
        co_author=world.bob,
        accompaniment=world.accompaniment,
        answers=[ThemeAnswer(theme=t.code, level=BarrierLevel.NONE) for t in themes()],
    )


def _lines_open(client, block: str) -> None:
    for href in [part.split('"')[0] for part in block.split('href="')[1:]]:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_a_draft_is_to_validate_by_each_side_until_both_did(small_var: SmallTerritory) -> None:
    actions.record_consent(
        person=small_var.person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    draft = _draft_by_alice_with_bob(small_var)
    alice, bob = small_var.client(small_var.alice), small_var.client(small_var.bob)
    for client in (alice, bob):
        block = _block(_home(client), "diagnostics")
        assert "Zoé EXEMPLE" in block and f"/diagnostics/{draft.pk}/" in block
        _lines_open(client, block)

    actions.validate_diagnostic(diagnostic=draft, by=small_var.alice)
    assert _block(_home(alice), "diagnostics") == "" or "Zoé" not in _block(
        _home(alice), "diagnostics"
    )
    assert "Zoé EXEMPLE" in _block(_home(bob), "diagnostics")

    actions.validate_diagnostic(diagnostic=draft, by=small_var.bob)
    assert "Zoé" not in _block(_home(bob), "diagnostics")


def test_a_co_author_who_cannot_see_the_draft_is_not_sent_to_it(small_var: SmallTerritory) -> None:
    """Without the person's consent to share her file, Bob (département) does not see
    France Travail's draft: his home page does not offer a line he could not open."""
    _draft_by_alice_with_bob(small_var)
    assert "Zoé" not in _block(_home(small_var.client(small_var.bob)), "diagnostics")
    assert "Zoé EXEMPLE" in _block(_home(small_var.client(small_var.alice)), "diagnostics")
