"""The demo directory: additive, idempotent, and what the acceptance journey needs."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command

from binome.directory.models import PublicationStatus, Service, Structure
from binome.directory.search import search_services
from binome.site.demo import DEMO_SERVICES, load_demo_directory
from binome.territories.models import Commune


def test_loading_twice_adds_nothing_and_keeps_local_edits(personas: dict[str, Any]) -> None:
    assert load_demo_directory() == len(DEMO_SERVICES)
    Service.objects.filter(source_id="petits-pas-avip").update(name="Places AVIP (modifié)")
    assert load_demo_directory() == 0
    assert Service.objects.filter(source="demo").count() == len(DEMO_SERVICES)
    assert Service.objects.get(source_id="petits-pas-avip").name == "Places AVIP (modifié)"


def test_the_demo_command_loads_the_directory(personas: dict[str, Any], capsys: Any) -> None:
    call_command("load_demo")
    assert "15 services ajoutés à l'annuaire" in capsys.readouterr().out
    assert Service.objects.filter(status=PublicationStatus.PUBLISHED).count() == 15


def test_the_crèches_belong_to_their_organisations_and_the_garage_has_no_account(
    orgs: dict[str, Any],
) -> None:
    load_demo_directory()
    for key in ("creche_toulon", "creche_sanary", "creche_la_seyne"):
        service = Service.objects.get(owner=orgs[key])
        assert service.status == PublicationStatus.PUBLISHED
        assert "AVIP" in service.name
    garage = Structure.objects.get(source_id="garage-solidaire")
    assert garage.owner is None and garage.email
    departments = set(Service.objects.values_list("department_id", flat=True))
    assert departments == {"83", "29", "91"}


def test_ines_s_journey_works_on_the_demo_data(personas: dict[str, Any]) -> None:
    load_demo_directory()
    toulon = Commune.objects.get(insee_code="83137")
    childcare = search_services(categories=["famille"], commune=toulon, radius_km=20)
    assert [s.name.split(" — ")[-1] for s in childcare.services[:3]] == [
        "Toulon",
        "La Seyne-sur-Mer",
        "Sanary-sur-Mer",
    ]
    assert all("AVIP" in s.name for s in childcare.services[:3])
    permis = search_services(text="permi", commune=toulon, radius_km=20)
    assert permis.services[0].name == "Aide au permis de conduire — auto-école sociale"
