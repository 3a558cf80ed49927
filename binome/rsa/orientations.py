"""RSA's state changes after the import: the orientation decision, the référent de parcours,
the contrat d'engagement's signature.

- :func:`orient` (and :func:`orient_many`, the same decision for several persons at once,
  whole or not at all): the territory's orientation manager decides the kind (emploi,
  socio-professionnelle, sociale) and the referent body, with the national referential's
  criteria, or delegates to France Travail. The decision is notified to the referent body as
  a referral of kind « orientation RSA » (its inbox) and written in the person's timeline
  with its audit row. A new decision for an oriented person is a reorientation: the former
  one is replaced (its referral withdrawn while unanswered) and the clocks start again.
- :func:`designate_referent`: a member of the referent body designates one of its members
  as référent de parcours (the referral is then accepted); the contract is due one month
  after the notification.
- :func:`record_contract_signature`: the date the contrat d'engagement was signed.
- :func:`ask_reorientation`: the orientation the law requires is never refused nor left to
  expire like an ordinary referral; the referent body may only ask, with a reason, for a
  reorientation, which goes back to the orientation managers' « à orienter » page until
  their new decision replaces the orientation.

Each is one transaction; refusals are ``ValidationError`` with a French message.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditKind
from binome.access.predicates import roles_of
from binome.accounts.models import User
from binome.notifications.actions import notify
from binome.notifications.models import NotificationKind
from binome.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.referrals import actions as referral_actions
from binome.referrals.models import ReferralKind
from binome.rsa.models import (
    CONTRACT_MONTHS,
    REFERENT_BODY_KINDS,
    Beneficiary,
    EmploymentSituation,
    Obstacle,
    Orientation,
    OrientationKind,
    Qualification,
)
from binome.support.actions import trace
from binome.support.models import EventKind


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def contract_due(notified_on: datetime.date) -> datetime.date:
    return add_months(notified_on, CONTRACT_MONTHS)


def is_orientation_manager(user: object, department_id: str) -> bool:
    """The user decides the orientations of the département's RSA beneficiaries."""
    return roles_of(user).has_territory_role(department_id, TerritoryRoleKind.ORIENTATION_MANAGER)


def is_referent_body_member(user: object, orientation: Orientation) -> bool:
    """The user is a member of the orientation's referent body: designates its referent and
    records the contract."""
    return orientation.referent_body_id in roles_of(user).member_of


def referent_bodies(department_id: str) -> QuerySet[Organisation]:
    """The organisations of the département that may be a referent body."""
    return Organisation.objects.filter(
        department_id=department_id, is_active=True, kind__in=REFERENT_BODY_KINDS
    ).order_by("kind", "name")


