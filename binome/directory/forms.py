"""The search form of the directory (GET: a search has a shareable URL)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.core.widgets import ReferentialSelect
from binome.directory import referentials as ref
from binome.directory.search import DEFAULT_RADIUS_KM, RADII_KM
from binome.organisations.forms import CommuneField


def _thematique_choices() -> list[tuple[str, Any]]:
    """Sub-thématiques grouped by catégorie (optgroups)."""
    groups: list[tuple[str, Any]] = [("", "Toutes les thématiques de la catégorie")]
    labels = dict(ref.THEMATIQUES)
    for code, label in ref.CATEGORIES:
        groups.append((label, [(t, labels[t]) for t in ref.thematiques_of_category(code)]))
    return groups


def _optional(choices: list[tuple[str, str]], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *choices]


class ServiceSearchForm(BinomeForm, forms.Form):
    q = forms.CharField(
        label="Mots-clés",
        required=False,
        help_text="Par exemple : crèche, permis de conduire, surendettement.",
    )
    commune = CommuneField(label="Commune", required=False)
    rayon = forms.TypedChoiceField(
        label="Distance",
        choices=[(str(km), f"{km} km") for km in RADII_KM],
        coerce=int,
        initial=str(DEFAULT_RADIUS_KM),
        required=False,
        widget=ReferentialSelect,
    )
    categorie = forms.ChoiceField(
        label="Besoin (catégorie)",
        choices=_optional(ref.CATEGORIES, "Toutes les catégories"),
        required=False,
        widget=ReferentialSelect,
    )
    thematique = forms.ChoiceField(
        label="Thématique précise", required=False, widget=ReferentialSelect
    )
    public = forms.ChoiceField(
        label="Public",
        choices=_optional(ref.PUBLICS, "Tous les publics"),
        required=False,
        widget=ReferentialSelect,
    )
    frais = forms.ChoiceField(
        label="Frais",
        choices=_optional(ref.FRAIS, "Gratuit ou payant"),
        required=False,
        widget=ReferentialSelect,
    )
    type = forms.ChoiceField(
        label="Type de service",
        choices=_optional(ref.TYPES, "Tous les types"),
        required=False,
        widget=ReferentialSelect,
    )
    accueil = forms.ChoiceField(
        label="Mode d'accueil",
        choices=_optional(ref.MODES_ACCUEIL, "Sur place ou à distance"),
        required=False,
        widget=ReferentialSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["thematique"].choices = _thematique_choices()  # type: ignore[attr-defined]
        # The commune picker shows the chosen commune's name from ``form.instance``.
        self.instance = SimpleNamespace(commune=None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.instance.commune = cleaned.get("commune")
        category, thematique = cleaned.get("categorie"), cleaned.get("thematique")
        if category and thematique and not thematique.startswith(f"{category}--"):
            # A thématique of another catégorie: the precise choice wins.
            cleaned["categorie"] = ""
        return cleaned

    def search_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``search_services`` for this (valid) form."""
        data = self.cleaned_data

        def one(name: str) -> tuple[str, ...]:
            return (data[name],) if data.get(name) else ()

        return {
            "text": data.get("q") or "",
            "commune": data.get("commune"),
            "radius_km": data.get("rayon") or DEFAULT_RADIUS_KM,
            "categories": one("categorie"),
            "thematiques": one("thematique"),
            "publics": one("public"),
            "fees": one("frais"),
            "types": one("type"),
            "reception_modes": one("accueil"),
        }
