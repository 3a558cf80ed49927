"""Creating a person: matching of existing files, identifiers, bad input; consents."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people import crypto
from binome.people.models import Consent, Person
from binome.support.demo import NADIA_NIR
from binome.support.models import NOTE_MAX_LENGTH, Note, State, TeamMember

NEW_URL = reverse("people:create")


def identity(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Julien",
        "last_name": "Moreau",
        "birth_date": "1985-09-23",
        "kind": "global",
        # Any member may hold this role, whatever the function their organisation declared.
        "role": "member",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("first_name", "last_name", "why"),
    [
        ("Nadia", "Belkacem", "same names"),
        ("NADIA", "BELKACÉM", "accents and case"),
        ("Nadja", "Belkacen", "two typos"),
        ("Belkacem", "Nadia", "first and last names swapped"),
    ],
)
def test_creation_proposes_the_existing_file(
    first_name: str, last_name: str, why: str, client_for: Any, nadia_file: Person
) -> None:
    response = client_for("karim").post(
        NEW_URL, identity(first_name=first_name, last_name=last_name, birth_date="1988-04-12")
    )
    assert response.status_code == 200, why
    body = response.content.decode()
    assert "Cette personne a peut-être déjà un dossier" in body, why
    assert reverse("support:join", args=[nadia_file.pk]) in body
    assert "3456789B" not in body  # minimal identity only
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"nir": NADIA_NIR, "first_name": "Inconnue", "birth_date": "1970-01-01"},
        {"france_travail_id": "3456789b", "first_name": "Autre", "birth_date": "1970-01-01"},
        {"caf_number": "7654321", "first_name": "Autre", "birth_date": "1970-01-01"},
    ],
)
def test_same_identifier_is_a_match(
    overrides: dict[str, str], client_for: Any, nadia_file: Person
) -> None:
    response = client_for("ines").post(NEW_URL, identity(**overrides))
    assert "Cette personne a peut-être déjà un dossier" in response.content.decode()


def test_other_persons_are_not_proposed(client_for: Any, nadia_file: Person) -> None:
    # Same birth date, different person; and a namesake born another day.
    for data in (
        identity(birth_date="1988-04-12"),
        identity(first_name="Nadia", last_name="Belkacem", birth_date="1989-04-12"),
    ):
        response = client_for("ines").post(NEW_URL, data)
        assert response.status_code == 302
    assert Person.objects.count() == 3


def test_creating_anyway_needs_the_confirmation(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    data = identity(first_name="Nadia", last_name="Belkacem", birth_date="1988-04-12")
    karim = client_for("karim")
    assert karim.post(NEW_URL, data).status_code == 200
    response = karim.post(NEW_URL, {**data, "confirm_new": "on"})
    assert response.status_code == 302
    person = Person.objects.exclude(pk=nadia_file.pk).get()
    assert person.organisation.name == "CAF du Var"
    member = TeamMember.objects.get(person=person)
    assert member.user == personas["karim"] and member.accompaniment.state == State.PROPOSED
    created = AuditEvent.objects.get(kind=AuditKind.PERSON_CREATED, person_id=person.pk)
    assert created.details["matches_ignored"] == [nadia_file.pk]
    assert karim.get(response["Location"]).status_code == 200


def test_a_match_in_another_departement_is_not_shown(client_for: Any, nadia_file: Person) -> None:
    response = client_for("sophie").post(
        NEW_URL, identity(first_name="Nadia", last_name="Belkacem", birth_date="1988-04-12")
    )
    assert response.status_code == 302  # Quimper's Sophie: Nadia of the Var stays invisible


def test_bad_input_gets_french_messages_and_writes_nothing(
    client_for: Any, nadia_file: Person
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client_for("ines").post(
        NEW_URL, identity(birth_date=tomorrow, nir="1 85 09 83 137 123 00", first_name="")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "La date de naissance ne peut pas être dans le futur." in body
    assert "Ce NIR (numéro de sécurité sociale) n&#x27;est pas valide" in body
    assert "Indiquez le prénom." in body
    assert Person.objects.count() == 1


def test_the_nir_is_hashed_and_encrypted(client_for: Any) -> None:
    from stdnum.fr import nir as stdnum_nir

    body = "1850983137123"
    nir = body + stdnum_nir.calc_check_digits(body)
    response = client_for("marc").post(
        NEW_URL, identity(nir=f"{nir[:1]} {nir[1:]}", role="social_worker")
    )
    assert response.status_code == 302
    person = Person.objects.get(last_name="Moreau")
    assert person.nir_hash == crypto.identifier_hash(nir)
    assert nir not in person.nir_encrypted
    assert person.nir == nir


def test_a_wrong_encryption_key_stops_the_start(settings: Any) -> None:
    settings.PERSON_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="PERSON_ENCRYPTION_KEY"):
        crypto.check_keys()
    settings.PERSON_ENCRYPTION_KEY = crypto.derived_key("x", "encryption")
    settings.PERSON_MATCHING_KEY = "short"
    with pytest.raises(ImproperlyConfigured, match="PERSON_MATCHING_KEY"):
        crypto.check_keys()


def test_a_note_of_100000_characters_is_refused_and_kept(
    client_for: Any, nadia_file: Person
) -> None:
    text = "x" * 100_000
    response = client_for("ines").post(
        reverse("support:note_add", args=[nadia_file.pk]),
        {"date": "2026-01-05", "medium": "phone", "text": text},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f"La note compte 100000 caractères : le maximum est {NOTE_MAX_LENGTH}" in body
    assert text in body  # nothing lost: the text is still in the form
    assert not Note.objects.filter(text=text).exists()


def test_household_child_with_a_future_birth_date_is_refused(
    client_for: Any, nadia_file: Person
) -> None:
    url = reverse("people:household_add", args=[nadia_file.pk])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    refused = client_for("ines").post(
        url, {"relation": "child", "first_name": "Lina", "birth_date": tomorrow}
    )
    assert "La date de naissance ne peut pas être dans le futur." in refused.content.decode()
    ok = client_for("ines").post(
        url, {"relation": "child", "first_name": "Lina", "birth_date": "2024-02-02"}
    )
    assert ok.status_code == 302
    assert nadia_file.household.filter(first_name="Lina", birth_date=date(2024, 2, 2)).exists()


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_a_signed_consent_document_is_checked_by_its_content(
    client_for: Any, nadia_file: Person, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    url = reverse("people:consent_add", args=[nadia_file.pk])
    ines = client_for("ines")
    base = {"scope": "childcare_caf", "method": "signed_document", "given_on": "2026-01-05"}
    fake = SimpleUploadedFile("consentement.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    refused = ines.post(url, {**base, "document": fake})
    assert "n&#x27;est ni un PDF ni une image PNG ou JPEG" in refused.content.decode()
    missing = ines.post(url, base)
    assert "Joignez le document signé (PDF ou image)." in missing.content.decode()
    refer = ines.post(url, {**base, "scope": "refer_to_organisation", "method": "oral"})
    assert "Choisissez l&#x27;organisation" in refer.content.decode()
    ok = ines.post(url, {**base, "document": SimpleUploadedFile("c.pdf", PDF, "application/pdf")})
    assert ok.status_code == 302
    consent = Consent.objects.get(person=nadia_file, scope="childcare_caf")
    download = ines.get(reverse("people:consent_document", args=[nadia_file.pk, consent.pk]))
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]
    assert (
        client_for("karim")
        .get(reverse("people:consent_document", args=[nadia_file.pk, consent.pk]))
        .status_code
        == 404
    )


def test_a_too_large_document_is_refused(
    client_for: Any, nadia_file: Person, settings: Any
) -> None:
    settings.CONSENT_DOCUMENT_MAX_BYTES = 1000
    big = SimpleUploadedFile("c.pdf", PDF + b"0" * 2000, "application/pdf")
    response = client_for("ines").post(
        reverse("people:consent_add", args=[nadia_file.pk]),
        {
            "scope": "share_file",
            "method": "signed_document",
            "given_on": "2026-01-05",
            "document": big,
        },
    )
    body = response.content.decode()
    assert "Le document pèse" in body and "octets au plus" in body


def test_each_candidate_shown_is_a_logged_read_and_a_confirmed_file_logs_none(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    data = identity(first_name="Nadia", last_name="Belkacem", birth_date="1988-04-12")
    reads = AuditEvent.objects.filter(
        kind=AuditKind.READ,
        person_id=nadia_file.pk,
        actor=personas["karim"],
        what="Identité minimale : doublon possible à la création d'un dossier",
    )
    karim = client_for("karim")
    karim.post(NEW_URL, data)
    assert reads.count() == 1
    karim.post(NEW_URL, {**data, "confirm_new": "on"})
    assert reads.count() == 1  # confirmed: the candidates are not shown again
