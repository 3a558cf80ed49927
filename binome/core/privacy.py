"""What the apps above the ground add to the privacy page, and how it is found.

The privacy page (``core:privacy``) says what the code does, read from the settings. An app
whose promise depends on its own data (a territory's setting) writes a module
``privacy.py`` that registers a function returning the context of its paragraph's
template::

    from binome.core.privacy import register

    @register("retention/privacy_archive.html")
    def archive() -> dict[str, Any]: ...

The page imports every installed app's ``privacy`` module
(:func:`django.utils.module_loading.autodiscover_modules`): no app is imported by the ground.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.module_loading import autodiscover_modules

type Section = Callable[[], dict[str, Any]]

_SECTIONS: dict[str, Section] = {}


def register(template: str) -> Callable[[Section], Section]:
    def decorator(function: Section) -> Section:
        _SECTIONS[template] = function
        return function

    return decorator


def sections() -> list[tuple[str, dict[str, Any]]]:
    """``(template, context)`` of each registered paragraph, by template name."""
    autodiscover_modules("privacy")
    return [(template, _SECTIONS[template]()) for template in sorted(_SECTIONS)]
