"""The providers' places, the requests, their answers and the CAF's check."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.childcare import notices
from binome.childcare.actions.placements import open_placement
from binome.childcare.matching import matching_providers
from binome.childcare.models import (
    EMERGENCY_DELAY,
    MAX_RADIUS_KM,
    PAST_INTERVIEW_MESSAGE,
    PLACE_DELAY,
    ChildcareRequest,
    ChildcareSettings,
    DeclineReason,
    Eligibility,
    Provider,
    Reason,
    RequestChild,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
    Urgency,
    age_months,
    can_move,
)
from binome.organisations.models import Organisation
from binome.people.models import Consent, ConsentMethod, ConsentScope, Person
from binome.support.actions import record_consent, trace
from binome.support.models import Accompaniment, EventKind

PROVIDER_FIELDS = (
    "kind",
    "label_on",
    "label_caf",
    "capacity",
    "avip_places",
    "free_places",
    "free_from",
    "min_age_months",
    "max_age_months",
    "opening_hours",
    "emergency_capacity",
    "answering_hours",
    "is_active",
)


# --- Providers and places -----------------------------------------------------------------


@transaction.atomic
def save_provider(
    *,
    organisation: Organisation,
    values: dict[str, Any],
    by: User,
    request: HttpRequest | None = None,
) -> Provider:
    """Declare or update the organisation's places; saving confirms them. Refused (French
    message on the field, nothing written) when a number is negative or the places do not
    fit (free ≤ AVIP ≤ capacity, ages in order)."""
    provider = Provider.objects.select_for_update().filter(
        organisation=organisation
    ).first() or Provider(organisation=organisation)
    before = {name: _plain(getattr(provider, name, None)) for name in PROVIDER_FIELDS}
    for name in PROVIDER_FIELDS:
        if name in values:
            setattr(provider, name, values[name])
    now = timezone.now()
    provider.confirmed_at = now
    provider.confirmed_by = by
    provider.full_clean()
    provider.save()
    changed = {
        name: _plain(getattr(provider, name))
        for name in PROVIDER_FIELDS
        if _plain(getattr(provider, name)) != before[name]
    }
    record(
        AuditKind.CHILDCARE_PROVIDER_UPDATED,
        actor=by,
        organisation=organisation,
        target=provider,
        what=f"Places d'accueil déclarées : {provider.free_places} libre(s) sur "
        f"{provider.avip_places} place(s) AVIP",
        request=request,
        details={"changed": changed},
    )
    return provider


@transaction.atomic
def confirm_places(*, provider: Provider, by: User, request: HttpRequest | None = None) -> None:
    """The places are unchanged and still right: the confirmation date moves to now."""
    provider.confirmed_at = timezone.now()
    provider.confirmed_by = by
    provider.save(update_fields=["confirmed_at", "confirmed_by"])
    record(
        AuditKind.CHILDCARE_PROVIDER_UPDATED,
        actor=by,
        organisation=provider.organisation,
        target=provider,
        what="Places d'accueil confirmées sans changement",
        request=request,
    )


def _plain(value: Any) -> Any:
    """A value for the audit's details (JSON): dates as ISO text, rows as their id."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


# --- Requests -------------------------------------------------------------------------------


def due_time(urgency: str, start: datetime, *, weekends_count: bool = True) -> datetime:
    """When the answer is due: 24 hours for an emergency, 15 days for a place.

    When the territory does not count weekends, an emergency's clock stops from Saturday
    0:00 to Monday 0:00 (local time): filed on Friday at 18:00, it is due on Monday at 18:00;
    filed on a Saturday, on Tuesday at 0:00. A place's 15 days are calendar days."""
    if urgency != Urgency.EMERGENCY:
        return start + PLACE_DELAY
    if weekends_count:
        return start + EMERGENCY_DELAY
    moment = timezone.localtime(start)
    remaining = EMERGENCY_DELAY
    while True:
        weekday = moment.weekday()
        if weekday >= 5:  # Saturday or Sunday: the clock starts again on Monday at 0:00.
            moment = _local_midnight(moment.date() + timedelta(days=7 - weekday))
            continue
        saturday = _local_midnight(moment.date() + timedelta(days=5 - weekday))
        if moment + remaining <= saturday:
            return moment + remaining
        remaining -= saturday - moment
        moment = saturday


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


