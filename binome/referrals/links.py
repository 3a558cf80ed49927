"""Signed, expiring links for the structures of the directory that have no account.

A referral to such a structure is e-mailed to its contact address with a link that opens
that referral only: the structure accepts or declines it, then reports the start and the
outcome, through the referrals' actions (``by=None, via="link"``).

The token is ``django.core.signing`` (HMAC with ``SECRET_KEY``, a salt of its own, a
timestamp): it carries the referral's id and the nonce of a :class:`ReferralLink` row.

- **forged**: the signature does not match (or the payload is not ours);
- **expired**: signed by us, older than ``REFERRAL_LINK_DAYS``;
- **revoked**: signed by us, but a newer link was sent since (re-sending revokes);
- **used**: the step the page was opened for was already recorded (double submission,
  a colleague who answered first): nothing changes, the page says so.

The signature is compared in constant time by ``signing``; the nonce is only looked up
once the signature holds. Refused openings are written to the audit log and counted per
address: past ``REFERRAL_LINK_MAX_REFUSALS`` in ten minutes the address is told to wait.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from binome.access.audit import client_ip, record
from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.notifications.emails import send_each
from binome.referrals.models import (
    EventAction,
    Referral,
    ReferralLink,
    Status,
    Via,
    urgent_line,
)
from binome.referrals.records import lock, record_event, trace

logger = logging.getLogger(__name__)

SALT = "binome.referrals.link"
REFUSAL_WINDOW = timedelta(minutes=10)

LinkState = Literal["ok", "forged", "expired", "revoked"]


def max_age() -> int:
    return settings.REFERRAL_LINK_DAYS * 86400


def make_token(link: ReferralLink) -> str:
    """A fresh signature of the link (its validity counts from now)."""
    return signing.dumps({"r": link.referral_id, "n": link.nonce}, salt=SALT)


def absolute_url(token: str) -> str:
    return settings.BASE_URL + reverse("referral_links:open", args=[token])


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    link: ReferralLink | None = None

    @property
    def referral(self) -> Referral | None:
        return self.link.referral if self.link is not None else None


def _payload(token: str, *, max_age_seconds: int | None) -> tuple[int, str] | None:
    data: Any = signing.loads(token, salt=SALT, max_age=max_age_seconds)
    if not isinstance(data, dict):
        return None
    referral_id, nonce = data.get("r"), data.get("n")
    if not isinstance(referral_id, int) or not isinstance(nonce, str):
        return None
    return referral_id, nonce


def check_token(token: str) -> LinkCheck:
    """What the token is worth. ``link`` is set for a genuine link, even expired or revoked
    (the page then names the sender, who can send a new one)."""
    if len(token) > 300:
        return LinkCheck("forged")
    state: LinkState = "ok"
    try:
        payload = _payload(token, max_age_seconds=max_age())
    except signing.SignatureExpired:
        state = "expired"
        try:
            payload = _payload(token, max_age_seconds=None)
        except signing.BadSignature:
            return LinkCheck("forged")
    except signing.BadSignature:
        return LinkCheck("forged")
    if payload is None:
        return LinkCheck("forged")
    referral_id, nonce = payload
    link = (
        ReferralLink.objects.select_related(
            "referral",
            "referral__person",
            "referral__person__commune",
            "referral__sender",
            "referral__sender_organisation",
            "referral__structure",
            "referral__service",
        )
        .filter(referral_id=referral_id, nonce=nonce)
        .first()
    )
    if link is None:
        return LinkCheck("forged")
    if state == "ok" and link.revoked_at is not None:
        state = "revoked"
    return LinkCheck(state, link)


def too_many_refusals(request: HttpRequest) -> bool:
    """The address tried too many bad links lately (counted in the audit log)."""
    ip = client_ip(request)
    if ip is None:
        return False
    since = timezone.now() - REFUSAL_WINDOW
    recent = AuditEvent.objects.filter(
        kind=AuditKind.REFERRAL_LINK_REFUSED, ip_address=ip, created_at__gte=since
    )
    return recent.count() >= settings.REFERRAL_LINK_MAX_REFUSALS


def record_refusal(request: HttpRequest, check: LinkCheck) -> None:
    referral = check.referral
    record(
        AuditKind.REFERRAL_LINK_REFUSED,
        actor_label="Lien sécurisé",
        department_id=referral.department_id if referral is not None else None,
        target=referral,
        what=f"Lien d'orientation refusé : {REFUSAL_LABELS[check.state]}",
        request=request,
        details={"state": check.state},
    )


REFUSAL_LABELS = {
    "forged": "lien falsifié ou incomplet",
    "expired": "lien expiré",
    "revoked": "lien remplacé par un plus récent",
    "ok": "",
}


def structure_label(referral: Referral) -> str:
    return f"{referral.target_label} (lien sécurisé)"


def record_opening(request: HttpRequest, link: ReferralLink, what: str) -> None:
    """A read of the person's data by someone outside Binôme: logged as a read, like any
    other (the person's « who saw my file » lists it, under the structure's name)."""
    referral = link.referral
    record(
        AuditKind.READ,
        actor_label=structure_label(referral),
        department_id=referral.department_id,
        target=referral,
        person_id=referral.person_id,
        what=what,
        request=request,
        details={"link": link.pk, "via": "link"},
    )
    ReferralLink.objects.filter(pk=link.pk).update(opened_at=timezone.now())


def person_label(referral: Referral) -> str:
    """The minimal identity shown to a structure without an account: first name and the
    initial of the last name."""
    person = referral.person
    initial = (person.last_name or "").strip()[:1].upper()
    return f"{person.first_name} {initial}." if initial else person.first_name


# --- Sending -----------------------------------------------------------------------------


def _message(
    referral: Referral, link: ReferralLink, *, template: str, subject: str
) -> EmailMultiAlternatives:
    token = make_token(link)
    context = {
        "referral": referral,
        "link_url": absolute_url(token),
        "valid_until": timezone.localdate() + timedelta(days=settings.REFERRAL_LINK_DAYS),
        "person_label": person_label(referral),
        "sender": referral.sender,
        "sender_organisation": referral.sender_organisation,
        "urgent_line": urgent_line(referral),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"referrals/link/email/{template}.txt", context),
        to=[link.email],
        reply_to=[referral.sender.email] if referral.sender.email else None,
    )
    message.attach_alternative(
        render_to_string(f"referrals/link/email/{template}.html", context), "text/html"
    )
    return message


def _send_on_commit(message: EmailMultiAlternatives) -> None:
    def send() -> None:
        try:
            message.send()
        except Exception:  # a refused e-mail never breaks the page; the sender can resend
            logger.exception("Orientation : e-mail du lien sécurisé non envoyé")

    transaction.on_commit(send)


def _new_link(referral: Referral, *, by: User | None) -> ReferralLink:
    now = timezone.now()
    ReferralLink.objects.filter(referral=referral, revoked_at__isnull=True).update(revoked_at=now)
    return ReferralLink.objects.create(
        referral=referral,
        nonce=secrets.token_urlsafe(24),
        email=referral.contact_email,
        sent_at=now,
        sent_by=by,
    )


def _check_sendable(referral: Referral) -> None:
    if referral.has_account:
        raise ValidationError(
            f"« {referral.target_label} » répond dans Binôme : elle n'a pas besoin de lien."
        )
    if not referral.contact_email:
        raise ValidationError(f"« {referral.target_label} » n'a pas d'adresse e-mail.")
    if not referral.is_open:
        raise ValidationError(
            f"Cette orientation est close ({referral.get_status_display().lower()}) : "
            "il n'y a plus de lien à envoyer."
        )


@transaction.atomic
def send_link(
    *, referral: Referral, by: User | None, request: HttpRequest | None = None
) -> ReferralLink:
    """Create the referral's link (revoking any earlier one) and e-mail it to the
    structure once the transaction commits. Used when the referral is sent, and by
    « Renvoyer le lien »."""
    locked = lock(referral)
    _check_sendable(locked)
    first = not ReferralLink.objects.filter(referral=locked).exists()
    link = _new_link(locked, by=by)
    if first:
        # Part of the sending: its « sent » step and timeline line already say it.
        record(
            AuditKind.REFERRAL_LINK_SENT,
            actor=by,
            organisation=locked.sender_organisation,
            department_id=locked.department_id,
            target=locked,
            person_id=locked.person_id,
            what=f"Lien sécurisé envoyé à {locked.target_label} ({link.email})",
            request=request,
            details={"link": link.pk},
        )
    else:
        record_event(
            locked,
            action=EventAction.LINK_SENT,
            from_status=locked.status,
            by=by,
            via=Via.APP,
            details={"email": link.email},
        )
        trace(
            locked,
            by=by,
            via=Via.APP,
            summary=f"Nouveau lien sécurisé envoyé à {locked.target_label} ({link.email}) : "
            "le précédent ne fonctionne plus",
            audit_kind=AuditKind.REFERRAL_LINK_SENT,
            request=request,
            details={"link": link.pk},
        )
    subject = (
        f"Orientation de {locked.sender_organisation.name} : une personne vous est orientée"
        if first
        else f"Orientation de {locked.sender_organisation.name} : nouveau lien"
    )
    _send_on_commit(_message(locked, link, template="link", subject=subject))
    return link


def send_reminder(referral: Referral) -> bool:
    """The reminder of an unanswered referral, for a structure without an account: the
    current link, signed anew (call it inside the reminder's transaction)."""
    return send_reminders([referral]) == 1


def send_reminders(referrals: Sequence[Referral]) -> int:
    """:func:`send_reminder` for many referrals: their current links read in one query, the
    e-mails rendered and sent over one connection once the transaction commits. Returns the
    number of e-mails to send (a referral without a current link or address gets none)."""
    by_id = {r.pk: r for r in referrals if r.contact_email}
    if not by_id:
        return 0
    links = list(
        ReferralLink.objects.current().filter(referral_id__in=by_id.keys()).order_by("referral_id")
    )
    if not links:
        return 0

    def send() -> None:
        messages = []
        for link in links:
            referral = by_id[link.referral_id]
            subject = f"Relance : orientation de {referral.sender_organisation.name} sans réponse"
            try:
                message = _message(referral, link, template="reminder", subject=subject)
            except Exception:  # one bad address never stops the others
                logger.exception("Orientation : e-mail de relance non préparé (%s).", link.pk)
                continue
            messages.append((link.pk, message))
        send_each(messages, what="Orientation : e-mail de relance du lien sécurisé")

    transaction.on_commit(send)
    return len(links)


def expected_step(referral: Referral) -> str:
    """What the link's page asks for now: ``answer``, ``start``, ``finish`` or nothing."""
    if referral.status in (Status.SENT, Status.SEEN):
        return "answer"
    if referral.status == Status.ACCEPTED:
        return "start"
    if referral.status == Status.STARTED:
        return "finish"
    return ""
