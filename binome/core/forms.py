"""The base of every form: DSFR rendering, optional fields marked "(facultatif)"."""

from __future__ import annotations

from typing import Any

from django import forms
from dsfr.forms import DsfrBaseForm


class BinomeForm(DsfrBaseForm):
    """DSFR form that marks optional fields, as the DSFR now recommends."""

    def get_context(self) -> dict[str, Any]:
        # Skip DsfrBaseForm.get_context, which warns about a transitional setting.
        context = forms.Form.get_context(self)
        context["DSFR_MARK_OPTIONAL_FIELDS"] = True
        return context
