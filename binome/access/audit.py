"""Writing the audit log. Every function here adds rows; nothing edits or removes them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest

from binome.access.models import AuditEvent, AuditKind

if TYPE_CHECKING:
    from binome.organisations.models import Organisation


def _ip_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, for the audit log, the login lockouts and the rate limits.

    ``PROXY_COUNT`` reverse proxies of ours stand before Binôme, each appending to
    X-Forwarded-For the address it received the request from: the client is the entry
    the outermost one added, the ``PROXY_COUNT``-th from the right. The entries further
    left come from the client and are never read; without proxies the header is ignored.
    """
    if request is None:
        return None
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = [
            entry.strip()
            for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if entry.strip()
        ]
        if forwarded:
            # Fewer entries than proxies: all of them were written by our proxies.
            address = _ip_or_none(forwarded[-min(proxies, len(forwarded))])
            if address is not None:
                return address
    return _ip_or_none(request.META.get("REMOTE_ADDR") or "")


def audit_row(
    kind: AuditKind | str,
    *,
    actor: Any = None,
    actor_label: str = "",
    organisation: Organisation | None = None,
    department_id: str | None = None,
    target: models.Model | None = None,
    person_id: int | None = None,
    person_ids: Sequence[int] = (),
    what: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """One line of the audit log, not saved yet: :func:`record` appends it at once,
    :func:`record_many` with others."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if organisation is None and request is not None:
        membership = getattr(request, "current_membership", None)
        organisation = membership.organisation if membership else None
    if department_id is None and organisation is not None:
        department_id = organisation.department_id
    return AuditEvent(
        kind=kind,
        actor=actor,
        actor_label=actor_label or (f"{actor} <{actor.email}>" if actor is not None else ""),
        organisation=organisation,
        organisation_label=organisation.name if organisation is not None else "",
        department_id=department_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        person_id=person_id,
        person_ids=sorted(set(person_ids)),
        what=what[:300],
        ip_address=client_ip(request),
        details=details or {},
    )


def record(
    kind: AuditKind | str,
    *,
    actor: Any = None,
    actor_label: str = "",
    organisation: Organisation | None = None,
    department_id: str | None = None,
    target: models.Model | None = None,
    person_id: int | None = None,
    person_ids: Sequence[int] = (),
    what: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one line to the audit log."""
    row = audit_row(
        kind,
        actor=actor,
        actor_label=actor_label,
        organisation=organisation,
        department_id=department_id,
        target=target,
        person_id=person_id,
        person_ids=person_ids,
        what=what,
        request=request,
        details=details,
    )
    row.save(force_insert=True)
    return row


def record_many(rows: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Append many lines (built with :func:`audit_row`) in one INSERT: the periodic jobs'
    form of :func:`record`. Only new lines: a row already in the log is refused."""
    rows = list(rows)
    if any(row.pk is not None or not row._state.adding for row in rows):
        raise PermissionDenied("Le journal d'audit ne se modifie pas.")
    return AuditEvent.objects.bulk_create(rows)


def record_read(
    *,
    request: HttpRequest,
    obj: models.Model,
    person_id: int,
    what: str,
) -> AuditEvent:
    """Record that the current user read (part of) a person's file.

    Used by every page, PDF, API response and export that shows a person's data;
    the person's own space lists these lines ("who accessed my file").
    """
    return record(
        AuditKind.READ,
        actor=request.user,
        target=obj,
        person_id=person_id,
        what=what,
        request=request,
    )


def record_list_read(
    *, request: HttpRequest, person_ids: Iterable[int], what: str
) -> AuditEvent | None:
    """Record that the current user saw the named persons in a list page: one line for the
    page view (``person_ids`` holds them all), found by each person's own page. Nothing
    when the page named nobody."""
    ids = sorted(set(person_ids))
    if not ids:
        return None
    return record(AuditKind.READ, actor=request.user, person_ids=ids, what=what, request=request)


DEFERRED_READS = "_binome_deferred_reads"


def record_read_when_shown(
    *, request: HttpRequest, obj: models.Model, person_id: int, what: str
) -> None:
    """A read of the person's file by a page that also takes a form: a GET is a read at
    once; a POST that shows the page again (a form re-rendered after invalid input: a 200
    or 400 answer, not a redirect) is the same read, written by
    :class:`binome.access.middleware.DeferredReadsMiddleware` once the answer is known.
    A POST of a page without ``what`` (a button) shows nothing of the file."""
    if request.method == "GET":
        record_read(request=request, obj=obj, person_id=person_id, what=what)
    elif request.method == "POST" and what:
        row = audit_row(
            AuditKind.READ,
            actor=request.user,
            target=obj,
            person_id=person_id,
            what=what,
            request=request,
        )
        deferred: list[AuditEvent] = request.__dict__.setdefault(DEFERRED_READS, [])
        deferred.append(row)
