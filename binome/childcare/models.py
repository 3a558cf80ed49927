"""Childcare for job-seeking parents (AVIP): the providers and their places, the requests
filed from a person's file, and each provider's answer.

- A **provider** is an organisation of kind « Accueil du jeune enfant » (a crèche, a MAM, a
  home-care service, a labelled childminder — an organisation of one person): its members
  declare its AVIP label, its places and the ages it takes, and confirm them at least once
  a month.
- A **request** is filed by a member of the person's team: the children (first name and
  birth date only), the reason, the date needed, the urgency and its due time (``due_at``:
  24 hours for an emergency, 15 days for a place), the consent ``CHILDCARE_CAF``.
- A **solicitation** is the request sent to one provider; the provider accepts (start date,
  place) or declines (reason). The first acceptance wins: the request's row is locked, the
  others are closed and told.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.utils import timezone

from binome.organisations.models import Membership, Organisation
from binome.support.models import FollowupOutcome

if TYPE_CHECKING:
    from binome.accounts.models import User

# An emergency is answered within 24 hours (clock in hours, weekends counted), a place
# within 15 days: the AVIP charter's promises.
EMERGENCY_DELAY = timedelta(hours=24)
PLACE_DELAY = timedelta(days=15)
# A provider's places not confirmed for this long are presumed stale: a reminder.
CONFIRMATION_MAX_AGE = timedelta(days=30)
# The oldest age a provider may declare (the Essonne's offer: children under 10).
MAX_AGE_MONTHS = 12 * 11
DEFAULT_RADIUS_KM = 15
MAX_RADIUS_KM = 100


def age_months(birth_date: date, on: date) -> int:
    """Whole months of age on ``on``."""
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    if on.day < birth_date.day:
        months -= 1
    return months


class ChildcareSettings(models.Model):
    """A territory's rules of the childcare clocks."""

    department = models.OneToOneField(
        "territories.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="childcare_settings",
        verbose_name="département",
    )
    emergency_weekends_count = models.BooleanField(
        "les week-ends comptent dans le délai de 24 heures des urgences", default=True
    )

    class Meta:
        verbose_name = "réglages de la garde d'enfants"
        verbose_name_plural = "réglages de la garde d'enfants"

    def __str__(self) -> str:
        return f"Réglages de la garde d'enfants ({self.department_id})"

    @classmethod
    def for_department(cls, department_id: str) -> ChildcareSettings:
        """The territory's settings, or the defaults (unsaved) when it set none."""
        found = cls.objects.filter(department_id=department_id).first()
        return found or cls(department_id=department_id)


class ProviderKind(models.TextChoices):
    CRECHE = "creche", "Crèche (EAJE)"
    MICRO_CRECHE = "micro_creche", "Micro-crèche"
    MAM = "mam", "Maison d'assistants maternels (MAM)"
    HOME_CARE = "garde_domicile", "Service de garde à domicile"
    CHILDMINDER = "assistant_maternel", "Assistant(e) maternel(le) labellisé(e)"


class ProviderQuerySet(models.QuerySet["Provider"]):
    def active(self) -> ProviderQuerySet:
        return self.filter(is_active=True, organisation__is_active=True)

    def unconfirmed_since(self, moment: object) -> ProviderQuerySet:
        """Places last confirmed before ``moment`` and not yet reminded since."""
        return self.filter(confirmed_at__lt=moment).filter(
            Q(confirmation_reminded_at__isnull=True)
            | Q(confirmation_reminded_at__lt=F("confirmed_at"))
        )


