"""Who is told of each step of a referral, in-app and by e-mail (``notify``).

Titles and bodies name the kind of event and the organisations, never the person nor any
detail of the file: those stay behind login, on the referral's page. Structures without an
account are not users: they receive their e-mails (with a signed link) through Django's mail
API directly, not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from django.urls import reverse
from django.utils import timezone

from binome.accounts.models import User
from binome.notifications.actions import Notice, notify, notify_many
from binome.notifications.models import Notification, NotificationKind
from binome.organisations.models import Membership, Role, TerritoryRole, TerritoryRoleKind
from binome.referrals.dedicated import dedicated_counselors, reaches_dedicated_counselors
from binome.referrals.models import Referral, ReferralKind, urgent_line


def _url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def receivers(referral: Referral) -> list[User]:
    """Who answers: the member it is assigned to, else the receiving organisation's active
    members (its dedicated counselors for an orientation to the binôme at France Travail), or
    the territory's orientation managers for a reorientation request."""
    if referral.assigned_to_id is not None and referral.assigned_to is not None:
        return [referral.assigned_to]
    if referral.kind == ReferralKind.REORIENTATION:
        return list(
            User.objects.filter(
                pk__in=TerritoryRole.objects.filter(
                    department_id=referral.department_id,
                    role=TerritoryRoleKind.ORIENTATION_MANAGER,
                ).values("user_id"),
                is_active=True,
            )
        )
    if referral.to_organisation_id is None:
        return []
    if reaches_dedicated_counselors(referral):
        return list(dedicated_counselors(referral.to_organisation_id))
    return list(
        User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(organisation_id=referral.to_organisation_id)
            .values("user_id")
        )
    )


def dispatchers(referral: Referral) -> list[User]:
    """Who is reminded of an unanswered referral: the member it is assigned to, else the
    receiving organisation's administrators (they dispatch the inbox; all its members when it
    has none), or the territory's orientation managers. A reminder to every member of a
    large organisation would be noise that teaches people to ignore reminders."""
    if (
        referral.assigned_to_id is not None
        or referral.kind == ReferralKind.REORIENTATION
        or referral.to_organisation_id is None
    ):
        return receivers(referral)
    admins = list(
        User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(organisation_id=referral.to_organisation_id, role=Role.ADMIN)
            .values("user_id"),
            is_active=True,
        )
    )
    return admins or receivers(referral)


def _send(
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str,
    referral: Referral,
    *,
    actor: User | None,
    dedup: str = "",
) -> list[Notification]:
    return notify(
        recipients=recipients,
        kind=kind,
        title=title,
        body=body,
        url=_url(referral),
        dedup_key=f"referral-{referral.pk}-{dedup}" if dedup else None,
        actor=actor,
    )


def received(referral: Referral, *, actor: User | None) -> None:
    sender = referral.sender_organisation.name
    if referral.kind == ReferralKind.REORIENTATION:
        title = "Nouvelle demande de réorientation"
        body = f"{sender} demande la réorientation d'une personne accompagnée."
    else:
        title = "Nouvelle orientation reçue"
        body = f"{sender} vous oriente une personne ({referral.get_kind_display().lower()})."
    urgent = urgent_line(referral)
    if urgent:
        title = f"{title} (urgente)"
        body += f" {urgent}"
    else:
        body += f" Réponse attendue avant le {referral.due_on:%d/%m/%Y}."
    _send(
        receivers(referral),
        NotificationKind.REFERRAL_RECEIVED,
        title,
        body,
        referral,
        actor=actor,
        dedup="received",
    )


def answered(referral: Referral, *, actor: User | None) -> None:
    """The sender learns the answer (accepted or declined)."""
    verb = "acceptée" if referral.status == "accepted" else "refusée"
    _send(
        [referral.sender],
        NotificationKind.REFERRAL_ANSWERED,
        f"Orientation {verb} par {referral.target_label}",
        f"Votre orientation du {referral.sent_at:%d/%m/%Y} a été {verb}.",
        referral,
        actor=actor,
        dedup=f"answered-{referral.status}",
    )


def reminder_notice(referral: Referral, recipient_ids: Collection[int]) -> Notice:
    """The reminder of an unanswered referral, to its dispatchers."""
    return Notice(
        recipient_ids=recipient_ids,
        kind=NotificationKind.REFERRAL_REMINDER,
        title="Orientation en attente de réponse",
        body=f"Une orientation de {referral.sender_organisation.name} attend votre réponse "
        f"depuis le {referral.sent_at:%d/%m/%Y}. Elle expirera le "
        f"{referral.expires_on:%d/%m/%Y}.",
        url=_url(referral),
        dedup_key=f"referral-{referral.pk}-reminder",
    )


def urgent_half_notice(referral: Referral, recipient_ids: Collection[int]) -> Notice:
    """An urgent referral at half of its delay without an answer, to its dispatchers."""
    return Notice(
        recipient_ids=recipient_ids,
        kind=NotificationKind.REFERRAL_REMINDER,
        title="Orientation urgente en attente de réponse",
        body=f"Une orientation urgente de {referral.sender_organisation.name} attend votre "
        f"réponse depuis le {timezone.localtime(referral.sent_at):%d/%m/%Y à %H:%M}. "
        f"{urgent_line(referral)}",
        url=_url(referral),
        dedup_key=f"referral-{referral.pk}-urgent-half",
    )


