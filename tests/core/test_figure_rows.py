"""The rows of a figure table, written as HTML once in Python (not a template tag per cell)."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string

from binome.core.figures import FigureSection, FigureTable


def test_each_cell_is_shown_as_the_template_showed_it() -> None:
    table = FigureTable(
        key="t",
        title="Par organisme",
        columns=("Organisme", "Orientés", "Délai médian", "Part", "Depuis"),
        rows=(
            ("CCAS de <Toulon>", 12, 13.25, None, date(2026, 3, 1)),
            (None, 0, 7.0, 45.5, "texte"),
        ),
    )
    assert table.shown_rows == [
        '<th scope="row">CCAS de &lt;Toulon&gt;</th><td>12</td><td>13,3</td><td>—</td>'
        "<td>1 mars 2026</td>",
        '<th scope="row">—</th><td>0</td><td>7</td><td>45,5</td><td>texte</td>',
    ]
    html = render_to_string(
        "core/_figure_section.html",
        {"section": FigureSection(key="s", title="Section", tables=(table,)), "empty": "Rien."},
    )
    assert "<td>13,3</td>" in html and "&lt;Toulon&gt;" in html
    empty = FigureTable(key="e", title="Vide", columns=("A", "B"), rows=())
    html = render_to_string(
        "core/_figure_section.html",
        {"section": FigureSection(key="s", title="Section", tables=(empty,)), "empty": "Rien."},
    )
    assert '<td colspan="2">Rien.</td>' in html