@transaction.atomic
def set_childcare_settings(
    *,
    department_id: str,
    emergency_weekends_count: bool,
    by: User,
    request: HttpRequest | None = None,
) -> ChildcareSettings:
    """Whether the territory counts weekends in an emergency's 24 hours; it applies to the
    requests filed from now on."""
    before = ChildcareSettings.for_department(department_id)
    found, _ = ChildcareSettings.objects.update_or_create(
        department_id=department_id,
        defaults={"emergency_weekends_count": emergency_weekends_count},
    )
    record(
        AuditKind.CHILDCARE_SETTINGS_CHANGED,
        actor=by,
        department_id=department_id,
        target=found,
        what="Délai de 24 heures des urgences de garde d'enfants : week-ends "
        + ("comptés" if emergency_weekends_count else "non comptés"),
        request=request,
        details={
            "before": before.emergency_weekends_count,
            "after": emergency_weekends_count,
        },
    )
    return found


@transaction.atomic
def create_request(
    *,
    person: Person,
    organisation: Organisation,
    accompaniment: Accompaniment | None,
    children: list[tuple[str, date]],
    reason: str,
    reason_on: date | None,
    needed_on: date,
    schedule: str,
    urgency: str,
    single_parent: bool,
    qpv: bool,
    rsa: bool,
    radius_km: int,
    by: User,
    consent_now: bool = False,
    request: HttpRequest | None = None,
) -> ChildcareRequest:
    """File a childcare request for the person (its providers are chosen next: ``send``).

    Refused, nothing written, with a French message: without the person's ``CHILDCARE_CAF``
    consent (recorded here when given now), a date in the past (or an interview already
    past), no child, a person without a commune, or when no provider takes every child at
    that date within the radius."""
    today = timezone.localdate()
    if not children:
        raise ValidationError("Indiquez au moins un enfant à faire garder.")
    if needed_on < today:
        raise ValidationError(
            "Cette date est passée : indiquez à partir de quand l'accueil est nécessaire."
        )
    if reason == Reason.INTERVIEW and reason_on is not None and reason_on < today:
        raise ValidationError(PAST_INTERVIEW_MESSAGE)
    for first_name, birth_date in children:
        if birth_date > today:
            raise ValidationError(f"La date de naissance de {first_name} est dans le futur.")
    if person.commune is None:
        raise ValidationError(
            "La commune de la personne n'est pas renseignée : corrigez ses coordonnées pour "
            "trouver les accueils proches de chez elle."
        )
    if not 1 <= radius_km <= MAX_RADIUS_KM:
        raise ValidationError(f"La distance va de 1 à {MAX_RADIUS_KM} km.")
    consent = (
        Consent.objects.active()
        .of_scope(ConsentScope.CHILDCARE_CAF)
        .filter(person=person)
        .order_by("-given_on", "-id")
        .first()
    )
    if consent is None and consent_now:
        consent = record_consent(
            person=person,
            scope=ConsentScope.CHILDCARE_CAF,
            method=ConsentMethod.ORAL,
            given_on=today,
            by=by,
            organisation=organisation,
            request=request,
        )
    if consent is None:
        raise ValidationError(
            "La personne n'a pas donné son consentement à la transmission de sa demande de "
            "garde à la CAF et aux accueils : recueillez-le avant d'envoyer la demande."
        )
    if not matching_providers(
        commune=person.commune,
        birth_dates=[birth_date for _, birth_date in children],
        needed_on=needed_on,
        urgency=urgency,
        radius_km=radius_km,
    ):
        ages = ", ".join(
            f"{first_name} ({age_months(birth_date, needed_on)} mois)"
            for first_name, birth_date in children
        )
        raise ValidationError(
            f"Aucun accueil à moins de {radius_km} km n'a de place le {needed_on:%d/%m/%Y} "
            f"pour {ages} : élargissez la distance, changez la date, ou cherchez dans "
            "l'annuaire."
        )
    now = timezone.now()
    childcare_request = ChildcareRequest.objects.create(
        person=person,
        department_id=person.department_id,
        organisation=organisation,
        created_by=by,
        reason=reason,
        reason_on=reason_on,
        needed_on=needed_on,
        schedule=schedule.strip(),
        urgency=urgency,
        single_parent=single_parent,
        qpv=qpv,
        rsa=rsa,
        under_25=age_months(person.birth_date, needed_on) < 25 * 12,
        radius_km=radius_km,
        consent=consent,
        created_at=now,
        due_at=due_time(
            urgency,
            now,
            weekends_count=ChildcareSettings.for_department(
                person.department_id
            ).emergency_weekends_count,
        ),
    )
    RequestChild.objects.bulk_create(
        RequestChild(request=childcare_request, first_name=first_name.strip(), birth_date=birth)
        for first_name, birth in children
    )
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_SENT,
        person=person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=childcare_request,
        summary=f"Demande de garde d'enfant ({childcare_request.get_urgency_display()}) : "
        f"{childcare_request.get_reason_display().lower()}, à partir du {needed_on:%d/%m/%Y}",
        request=request,
    )
    return childcare_request


