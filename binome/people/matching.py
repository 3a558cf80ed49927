"""Identity matching before a new file is created: the existing files the new person may
be, shown to the professional (by the person form and by the referral to someone new)."""

from __future__ import annotations

from typing import Any

from binome.access.audit import record_read
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.people.models import Person

CANDIDATES_SHOWN = 10


def matching_candidates(
    request: AuthenticatedRequest, organisation: Organisation, data: dict[str, Any], *, why: str
) -> list[Person]:
    """The existing files a new person may be (same identifier, or same birth date and
    similar names) in the organisation's département. Unless the user already confirmed a
    new file, the minimal identity of each is about to be shown: each is a logged read."""
    candidates = list(
        Person.objects.matching(
            department_id=organisation.department_id,
            first_name=data["first_name"],
            last_name=data["last_name"],
            birth_name=data.get("birth_name", ""),
            birth_date=data["birth_date"],
            nir=data.get("nir", ""),
            france_travail_id=data.get("france_travail_id", ""),
            caf_number=data.get("caf_number", ""),
        ).select_related("commune")[:CANDIDATES_SHOWN]
    )
    if not data.get("confirm_new"):
        for candidate in candidates:
            record_read(
                request=request,
                obj=candidate,
                person_id=candidate.pk,
                what=f"Identité minimale : doublon possible {why}",
            )
    return candidates
