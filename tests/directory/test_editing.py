"""Organisations edit their own structures and services; the territory moderates; the
publication checks; error reports; the importer keeps what was edited through the form."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.directory.importer import import_directory
from binome.directory.models import (
    PublicationStatus,
    ReportStatus,
    Service,
    ServiceReport,
    Structure,
)
from binome.directory.search import search_services
from binome.organisations.models import Membership, Role
from binome.site.demo import load_demo_directory
from tests.directory.test_import import SERVICES, STRUCTURES, write_json

TOULON = "83137"
VALID_SIRET = "73282932000074"


@pytest.fixture
def demo(personas: dict[str, Any]) -> dict[str, Any]:
    load_demo_directory()
    return {
        "structure": Structure.objects.get(source="demo", source_id="petits-pas"),
        "service": Service.objects.get(source="demo", source_id="petits-pas-avip"),
        "unowned": Service.objects.get(source="demo", source_id="garage-location"),
    }


def text(response: Any) -> str:
    """The page's text, entities decoded (Django escapes the apostrophes)."""
    return html.unescape(response.content.decode())


def service_data(**changes: Any) -> dict[str, Any]:
    """A complete service form (publishable)."""
    data: dict[str, Any] = {
        "name": "Halte-garderie pour les entretiens d'embauche",
        "description": "Accueil de deux heures pour un entretien, sans inscription préalable.",
        "type": "accompagnement",
        "thematiques": ["famille--garde-denfants"],
        "publics": ["demandeurs-emploi"],
        "fees": "gratuit",
        "reception_modes": ["en-presentiel"],
        "address": "12 rue Picot",
        "commune": TOULON,
        "eligibility_zone": "83137, 83",
        "phone": "04 94 41 20 10",
        "opening_hours": "Mo-Fr 08:00-12:00",
        "mobilisation_modes": ["telephoner"],
        "mobilisable_by": ["professionnels"],
        "mobilisation_details": "Appeler la veille.",
        "update_frequency_days": "91",
        "action": "publier",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def structure_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Halte-garderie Les Lutins",
        "siret": VALID_SIRET,
        "description": "Halte-garderie associative.",
        "address": "4 rue Nicolas Laugier",
        "commune": TOULON,
        "phone": "04 94 00 11 22",
        "email": "lutins@example.test",
        "opening_hours": "Mo-Fr 08:00-18:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Nos services -------------------------------------------------------------------------


def test_nos_services_lists_the_organisation_s_entries_with_their_state(
    client_for: Any, demo: dict[str, Any], orgs: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    Service.objects.filter(pk=demo["service"].pk).update(
        updated_on=timezone.localdate() - timedelta(days=400)
    )
    ServiceReport.objects.create(
        service=demo["service"], reasons=["horaires"], details="Fermé le mercredi."
    )
    client = client_for("lea")
    url = reverse("directory:my_services", args=[orgs["creche_toulon"].pk])
    client.get(url)  # warm the session and the caches
    with django_assert_max_num_queries(14):
        response = client.get(url)
    html = text(response)
    assert response.status_code == 200
    assert "Places en crèche AVIP pour parents en recherche d'emploi — Toulon" in html
    assert "1 service à vérifier" in html
    assert "Fermé le mercredi." in html
    assert "Les informations sont à jour" in html
    # Only the crèche's own service, not the other demo services.
    assert [s.pk for s in response.context["services"]] == [demo["service"].pk]


def test_nos_services_is_reachable_from_the_organisation_page_and_the_directory(
    client_for: Any, orgs: dict[str, Any]
) -> None:
    client = client_for("lea")
    url = reverse("directory:my_services", args=[orgs["creche_toulon"].pk])
    detail = client.get(reverse("organisations:detail", args=[orgs["creche_toulon"].pk]))
    assert url in text(detail)
    assert url in text(client.get(reverse("directory:search")))
    # Not a member of the crèche: no link on its page.
    other = client_for("ines").get(reverse("organisations:detail", args=[orgs["creche_toulon"].pk]))
    assert url not in text(other)


def test_a_professional_member_edits_too(
    client_for: Any, personas: dict[str, Any], orgs: Any
) -> None:
    """Ines is a professional (not an admin) of France Travail Toulon."""
    response = client_for("ines").get(reverse("directory:my_services", args=[orgs["ft_toulon"].pk]))
    assert response.status_code == 200


# --- Structures and moderation ------------------------------------------------------------


def test_a_declared_structure_waits_for_moderation_and_its_services_with_it(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    lea, claire = client_for("lea"), client_for("claire")
    response = lea.post(
        reverse("directory:structure_create", args=[orgs["creche_toulon"].pk]), structure_data()
    )
    assert response.status_code == 302
    structure = Structure.objects.get(name="Halte-garderie Les Lutins")
    assert structure.status == PublicationStatus.PENDING
    assert structure.owner == orgs["creche_toulon"]
    assert structure.department_id == "83"
    assert structure.edited_by == personas["lea"]
    # The territory administrator is told.
    assert [m.to for m in mail.outbox] == [[personas["claire"].email]]
    assert "Halte-garderie Les Lutins" in mail.outbox[0].subject
    mail.outbox.clear()

    response = lea.post(reverse("directory:service_create", args=[structure.pk]), service_data())
    assert response.status_code == 302
    service = Service.objects.get(structure=structure)
    assert service.status == PublicationStatus.PENDING
    assert search_services(text="halte-garderie").total == 0

    queue = claire.get(reverse("directory:moderation", args=["83"]))
    assert "Halte-garderie Les Lutins" in text(queue)
    response = claire.post(reverse("directory:structure_approve", args=[structure.pk]))
    assert response.status_code == 302
    structure.refresh_from_db()
    service.refresh_from_db()
    assert structure.status == PublicationStatus.PUBLISHED
    assert structure.moderated_by == personas["claire"]
    assert service.status == PublicationStatus.PUBLISHED
    assert search_services(text="halte-garderie").total == 1
    # The organisation's administrators (Léa) are told.
    assert [m.to for m in mail.outbox] == [[personas["lea"].email]]
    assert "validée" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(kind=AuditKind.STRUCTURE_APPROVED).count() == 1


def test_a_rejected_structure_gets_the_reason_by_mail_and_its_services_stay_drafts(
    client_for: Any, orgs: dict[str, Any], personas: dict[str, Any]
) -> None:
    lea, claire = client_for("lea"), client_for("claire")
    lea.post(
        reverse("directory:structure_create", args=[orgs["creche_toulon"].pk]), structure_data()
    )
    structure = Structure.objects.get(name="Halte-garderie Les Lutins")
    lea.post(reverse("directory:service_create", args=[structure.pk]), service_data())
    mail.outbox.clear()

    # No reason: nothing changes, the administrator is told why.
    response = claire.post(
        reverse("directory:structure_reject", args=[structure.pk]), {"reason": "  "}, follow=True
    )
    assert "Indiquez le motif du refus" in text(response)
    structure.refresh_from_db()
    assert structure.status == PublicationStatus.PENDING
    assert mail.outbox == []

    claire.post(
        reverse("directory:structure_reject", args=[structure.pk]),
        {"reason": "Cette halte-garderie est déjà déclarée par la mairie."},
    )
    structure.refresh_from_db()
    assert structure.status == PublicationStatus.REJECTED
    assert Service.objects.get(structure=structure).status == PublicationStatus.DRAFT
    assert [m.to for m in mail.outbox] == [[personas["lea"].email]]
    assert "déjà déclarée par la mairie" in mail.outbox[0].body
    # Moderating twice is refused.
    response = claire.post(reverse("directory:structure_approve", args=[structure.pk]), follow=True)
    assert "n'est pas en attente de modération" in text(response)
    structure.refresh_from_db()
    assert structure.status == PublicationStatus.REJECTED

    # Corrected by the organisation, it goes back to the queue.
    lea.post(
        reverse("directory:structure_edit", args=[structure.pk]),
        structure_data(name="Halte-garderie Les Lutins (quartier Mourillon)"),
    )
    structure.refresh_from_db()
    assert structure.status == PublicationStatus.PENDING


def test_the_moderation_queue_costs_the_same_with_more_structures(
    client_for: Any, orgs: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    lea, claire = client_for("lea"), client_for("claire")
    for n in range(5):
        lea.post(
            reverse("directory:structure_create", args=[orgs["creche_toulon"].pk]),
            structure_data(name=f"Halte-garderie n° {n}"),
        )
    url = reverse("directory:moderation", args=["83"])
    claire.get(url)
    with django_assert_max_num_queries(12):
        response = claire.get(url)
    assert len(response.context["pending"]) == 5
    assert "Halte-garderie n° 4" in text(response)


def test_another_territory_s_admin_cannot_moderate(client_for: Any, orgs: dict[str, Any]) -> None:
    client_for("lea").post(
        reverse("directory:structure_create", args=[orgs["creche_toulon"].pk]), structure_data()
    )
    structure = Structure.objects.get(name="Halte-garderie Les Lutins")
    assert (
        client_for("charlie")
        .post(reverse("directory:structure_approve", args=[structure.pk]))
        .status_code
        == 404
    )
    assert (
        client_for("marc")
        .post(reverse("directory:structure_approve", args=[structure.pk]))
        .status_code
        == 403
    )
    structure.refresh_from_db()
    assert structure.status == PublicationStatus.PENDING


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Indiquez le nom de la structure."),
        ({"commune": ""}, "commune", "Choisissez la commune de la structure"),
        ({"commune": "99999"}, "commune", "Commune inconnue"),
        ({"siret": "73282932000075"}, "siret", "Ce numéro SIRET n'est pas valide"),
        ({"siret": "1234"}, "siret", "Ce numéro SIRET n'est pas valide"),
        ({"opening_hours": "lundi 9h-12h"}, "opening_hours", "Ces horaires ne sont pas lisibles"),
        ({"email": "lutins-at-example"}, "email", "adresse de courriel n'est pas valide"),
        ({"description": "x" * 20_000}, "description", "20000 caractères : 10000 au plus"),
    ],
)
def test_bad_structure_input_is_refused_with_a_precise_message(
    client_for: Any, orgs: dict[str, Any], changes: dict[str, Any], field: str, message: str
) -> None:
    response = client_for("lea").post(
        reverse("directory:structure_create", args=[orgs["creche_toulon"].pk]),
        structure_data(**changes),
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Structure.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.STRUCTURE_DECLARED).exists()


# --- Services: publication checks -----------------------------------------------------------


def test_publishing_names_what_is_missing_and_saves_a_draft(
    client_for: Any, demo: dict[str, Any]
) -> None:
    client = client_for("lea")
    response = client.post(
        reverse("directory:service_create", args=[demo["structure"].pk]),
        service_data(phone="", address="", commune="", eligibility_zone="", mobilisation_link=""),
        follow=True,
    )
    html = text(response)
    service = Service.objects.get(name="Halte-garderie pour les entretiens d'embauche")
    assert service.status == PublicationStatus.DRAFT
    assert "Pour publier ce service, il manque" in html
    assert "un moyen de contact (téléphone, courriel ou lien de mobilisation)" in html
    assert "un lieu d'accueil (commune et adresse) ou le mode d'accueil « À distance »" in html
    assert "une zone d'éligibilité" in html

    # Completed — remote reception instead of a place — it is published.
    response = client.post(
        reverse("directory:service_edit", args=[service.pk]),
        service_data(
            address="",
            commune="",
            reception_modes=["a-distance"],
            eligibility_zone="france",
            phone="",
            email="halte@example.test",
        ),
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.status == PublicationStatus.PUBLISHED
    assert service.eligibility_zone == ["france"]
    assert service.edited_locally_at is not None
    kinds = list(
        AuditEvent.objects.filter(
            target_type="directory.service", target_id=str(service.pk)
        ).values_list("kind", flat=True)
    )
    assert sorted(kinds) == sorted(
        [AuditKind.SERVICE_CREATED, AuditKind.SERVICE_UPDATED, AuditKind.SERVICE_PUBLISHED]
    )


def test_a_published_service_cannot_lose_its_contact(client_for: Any, demo: dict[str, Any]) -> None:
    service = demo["service"]
    response = client_for("lea").post(
        reverse("directory:service_edit", args=[service.pk]),
        service_data(phone="", email="", action="enregistrer"),
    )
    assert response.status_code == 200
    assert "Il manque : un moyen de contact" in " ".join(
        response.context["form"].non_field_errors()
    )
    service.refresh_from_db()
    assert service.phone == "04 94 41 20 10"
    assert service.edited_locally_at is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Indiquez le nom du service."),
        ({"description": ""}, "description", "Décrivez le service"),
        ({"description": "crèche " * 2858}, "description", "20005 caractères : 10000 au plus"),
        ({"thematiques": []}, "thematiques", "Cochez au moins une thématique"),
        (
            {"thematiques": ["famille--garde-de-chats"]},
            "thematiques",
            "Sélectionnez un choix valide",
        ),
        ({"opening_hours": "du lundi au vendredi"}, "opening_hours", "pas lisibles"),
        ({"opening_hours": "Mo-Fr 25:00-26:00"}, "opening_hours", "pas lisibles"),
        ({"eligibility_zone": "83137, Toulon"}, "eligibility_zone", "« toulon » n'est ni"),
        ({"eligibility_zone": "123456789"}, "eligibility_zone", "« 123456789 » n'est ni"),
        ({"publics": ["tous-publics", "femmes"]}, "publics", "« Tous publics » ne se combine"),
        ({"commune": "83999"}, "commune", "Commune inconnue"),
        ({"mobilisation_link": "inscription"}, "mobilisation_link", "adresse complète du lien"),
        ({"update_frequency_days": "7"}, "update_frequency_days", "Sélectionnez un choix valide"),
        ({"weekly_hours": "beaucoup"}, "weekly_hours", "Indiquez un nombre d'heures"),
        ({"weekly_hours": "200"}, "weekly_hours", "inférieure ou égale à 168"),
        ({"number_of_weeks": "2,5"}, "number_of_weeks", "nombre entier de semaines"),
        ({"number_of_weeks": "0"}, "number_of_weeks", "supérieure ou égale à 1"),
    ],
)
def test_bad_service_input_is_refused_with_a_precise_message(
    client_for: Any, demo: dict[str, Any], changes: dict[str, Any], field: str, message: str
) -> None:
    before = Service.objects.count()
    response = client_for("lea").post(
        reverse("directory:service_create", args=[demo["structure"].pk]), service_data(**changes)
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "Le formulaire contient des erreurs" in text(response)
    assert Service.objects.count() == before


def test_an_edit_keeps_precise_coordinates_unless_the_commune_changes(
    client_for: Any, demo: dict[str, Any]
) -> None:
    service = demo["service"]
    Service.objects.filter(pk=service.pk).update(latitude=43.1262, longitude=5.9303)
    client = client_for("lea")
    url = reverse("directory:service_edit", args=[service.pk])
    client.post(url, service_data(name="Places AVIP (2 places libres)", action="enregistrer"))
    service.refresh_from_db()
    assert service.name == "Places AVIP (2 places libres)"
    assert (service.latitude, service.longitude) == (43.1262, 5.9303)

    client.post(url, service_data(commune="83126", action="enregistrer"))
    service.refresh_from_db()
    assert service.commune_id == "83126"
    assert service.latitude == service.commune.latitude
    assert service.postal_code in service.commune.postal_codes


def test_the_time_a_service_takes_is_entered_in_french_and_shown_to_counselors(
    client_for: Any, demo: dict[str, Any]
) -> None:
    client_for("lea").post(
        reverse("directory:service_create", args=[demo["structure"].pk]),
        service_data(weekly_hours="7,5", number_of_weeks="12"),
    )
    service = Service.objects.get(name="Halte-garderie pour les entretiens d'embauche")
    assert (service.weekly_hours, service.number_of_weeks) == (7.5, 12)

    page = text(client_for("ines").get(reverse("directory:service_detail", args=[service.pk])))
    assert "Durée : 7,5 h par semaine, pendant 12 semaines." in page

    Service.objects.filter(pk=service.pk).update(weekly_hours=None, number_of_weeks=1)
    page = text(client_for("ines").get(reverse("directory:service_detail", args=[service.pk])))
    assert "Durée : 1 semaine." in page


def test_an_imported_service_with_zero_weekly_hours_stays_editable(
    client_for: Any, demo: dict[str, Any]
) -> None:
    service = demo["service"]
    Service.objects.filter(pk=service.pk).update(weekly_hours=0)  # the schema allows it
    url = reverse("directory:service_edit", args=[service.pk])
    client_for("lea").post(
        url, service_data(name="Places AVIP", weekly_hours="0", action="enregistrer")
    )
    service.refresh_from_db()
    assert (service.name, service.weekly_hours) == ("Places AVIP", 0)


def test_the_form_groups_thematiques_by_category(client_for: Any, demo: dict[str, Any]) -> None:
    response = client_for("lea").get(reverse("directory:service_edit", args=[demo["service"].pk]))
    html = text(response)
    assert 'aria-controls="categorie-famille"' in html
    assert 'aria-controls="categorie-mobilite"' in html
    # The category of a chosen thématique is open.
    assert 'id="categorie-famille"' in html
    assert "fr-collapse fr-collapse--expanded" in html


def test_unpublish_and_confirm(client_for: Any, demo: dict[str, Any], personas: Any) -> None:
    service = demo["service"]
    Service.objects.filter(pk=service.pk).update(
        updated_on=timezone.localdate() - timedelta(days=400)
    )
    client = client_for("lea")
    client.post(reverse("directory:service_confirm", args=[service.pk]))
    service.refresh_from_db()
    assert service.updated_on == timezone.localdate()
    assert not service.needs_checking()
    assert service.edited_by == personas["lea"]
    assert AuditEvent.objects.filter(kind=AuditKind.SERVICE_CONFIRMED).count() == 1

    client.post(reverse("directory:service_unpublish", args=[service.pk]))
    service.refresh_from_db()
    assert service.status == PublicationStatus.DRAFT
    assert client.get(reverse("directory:service_detail", args=[service.pk])).status_code == 404


def test_the_service_page_offers_editing_to_its_editors_only(
    client_for: Any, demo: dict[str, Any]
) -> None:
    url = reverse("directory:service_detail", args=[demo["service"].pk])
    edit = reverse("directory:service_edit", args=[demo["service"].pk])
    assert edit in text(client_for("lea").get(url))
    assert edit not in text(client_for("ines").get(url))


# --- The importer keeps what was edited through the form ----------------------------------


def test_a_service_edited_through_the_form_is_kept_by_a_later_import(
    client_for: Any, orgs: dict[str, Any], tmp_path: Path
) -> None:
    import_directory([STRUCTURES, SERVICES])
    avip = Service.objects.get(source_id="dora--places-avip")
    # The crèche takes charge of its imported service (its structure has no organisation).
    Service.objects.filter(pk=avip.pk).update(owner=orgs["creche_draguignan"])
    director = User.objects.create_user(
        email="directrice@lucioles.test", password=None, first_name="Anne", last_name="Roux"
    )
    Membership.objects.create(
        user=director, organisation=orgs["creche_draguignan"], role=Role.PROFESSIONAL
    )
    client = client_for("lea")
    client.force_login(director)
    assert client.get(reverse("directory:service_edit", args=[avip.pk])).status_code == 200
    data = service_data(name="Places AVIP (3 places libres)", action="enregistrer")
    response = client.post(reverse("directory:service_edit", args=[avip.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    avip.refresh_from_db()
    assert avip.edited_locally_at is not None and avip.edited_by == director

    rows = json.loads(SERVICES.read_text())
    for row in rows:
        row["description"] += " Mis à jour."
        if row["id"] == "dora--places-avip":
            row["nom"] = "Places AVIP (importées)"
    report = import_directory([write_json(tmp_path, "services.json", rows)])

    assert report.kept == ["services dora--places-avip"]
    avip.refresh_from_db()
    assert avip.name == "Places AVIP (3 places libres)"
    assert not avip.description.endswith("Mis à jour.")


# --- Error reports ------------------------------------------------------------------------


def test_a_professional_reports_an_error_and_the_organisation_s_members_are_told(
    client_for: Any, demo: dict[str, Any], personas: dict[str, Any]
) -> None:
    service = demo["service"]
    page = client_for("ines").get(reverse("directory:service_detail", args=[service.pk]))
    assert "Signaler une erreur sur ce service" in text(page)

    response = client_for("ines").post(
        reverse("directory:service_report", args=[service.pk]),
        {"reasons": ["horaires", "coordonnees"], "details": "Le numéro ne répond plus."},
    )
    assert response.status_code == 302
    report = ServiceReport.objects.get()
    assert report.reporter == personas["ines"]
    assert report.reporter_organisation is not None
    assert report.status == ReportStatus.OPEN
    assert [m.to for m in mail.outbox] == [[personas["lea"].email]]
    assert "Le numéro ne répond plus." in mail.outbox[0].body
    assert "Les horaires sont erronés" in mail.outbox[0].body

    lea = client_for("lea")
    assert "Le numéro ne répond plus." in text(
        lea.get(reverse("directory:my_services", args=[service.owner_id]))
    )
    lea.post(reverse("directory:report_resolve", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED
    assert report.resolved_by == personas["lea"]
    assert AuditEvent.objects.filter(kind=AuditKind.SERVICE_REPORT_RESOLVED).count() == 1


def test_a_report_on_a_service_without_organisation_goes_to_the_territory_admins(
    client_for: Any, demo: dict[str, Any], personas: dict[str, Any]
) -> None:
    service = demo["unowned"]
    client_for("marc").post(
        reverse("directory:service_report", args=[service.pk]),
        {"reasons": ["ferme"], "details": ""},
    )
    assert [m.to for m in mail.outbox] == [[personas["claire"].email]]
    report = ServiceReport.objects.get()
    queue = client_for("claire").get(reverse("directory:moderation", args=["83"]))
    assert service.name in text(queue)
    client_for("claire").post(reverse("directory:report_resolve", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED
    # Léa is not an editor of this service.
    other = ServiceReport.objects.create(service=service, reasons=["autre"], details="?")
    assert (
        client_for("lea").post(reverse("directory:report_resolve", args=[other.pk])).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"details": "Fermé"}, "Cochez au moins un motif."),
        ({"reasons": ["ferme", "demenage"]}, "Sélectionnez un choix valide"),
        ({"reasons": ["autre"], "details": ""}, "Précisez l'erreur quand vous cochez « Autre »."),
        ({"reasons": ["ferme"], "details": "x" * 20_000}, "2000 caractères au plus"),
    ],
)
def test_a_bad_report_is_refused_and_writes_nothing(
    client_for: Any, demo: dict[str, Any], data: dict[str, Any], message: str
) -> None:
    response = client_for("ines").post(
        reverse("directory:service_report", args=[demo["service"].pk]), data
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not ServiceReport.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_eligibility_zone_may_name_an_epci_by_its_siren() -> None:
    from binome.directory.forms import clean_eligibility_zone

    assert clean_eligibility_zone("248300543; 83137, 83, France") == [
        "248300543",
        "83137",
        "83",
        "france",
    ]
