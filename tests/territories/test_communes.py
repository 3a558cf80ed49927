import pytest
from django.core.exceptions import ValidationError

from binome.territories.forms import CommuneField, resolve_typed_commune
from binome.territories.models import Commune, Department


@pytest.mark.django_db
def test_referential_is_complete():
    assert Department.objects.count() == 101
    assert Commune.objects.count() == 34875
    toulon = Commune.objects.get(insee_code="83137")
    assert toulon.name == "Toulon"
    assert toulon.department_id == "83"
    assert abs(toulon.latitude - 43.13649) < 1e-5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("toulon", "Toulon"),
        ("Évry", "Évry-Courcouronnes"),
        ("evry courc", "Évry-Courcouronnes"),
        ("quimpr", "Quimper"),  # typo
        ("83000", "Toulon"),
        ("2900", "Quimper"),  # postal code prefix
        ("digne", "Digne-les-Bains"),
        ("marcq en baroeul", "Marcq-en-Barœul"),  # the ligature typed as two letters
        ("Barœul", "Marcq-en-Barœul"),
    ],
)
def test_search_by_name_typo_or_postal_code(query, expected):
    names = [c.name for c in Commune.objects.search(query)]
    assert expected in names


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "%", "'; DROP TABLE x; --", "🏠🏠", "a" * 1000, "  "])
def test_search_accepts_any_text(query):
    assert isinstance(Commune.objects.search(query), list)


def test_autocomplete_fragment(client_for):
    body = client_for("ines").get("/territoires/communes/?q=sanary").content.decode()
    assert "Sanary-sur-Mer" in body
    assert 'data-insee="83123"' in body
    body = client_for("ines").get("/territoires/communes/?q=zzzzzz").content.decode()
    assert "Aucune commune ne correspond" in body


@pytest.mark.django_db
def test_the_referential_reloads_with_the_epci_of_every_commune() -> None:
    """What the browser tests do after a flush: everything loaded again, fast (the EPCI
    of 35,000 communes set by one indexed join, whatever the statistics)."""
    import time

    from django.db import connection

    from binome.territories.models import Commune, Epci
    from binome.territories.referential import load_referential

    Commune.objects.filter(insee_code="83126").update(epci=None)
    started = time.monotonic()
    counts = load_referential(connection)

    assert counts[2] == Epci.objects.count() == 1255
    assert Commune.objects.get(insee_code="83126").epci_id == "248300543"
    assert Commune.objects.filter(epci__isnull=True).count() == 4
    assert time.monotonic() - started < 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Toulon", "83137"),
        ("  toulon ", "83137"),
        ("Toulon (83000)", "83137"),  # the picker's own label, its code emptied by typing
        ("83000", "83137"),
        ("marcq en baroeul", "59378"),
        ("Saint-Denis (93200)", "93066"),
    ],
)
def test_a_commune_typed_in_full_is_understood(typed, expected):
    assert resolve_typed_commune(typed).insee_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Touln", "Aucune commune ne s'appelle « Touln »"),
        ("Saint-Denis", "« Saint-Denis » désigne plusieurs communes"),
        ("29000 29200", "Aucune commune ne s'appelle"),
        ("'; DROP TABLE x; --", "Aucune commune ne s'appelle"),
    ],
)
def test_a_commune_typed_but_not_found_or_ambiguous_is_explained(typed, message):
    with pytest.raises(ValidationError) as raised:
        resolve_typed_commune(typed)
    assert message in raised.value.messages[0]
    assert "choisissez" in raised.value.messages[0]


@pytest.mark.django_db
def test_the_picker_reads_the_typed_text_only_when_no_commune_was_chosen():
    field = CommuneField(required=False)
    widget = field.widget
    chosen = widget.value_from_datadict(
        {"commune": "29232", "commune_recherche": "Toulon"}, {}, "commune"
    )
    assert field.clean(chosen).name == "Quimper"
    typed = widget.value_from_datadict(
        {"commune": "", "commune_recherche": "Toulon"}, {}, "commune"
    )
    assert field.clean(typed).name == "Toulon"
    assert field.clean(widget.value_from_datadict({}, {}, "commune")) is None
    with pytest.raises(ValidationError) as raised:
        field.clean(widget.value_from_datadict({"commune_recherche": "x" * 5000}, {}, "commune"))
    assert len(raised.value.messages[0]) < 250
