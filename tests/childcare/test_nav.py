"""The header leads the providers' members and the coordination to their childcare pages."""

from __future__ import annotations

from django.urls import reverse

from tests.childcare.conftest import Essonne
from tests.childcare.test_deadlines import caf_agent_of_the_essonne


def nav_links(essonne: Essonne, user: object) -> tuple[bool, bool]:
    content = essonne.var.client(user).get(reverse("accounts:security")).content.decode()  # type: ignore[arg-type]
    return (
        f'href="{reverse("childcare:providers_home")}"' in content,
        f'href="{reverse("childcare:coordination_inbox")}"' in content,
    )


def test_the_header_shows_the_childcare_pages_to_those_who_have_them(essonne: Essonne) -> None:
    karima = caf_agent_of_the_essonne()
    assert nav_links(essonne, essonne.nina) == (True, False)
    assert nav_links(essonne, karima)[1] is True
    assert nav_links(essonne, essonne.charlie) == (False, False)
