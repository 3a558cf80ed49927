"""A provider's places: declared and confirmed by its own members on one short form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.childcare import actions
from binome.childcare.models import Provider
from binome.organisations.models import OrganisationKind
from tests.childcare.conftest import Essonne
from tests.factories import make_organisation

FORM = {
    "kind": "creche",
    "capacity": "30",
    "avip_places": "6",
    "free_places": "2",
    "free_from": "2026-12-20",
    "min_age_months": "3",
    "max_age_months": "36",
    "opening_hours": "Du lundi au vendredi, de 7h30 à 18h30",
    "emergency_capacity": "0",
    "answering_hours": "",
    "is_active": "on",
}


def test_a_member_declares_the_places_which_confirms_them(essonne: Essonne) -> None:
    organisation = essonne.creche.organisation
    client = essonne.var.client(essonne.nina)
    assert (
        client.get(reverse("childcare:provider_places", args=[organisation.pk])).status_code == 200
    )
    # The form is one click away from the places page.
    url = reverse("childcare:provider_edit", args=[organisation.pk])
    assert client.get(url).status_code == 200
    before = timezone.now()
    response = client.post(url, FORM)
    assert response.status_code == 302
    provider = Provider.objects.get(organisation=organisation)
    assert (provider.capacity, provider.avip_places, provider.free_places) == (30, 6, 2)
    assert str(provider.free_from) == "2026-12-20"
    assert provider.confirmed_at >= before and provider.confirmed_by == essonne.nina
    audit = AuditEvent.objects.filter(kind=AuditKind.CHILDCARE_PROVIDER_UPDATED).latest("id")
    assert audit.actor == essonne.nina and audit.details["changed"]["capacity"] == 30


def test_negative_or_unfitting_numbers_are_refused_in_french_and_nothing_changes(
    essonne: Essonne,
) -> None:
    organisation = essonne.creche.organisation
    client = essonne.var.client(essonne.nina)
    url = reverse("childcare:provider_edit", args=[organisation.pk])
    for changes, message in [
        ({"free_places": "-1"}, "Le nombre de places libres ne peut pas être négatif."),
        ({"capacity": "-5"}, "La capacité ne peut pas être négative."),
        ({"free_places": "7"}, "Les places libres (7) ne peuvent pas dépasser les places AVIP"),
        ({"avip_places": "31"}, "Les places AVIP (31) ne peuvent pas dépasser la capacité"),
        ({"min_age_months": "40"}, "L&#x27;âge maximum doit être au moins l&#x27;âge minimum."),
        ({"free_from": ""}, "Indiquez à partir de quelle date les places sont libres."),
    ]:
        response = client.post(url, {**FORM, **changes})
        assert response.status_code == 400, changes
        assert message in response.content.decode(), changes
    provider = Provider.objects.get(organisation=organisation)
    assert (provider.capacity, provider.avip_places, provider.free_places) == (20, 4, 2)


def test_the_label_is_chosen_among_the_cafs_of_the_providers_departement(
    essonne: Essonne,
) -> None:
    organisation = essonne.creche.organisation
    caf_essonne = make_organisation("CAF de l'Essonne", OrganisationKind.CAF, department="91")
    caf_var = make_organisation("CAF du Var", OrganisationKind.CAF, department="83")
    client = essonne.var.client(essonne.nina)
    url = reverse("childcare:provider_edit", args=[organisation.pk])
    page = client.get(url).content.decode()
    assert "CAF de l&#x27;Essonne" in page and "CAF du Var" not in page
    response = client.post(url, {**FORM, "label_caf": caf_var.pk})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert Provider.objects.get(organisation=organisation).label_caf_id is None
    assert client.post(url, {**FORM, "label_caf": caf_essonne.pk}).status_code == 302
    # A label already given by another CAF stays offered, and kept when the form is saved.
    Provider.objects.filter(organisation=organisation).update(label_caf=caf_var)
    assert "CAF du Var" in client.get(url).content.decode()
    assert client.post(url, {**FORM, "label_caf": caf_var.pk}).status_code == 302
    assert Provider.objects.get(organisation=organisation).label_caf == caf_var


def test_the_places_page_shows_the_places_in_short_and_their_form_one_click_away(
    essonne: Essonne,
) -> None:
    organisation = essonne.creche.organisation
    client = essonne.var.client(essonne.nina)
    caf = make_organisation("CAF de l'Essonne", OrganisationKind.CAF, department="91")
    Provider.objects.filter(organisation=organisation).update(
        label_caf=caf, free_from=date(2026, 12, 20)
    )
    page = client.get(reverse("childcare:provider_places", args=[organisation.pk]))
    content = page.content.decode()
    assert "Places AVIP libres : 2" in content and "à partir du 20/12/2026" in content
    assert "Labellisé AVIP par CAF de l&#x27;Essonne" in content
    assert "Capacité : 20 places, dont 4 réservées AVIP" in content
    assert reverse("childcare:provider_edit", args=[organisation.pk]) in content
    assert 'name="free_places"' not in content and 'name="label_caf"' not in content
    form = client.get(reverse("childcare:provider_edit", args=[organisation.pk]))
    assert 'name="free_places"' in form.content.decode()


def test_a_provider_without_places_yet_is_asked_to_declare_them(essonne: Essonne) -> None:
    organisation = essonne.creche.organisation
    Provider.objects.filter(organisation=organisation).delete()
    content = (
        essonne.var.client(essonne.nina)
        .get(reverse("childcare:provider_places", args=[organisation.pk]))
        .content.decode()
    )
    assert "Vos places ne sont pas encore déclarées" in content
    assert reverse("childcare:provider_edit", args=[organisation.pk]) in content


def test_confirming_unchanged_places_moves_the_date(essonne: Essonne) -> None:
    provider = essonne.creche
    Provider.objects.filter(pk=provider.pk).update(confirmed_at=timezone.now() - timedelta(days=40))
    client = essonne.var.client(essonne.nina)
    page = client.get(reverse("childcare:provider_places", args=[provider.organisation_id]))
    assert "pas été confirmées depuis" in page.content.decode()
    response = client.post(reverse("childcare:provider_confirm", args=[provider.organisation_id]))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.confirmed_at > timezone.now() - timedelta(minutes=1)


def test_others_get_a_404(essonne: Essonne) -> None:
    organisation = essonne.creche.organisation
    for outsider in (essonne.omar, essonne.charlie, essonne.var.alice):
        client = essonne.var.client(outsider)
        url = reverse("childcare:provider_edit", args=[organisation.pk])
        assert (
            client.get(reverse("childcare:provider_places", args=[organisation.pk])).status_code
            == 404
        )
        assert client.get(url).status_code == 404
        assert client.post(url, {**FORM, "free_places": "0"}).status_code == 404
    assert Provider.objects.get(organisation=organisation).free_places == 2


def test_the_home_lists_the_members_providers(essonne: Essonne) -> None:
    response = essonne.var.client(essonne.nina).get(reverse("childcare:providers_home"))
    assert "Crèche des Tilleuls" in response.content.decode()
    assert "Garde à domicile" not in response.content.decode()


def test_the_action_and_the_database_refuse_negative_places(essonne: Essonne) -> None:
    """Past the form: the action refuses in French, and the database's constraint holds
    whatever writes the row."""
    organisation = essonne.creche.organisation
    with pytest.raises(ValidationError) as refused:
        actions.save_provider(
            organisation=organisation, values={"free_places": -2}, by=essonne.nina
        )
    assert refused.value.message_dict["free_places"] == [
        "Le nombre de places libres ne peut pas être négatif."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.filter(pk=essonne.creche.pk).update(free_places=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.filter(pk=essonne.creche.pk).update(emergency_capacity=-1)
    provider = Provider.objects.get(organisation=organisation)
    assert (provider.capacity, provider.avip_places, provider.free_places) == (20, 4, 2)