@transaction.atomic
def send(
    *,
    childcare_request: ChildcareRequest,
    providers: list[Provider],
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> list[Solicitation]:
    """Send the request to providers that fit: one for a place, several for an emergency
    (the first to accept wins). The providers' members are notified."""
    locked = ChildcareRequest.objects.select_for_update().get(pk=childcare_request.pk)
    if not can_move(locked.status, RequestStatus.SENT):
        raise ValidationError("Cette demande a déjà été envoyée : attendez les réponses.")
    if not providers:
        raise ValidationError("Choisissez au moins un accueil à solliciter.")
    if locked.urgency == Urgency.PLACE and len(providers) > 1:
        raise ValidationError(
            "Une demande de place s'adresse à un seul accueil à la fois ; seules les urgences "
            "sont envoyées à plusieurs."
        )
    person = locked.person
    assert person.commune is not None
    fitting = {
        provider.pk: provider
        for provider in matching_providers(
            commune=person.commune,
            birth_dates=list(locked.children.values_list("birth_date", flat=True)),
            needed_on=locked.needed_on,
            urgency=locked.urgency,
            radius_km=locked.radius_km,
        )
    }
    unfit = [provider.organisation.name for provider in providers if provider.pk not in fitting]
    if unfit:
        raise ValidationError(
            f"Ces accueils n'ont plus de place qui convienne : {', '.join(unfit)}."
        )
    already = set(locked.solicitations.values_list("provider_id", flat=True))
    if any(provider.pk in already for provider in providers):
        raise ValidationError("Un de ces accueils a déjà été sollicité pour cette demande.")
    now = timezone.now()
    solicitations = Solicitation.objects.bulk_create(
        Solicitation(
            request=locked,
            provider=provider,
            distance_km=fitting[provider.pk].distance_km,  # type: ignore[attr-defined]
            sent_at=now,
        )
        for provider in providers
    )
    locked.status = RequestStatus.SENT
    locked.save(update_fields=["status"])
    names = ", ".join(provider.organisation.name for provider in providers)
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_SENT,
        person=person,
        by=by,
        organisation=organisation,
        target=locked,
        summary=f"Demande de garde d'enfant envoyée à : {names}"[:300],
        request=request,
        details={"providers": [provider.pk for provider in providers]},
    )
    for solicitation in solicitations:
        notices.solicitation_received(solicitation, actor=by)
    childcare_request.status = locked.status
    return solicitations


