"""The demo's childcare: a place found at Léa's crèche, loaded once however many runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from binome.childcare.demo import load_demo_childcare
from binome.childcare.models import Placement


def test_the_demo_has_a_placement_at_lea_s_creche_once(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    load_demo_childcare(personas, orgs)
    load_demo_childcare(personas, orgs)
    placement = Placement.objects.select_related("provider__organisation").get()
    assert placement.provider.organisation == orgs["creche_toulon"]
    assert placement.started_on == timezone.localdate() + timedelta(days=11)
    assert placement.person.first_name == "Inaya"


def test_the_essonne_has_its_caf_agent_who_coordinates_its_childcare_only(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    from binome.childcare.access import coordinated_departments

    helene, karim = personas["helene"], personas["karim"]
    assert helene.memberships.get().organisation == orgs["caf91"]
    assert coordinated_departments(helene) == {"91"}
    assert coordinated_departments(karim) == {"83"}
