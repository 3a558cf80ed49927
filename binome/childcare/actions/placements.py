"""The place's life: an accepted solicitation becomes a placement of six months, renewed
after a review or ended with a reason and the parent's situation; that situation is asked
again six months after the end (the shape of an accompaniment's exit and its follow-up)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.childcare.models import (
    FOLLOWUP_AFTER_MONTHS,
    PLACEMENT_MONTHS,
    ChildcareRequest,
    Placement,
    PlacementEndReason,
    PlacementStatus,
    Provider,
    Solicitation,
)
from binome.organisations.models import Organisation
from binome.support.actions import trace
from binome.support.models import Accompaniment, EventKind, FollowupOutcome, add_months


def open_placement(
    *, childcare_request: ChildcareRequest, solicitation: Solicitation, children: int
) -> Placement:
    """The placement of an accepted solicitation (inside ``accept``'s transaction): six
    months from its start, linked to the parent's open accompaniment."""
    assert solicitation.start_on is not None
    accompaniment = (
        Accompaniment.objects.open()
        .filter(person_id=childcare_request.person_id)
        .newest_first()
        .first()
    )
    return Placement.objects.create(
        solicitation=solicitation,
        request=childcare_request,
        provider_id=solicitation.provider_id,
        person_id=childcare_request.person_id,
        accompaniment=accompaniment,
        children=max(1, children),
        started_on=solicitation.start_on,
        ends_on=add_months(solicitation.start_on, PLACEMENT_MONTHS),
    )


def _lock(placement: Placement) -> Placement:
    return (
        Placement.objects.select_for_update(of=("self",))
        .select_related("person", "provider__organisation")
        .get(pk=placement.pk)
    )


@transaction.atomic
def renew_placement(
    *,
    placement: Placement,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Placement:
    """After the review, the place goes on for six more months from its planned end."""
    locked = _lock(placement)
    if locked.status != PlacementStatus.ONGOING:
        raise ValidationError("Cet accueil est terminé : il ne peut plus être renouvelé.")
    locked.ends_on = add_months(locked.ends_on, PLACEMENT_MONTHS)
    locked.renewals += 1
    locked.save(update_fields=["ends_on", "renewals"])
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked.person,
        by=by,
        organisation=organisation,
        accompaniment=locked.accompaniment,
        target=locked,
        summary=f"Accueil chez {locked.provider.organisation.name} renouvelé après revue, "
        f"jusqu'au {locked.ends_on:%d/%m/%Y}",
        request=request,
        details={"ends_on": locked.ends_on.isoformat(), "renewals": locked.renewals},
    )
    return locked


@transaction.atomic
def end_placement(
    *,
    placement: Placement,
    ended_on: date,
    reason: str,
    outcome: str,
    details: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Placement:
    """The place ends, with its reason and the parent's situation (job, training, search…);
    the situation six months later becomes due. The AVIP place is free again."""
    locked = _lock(placement)
    if locked.status != PlacementStatus.ONGOING:
        raise ValidationError("Cet accueil est déjà terminé.")
    if reason not in PlacementEndReason.values:
        raise ValidationError("Choisissez le motif de fin de l'accueil.")
    if outcome not in FollowupOutcome.values:
        raise ValidationError("Choisissez la situation du parent à la fin de l'accueil.")
    details = details.strip()
    if PlacementEndReason.OTHER in (reason, outcome) and not details:
        raise ValidationError("Précisez quand vous choisissez « Autre ».")
    if ended_on < locked.started_on:
        raise ValidationError(
            f"La fin ne peut pas précéder le début de l'accueil ({locked.started_on:%d/%m/%Y})."
        )
    if ended_on > timezone.localdate():
        raise ValidationError("La date de fin est dans le futur : terminez l'accueil ce jour-là.")
    locked.status = PlacementStatus.ENDED
    locked.ended_on = ended_on
    locked.end_reason = reason
    locked.end_outcome = outcome
    locked.end_details = details[:300]
    locked.followup_due_on = add_months(ended_on, FOLLOWUP_AFTER_MONTHS)
    locked.save(
        update_fields=[
            "status",
            "ended_on",
            "end_reason",
            "end_outcome",
            "end_details",
            "followup_due_on",
        ]
    )
    provider = Provider.objects.select_for_update().get(pk=locked.provider_id)
    if provider.free_places < provider.avip_places:
        if provider.free_places == 0 or provider.free_from is None:
            provider.free_from = ended_on + timedelta(days=1)
        provider.free_places = min(provider.avip_places, provider.free_places + locked.children)
        provider.save(update_fields=["free_places", "free_from"])
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked.person,
        by=by,
        organisation=organisation,
        accompaniment=locked.accompaniment,
        target=locked,
        summary=f"Accueil chez {locked.provider.organisation.name} terminé le "
        f"{ended_on:%d/%m/%Y} ({locked.get_end_reason_display().lower()}) ; situation du "
        f"parent : {locked.get_end_outcome_display().lower()}"[:300],
        request=request,
        details={"reason": reason, "outcome": outcome},
    )
    return locked


@transaction.atomic
def record_placement_followup(
    *,
    placement: Placement,
    outcome: str,
    situation: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Placement:
    """The parent's situation six months after the place's end, asked of her team."""
    locked = _lock(placement)
    today = timezone.localdate()
    if locked.status != PlacementStatus.ENDED or locked.followup_due_on is None:
        raise ValidationError("La situation à 6 mois se renseigne après la fin de l'accueil.")
    if locked.followup_recorded_on is not None:
        raise ValidationError(
            "La situation à 6 mois est déjà enregistrée "
            f"(le {locked.followup_recorded_on:%d/%m/%Y})."
        )
    if today < locked.followup_due_on:
        raise ValidationError(
            f"La situation à 6 mois se renseigne à partir du {locked.followup_due_on:%d/%m/%Y}."
        )
    if outcome not in FollowupOutcome.values:
        raise ValidationError("Choisissez la situation du parent dans la liste.")
    situation = situation.strip()
    if outcome == FollowupOutcome.OTHER and not situation:
        raise ValidationError("Précisez la situation quand vous choisissez « Autre ».")
    locked.followup_outcome = outcome
    locked.followup_situation = situation[:300]
    locked.followup_recorded_on = today
    locked.save(update_fields=["followup_outcome", "followup_situation", "followup_recorded_on"])
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked.person,
        by=by,
        organisation=organisation,
        accompaniment=locked.accompaniment,
        target=locked,
        summary="Situation 6 mois après la fin de l'accueil d'enfant : "
        f"{locked.get_followup_outcome_display()}",
        request=request,
        details={"outcome": outcome},
    )
    return locked
