"""The person's own space: what Nadia sees, her consents, who read her file, the PDF."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Consent, ConsentScope, Person
from binome.support.models import Note, Objective, TimelineEvent, Visibility
from tests.people.conftest import clock_at

SPACE = reverse("space:home")
QUERIES_PINNED = 21  # 3 of them: the session refresh


def test_nadia_lands_on_her_space_after_login(personas: dict[str, Any], client: Any) -> None:
    personas["nadia"].set_password("mot-de-passe-de-nadia-2026")
    personas["nadia"].save()
    response = client.post(
        reverse("accounts:login"),
        {"username": personas["nadia"].email, "password": "mot-de-passe-de-nadia-2026"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == SPACE
    assert "Mon espace" in response.content.decode()


def test_space_shows_plan_team_shared_notes_not_internal_items(
    client_for: Any, nadia_file: Person, marc_private_note: Note
) -> None:
    page = client_for("nadia").get(SPACE).content.decode()
    # Her team, with organisations and roles.
    assert "Inès" in page and "France Travail" in page
    assert "Marc" in page and "Département du Var" in page
    # Her plan: every objective shared with her is listed.
    shared = Objective.objects.filter(person=nadia_file, visibility=Visibility.TEAM_AND_PERSON)
    assert shared.exists()
    for objective in shared:
        assert escape(objective.label) in page
    # The note written for her is there; the team-only and organisation-only ones are not.
    assert escape("inscription à la formation d'aide-soignante") in page
    assert "Diagnostic partagé avec Marc" not in page
    assert escape(marc_private_note.text[:40]) not in page
    # Nothing internal: no NIR, no identifiers.
    assert nadia_file.nir not in page
    assert "Identifiant France Travail" not in page


def test_space_hides_items_not_shared_with_the_person(client_for: Any, nadia_file: Person) -> None:
    objective = Objective.objects.filter(person=nadia_file).first()
    assert objective is not None
    Objective.objects.filter(pk=objective.pk).update(visibility=Visibility.ORGANISATION)
    page = client_for("nadia").get(SPACE).content.decode()
    assert escape(objective.label) not in page


def test_professionals_get_404_on_the_space(client_for: Any) -> None:
    for persona in ("ines", "marc", "claire", "charlie"):
        assert client_for(persona).get(SPACE).status_code == 404, persona


def test_read_log_lists_ines_read_not_nadia_own(client_for: Any, nadia_file: Person) -> None:
    assert client_for("ines").get(reverse("people:detail", args=[nadia_file.pk])).status_code == 200
    response = client_for("nadia").get(SPACE)
    reads = list(response.context["reads"])
    assert reads[0].actor.first_name == "Inès"
    assert reads[0].what == "Dossier : page de la personne"
    assert all(read.actor_id != nadia_file.user_id for read in reads)
    page = response.content.decode()
    assert "Dossier : page de la personne" in page
    # Her own visit is logged, but not listed as a professional's read.
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ, person_id=nadia_file.pk, actor=nadia_file.user, what="Mon espace"
    ).exists()


def test_read_log_is_paginated_newest_first(client_for: Any, nadia_file: Person) -> None:
    ines = client_for("ines")
    for visit in range(22):  # apart: a visit is one line
        with clock_at(timezone.now() - timedelta(hours=5) + visit * timedelta(minutes=10)):
            ines.get(reverse("people:detail", args=[nadia_file.pk]))
    client_for("marc").get(reverse("people:detail", args=[nadia_file.pk]))
    nadia = client_for("nadia")
    first = nadia.get(SPACE).context["reads"]
    assert first.paginator.num_pages >= 2
    assert first[0].actor.first_name == "Marc"
    dates = [read.created_at for read in first]
    assert dates == sorted(dates, reverse=True)
    assert len(nadia.get(SPACE + "?page=2").context["reads"]) >= 3


def test_withdrawal_is_effective_at_once(client_for: Any, nadia_file: Person) -> None:
    consent = Consent.objects.get(person=nadia_file, scope=ConsentScope.SHARE_FILE)
    file_url = reverse("people:detail", args=[nadia_file.pk])
    ines_team_note = "Diagnostic partagé avec Marc"
    marc = client_for("marc")
    assert ines_team_note in marc.get(file_url).content.decode()

    nadia = client_for("nadia")
    url = reverse("space:consent_withdraw", args=[consent.pk])
    confirm = nadia.get(url)
    assert "Confirmer le retrait" in confirm.content.decode()
    consent.refresh_from_db()
    assert consent.is_active  # the GET only asks for confirmation
    response = nadia.post(url, follow=True)
    assert "Votre consentement est retiré" in response.content.decode()

    consent.refresh_from_db()
    assert consent.withdrawn_by == nadia_file.user
    # Marc (Département du Var, not the holder of the file) loses Inès's shared items at once.
    assert ines_team_note not in marc.get(file_url).content.decode()
    # Inès's organisation holds the file: she keeps them.
    assert ines_team_note in client_for("ines").get(file_url).content.decode()
    assert AuditEvent.objects.filter(
        kind=AuditKind.CONSENT_WITHDRAWN, person_id=nadia_file.pk, actor=nadia_file.user
    ).exists()
    event = TimelineEvent.objects.filter(person=nadia_file, target_id=consent.pk).first()
    assert event is not None and "retiré par la personne" in event.summary

    # A second withdrawal says so and changes nothing.
    again = nadia.post(url, follow=True).content.decode()
    assert "déjà été retiré" in again


def test_nadia_cannot_withdraw_someone_elses_consent(
    client_for: Any, nadia_file: Person, personas: dict[str, Any]
) -> None:
    other = Person.objects.create(
        department_id="83",
        organisation=nadia_file.organisation,
        first_name="Autre",
        last_name="Personne",
        birth_date=nadia_file.birth_date,
    )
    consent = Consent.objects.create(
        person=other,
        scope=ConsentScope.SHARE_FILE,
        method="oral",
        given_on=nadia_file.created_at.date(),
        recorded_by=personas["ines"],
    )
    url = reverse("space:consent_withdraw", args=[consent.pk])
    assert client_for("nadia").post(url).status_code == 404
    consent.refresh_from_db()
    assert consent.is_active


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_engagement_pdf_for_the_team_and_the_person(
    client_for: Any, nadia_file: Person, personas: dict[str, Any]
) -> None:
    team_url = reverse("people:engagement_pdf", args=[nadia_file.pk])
    response = client_for("marc").get(team_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Contrat d'engagement" in text
    assert "Nadia BELKACEM" in text
    assert "Inès" in text and "Marc" in text
    objective = Objective.objects.filter(
        person=nadia_file, visibility=Visibility.TEAM_AND_PERSON
    ).first()
    assert objective is not None and objective.label in text
    assert "Signature de la personne" in text
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ,
        person_id=nadia_file.pk,
        actor=personas["marc"],
        what="PDF : contrat d'engagement",
    ).exists()

    own = client_for("nadia").get(reverse("space:engagement_pdf"))
    assert own.status_code == 200
    assert "Nadia BELKACEM" in _pdf_text(own.content)
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ,
        person_id=nadia_file.pk,
        actor=nadia_file.user,
        what="PDF : contrat d'engagement",
    ).exists()


def test_engagement_pdf_refused_outside_the_team(client_for: Any, nadia_file: Person) -> None:
    team_url = reverse("people:engagement_pdf", args=[nadia_file.pk])
    assert client_for("charlie").get(team_url).status_code == 404
    assert client_for("paul").get(team_url).status_code == 404
    assert client_for("claire").get(team_url).status_code == 403
    assert not AuditEvent.objects.filter(
        kind=AuditKind.READ, what="PDF : contrat d'engagement"
    ).exists()


def test_space_query_count_does_not_grow_with_the_read_log(
    client_for: Any, nadia_file: Person, django_assert_max_num_queries: Any
) -> None:
    ines = client_for("ines")
    for visit in range(30):  # apart: a visit is one line
        with clock_at(timezone.now() - timedelta(hours=6) + visit * timedelta(minutes=10)):
            ines.get(reverse("people:detail", args=[nadia_file.pk]))
    nadia = client_for("nadia")
    with django_assert_max_num_queries(QUERIES_PINNED):
        response = nadia.get(SPACE)
    assert len(response.context["reads"]) == 20


def test_worklist_is_not_for_persons(client_for: Any) -> None:
    assert client_for("nadia").get(reverse("support:worklist")).status_code == 404
