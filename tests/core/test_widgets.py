"""ReferentialSelect renders what Django's Select renders, once."""

from __future__ import annotations

import pytest
from django import forms

from binome.core.widgets import ReferentialSelect

CHOICES = [
    ("", "Toutes"),
    ("Famille", [("famille--garde-denfants", "Garde d'enfants"), ("famille--x", "<b>X</b>")]),
    ("mobilite", "Mobilité"),
]


@pytest.mark.parametrize("value", ["", "famille--garde-denfants", "mobilite", "inconnu", None])
@pytest.mark.parametrize("attrs", [None, {"id": "id_t", "aria-invalid": "true"}])
def test_the_same_html_as_django_select(value: str | None, attrs: dict[str, str] | None) -> None:
    plain = forms.Select(choices=CHOICES).render("t", value, attrs)
    referential = ReferentialSelect(choices=CHOICES)

    assert referential.render("t", value, attrs) == plain
    assert referential.render("t", value, attrs) == plain  # from the cache


def test_other_choices_or_values_are_other_entries() -> None:
    first = ReferentialSelect(choices=CHOICES).render("t", "mobilite")
    other_choices = ReferentialSelect(choices=[("a", "A")]).render("t", "mobilite")
    other_value = ReferentialSelect(choices=CHOICES).render("t", "")

    assert 'value="mobilite" selected' in first
    assert "Mobilité" not in other_choices
    assert 'value="mobilite" selected' not in other_value
