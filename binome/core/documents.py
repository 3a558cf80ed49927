"""Uploaded documents (signed consents, referral attachments): their type is read from
their content, never from their name, and they are stored and served as that type."""

from __future__ import annotations

import unicodedata
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat

# Magic numbers of the accepted documents: the content decides, not the name.
DOCUMENT_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def document_type(upload: IO[bytes] | UploadedFile) -> str | None:
    """The document's type read from its first bytes (PDF, PNG, JPEG), or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, kind in DOCUMENT_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def check_document(upload: UploadedFile, *, limit: int, label: str = "Le document") -> str:
    """The type of an uploaded PDF or image (read from its content), or a French
    ``ValidationError`` naming ``label`` when it is empty, too large or not what it says."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError(f"{label} est vide : joignez un PDF ou une image PNG ou JPEG.")
    if size > limit:
        raise ValidationError(
            f"{label} pèse {filesizeformat(size)} : {filesizeformat(limit)} au plus."
        )
    kind = document_type(upload)
    if kind is None:
        raise ValidationError(
            f"{label} n'est ni un PDF ni une image PNG ou JPEG (son contenu a été vérifié, "
            "pas seulement son nom)."
        )
    return kind


def document_response(file: IO[bytes], *, kind: str, filename: str) -> FileResponse:
    """A stored document served as its detected type, to be saved rather than shown:
    ``Content-Type`` from ``kind`` (not from a name a user chose), no sniffing by the
    browser, and a file name made of ``filename`` (ASCII, no quotes) and the type's
    extension. An unknown ``kind`` is served as opaque bytes."""
    content_type = CONTENT_TYPES.get(kind, "application/octet-stream")
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in ascii_name)[:100]
    extension = kind if kind in CONTENT_TYPES else "bin"
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"{stem.strip('-') or 'document'}.{extension}",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
