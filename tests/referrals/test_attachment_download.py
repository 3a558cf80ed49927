"""A referral's attachment is served as the type read from its content, not its name."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from binome.directory.models import Service
from binome.people.models import Person
from tests.referrals.conftest import PDF, consent_to
from tests.referrals.test_actions import send_to_garage


def test_an_attachment_named_html_is_served_as_the_pdf_it_is(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    garage: Service,
    client_for: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    upload = SimpleUploadedFile("Relevé de situation.html", PDF, "text/html")
    referral = send_to_garage(personas, orgs, nadia_file, garage, attachments=[upload])
    attachment = referral.attachments.get()
    served = client_for("ines").get(
        reverse("referrals:attachment", args=[referral.pk, attachment.pk])
    )
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == 'attachment; filename="Releve-de-situation.pdf"'
    assert b"".join(served.streaming_content) == PDF  # type: ignore[attr-defined]
