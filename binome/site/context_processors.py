"""What every page's template reads: the DSFR site configuration, the user's memberships
and the menu's rules."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from binome.access.predicates import works_with_named_persons
from binome.childcare.access import coordinated_departments, provider_organisations

# django-dsfr reads SITE_CONFIG in its templates; we give it from settings rather than
# from its database model, so that rendering a page costs no query.
SITE_CONFIG = SimpleNamespace(
    site_title=settings.SITE_TITLE,
    site_tagline=settings.SITE_TAGLINE,
    header_brand_html="République<br>française",
    footer_brand_html="République<br>française",
    beta_tag=True,
    mourning=False,
    notice_title="",
    notice_description="",
    operator_logo_file=None,
    operator_logo_alt="",
    operator_logo_width=0,
    footer_description="",
    accessibility_status="partiellement conforme",
    mailing_list_url="",
    newsletter_description="",
)


def site(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "current_membership", None)

    # Each computed once per request: the template calls a callable at each use (the menu
    # reads ``childcare_nav`` twice, the switcher ``my_memberships`` twice).
    @cache
    def my_memberships() -> list[Any]:
        # Evaluating the lazy current membership loads all the user's memberships once.
        return list(getattr(request, "_memberships", [])) if membership else []

    @cache
    def accompanies_here() -> bool:
        # "Mes personnes" and "Orientations": offered by the rule of their pages.
        return works_with_named_persons(request.user, membership)

    @cache
    def childcare_nav() -> dict[str, bool]:
        # The childcare pages of the providers' members and of the territory's coordination.
        if not request.user.is_authenticated:
            return {"providers": False, "coordination": False}
        return {
            "providers": bool(provider_organisations(request.user)),
            "coordination": bool(coordinated_departments(request.user)),
        }

    return {
        "my_memberships": my_memberships,
        "childcare_nav": childcare_nav,
        "accompanies_here": accompanies_here,
        "SITE_CONFIG": SITE_CONFIG,
        # Still lazy: a page that does not show it (an htmx fragment) costs no query.
        "current_membership": membership,
        "PROCONNECT_ENABLED": settings.PROCONNECT_ENABLED,
    }
