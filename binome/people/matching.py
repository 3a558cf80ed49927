"""Identity matching before a new file is created: the existing files the new person may
be, shown to the professional (by the person form and by the referral to someone new)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record, record_read
from binome.access.models import AuditEvent, AuditKind
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.people.models import Person

CANDIDATES_SHOWN = 10
# The files a search matched stay reachable (to ask to join their team) for this long.
MATCHED_SESSION_KEY = "binome_matched_persons"
MATCHED_FOR_SECONDS = 30 * 60
SEARCH_WINDOW = timedelta(hours=1)


def remember_matched(request: HttpRequest, person_ids: list[int]) -> None:
    """The files the identity search showed this user: they may ask to join their team."""
    now = time.time()
    kept = {
        key: at
        for key, at in request.session.get(MATCHED_SESSION_KEY, {}).items()
        if now - at < MATCHED_FOR_SECONDS
    }
    kept.update({str(pk): now for pk in person_ids})
    request.session[MATCHED_SESSION_KEY] = kept


def matched_recently(request: HttpRequest, person_id: int) -> bool:
    """The identity search (NIR, or names and birth date) showed this file to the user in
    the last half hour: the only way to reach a file one is not on the team of."""
    at = request.session.get(MATCHED_SESSION_KEY, {}).get(str(person_id))
    return at is not None and time.time() - at < MATCHED_FOR_SECONDS


def _check_search_limit(request: AuthenticatedRequest) -> None:
    """At most ``IDENTITY_SEARCHES_PER_HOUR`` identity searches per user and hour, counted
    on the audit log (each search is a line): beyond, refused with a French message."""
    limit = settings.IDENTITY_SEARCHES_PER_HOUR
    since = timezone.now() - SEARCH_WINDOW
    done = AuditEvent.objects.filter(
        kind=AuditKind.PERSON_FOUND, actor=request.user, created_at__gte=since
    ).count()
    if done >= limit:
        record(
            AuditKind.IDENTITY_SEARCH_REFUSED,
            actor=request.user,
            organisation=getattr(request.current_membership, "organisation", None),
            what=f"Limite de {limit} recherches d'identité par heure atteinte",
            request=request,
        )
        raise ValidationError(
            f"Vous avez fait {limit} recherches de personnes en une heure, la limite : "
            "réessayez plus tard. Ces recherches sont enregistrées au journal d'audit."
        )


def matching_candidates(
    request: AuthenticatedRequest, organisation: Organisation, data: dict[str, Any], *, why: str
) -> list[Person]:
    """The existing files a new person may be (same identifier, or same birth date and
    similar names) in the organisation's département. Unless the user already confirmed a
    new file, the minimal identity of each is about to be shown: each is a logged read.

    Each search is itself a line of the audit log, and limited per user and hour
    (``ValidationError`` beyond). The files shown may then be asked to join
    (:func:`matched_recently`)."""
    _check_search_limit(request)
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
        )
        # A file in the intermediate archive is out of every professional's reach.
        .filter(archived_until__isnull=True)
        .select_related("commune")[:CANDIDATES_SHOWN]
    )
    record(
        AuditKind.PERSON_FOUND,
        actor=request.user,
        organisation=organisation,
        what=f"Recherche d'identité {why} : {len(candidates)} dossier(s) proposé(s)",
        request=request,
        details={"candidates": [candidate.pk for candidate in candidates]},
    )
    remember_matched(request, [candidate.pk for candidate in candidates])
    if not data.get("confirm_new"):
        for candidate in candidates:
            record_read(
                request=request,
                obj=candidate,
                person_id=candidate.pk,
                what=f"Identité minimale : doublon possible {why}",
            )
    return candidates