@transaction.atomic
def accept(
    *,
    solicitation: Solicitation,
    start_on: date,
    place_details: str,
    by: User,
    request: HttpRequest | None = None,
) -> Solicitation:
    """The provider accepts: the first acceptance wins. The request's row is locked, so two
    simultaneous acceptances give one winner; the other gets a French message and nothing
    changes for it. The team is told, and so are the other providers."""
    locked_request = ChildcareRequest.objects.select_for_update().get(pk=solicitation.request_id)
    locked = Solicitation.objects.select_for_update().get(pk=solicitation.pk)
    answerable = can_move(locked_request.status, RequestStatus.ACCEPTED)
    if not answerable or locked.status != SolicitationStatus.PENDING:
        if locked_request.status == RequestStatus.ACCEPTED:
            raise ValidationError(
                "Un autre accueil a déjà accepté cette demande : elle est close. Merci !"
            )
        raise ValidationError("Cette demande n'attend plus de réponse de votre part.")
    if start_on < timezone.localdate():
        raise ValidationError("La date de début est passée : indiquez une date à venir.")
    if not place_details.strip():
        raise ValidationError("Décrivez la place proposée (section, jours, horaires).")
    now = timezone.now()
    locked.status = SolicitationStatus.ACCEPTED
    locked.answered_at = now
    locked.answered_by = by
    locked.start_on = start_on
    locked.place_details = place_details.strip()
    locked.save(update_fields=["status", "answered_at", "answered_by", "start_on", "place_details"])
    others = list(
        Solicitation.objects.filter(request=locked_request, status=SolicitationStatus.PENDING)
        .exclude(pk=locked.pk)
        .select_related("provider__organisation")
    )
    Solicitation.objects.filter(pk__in=[other.pk for other in others]).update(
        status=SolicitationStatus.CLOSED, answered_at=now
    )
    locked_request.status = RequestStatus.ACCEPTED
    locked_request.closed_at = now
    locked_request.save(update_fields=["status", "closed_at"])
    provider = Provider.objects.select_for_update().get(pk=locked.provider_id)
    children = locked_request.children.count()
    open_placement(childcare_request=locked_request, solicitation=locked, children=children)
    if provider.free_places and not (provider.is_home_care and locked_request.is_emergency):
        taken = min(provider.free_places, children)
        provider.free_places -= taken
        provider.save(update_fields=["free_places"])
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked_request.person,
        by=by,
        organisation=provider.organisation,
        target=locked,
        summary=f"Garde d'enfant acceptée par {provider.organisation.name} : accueil à partir "
        f"du {start_on:%d/%m/%Y}",
        request=request,
    )
    notices.request_answered(locked_request, locked, actor=by)
    for other in others:
        notices.solicitation_closed(other, actor=by)
    return locked


@transaction.atomic
def decline(
    *,
    solicitation: Solicitation,
    reason: str,
    details: str,
    by: User,
    request: HttpRequest | None = None,
) -> Solicitation:
    """The provider declines with a reason; when no provider is left to answer, the request
    is declined and the team may send it to another."""
    locked_request = ChildcareRequest.objects.select_for_update().get(pk=solicitation.request_id)
    locked = Solicitation.objects.select_for_update().get(pk=solicitation.pk)
    answerable = can_move(locked_request.status, RequestStatus.DECLINED)
    if not answerable or locked.status != SolicitationStatus.PENDING:
        raise ValidationError("Cette demande n'attend plus de réponse de votre part.")
    if reason not in DeclineReason.values:
        raise ValidationError("Choisissez le motif du refus.")
    locked.status = SolicitationStatus.DECLINED
    locked.answered_at = timezone.now()
    locked.answered_by = by
    locked.decline_reason = reason
    locked.decline_details = details.strip()
    locked.save(
        update_fields=["status", "answered_at", "answered_by", "decline_reason", "decline_details"]
    )
    if not locked_request.solicitations.filter(status=SolicitationStatus.PENDING).exists():
        locked_request.status = RequestStatus.DECLINED
        locked_request.save(update_fields=["status"])
    organisation = Organisation.objects.get(pk=locked.provider.organisation_id)
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked_request.person,
        by=by,
        organisation=organisation,
        target=locked,
        summary=f"Garde d'enfant refusée par {organisation.name} : "
        f"{locked.get_decline_reason_display().lower()}",
        request=request,
    )
    notices.request_answered(locked_request, locked, actor=by)
    return locked


