"""The directory's forms: the search (GET: a search has a shareable URL), and the editing
of structures and services by their organisations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import opening_hours
from django import forms

from binome.core.forms import BinomeForm
from binome.core.widgets import ReferentialSelect
from binome.directory import referentials as ref
from binome.directory.models import ReportReason, Service, Structure
from binome.directory.search import DEFAULT_RADIUS_KM, RADII_KM
from binome.organisations.models import validate_siret
from binome.territories.forms import CommuneField
from binome.territories.models import Commune, Department, Epci


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


# --- Editing by the organisations ---------------------------------------------------------

OPENING_HOURS_HELP = (
    "Format OpenStreetMap, jours en abrégé anglais (Mo Tu We Th Fr Sa Su). Par exemple : "
    "« Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00 »."
)
DESCRIPTION_MAX = 10_000
UPDATE_FREQUENCIES = [
    (30, "Tous les mois"),
    (91, "Tous les trois mois"),
    (183, "Tous les six mois"),
    (365, "Tous les ans"),
]


def clean_opening_hours(value: str) -> str:
    """Hours in the OSM format, checked by opening-hours-py, with a French message."""
    value = " ".join((value or "").split())
    if value and not opening_hours.validate(value):
        raise forms.ValidationError(
            f"Ces horaires ne sont pas lisibles : « {value[:80]} ». {OPENING_HOURS_HELP}",
            code="invalid_opening_hours",
        )
    return value


def clean_eligibility_zone(value: str) -> list[str]:
    """Communes (INSEE code), départements (code), EPCI (SIREN, 9 digits) or "france"."""
    codes = [code.strip().lower() for code in value.replace(";", ",").split(",") if code.strip()]
    if not codes:
        return []
    communes = set(
        Commune.objects.filter(insee_code__in=[c.upper() for c in codes]).values_list(
            "insee_code", flat=True
        )
    )
    departments = set(
        Department.objects.filter(code__in=[c.upper() for c in codes]).values_list(
            "code", flat=True
        )
    )
    epcis = set(Epci.objects.filter(siren__in=codes).values_list("siren", flat=True))
    zone: list[str] = []
    for code in codes:
        upper = code.upper()
        if code == "france":
            zone.append("france")
        elif upper in departments or upper in communes:
            zone.append(upper)
        elif code in epcis:
            zone.append(code)
        else:
            raise forms.ValidationError(
                f"« {code[:20]} » n'est ni un code INSEE de commune (5 caractères, ex. 83137), "
                "ni un numéro de département (ex. 83), "
                "ni le SIREN d'un EPCI (9 chiffres, ex. 248300543), "
                "ni « france ».",
                code="invalid_zone",
            )
    return list(dict.fromkeys(zone))


def _thematique_checkbox_choices() -> list[tuple[str, Any]]:
    labels = dict(ref.THEMATIQUES)
    return [
        (label, [(t, labels[t]) for t in ref.thematiques_of_category(code)])
        for code, label in ref.CATEGORIES
    ]


def _multiple(label: str, choices: list[tuple[str, str]], **kwargs: Any) -> forms.Field:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


class StructureForm(BinomeForm, forms.ModelForm):
    """A structure an organisation declares (then moderated by the territory)."""

    commune = CommuneField(
        label="Commune",
        error_messages={"required": "Choisissez la commune de la structure dans la liste."},
    )

    class Meta:
        model = Structure
        fields = [
            "name",
            "siret",
            "description",
            "address",
            "address_complement",
            "commune",
            "phone",
            "email",
            "website",
            "opening_hours",
        ]
        help_texts = {
            "siret": "14 chiffres, sans espace.",
            "opening_hours": OPENING_HOURS_HELP,
            "phone": "Par exemple 04 94 00 00 00.",
        }
        labels = {"opening_hours": "Horaires d'accueil", "email": "Courriel"}
        error_messages = {
            "name": {"required": "Indiquez le nom de la structure."},
            "email": {"invalid": "Cette adresse de courriel n'est pas valide."},
            "website": {"invalid": "Indiquez l'adresse complète du site (https://…)."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["siret"].validators = [validate_siret]
        if self.instance.commune_id:
            self.initial["commune"] = self.instance.commune_id

    def clean_siret(self) -> str:
        return "".join(self.cleaned_data.get("siret", "").split())

    def clean_description(self) -> str:
        value = self.cleaned_data.get("description", "")
        if len(value) > DESCRIPTION_MAX:
            raise forms.ValidationError(
                f"La description compte {len(value)} caractères : {DESCRIPTION_MAX} au plus."
            )
        return value

    def clean_opening_hours(self) -> str:
        return clean_opening_hours(self.cleaned_data.get("opening_hours", ""))


class ServiceForm(BinomeForm, forms.ModelForm):
    """A service of one's structure. The publication checks are the action's."""

    thematiques = _multiple("Thématiques", [])
    publics = _multiple("Publics", ref.PUBLICS)
    reception_modes = _multiple("Modes d'accueil", ref.MODES_ACCUEIL)
    mobilisation_modes = _multiple("Modes de mobilisation", ref.MODES_MOBILISATION)
    mobilisable_by = _multiple("Mobilisable par", ref.MOBILISABLE_PAR)
    commune = CommuneField(label="Commune du lieu d'accueil", required=False)
    eligibility_zone = forms.CharField(
        label="Zone d'éligibilité",
        required=False,
        help_text=(
            "Qui peut en bénéficier selon son lieu de résidence : codes INSEE des communes "
            "(83137), numéros des départements (83) ou « france », séparés par des virgules."
        ),
    )
    weekly_hours = forms.FloatField(
        label="Heures par semaine",
        required=False,
        min_value=0,  # as the data·inclusion schema: an imported service stays editable
        max_value=168,
        localize=True,
        help_text="Pour une formation ou un atelier suivi chaque semaine, par exemple 7,5.",
        error_messages={"invalid": "Indiquez un nombre d'heures, par exemple 7,5."},
    )
    number_of_weeks = forms.IntegerField(
        label="Nombre de semaines",
        required=False,
        min_value=1,
        max_value=520,
        help_text="Durée du parcours, s'il en a une.",
        error_messages={"invalid": "Indiquez un nombre entier de semaines."},
    )
    update_frequency_days = forms.TypedChoiceField(
        label="Fréquence de mise à jour",
        choices=UPDATE_FREQUENCIES,
        coerce=int,
        initial=183,
        help_text="Passé ce délai, le service apparaît « à vérifier » et vous recevez un rappel.",
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "type",
            "thematiques",
            "publics",
            "publics_details",
            "access_conditions",
            "fees",
            "fees_details",
            "reception_modes",
            "address",
            "address_complement",
            "commune",
            "eligibility_zone",
            "phone",
            "email",
            "contact_name",
            "opening_hours",
            "weekly_hours",
            "number_of_weeks",
            "mobilisation_modes",
            "mobilisable_by",
            "mobilisation_link",
            "mobilisation_details",
            "update_frequency_days",
        ]
        labels = {
            "opening_hours": "Horaires d'accueil",
            "email": "Courriel",
            "address": "Adresse du lieu d'accueil",
        }
        help_texts = {"opening_hours": OPENING_HOURS_HELP, "phone": "Par exemple 04 94 00 00 00."}
        error_messages = {
            "name": {"required": "Indiquez le nom du service."},
            "description": {"required": "Décrivez le service en quelques phrases."},
            "email": {"invalid": "Cette adresse de courriel n'est pas valide."},
            "mobilisation_link": {"invalid": "Indiquez l'adresse complète du lien (https://…)."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["thematiques"].choices = _thematique_checkbox_choices()  # type: ignore[attr-defined]
        self.fields["type"].choices = _optional(ref.TYPES, "Choisir un type")  # type: ignore[attr-defined]
        self.fields["fees"].choices = _optional(ref.FRAIS, "Non précisé")  # type: ignore[attr-defined]
        if self.instance.commune_id:
            self.initial["commune"] = self.instance.commune_id
        self.initial["eligibility_zone"] = ", ".join(self.instance.eligibility_zone or [])

    def thematique_groups(self) -> list[tuple[str, str, list[Any], bool]]:
        """The thématique checkboxes by catégorie: (code, label, [bound checkboxes])."""
        by_category: dict[str, list[Any]] = {code: [] for code, _label in ref.CATEGORIES}
        for checkbox in self["thematiques"]:
            by_category[str(checkbox.data["value"]).split("--", 1)[0]].append(checkbox)
        chosen = set(self["thematiques"].value() or [])
        return [
            (code, label, by_category[code], bool(chosen & set(ref.thematiques_of_category(code))))
            for code, label in ref.CATEGORIES
        ]

    def clean_description(self) -> str:
        value = self.cleaned_data.get("description", "")
        if len(value) > DESCRIPTION_MAX:
            raise forms.ValidationError(
                f"La description compte {len(value)} caractères : {DESCRIPTION_MAX} au plus."
            )
        return value

    def clean_opening_hours(self) -> str:
        return clean_opening_hours(self.cleaned_data.get("opening_hours", ""))

    def clean_eligibility_zone(self) -> list[str]:
        return clean_eligibility_zone(self.cleaned_data.get("eligibility_zone", ""))

    def clean_thematiques(self) -> list[str]:
        value: list[str] = self.cleaned_data.get("thematiques", [])
        if not value:
            raise forms.ValidationError(
                "Cochez au moins une thématique : c'est ainsi que les conseillers trouvent le "
                "service."
            )
        return value

    def clean_publics(self) -> list[str]:
        value: list[str] = self.cleaned_data.get("publics", [])
        if "tous-publics" in value and len(value) > 1:
            raise forms.ValidationError(
                "« Tous publics » ne se combine pas avec d'autres publics : décochez l'un ou "
                "les autres."
            )
        return value


class ReportForm(BinomeForm):
    """A professional reports an error on a service."""

    reasons = forms.MultipleChoiceField(
        label="Qu'est-ce qui est erroné ?",
        choices=ReportReason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Cochez au moins un motif."},
    )
    details = forms.CharField(
        label="Précisions",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Par exemple le bon numéro de téléphone ou les nouveaux horaires.",
        error_messages={"max_length": "Les précisions comptent 2000 caractères au plus."},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if ReportReason.OTHER in cleaned.get("reasons", []) and not cleaned.get("details"):
            self.add_error("details", "Précisez l'erreur quand vous cochez « Autre ».")
        return cleaned


class RejectForm(BinomeForm):
    reason = forms.CharField(
        label="Motif du refus",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Il est envoyé aux administrateurs de l'organisation.",
        error_messages={"required": "Indiquez le motif du refus : il est envoyé à l'organisation."},
    )