class Provider(models.Model):
    """What a childcare organisation declares of its AVIP places, kept up to date by its
    own members."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="childcare_provider",
        verbose_name="organisation",
    )
    kind = models.CharField("type d'accueil", max_length=30, choices=ProviderKind.choices)
    label_on = models.DateField("labellisé AVIP le", null=True, blank=True)
    label_caf = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="CAF qui a délivré le label",
    )
    capacity = models.IntegerField(
        "capacité d'accueil (places)",
        default=0,
        validators=[MinValueValidator(0, "La capacité ne peut pas être négative.")],
    )
    avip_places = models.IntegerField(
        "places réservées AVIP",
        default=0,
        validators=[MinValueValidator(0, "Le nombre de places AVIP ne peut pas être négatif.")],
    )
    min_age_months = models.IntegerField(
        "âge minimum accueilli (mois)",
        default=0,
        validators=[MinValueValidator(0, "L'âge minimum ne peut pas être négatif.")],
    )
    max_age_months = models.IntegerField(
        "âge maximum accueilli (mois)",
        default=36,
        validators=[MinValueValidator(0, "L'âge maximum ne peut pas être négatif.")],
    )
    opening_hours = models.CharField("horaires d'accueil", max_length=200, blank=True)
    free_places = models.IntegerField(
        "places AVIP libres",
        default=0,
        validators=[MinValueValidator(0, "Le nombre de places libres ne peut pas être négatif.")],
    )
    free_from = models.DateField("libres à partir du", null=True, blank=True)
    emergency_capacity = models.IntegerField(
        "accueils d'urgence possibles par jour",
        default=0,
        validators=[
            MinValueValidator(0, "Le nombre d'accueils d'urgence ne peut pas être négatif.")
        ],
    )
    answering_hours = models.CharField(
        "horaires de réponse aux urgences", max_length=200, blank=True
    )
    is_active = models.BooleanField("reçoit des demandes", default=True)
    confirmed_at = models.DateTimeField("places confirmées le")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="confirmées par",
    )
    confirmation_reminded_at = models.DateTimeField(
        "rappel de confirmation envoyé le", null=True, blank=True
    )

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = "accueil AVIP"
        verbose_name_plural = "accueils AVIP"
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=0)
                & Q(avip_places__gte=0)
                & Q(free_places__gte=0)
                & Q(emergency_capacity__gte=0),
                name="childcare_provider_counts_positive",
                violation_error_message="Un nombre de places ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(avip_places__lte=F("capacity")) & Q(free_places__lte=F("avip_places")),
                name="childcare_provider_places_fit",
                violation_error_message="Les places libres tiennent dans les places AVIP, "
                "elles-mêmes dans la capacité d'accueil.",
            ),
            models.CheckConstraint(
                condition=Q(min_age_months__gte=0)
                & Q(min_age_months__lte=F("max_age_months"))
                & Q(max_age_months__lte=MAX_AGE_MONTHS),
                name="childcare_provider_ages",
                violation_error_message="Les âges accueillis vont de 0 à 132 mois, le minimum "
                "avant le maximum.",
            ),
        ]
        indexes = [
            models.Index(fields=["free_from"], name="childcare_provider_free_from"),
        ]

    def __str__(self) -> str:
        return self.organisation.name

    def clean(self) -> None:
        """The places fit together; French messages on the field to correct."""
        errors: dict[str, str] = {}
        capacity, avip, free = self.capacity, self.avip_places, self.free_places
        if avip is not None and capacity is not None and avip > capacity:
            errors["avip_places"] = (
                f"Les places AVIP ({avip}) ne peuvent pas dépasser la capacité d'accueil "
                f"({capacity})."
            )
        if free is not None and avip is not None and free > avip:
            errors["free_places"] = (
                f"Les places libres ({free}) ne peuvent pas dépasser les places AVIP ({avip})."
            )
        if self.free_places and self.free_from is None:
            errors["free_from"] = "Indiquez à partir de quelle date les places sont libres."
        if self.min_age_months is not None and self.max_age_months is not None:
            if self.max_age_months > MAX_AGE_MONTHS:
                errors["max_age_months"] = (
                    f"L'âge maximum ne peut pas dépasser {MAX_AGE_MONTHS} mois (11 ans)."
                )
            elif self.min_age_months > self.max_age_months:
                errors["max_age_months"] = "L'âge maximum doit être au moins l'âge minimum."
        if self.label_on is not None and self.label_on > timezone.localdate():
            errors["label_on"] = "La date du label ne peut pas être dans le futur."
        if errors:
            raise ValidationError(errors)

    @property
    def is_home_care(self) -> bool:
        return self.kind == ProviderKind.HOME_CARE

    def confirmation_due(self, now: object = None) -> bool:
        """Its places were not confirmed for a month."""
        moment = now or timezone.now()
        return bool(self.confirmed_at < moment - CONFIRMATION_MAX_AGE)  # type: ignore[operator]


class Reason(models.TextChoices):
    INTERVIEW = "entretien", "Entretien d'embauche"
    TRAINING = "formation", "Formation"
    JOB = "emploi", "Reprise d'emploi"
    TRIAL = "periode_essai", "Période d'essai ou d'immersion"
    BUSINESS = "creation_entreprise", "Création d'entreprise"


PAST_INTERVIEW_MESSAGE = (
    "Cet entretien est déjà passé : indiquez la date de l'entretien à venir (pour un emploi "
    "ou une formation déjà commencés, choisissez le motif qui convient)."
)


class Urgency(models.TextChoices):
    EMERGENCY = "urgence", "Urgence : réponse sous 24 heures"
    PLACE = "place", "Place d'accueil : réponse sous 15 jours"


class RequestStatus(models.TextChoices):
    DRAFT = "a_envoyer", "À envoyer : choisir les accueils"
    SENT = "envoyee", "En attente de réponse"
    ACCEPTED = "acceptee", "Place trouvée"
    DECLINED = "refusee", "Refusée par tous les accueils sollicités"
    WITHDRAWN = "retiree", "Retirée"


# The requests' and the solicitations' state machines, in one place: the actions move a
# row only along these arrows (``can_move``).
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.DRAFT: frozenset({RequestStatus.SENT, RequestStatus.WITHDRAWN}),
    RequestStatus.SENT: frozenset(
        {RequestStatus.ACCEPTED, RequestStatus.DECLINED, RequestStatus.WITHDRAWN}
    ),
    # Declined by every provider asked: the team may ask others.
    RequestStatus.DECLINED: frozenset({RequestStatus.SENT, RequestStatus.WITHDRAWN}),
    RequestStatus.ACCEPTED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}


def can_move(status: str, to: str) -> bool:
    """A request in ``status`` may become ``to``."""
    return to in REQUEST_TRANSITIONS.get(status, frozenset())


class Eligibility(models.TextChoices):
    ELIGIBLE = "eligible", "Éligible"
    NOT_ELIGIBLE = "non_eligible", "Non éligible"


class ChildcareRequestQuerySet(models.QuerySet["ChildcareRequest"]):
    def awaiting(self) -> ChildcareRequestQuerySet:
        return self.filter(status=RequestStatus.SENT)

    def at_half_time(self, now: datetime) -> ChildcareRequestQuerySet:
        """Sent, unanswered, past half of their delay, not past due, not reminded yet."""
        half = ExpressionWrapper(
            F("created_at") + (F("due_at") - F("created_at")) / 2,
            output_field=models.DateTimeField(),
        )
        return (
            self.awaiting()
            .filter(reminded_at__isnull=True, due_at__gt=now)
            .alias(half_at=half)
            .filter(half_at__lte=now)
        )

    def past_due(self, now: datetime) -> ChildcareRequestQuerySet:
        """Unanswered (to send or sent) past their due time, not escalated yet."""
        return self.filter(
            status__in=[RequestStatus.DRAFT, RequestStatus.SENT],
            escalated_at__isnull=True,
            due_at__lte=now,
        )


class ChildcareRequest(models.Model):
    """A parent's need of childcare, filed from her file by a member of her team."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name="parent"
    )
    department = models.ForeignKey(
        "territories.Department", on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="organisation qui a fait la demande",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="demandée par",
    )
    reason = models.CharField("motif", max_length=30, choices=Reason.choices)
    reason_on = models.DateField("date de l'entretien ou du début", null=True, blank=True)
    needed_on = models.DateField("accueil nécessaire à partir du")
    schedule = models.CharField("jours et horaires", max_length=200)
    single_parent = models.BooleanField("parent isolé", default=False)
    qpv = models.BooleanField("habite un quartier prioritaire (QPV)", default=False)
    rsa = models.BooleanField("bénéficiaire du RSA", default=False)
    under_25 = models.BooleanField("moins de 25 ans", default=False)
    urgency = models.CharField("urgence", max_length=20, choices=Urgency.choices)
    radius_km = models.IntegerField("distance maximale (km)", default=DEFAULT_RADIUS_KM)
    consent = models.ForeignKey(
        "people.Consent",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="consentement",
    )
    status = models.CharField(
        "état", max_length=20, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    created_at = models.DateTimeField("demandée le", default=timezone.now)
    due_at = models.DateTimeField("réponse attendue avant le")
    # The deadlines job's marks: each reminder and the escalation are sent once.
    reminded_at = models.DateTimeField("relancée à mi-délai le", null=True, blank=True)
    escalated_at = models.DateTimeField("signalée au coordinateur le", null=True, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    withdrawn_reason = models.CharField("motif du retrait", max_length=300, blank=True)
    # The CAF's check of the criteria; an emergency may start before it.
    eligibility = models.CharField(
        "critères AVIP", max_length=20, choices=Eligibility.choices, blank=True
    )
    eligibility_reason = models.CharField("motif", max_length=300, blank=True)
    checked_at = models.DateTimeField("critères vérifiés le", null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="critères vérifiés par",
    )

    objects = ChildcareRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande de garde d'enfant"
        verbose_name_plural = "demandes de garde d'enfant"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="childcare_request_due",
                condition=Q(status__in=["a_envoyer", "envoyee"]),
            ),
            models.Index(fields=["person", "-created_at"], name="childcare_request_person"),
            # The figures (binome/childcare/figures.py): a département's requests of a period.
            models.Index(
                fields=["department", "created_at"],
                include=["id", "urgency", "status", "organisation"],
                name="childcare_request_figures",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(radius_km__gte=1) & Q(radius_km__lte=MAX_RADIUS_KM),
                name="childcare_request_radius",
                violation_error_message="La distance va de 1 à 100 km.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_urgency_display()} — {self.get_reason_display()}"

    @property
    def is_emergency(self) -> bool:
        return self.urgency == Urgency.EMERGENCY


class RequestChild(models.Model):
    """A child of the request: first name and birth date, never more."""

    request = models.ForeignKey(ChildcareRequest, on_delete=models.CASCADE, related_name="children")
    first_name = models.CharField("prénom", max_length=100)
    birth_date = models.DateField("date de naissance")

    class Meta:
        verbose_name = "enfant"
        verbose_name_plural = "enfants"
        ordering = ["birth_date", "id"]

    def __str__(self) -> str:
        return self.first_name

    def age_months(self, on: date) -> int:
        return age_months(self.birth_date, on)


class SolicitationStatus(models.TextChoices):
    PENDING = "en_attente", "En attente de réponse"
    ACCEPTED = "acceptee", "Acceptée"
    DECLINED = "refusee", "Refusée"
    CLOSED = "close", "Close (place trouvée ailleurs ou demande retirée)"


class DeclineReason(models.TextChoices):
    NO_PLACE = "plus_de_place", "Plus de place disponible"
    AGE = "age", "L'âge de l'enfant ne correspond pas"
    SCHEDULE = "horaires", "Les jours ou horaires ne correspondent pas"
    DISTANCE = "distance", "Trop éloigné"
    OTHER = "autre", "Autre raison"


class SolicitationQuerySet(models.QuerySet["Solicitation"]):
    def for_provider_member(self, user: User) -> SolicitationQuerySet:
        """The solicitations of the providers the user is an active member of."""
        return self.filter(
            provider__organisation_id__in=Membership.objects.active()
            .filter(user=user, organisation__is_active=True)
            .values("organisation_id")
        )


class Solicitation(models.Model):
    """The request sent to one provider, and the provider's answer."""

    request = models.ForeignKey(
        ChildcareRequest, on_delete=models.CASCADE, related_name="solicitations"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="solicitations")
    distance_km = models.FloatField("distance (km)", null=True, blank=True)
    status = models.CharField(
        "réponse",
        max_length=20,
        choices=SolicitationStatus.choices,
        default=SolicitationStatus.PENDING,
    )
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    answered_at = models.DateTimeField("répondu le", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="répondu par",
    )
    start_on = models.DateField("début de l'accueil", null=True, blank=True)
    place_details = models.CharField("la place proposée", max_length=300, blank=True)
    decline_reason = models.CharField(
        "motif du refus", max_length=30, choices=DeclineReason.choices, blank=True
    )
    decline_details = models.CharField("précisions", max_length=300, blank=True)

    objects = SolicitationQuerySet.as_manager()

    class Meta:
        verbose_name = "sollicitation d'un accueil"
        verbose_name_plural = "sollicitations d'accueils"
        ordering = ["distance_km", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "provider"], name="childcare_solicitation_unique"
            ),
            # One winner per request, whatever the race.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="acceptee"),
                name="childcare_one_acceptance",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status"], name="childcare_solicitation_inbox"),
            # The figures (binome/childcare/figures.py): each request's first answer.
            models.Index(
                fields=["request"],
                include=["answered_at"],
                condition=Q(status__in=["acceptee", "refusee"]),
                name="childcare_solicitation_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} → {self.provider}"


# --- The place's life -----------------------------------------------------------------------

# The AVIP charter: a place is agreed for six months, renewable after a review.
PLACEMENT_MONTHS = 6
# The review's due-date alert leaves this many days before the place's end.
REVIEW_NOTICE_DAYS = 14
# The parent's situation is asked again this many months after the place's end.
FOLLOWUP_AFTER_MONTHS = 6


class PlacementStatus(models.TextChoices):
    ONGOING = "en_cours", "En cours"
    ENDED = "terminee", "Terminée"


class PlacementEndReason(models.TextChoices):
    TERM = "echeance", "Échéance sans renouvellement"
    RELAY = "relais", "Relais par un mode de garde ordinaire"
    FAMILY = "famille", "Fin demandée par la famille"
    MOVED = "demenagement", "Déménagement"
    ONE_OFF = "ponctuel", "Accueil ponctuel terminé (urgence)"
    OTHER = "autre", "Autre"


class PlacementQuerySet(models.QuerySet["Placement"]):
    def ongoing(self) -> PlacementQuerySet:
        return self.filter(status=PlacementStatus.ONGOING)

    def review_due(self, today: date) -> PlacementQuerySet:
        """Ongoing, their end within the review notice, not reminded for this end yet."""
        return (
            self.ongoing()
            .filter(ends_on__lte=today + timedelta(days=REVIEW_NOTICE_DAYS))
            .filter(Q(review_reminded_for__isnull=True) | Q(review_reminded_for__lt=F("ends_on")))
        )


class Placement(models.Model):
    """The place an accepted solicitation gave: six months by default from its start,
    renewed after a review or ended with a reason; the parent's situation at the end and six
    months later (as an accompaniment's exit and its follow-up: ``binome.support``)."""

    solicitation = models.OneToOneField(
        Solicitation, on_delete=models.CASCADE, related_name="placement"
    )
    request = models.ForeignKey(
        ChildcareRequest, on_delete=models.CASCADE, related_name="placements"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="placements")
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name="parent"
    )
    accompaniment = models.ForeignKey(
        "support.Accompaniment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="accompagnement du parent",
    )
    children = models.PositiveSmallIntegerField("enfants accueillis", default=1)
    status = models.CharField(
        "état", max_length=20, choices=PlacementStatus.choices, default=PlacementStatus.ONGOING
    )
    started_on = models.DateField("accueil depuis le")
    ends_on = models.DateField("fin prévue le (revue)")
    renewals = models.PositiveSmallIntegerField("renouvellements", default=0)
    review_reminded_for = models.DateField("revue rappelée pour la fin du", null=True, blank=True)
    ended_on = models.DateField("terminé le", null=True, blank=True)
    end_reason = models.CharField(
        "motif de fin", max_length=30, choices=PlacementEndReason.choices, blank=True
    )
    end_outcome = models.CharField(
        "situation du parent à la fin",
        max_length=30,
        choices=FollowupOutcome.choices,
        blank=True,
    )
    end_details = models.CharField("précisions", max_length=300, blank=True)
    followup_due_on = models.DateField("situation à 6 mois attendue le", null=True, blank=True)
    followup_outcome = models.CharField(
        "situation du parent 6 mois après",
        max_length=30,
        choices=FollowupOutcome.choices,
        blank=True,
    )
    followup_situation = models.CharField("précisions", max_length=300, blank=True)
    followup_recorded_on = models.DateField(
        "situation à 6 mois renseignée le", null=True, blank=True
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    # The organisation that filed the request, copied by the database (triggers of migration
    # ``0006_placement_request_organisation``, for the ORM, COPY and raw SQL alike): the
    # figures group a département's placements by it without looking up each request.
    request_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        editable=False,
        null=True,
        related_name="+",
        verbose_name="organisation qui a demandé",
    )

    objects = PlacementQuerySet.as_manager()

    class Meta:
        verbose_name = "accueil d'un enfant"
        verbose_name_plural = "accueils d'enfants"
        ordering = ["-started_on", "-id"]
        indexes = [
            models.Index(
                fields=["ends_on"],
                condition=Q(status="en_cours"),
                name="childcare_placement_review",
            ),
            models.Index(fields=["provider", "status"], name="childcare_placement_provider"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="en_cours")
                | (Q(ended_on__isnull=False) & ~Q(end_reason="") & ~Q(end_outcome="")),
                name="childcare_placement_ended_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} depuis le {self.started_on:%d/%m/%Y}"

    @property
    def is_ongoing(self) -> bool:
        return self.status == PlacementStatus.ONGOING

    def followup_expected(self, today: date) -> bool:
        """Ended, six months passed, the situation at six months not recorded yet."""
        return (
            self.status == PlacementStatus.ENDED
            and self.followup_due_on is not None
            and self.followup_due_on <= today
            and self.followup_recorded_on is None
        )