def referent_candidates(organisation_id: int) -> QuerySet[User]:
    """The active members of the referent body, one of whom becomes the referent."""
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organisation_id=organisation_id)
        .values("user_id"),
    ).order_by("last_name", "first_name", "id")


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the orientation manager decided (``kind`` empty when delegated)."""

    referent_body: Organisation
    kind: str = ""
    delegated: bool = False
    employment_situation: str = ""
    qualification: str = ""
    aspirations: str = ""
    obstacles: Sequence[str] = ()

    def check(self, department_id: str) -> None:
        body = self.referent_body
        if self.delegated:
            if body.kind != OrganisationKind.FRANCE_TRAVAIL:
                raise ValidationError(
                    f"« {body.name} » n'est pas une agence France Travail : une orientation "
                    "déléguée l'est à France Travail."
                )
        elif self.kind not in OrientationKind.values:
            raise ValidationError("Choisissez le type d'orientation.")
        if body.kind not in REFERENT_BODY_KINDS or not body.is_active:
            raise ValidationError(f"« {body.name} » ne peut pas être organisme référent.")
        if body.department_id != department_id:
            raise ValidationError(
                f"« {body.name} » n'est pas une organisation du département {department_id}."
            )
        if self.employment_situation and self.employment_situation not in (
            EmploymentSituation.values
        ):
            raise ValidationError("Situation vis-à-vis de l'emploi inconnue.")
        if self.qualification and self.qualification not in Qualification.values:
            raise ValidationError("Niveau de qualification inconnu.")
        unknown = set(self.obstacles) - set(Obstacle.values)
        if unknown:
            raise ValidationError("Frein inconnu : " + ", ".join(sorted(unknown)))

    @property
    def label(self) -> str:
        if self.delegated and not self.kind:
            return "déléguée à France Travail"
        return f"{OrientationKind(self.kind).label.lower()}"


def _reason(decision: Decision, contract_due_on: datetime.date | None) -> str:
    body = decision.referent_body.name
    if decision.delegated:
        text = (
            f"Orientation RSA déléguée à France Travail ({body}) par le département : "
            "France Travail oriente la personne et désigne son référent de parcours."
        )
    else:
        text = (
            f"Orientation RSA {decision.label} décidée par le département ; organisme "
            f"référent : {body}. Désignez le référent de parcours de la personne."
        )
    if contract_due_on is not None:
        text += f" Contrat d'engagement à signer avant le {contract_due_on:%d/%m/%Y}."
    return text


@transaction.atomic
def orient(
    *,
    beneficiary: Beneficiary,
    decision: Decision,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Orientation:
    """Decide (or change) the beneficiary's orientation and notify the referent body."""
    department_id = beneficiary.dossier.department_id
    if not is_orientation_manager(by, department_id):
        raise PermissionDenied
    locked = (
        Beneficiary.objects.select_for_update(of=("self",))
        .select_related("person")
        .get(pk=beneficiary.pk)
    )
    person = locked.person
    name = f"{locked.first_name} {locked.last_name}"
    if person is None:
        raise ValidationError(
            f"{name} est « à rapprocher » : rapprochez-la d'un dossier avant de l'orienter."
        )
    if not locked.subject_to_rights_and_duties:
        raise ValidationError(f"{name} n'est pas soumise aux droits et devoirs.")
    decision.check(department_id)
    now = timezone.now()
    today = timezone.localdate(now)
    former = Orientation.objects.current().filter(beneficiary=locked).first()
    if former is not None:
        _replace(former, by=by, at=now, request=request)
    contract_due_on = None if decision.delegated else contract_due(today)
    referral = referral_actions.send_referral(
        person=person,
        kind=ReferralKind.RSA,
        by=by,
        organisation=organisation,
        to_organisation=decision.referent_body,
        reason=_reason(decision, contract_due_on),
        request=request,
    )
    orientation = Orientation.objects.create(
        beneficiary=locked,
        person=person,
        department_id=department_id,
        kind=decision.kind,
        delegated=decision.delegated,
        referent_body=decision.referent_body,
        employment_situation=decision.employment_situation,
        qualification=decision.qualification,
        aspirations=decision.aspirations.strip(),
        obstacles=list(dict.fromkeys(decision.obstacles)),
        decided_by=by,
        decided_at=now,
        notified_on=today,
        referral=referral,
        contract_due_on=contract_due_on,
    )
    locked.oriented_on = today
    locked.save(update_fields=["oriented_on"])
    verb = "Réorientation RSA" if former is not None else "Orientation RSA"
    trace(
        EventKind.RSA,
        AuditKind.RSA_ORIENTED,
        person=person,
        by=by,
        organisation=organisation,
        target=orientation,
        summary=(
            f"{verb} {decision.label} vers {decision.referent_body.name}, décidée par "
            f"{by.get_full_name()}"
            + (
                f" ; contrat d'engagement attendu avant le {contract_due_on:%d/%m/%Y}"
                if contract_due_on
                else ""
            )
        ),
        request=request,
        details={
            "kind": decision.kind,
            "delegated": decision.delegated,
            "referent_body": decision.referent_body.pk,
            "reorientation": former is not None,
        },
    )
    return orientation


def _replace(
    former: Orientation, *, by: User, at: datetime.datetime, request: HttpRequest | None
) -> None:
    former.replaced_at = at
    former.save(update_fields=["replaced_at"])
    referral = former.referral
    if referral is not None and referral.is_awaiting:
        referral_actions.withdraw(
            referral=referral,
            by=by,
            message="Réorientation décidée par le département.",
            request=request,
        )


