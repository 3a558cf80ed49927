"""A signed consent's document: checked by its content, stored and served as what it is."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from binome.people.models import Consent, Person
from binome.support import actions

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
BASE = {"scope": "childcare_caf", "method": "signed_document", "given_on": "2026-01-05"}


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _stored(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "extension", "content_type"),
    [
        ("photo.png", PDF, "pdf", "application/pdf"),
        ("scan.pdf", PNG, "png", "image/png"),
        ("consentement.html", PDF, "pdf", "application/pdf"),
    ],
)
def test_a_document_is_stored_and_served_as_the_type_of_its_content(
    client_for: Any,
    nadia_file: Person,
    media: Path,
    name: str,
    content: bytes,
    extension: str,
    content_type: str,
) -> None:
    ines = client_for("ines")
    posted = ines.post(
        reverse("people:consent_add", args=[nadia_file.pk]),
        {**BASE, "document": SimpleUploadedFile(name, content, "text/html")},
    )
    assert posted.status_code == 302
    consent = Consent.objects.get(person=nadia_file, scope="childcare_caf")
    assert consent.document.name.endswith(f".{extension}")
    assert [path.suffix for path in _stored(media)] == [f".{extension}"]

    served = ines.get(reverse("people:consent_document", args=[nadia_file.pk, consent.pk]))
    assert served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff"
    assert (
        served["Content-Disposition"]
        == f'attachment; filename="consentement-{consent.pk}.{extension}"'
    )
    assert b"".join(served.streaming_content) == content  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("consentement.html", HTML, "Le document n&#x27;est ni un PDF ni une image PNG ou JPEG"),
        ("signature.svg", SVG, "Le document n&#x27;est ni un PDF ni une image PNG ou JPEG"),
        ("consentement.pdf", EXE, "Le document n&#x27;est ni un PDF ni une image PNG ou JPEG"),
        ("consentement.pdf", b"", "Le document signé est vide"),
    ],
)
def test_anything_else_is_refused_and_nothing_is_written(
    client_for: Any, nadia_file: Person, media: Path, name: str, content: bytes, message: str
) -> None:
    refused = client_for("ines").post(
        reverse("people:consent_add", args=[nadia_file.pk]),
        {**BASE, "document": SimpleUploadedFile(name, content, "application/pdf")},
    )
    assert refused.status_code == 200
    assert message in refused.content.decode()
    assert not Consent.objects.filter(person=nadia_file, scope="childcare_caf").exists()
    assert _stored(media) == []


def test_the_action_checks_the_content_too(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, media: Path
) -> None:
    """Whoever calls it, the action refuses a document that is not a PDF or an image."""
    with pytest.raises(ValidationError, match="Le document signé n'est ni un PDF"):
        actions.record_consent(
            person=nadia_file,
            scope="childcare_caf",
            method="signed_document",
            given_on=date(2026, 1, 5),
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
            document=SimpleUploadedFile("scan.pdf", HTML, "application/pdf"),
        )
    assert not Consent.objects.filter(person=nadia_file, scope="childcare_caf").exists()
    assert _stored(media) == []
