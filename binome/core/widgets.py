"""Form widgets shared by the apps."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django import forms
from django.utils.safestring import SafeString

_MAX_RENDERED = 1024  # (field, value, attributes) combinations kept per widget class


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _hashable(item)) for key, item in value.items())
    return str(value) if not isinstance(value, Hashable) else value


class ReferentialSelect(forms.Select):
    """A ``<select>`` over a referential (choices fixed while the process runs), whose HTML
    is rendered once per name, value, attributes and choices, then reused.

    Django renders every ``<option>`` through a template include: about 0.3 ms each,
    20 ms per page for the 69 thématiques of the directory's search form, paid on every
    search. The output is exactly what ``forms.Select`` renders; a different value, an
    error (``aria-invalid``) or other choices make another entry.
    """

    _rendered: dict[Hashable, SafeString] = {}

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        key = (
            type(renderer),
            name,
            _hashable(self.format_value(value)),
            _hashable(self.build_attrs(self.attrs, attrs)),
            _hashable(self.choices),
            self.allow_multiple_selected,
        )
        html = self._rendered.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._rendered) >= _MAX_RENDERED:
                self._rendered.clear()
            self._rendered[key] = html
        return html


class UploadInput(forms.FileInput):
    """A file input drawn as the DSFR's upload component (``fr-upload`` in an
    ``fr-upload-group``; django-dsfr leaves file inputs unstyled). ``accept`` names the
    extensions offered by the browser's file chooser; the form still checks each file."""

    group_class = "fr-upload-group"

    def __init__(self, *, accept: str = "", attrs: dict[str, Any] | None = None) -> None:
        attrs = {"class": "fr-upload", **(attrs or {})}
        if accept:
            attrs["accept"] = accept
        super().__init__(attrs)