@transaction.atomic
def orient_many(
    *,
    beneficiaries: Sequence[Beneficiary],
    decision: Decision,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> list[Orientation]:
    """The same decision for several persons: all of them or none (the first refusal, with
    the person's name, undoes the others)."""
    if not beneficiaries:
        raise ValidationError("Cochez au moins une personne à orienter.")
    return [
        orient(
            beneficiary=beneficiary,
            decision=decision,
            by=by,
            organisation=organisation,
            request=request,
        )
        for beneficiary in beneficiaries
    ]


def _check_receiving_member(orientation: Orientation, by: User) -> Orientation:
    if not is_referent_body_member(by, orientation):
        raise PermissionDenied
    locked = (
        Orientation.objects.select_for_update()
        .select_related("person", "referent_body")
        .get(pk=orientation.pk)
    )
    if locked.replaced_at is not None:
        raise ValidationError("Cette orientation a été remplacée par une réorientation.")
    return locked


@transaction.atomic
def designate_referent(
    *,
    orientation: Orientation,
    referent: User,
    by: User,
    request: HttpRequest | None = None,
) -> Orientation:
    """The referent body designates the person's référent de parcours among its members.
    The referral is accepted with it; a delegated orientation's contract is due one month
    from this designation."""
    locked = _check_receiving_member(orientation, by)
    body = locked.referent_body
    if not referent_candidates(body.pk).filter(pk=referent.pk).exists():
        raise ValidationError(
            f"{referent.get_full_name()} n'est pas membre de « {body.name} » : choisissez le "
            "référent parmi ses membres."
        )
    now = timezone.now()
    changed = locked.referent_id is not None and locked.referent_id != referent.pk
    locked.referent = referent
    locked.referent_designated_at = now
    fields = ["referent", "referent_designated_at"]
    if locked.contract_due_on is None:
        locked.contract_due_on = contract_due(timezone.localdate(now))
        fields.append("contract_due_on")
    locked.save(update_fields=fields)
    referral = locked.referral
    if referral is not None and referral.is_awaiting:
        referral_actions.accept(
            referral=referral,
            by=by,
            first_step=f"Référent de parcours désigné : {referent.get_full_name()}",
            request=request,
        )
    trace(
        EventKind.RSA,
        AuditKind.RSA_REFERENT,
        person=locked.person,
        by=by,
        organisation=body,
        target=locked,
        summary=(
            f"{'Nouveau référent' if changed else 'Référent'} de parcours désigné par "
            f"{body.name} : {referent.get_full_name()} ; contrat d'engagement attendu avant le "
            f"{locked.contract_due_on:%d/%m/%Y}"
        ),
        request=request,
        details={"referent": referent.pk},
    )
    if referent.pk != by.pk:
        notify(
            recipients=[referent],
            kind=NotificationKind.RSA,
            title="Vous êtes désigné(e) référent de parcours RSA",
            body=(
                f"{by.get_full_name()} ({body.name}) vous a désigné(e) référent de parcours de "
                f"{locked.person.full_name}. Le contrat d'engagement est à signer avant le "
                f"{locked.contract_due_on:%d/%m/%Y}."
            ),
            url=reverse("rsa:received", args=[body.pk]),
            actor=by,
        )
    return locked


@transaction.atomic
def record_contract_signature(
    *,
    orientation: Orientation,
    signed_on: datetime.date,
    by: User,
    request: HttpRequest | None = None,
) -> Orientation:
    """The date the contrat d'engagement was signed, once the referent is designated."""
    locked = _check_receiving_member(orientation, by)
    if locked.referent_id is None:
        raise ValidationError("Désignez d'abord le référent de parcours de la personne.")
    today = timezone.localdate()
    if signed_on > today:
        raise ValidationError("La date de signature est à venir : indiquez la date passée.")
    if signed_on < locked.notified_on:
        raise ValidationError(
            "La date de signature précède la notification de l'orientation "
            f"({locked.notified_on:%d/%m/%Y})."
        )
    locked.contract_signed_on = signed_on
    locked.save(update_fields=["contract_signed_on"])
    trace(
        EventKind.RSA,
        AuditKind.RSA_CONTRACT,
        person=locked.person,
        by=by,
        organisation=locked.referent_body,
        target=locked,
        summary=(
            f"Contrat d'engagement signé le {signed_on:%d/%m/%Y} (enregistré par "
            f"{by.get_full_name()})"
        ),
        request=request,
    )
    return locked


@transaction.atomic
def ask_reorientation(
    *,
    orientation: Orientation,
    reason: str,
    by: User,
    request: HttpRequest | None = None,
) -> Orientation:
    """The referent body asks the département for a reorientation, with its reason; the
    orientation managers are told, and see it on their « à orienter » page."""
    locked = _check_receiving_member(orientation, by)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            "Motivez la demande de réorientation : le département décide sur ce motif."
        )
    if locked.reorientation_asked_at is not None:
        raise ValidationError(
            "Une réorientation a déjà été demandée le "
            f"{timezone.localtime(locked.reorientation_asked_at):%d/%m/%Y} : le département "
            "ne l'a pas encore décidée."
        )
    locked.reorientation_asked_at = timezone.now()
    locked.reorientation_asked_by = by
    locked.reorientation_reason = reason
    locked.save(
        update_fields=["reorientation_asked_at", "reorientation_asked_by", "reorientation_reason"]
    )
    body = locked.referent_body
    trace(
        EventKind.RSA,
        AuditKind.RSA_REORIENTATION_ASKED,
        person=locked.person,
        by=by,
        organisation=body,
        target=locked,
        summary=(f"Réorientation RSA demandée par {by.get_full_name()} ({body.name}) : {reason}"),
        request=request,
        details={"reason": reason},
    )
    managers = User.objects.filter(
        pk__in=TerritoryRole.objects.filter(
            department_id=locked.department_id, role=TerritoryRoleKind.ORIENTATION_MANAGER
        ).values("user_id")
    )
    notify(
        recipients=managers,
        kind=NotificationKind.RSA,
        title="Réorientation RSA demandée",
        body=(f"{body.name} demande la réorientation de {locked.person.full_name} : {reason}"),
        url=reverse("rsa:to_orient", args=[locked.department_id]),
        actor=by,
    )
    return locked
