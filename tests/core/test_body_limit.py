"""Request bodies are capped by URL before they are read: 413 and nothing written."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from binome.access.models import AuditEvent
from binome.core.middleware import body_limit
from binome.directory.import_views import ImportForm
from binome.directory.imports import MAX_FILE_BYTES
from binome.people.models import Consent, Person
from binome.referrals.actions import MAX_ATTACHMENTS
from binome.support.models import Note

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def nadia_file(personas: dict[str, Any]) -> Person:
    return Person.objects.get(user=personas["nadia"])


class CountingStream(io.BytesIO):
    """A body as a server hands it: counts what was read of it."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_an_oversized_body_is_refused_before_it_is_read(
    client_for: Any, nadia_file: Person
) -> None:
    ines = client_for("ines")
    lines_before = AuditEvent.objects.count()
    text = "x" * (5 * MB)  # a note's page takes a few Mo at most
    response = ines.post(
        reverse("support:note_add", args=[nadia_file.pk]),
        {"date": "2026-01-05", "medium": "phone", "text": text},
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "Envoi trop volumineux" in body and "(4,0\xa0Mio au plus)" in body
    assert not Note.objects.filter(text=text).exists()
    assert AuditEvent.objects.count() == lines_before


def test_a_consent_document_too_large_for_the_page_is_refused_and_not_stored(
    client_for: Any, nadia_file: Person, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    huge = SimpleUploadedFile("c.pdf", PDF + b"0" * (7 * MB), "application/pdf")
    response = client_for("ines").post(
        reverse("people:consent_add", args=[nadia_file.pk]),
        {
            "scope": "childcare_caf",
            "method": "signed_document",
            "given_on": "2026-01-05",
            "document": huge,
        },
    )
    assert response.status_code == 413
    assert not Consent.objects.filter(person=nadia_file, scope="childcare_caf").exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_a_legitimate_upload_above_the_general_cap_goes_through(
    client_for: Any, nadia_file: Person, settings: Any, tmp_path: Path
) -> None:
    """A signed consent of 4.5 Mo: more than the general cap, less than its page's."""
    settings.MEDIA_ROOT = tmp_path
    document = SimpleUploadedFile("c.pdf", PDF + b"0" * (9 * MB // 2), "application/pdf")
    response = client_for("ines").post(
        reverse("people:consent_add", args=[nadia_file.pk]),
        {
            "scope": "childcare_caf",
            "method": "signed_document",
            "given_on": "2026-01-05",
            "document": document,
        },
    )
    assert response.status_code == 302
    assert Consent.objects.get(person=nadia_file, scope="childcare_caf").document


def test_a_chunked_body_is_not_read_past_the_cap(
    client_for: Any, nadia_file: Person, settings: Any
) -> None:
    stream = CountingStream(6 * MB)
    response = client_for("ines").generic(
        "POST",
        reverse("support:note_add", args=[nadia_file.pk]),
        b"",
        content_type="application/x-www-form-urlencoded",
        **{"wsgi.input": stream, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 413
    assert stream.bytes_read == settings.REQUEST_BODY_MAX_BYTES + 1


def test_the_pages_that_take_files_have_room_for_them(settings: Any) -> None:
    factory = RequestFactory()
    imports = factory.post(reverse("directory:import_list", args=["83"]))
    files = [
        name for name, field in ImportForm.base_fields.items() if field.widget.needs_multipart_form
    ]
    assert body_limit(imports) > len(files) * MAX_FILE_BYTES
    referral = factory.post(reverse("referrals:create", args=[1]))
    assert body_limit(referral) > MAX_ATTACHMENTS * settings.REFERRAL_ATTACHMENT_MAX_BYTES
    consent = factory.post(reverse("people:consent_add", args=[1]))
    assert body_limit(consent) > settings.CONSENT_DOCUMENT_MAX_BYTES
    note = factory.post(reverse("support:note_add", args=[1]))
    assert body_limit(note) == settings.REQUEST_BODY_MAX_BYTES
