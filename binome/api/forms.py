"""Forms of the API: the token form of the organisation's page, and the validation of the
API's query parameters (the UI's search form, plus pagination)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from binome.api.errors import ApiError, Detail
from binome.core.forms import BinomeForm
from binome.directory.forms import ServiceSearchForm
from binome.directory.search import MAX_PER_PAGE
from binome.territories.forms import CommuneField
from binome.territories.models import Department

MAX_PAGE = 10_000
DEFAULT_PER_PAGE = 20


class ApiTokenForm(BinomeForm, forms.Form):
    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Le système qui l'utilise, par exemple « Logiciel de l'accueil ».",
        error_messages={"required": "Donnez un nom au jeton, pour le reconnaître ensuite."},
    )

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class PaginationMixin(forms.Form):
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": "Le numéro de page doit être un nombre entier.",
            "min_value": "Le numéro de page commence à 1.",
            "max_value": f"Le numéro de page va au plus jusqu'à {MAX_PAGE}.",
        },
    )
    taille = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PER_PAGE,
        error_messages={
            "invalid": "La taille de page doit être un nombre entier.",
            "min_value": "La taille de page est d'au moins 1 résultat.",
            "max_value": f"La taille de page est d'au plus {MAX_PER_PAGE} résultats.",
        },
    )

    def pagination(self) -> tuple[int, int]:
        data = self.cleaned_data
        return data.get("page") or 1, data.get("taille") or DEFAULT_PER_PAGE


class ApiServiceSearchForm(PaginationMixin, ServiceSearchForm):
    """The UI's search form, plus the page and its size."""


class StructureFilterForm(PaginationMixin, forms.Form):
    departement = forms.CharField(required=False, max_length=3)
    commune = CommuneField(required=False)
    q = forms.CharField(required=False)

    def clean_departement(self) -> Department | None:
        code = self.cleaned_data.get("departement") or ""
        if not code:
            return None
        department = Department.objects.filter(code=code.upper()).first()
        if department is None:
            raise forms.ValidationError(
                f"Département inconnu « {code} » : attendu un code comme 83, 2A ou 971."
            )
        return department


def validated(form_class: type[forms.Form], query: QueryDict) -> Any:
    """The bound form if the query is valid; else a 400 ApiError naming each parameter.

    Unknown and repeated parameters are refused too: a misspelt filter silently ignored
    would return other results than the caller believes.
    """
    form = form_class(query)
    details = [
        Detail(name, "paramètre inconnu de cette adresse de l'API")
        for name in query
        if name not in form.fields
    ]
    repeated = [
        Detail(name, "une seule valeur est acceptée pour ce paramètre")
        for name, values in query.lists()
        if name in form.fields and len(values) > 1
    ]
    details += repeated
    # The known parameters are checked too, beside the unknown ones (one answer names every
    # mistake), unless one is repeated: which of its values to check is then unknown.
    if not repeated and not form.is_valid():
        details += [
            Detail(name, " ".join(str(m) for m in messages))
            for name, messages in form.errors.items()
        ]
    if details:
        raise ApiError(
            400,
            "parametre_invalide",
            "Paramètre invalide : " + ", ".join(d.parameter for d in details) + ".",
            details,
        )
    return form
