"""The referral form's service, chosen by searching the directory: only the first results
are offered (a département holds thousands of services), the search works without
JavaScript (a GET that re-renders the form with what was typed), and the server checks the
chosen service against the same rule as before — published, of the person's département, or
the service the form was opened on from its page."""

from __future__ import annotations

import html
import re
from typing import Any

from django.urls import reverse

from binome.directory.models import PublicationStatus, Service
from binome.people.models import Person
from binome.referrals.forms import SERVICE_RESULTS
from binome.referrals.models import Referral
from tests.referrals.test_views import form_data


def page(response: Any) -> str:
    return html.unescape(response.content.decode())


def radios(body: str) -> list[str]:
    return re.findall(r'<input type="radio"[^>]*name="service"[^>]*>', body)


def copy_of(service: Service, name: str, **changes: Any) -> Service:
    """Another service of the same structure, published in the Var unless said otherwise."""
    values: dict[str, Any] = {
        field.attname: getattr(service, field.attname)
        for field in Service._meta.concrete_fields
        if not field.primary_key and field.name not in ("search_vector", "match_vector")
    }
    values.update(name=name, source_id=f"{service.source_id}-{name}", **changes)
    return Service(**values)


def test_the_form_stays_small_with_thousands_of_services(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    Service.objects.bulk_create(
        copy_of(garage, f"Atelier de réparation de vélos n° {n}") for n in range(3000)
    )
    ines = client_for("ines")
    url = reverse("referrals:create", args=[nadia_file.pk])
    opened = ines.get(url)
    assert opened.status_code == 200
    assert len(opened.content) < 60_000, len(opened.content)
    assert radios(page(opened)) == []
    searched = ines.get(url, {"q": "atelier vélos"})
    body = page(searched)
    assert len(searched.content) < 70_000, len(searched.content)
    assert len(radios(body)) == SERVICE_RESULTS
    assert f"3000 services trouvés : les {SERVICE_RESULTS} premiers sont proposés" in body


def test_a_get_search_offers_the_departements_services_and_keeps_what_was_typed(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    copy_of(garage, "Garage solidaire du Finistère", department_id="29").save()
    copy_of(garage, "Garage solidaire en brouillon", status=PublicationStatus.DRAFT).save()
    url = reverse("referrals:create", args=[nadia_file.pk])
    body = page(client_for("ines").get(url, {"q": "garage solidaire", "kind": "service"}))
    assert 'value="garage solidaire"' in body  # the search box keeps the words
    kind = re.findall(r'<input type="radio" name="kind" value="service"[^>]*>', body)
    assert kind and "checked" in kind[0]
    assert [f'value="{garage.pk}"' in radio for radio in radios(body)] == [True]
    assert "Location de véhicules et garage solidaire" in body
    assert "Garage solidaire Var Mobilité" in body  # its structure
    assert "Finistère" not in body and "brouillon" not in body
    assert "1 service trouvé." in body
    nothing = page(client_for("ines").get(url, {"q": "zzzzqqq"}))
    assert "Aucun service publié du département ne correspond à « zzzzqqq »." in nothing


def test_a_service_outside_the_allowed_ones_is_refused_in_french(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    elsewhere = copy_of(garage, "Garage solidaire du Finistère", department_id="29")
    draft = copy_of(garage, "Garage en brouillon", status=PublicationStatus.DRAFT)
    elsewhere.save()
    draft.save()
    ines = client_for("ines")
    url = reverse("referrals:create", args=[nadia_file.pk])
    for service in (elsewhere, draft):
        refused = ines.post(url, form_data(service=service.pk, consent_now="oral"))
        assert refused.status_code == 400
        assert (
            "Ce service ne peut pas être choisi : choisissez un service publié de l'annuaire "
            "du département de la personne, trouvé par la recherche."
        ) in page(refused)
        assert radios(page(refused)) == []  # not offered again
    for bad in ("abc", "-1", "99999999999999999999"):
        assert ines.post(url, form_data(service=bad, consent_now="oral")).status_code == 400
    assert not Referral.objects.filter(service__in=[elsewhere, draft]).exists()
    # Opened from its page in the directory, a service of another département is allowed.
    from_page = f"{url}?kind=service&service={elsewhere.pk}"
    opened = page(ines.get(from_page))
    assert [f'value="{elsewhere.pk}"' in r and "checked" in r for r in radios(opened)] == [True]
    sent = ines.post(from_page, form_data(service=elsewhere.pk, consent_now="oral"))
    assert sent.status_code == 302
    assert Referral.objects.filter(service=elsewhere).count() == 1


def test_the_chosen_service_stays_chosen_when_the_form_is_refused(
    client_for: Any, nadia_file: Person, garage: Service
) -> None:
    url = reverse("referrals:create", args=[nadia_file.pk])
    refused = client_for("ines").post(url, form_data(service=garage.pk, reason=""))
    assert refused.status_code == 400
    chosen = radios(page(refused))
    assert len(chosen) == 1 and f'value="{garage.pk}"' in chosen[0] and "checked" in chosen[0]
    # A missing service leads the error summary to the search box.
    missing = page(client_for("ines").post(url, form_data()))
    assert '<a href="#id_service_search">Service de l\'annuaire :' in missing
    assert 'id="id_service_search"' in missing