def urgent_due_notice(referral: Referral, recipient_ids: Collection[int]) -> Notice:
    """An urgent referral past its due time without an answer, to its dispatchers."""
    return Notice(
        recipient_ids=recipient_ids,
        kind=NotificationKind.REFERRAL_REMINDER,
        title="Orientation urgente sans réponse dans le délai",
        body=f"Une orientation urgente de {referral.sender_organisation.name} attend votre "
        f"réponse : le délai est dépassé. {urgent_line(referral)} Elle expirera le "
        f"{referral.expires_on:%d/%m/%Y}.",
        url=_url(referral),
        dedup_key=f"referral-{referral.pk}-urgent-due",
    )


def nudged(referral: Referral, *, actor: User | None, key: str) -> None:
    """« Relancer »: the sender's side reminds the receiving side (who received it)."""
    body = (
        f"{referral.sender_organisation.name} vous relance : son orientation du "
        f"{timezone.localtime(referral.sent_at):%d/%m/%Y} attend votre réponse."
    )
    urgent = urgent_line(referral)
    body += f" {urgent}" if urgent else f" Réponse attendue avant le {referral.due_on:%d/%m/%Y}."
    _send(
        receivers(referral),
        NotificationKind.REFERRAL_REMINDER,
        "Relance d'une orientation en attente",
        body,
        referral,
        actor=actor,
        dedup=f"nudge-{key}",
    )


def expiry_notice(referral: Referral, dispatcher_ids: Collection[int]) -> Notice:
    """The expiry of an unanswered referral, to its sender and its dispatchers."""
    return Notice(
        recipient_ids=[referral.sender_id, *dispatcher_ids],
        kind=NotificationKind.REFERRAL_EXPIRED,
        title="Orientation expirée sans réponse",
        body=f"L'orientation du {referral.sent_at:%d/%m/%Y} vers {referral.target_label} a "
        "expiré sans réponse.",
        url=_url(referral),
        dedup_key=f"referral-{referral.pk}-expired",
    )


def reminded(referral: Referral) -> None:
    notify_many([reminder_notice(referral, [user.pk for user in dispatchers(referral)])])


def expired(referral: Referral) -> None:
    notify_many([expiry_notice(referral, [user.pk for user in dispatchers(referral)])])


def dispatchers_of(referrals: Iterable[Referral]) -> dict[int, list[int]]:
    """:func:`dispatchers` of many referrals (their ids, by referral id), in two queries at
    most whatever their number: the active members of the receiving organisations, and the
    orientation managers of the territories of the reorientation requests."""
    referrals = list(referrals)
    organisation_ids = {
        r.to_organisation_id
        for r in referrals
        if r.assigned_to_id is None
        and r.kind != ReferralKind.REORIENTATION
        and r.to_organisation_id is not None
    }
    department_ids = {
        r.department_id
        for r in referrals
        if r.assigned_to_id is None and r.kind == ReferralKind.REORIENTATION
    }
    members: dict[int, list[int]] = defaultdict(list)
    admins: dict[int, list[int]] = defaultdict(list)
    if organisation_ids:
        for organisation_id, user_id, role in (
            Membership.objects.active()
            .filter(organisation_id__in=organisation_ids)
            .order_by("organisation_id", "user_id")
            .values_list("organisation_id", "user_id", "role")
        ):
            members[organisation_id].append(user_id)
            if role == Role.ADMIN:
                admins[organisation_id].append(user_id)
    managers: dict[str, list[int]] = defaultdict(list)
    if department_ids:
        for department_id, user_id in (
            TerritoryRole.objects.filter(
                department_id__in=department_ids,
                role=TerritoryRoleKind.ORIENTATION_MANAGER,
                user__is_active=True,
            )
            .order_by("department_id", "user_id")
            .values_list("department_id", "user_id")
        ):
            managers[department_id].append(user_id)
    found: dict[int, list[int]] = {}
    for r in referrals:
        if r.assigned_to_id is not None:
            found[r.pk] = [r.assigned_to_id]
        elif r.kind == ReferralKind.REORIENTATION:
            found[r.pk] = list(dict.fromkeys(managers[r.department_id]))
        elif r.to_organisation_id is not None:
            organisation_id = r.to_organisation_id
            found[r.pk] = list(dict.fromkeys(admins[organisation_id] or members[organisation_id]))
        else:
            found[r.pk] = []
    return found


def outcome(referral: Referral, *, actor: User | None) -> None:
    """The sender learns what became of it (started, completed, abandoned, no-show)."""
    _send(
        [referral.sender],
        NotificationKind.REFERRAL_OUTCOME,
        f"Orientation vers {referral.target_label} : {referral.get_status_display().lower()}",
        f"{referral.target_label} indique la suite de votre orientation du "
        f"{referral.sent_at:%d/%m/%Y} : {referral.get_status_display().lower()}.",
        referral,
        actor=actor,
        dedup=f"outcome-{referral.status}",
    )


def withdrawn(referral: Referral, *, actor: User | None) -> None:
    _send(
        receivers(referral),
        NotificationKind.REFERRAL_OUTCOME,
        "Orientation retirée",
        f"{referral.sender_organisation.name} a retiré son orientation du "
        f"{referral.sent_at:%d/%m/%Y} : aucune réponse n'est plus attendue.",
        referral,
        actor=actor,
        dedup="withdrawn",
    )


def assigned(referral: Referral, *, actor: User | None) -> None:
    if referral.assigned_to is None:
        return
    _send(
        [referral.assigned_to],
        NotificationKind.REFERRAL_ASSIGNED,
        "Une orientation vous est attribuée",
        f"Une orientation de {referral.sender_organisation.name} vous est attribuée ; réponse "
        f"attendue avant le {referral.due_on:%d/%m/%Y}.",
        referral,
        actor=actor,
        dedup=f"assigned-{referral.assigned_to_id}",
    )