@transaction.atomic
def withdraw(
    *,
    childcare_request: ChildcareRequest,
    reason: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> ChildcareRequest:
    """The team withdraws the request (the need is gone, found elsewhere…): the
    solicitations still awaiting an answer are closed and their providers told."""
    locked = ChildcareRequest.objects.select_for_update().get(pk=childcare_request.pk)
    if not can_move(locked.status, RequestStatus.WITHDRAWN):
        raise ValidationError(
            f"Cette demande ne peut plus être retirée : elle est « "
            f"{locked.get_status_display().lower()} »."
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError("Indiquez pourquoi la demande est retirée.")
    now = timezone.now()
    open_solicitations = list(
        Solicitation.objects.select_for_update(of=("self",))
        .filter(request=locked, status=SolicitationStatus.PENDING)
        .select_related("provider__organisation")
    )
    Solicitation.objects.filter(pk__in=[s.pk for s in open_solicitations]).update(
        status=SolicitationStatus.CLOSED, answered_at=now
    )
    locked.status = RequestStatus.WITHDRAWN
    locked.closed_at = now
    locked.withdrawn_reason = reason[:300]
    locked.save(update_fields=["status", "closed_at", "withdrawn_reason"])
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked.person,
        by=by,
        organisation=organisation,
        target=locked,
        summary=f"Demande de garde d'enfant retirée : {reason}"[:300],
        request=request,
        details={"closed_solicitations": [s.pk for s in open_solicitations]},
    )
    for solicitation in open_solicitations:
        notices.solicitation_withdrawn(solicitation, actor=by)
    childcare_request.status = locked.status
    return locked


# --- The CAF's check ------------------------------------------------------------------------


@transaction.atomic
def record_eligibility(
    *,
    childcare_request: ChildcareRequest,
    eligibility: str,
    reason: str,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> ChildcareRequest:
    """The territory's coordination (the CAF) answers eligible or not eligible, with a reason
    when not; the team is told. An emergency may have started before: the check follows."""
    if eligibility not in Eligibility.values:
        raise ValidationError("Choisissez : éligible ou non éligible.")
    if eligibility == Eligibility.NOT_ELIGIBLE and not reason.strip():
        raise ValidationError("Indiquez pourquoi la demande n'est pas éligible.")
    locked = ChildcareRequest.objects.select_for_update().get(pk=childcare_request.pk)
    if locked.eligibility:
        raise ValidationError("Les critères de cette demande ont déjà été vérifiés.")
    locked.eligibility = eligibility
    locked.eligibility_reason = reason.strip()
    locked.checked_at = timezone.now()
    locked.checked_by = by
    locked.save(update_fields=["eligibility", "eligibility_reason", "checked_at", "checked_by"])
    summary = f"Critères AVIP vérifiés par {organisation.name} : {locked.get_eligibility_display()}"
    if locked.eligibility_reason:
        summary += f" ({locked.eligibility_reason})"
    trace(
        EventKind.CHILDCARE,
        AuditKind.CHILDCARE_REQUEST_CHANGED,
        person=locked.person,
        by=by,
        organisation=organisation,
        target=locked,
        summary=summary[:300],
        request=request,
    )
    notices.eligibility_checked(locked, organisation_name=organisation.name, actor=by)
    return locked
