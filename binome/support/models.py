"""Accompaniments, their team, transitions, notes, appointments and the timeline.

Who may see what is decided in ``binome.support.access``; the querysets here take the
result (a :class:`~binome.support.access.FileAccess`) so that every list of items — the
file page, the timeline, later the API and the exports — filters the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from binome.people.models import Person
from binome.support import referential

if TYPE_CHECKING:
    from binome.support.access import FileAccess

# A global accompaniment lasts 12 months; the team is alerted 2 months and 2 weeks before.
GLOBAL_DURATION_MONTHS = 12
END_ALERTS = (timedelta(days=61), timedelta(days=14))
FOLLOWUP_AFTER_MONTHS = 6
NO_CONTACT_ALERT = timedelta(days=30)
NOTE_MAX_LENGTH = 20_000


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when it does not exist)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


class Kind(models.TextChoices):
    GLOBAL = "global", "Accompagnement global"
    SOCIAL = "social", "Accompagnement social"
    PROFESSIONAL = "professional", "Accompagnement professionnel"


class State(models.TextChoices):
    PROPOSED = "proposed", "Proposé"
    ACTIVE = "active", "En cours"
    SUSPENDED = "suspended", "Suspendu"
    ENDED = "ended", "Terminé"


# The state machine, in one place: from → the states it may go to.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.PROPOSED: frozenset({State.ACTIVE, State.ENDED}),
    State.ACTIVE: frozenset({State.SUSPENDED, State.ENDED}),
    State.SUSPENDED: frozenset({State.ACTIVE, State.ENDED}),
    State.ENDED: frozenset(),
}
OPEN_STATES = (State.PROPOSED, State.ACTIVE, State.SUSPENDED)


class ExitReason(models.TextChoices):
    DURABLE_JOB = "emploi_durable", "Emploi durable (CDI ou CDD de plus de 6 mois)"
    TRANSITION_JOB = "emploi_transition", "Emploi de transition"
    TRAINING = "formation_qualifiante", "Formation qualifiante"
    BUSINESS = "creation_entreprise", "Création d'entreprise"
    SOCIAL = "orientation_sociale", "Orientation vers un accompagnement social"
    MOVED = "demenagement", "Déménagement"
    END_OF_RIGHTS = "fin_de_droits", "Fin de droits"
    DROPPED = "abandon", "Abandon"
    NOT_PERTINENT = "non_pertinent", "Non pertinent après diagnostic"
    OTHER = "autre", "Autre"


# The exit reasons recorded with the exit form: « non pertinent » is the decision taken after
# the diagnostic (``decide_after_diagnostic``), not an exit of someone who entered.
EXIT_FORM_REASONS = [(v, label) for v, label in ExitReason.choices if v != "non_pertinent"]


class ExitOrientation(models.TextChoices):
    """Where a person goes when global support is not pertinent after the diagnostic."""

    SOCIAL = "social", "Accompagnement social (département, CCAS)"
    FRANCE_TRAVAIL = "france_travail", "Autres modalités d'accompagnement de France Travail"


class FollowupOutcome(models.TextChoices):
    """The person's situation six months after the exit (FSE+ asks for it at entry, at exit
    and six months after). The first four are the exit reasons of the same name."""

    DURABLE_JOB = ExitReason.DURABLE_JOB.value, ExitReason.DURABLE_JOB.label
    TRANSITION_JOB = ExitReason.TRANSITION_JOB.value, ExitReason.TRANSITION_JOB.label
    TRAINING = ExitReason.TRAINING.value, ExitReason.TRAINING.label
    BUSINESS = ExitReason.BUSINESS.value, ExitReason.BUSINESS.label
    JOB_SEEKING = "recherche_emploi", "En recherche d'emploi"
    SOCIAL = "accompagnement_social", "En accompagnement social"
    INACTIVE = "inactivite", "Sans activité ni recherche (santé, famille…)"
    NO_NEWS = "sans_nouvelles", "Sans nouvelles de la personne"
    OTHER = "autre", "Autre"


class AccompanimentQuerySet(models.QuerySet["Accompaniment"]):
    def open(self) -> AccompanimentQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def newest_first(self) -> AccompanimentQuerySet:
        return self.order_by("-started_on", "-id")

    def current_of(self, person: Any, kind: str) -> AccompanimentQuerySet:
        """The person's open accompaniment of this kind (at most one: a unique index)."""
        return self.open().filter(person=person, kind=kind).newest_first()

    def for_team_member(self, user: object) -> AccompanimentQuerySet:
        return self.filter(team__user=user, team__left_at__isnull=True)


class Accompaniment(models.Model):
    """One accompaniment of a person: global (binôme), social or professional."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="accompaniments", verbose_name="personne"
    )
    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    state = models.CharField("état", max_length=20, choices=State.choices, default=State.PROPOSED)
    started_on = models.DateField("début")
    # A global accompaniment's 12 months count from its activation, after the diagnostic.
    activated_on = models.DateField("activé le", null=True, blank=True)
    planned_end_on = models.DateField("fin prévue", null=True, blank=True)
    extension_justification = models.TextField("justification de la prolongation", blank=True)
    ended_on = models.DateField("date de sortie", null=True, blank=True)
    exit_reason = models.CharField(
        "motif de sortie", max_length=30, choices=ExitReason.choices, blank=True
    )
    exit_situation = models.TextField("situation à la sortie", blank=True)
    exit_orientation = models.CharField(
        "orientation à la sortie",
        max_length=20,
        choices=ExitOrientation.choices,
        blank=True,
        default="",
        db_default="",  # bulk loads (COPY) that do not name it
    )
    followup_due_on = models.DateField("situation à 6 mois attendue le", null=True, blank=True)
    followup_situation = models.TextField("situation à 6 mois", blank=True)
    followup_outcome = models.CharField(
        "situation à 6 mois",
        max_length=30,
        choices=FollowupOutcome.choices,
        blank=True,
        default="",
        db_default="",  # bulk loads (COPY) that do not name it
    )
    followup_recorded_on = models.DateField("situation à 6 mois enregistrée le", null=True)
    # The person's age at the start and at the activation, written when her file is
    # anonymised (her birth date is then kept as a year and a month only): the figures and the
    # FSE+ exports read them first, so that they give the same numbers before and after.
    age_at_start = models.PositiveSmallIntegerField(
        "âge au début", null=True, blank=True, editable=False
    )
    age_at_activation = models.PositiveSmallIntegerField(
        "âge à l'activation", null=True, blank=True, editable=False
    )
    # The person's département, copied by the database trigger of migration 0013 on every
    # INSERT and UPDATE of the accompaniment and on every change of the person's département
    # (the ORM, COPY and raw SQL alike): never set it in Python. The steering figures scope
    # the global accompaniments by it without joining the persons.
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        editable=False,
        related_name="+",
        verbose_name="département de la personne",
    )
    # The one designated referent: a current member of the team (``support.actions.referent``).
    referent = models.ForeignKey(
        "TeamMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="référent ou référente désigné(e)",
    )
    created_at = models.DateTimeField("ouvert le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="ouvert par",
    )

    objects = AccompanimentQuerySet.as_manager()

    class Meta:
        verbose_name = "accompagnement"
        verbose_name_plural = "accompagnements"
        ordering = ["-started_on", "-id"]
        indexes = [
            models.Index(fields=["person", "state"], name="accompaniment_person_state"),
            # The steering figures: a département's global accompaniments, with every column
            # the figures read (index-only scans: a département's history is read from the
            # index, not from its rows scattered over the table).
            models.Index(
                fields=["department", "started_on"],
                include=[
                    "ended_on",
                    "exit_reason",
                    "activated_on",
                    "followup_recorded_on",
                    "followup_outcome",
                    "person",
                    "age_at_start",
                    "id",
                ],
                condition=Q(kind="global"),
                name="accompaniment_dept_figures",
            ),
            # The daily deadline alerts (binome.support.tasks): a range scan each.
            models.Index(
                fields=["planned_end_on"],
                condition=Q(kind="global", state="active"),
                name="accompaniment_global_end",
            ),
            models.Index(
                fields=["followup_due_on"],
                condition=Q(state="ended", followup_recorded_on__isnull=True),
                name="accompaniment_followup_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="ended") | (Q(ended_on__isnull=False) & ~Q(exit_reason="")),
                name="accompaniment_ended_has_exit",
            ),
            # One open accompaniment of each kind per person: a second binôme for the same
            # person would split the file in two teams. ``open_accompaniment`` checks it
            # first (with a French message); this partial unique index is the guarantee.
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(state__in=["proposed", "active", "suspended"]),
                name="accompaniment_one_open_per_kind",
                violation_error_message=(
                    "Cette personne a déjà un accompagnement de ce type en cours."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def allowed_transitions(self) -> frozenset[str]:
        return TRANSITIONS[self.state]

    def followup_expected(self, today: date) -> bool:
        """Ended, six months passed, and the situation at 6 months not recorded yet."""
        return (
            self.state == State.ENDED
            and self.followup_due_on is not None
            and self.followup_due_on <= today
            and self.followup_recorded_on is None
        )

    @property
    def followup_pending(self) -> bool:
        return self.followup_expected(timezone.localdate())

    def end_approaching(self, today: date) -> bool:
        return (
            self.is_open
            and self.planned_end_on is not None
            and self.planned_end_on - today <= END_ALERTS[0]
        )


class Transition(models.Model):
    """One change of state of an accompaniment: from, to, who, when, why."""

    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField("de", max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField("vers", max_length=20, choices=State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    at = models.DateTimeField("le", auto_now_add=True)
    reason = models.TextField("motif", blank=True)

    class Meta:
        verbose_name = "changement d'état"
        verbose_name_plural = "changements d'état"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '—'} → {self.to_state}"


class Extension(models.Model):
    """A prolongation of an accompaniment beyond its planned end, with its justification."""

    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.CASCADE, related_name="extensions"
    )
    previous_end_on = models.DateField("fin prévue précédente", null=True)
    new_end_on = models.DateField("nouvelle fin prévue")
    justification = models.TextField("justification")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "prolongation"
        verbose_name_plural = "prolongations"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Prolongation jusqu'au {self.new_end_on:%d/%m/%Y}"


# « Un an maximum »: a global accompaniment is extended at most this often and this long,
# unless the territory sets otherwise (``SupportSettings``).
DEFAULT_MAX_EXTENSIONS = 1
DEFAULT_EXTENSION_MONTHS = 6
MAX_EXTENSIONS_BOUND = 3
EXTENSION_MONTHS_BOUND = 12


class SupportSettings(models.Model):
    """A territory's bounds on the extension of a global accompaniment."""

    department = models.OneToOneField(
        "territories.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="support_settings",
        verbose_name="département",
    )
    max_extensions = models.PositiveSmallIntegerField(
        "nombre de prolongations permises", default=DEFAULT_MAX_EXTENSIONS
    )
    extension_months = models.PositiveSmallIntegerField(
        "durée maximale d'une prolongation (mois)", default=DEFAULT_EXTENSION_MONTHS
    )

    class Meta:
        verbose_name = "réglages de l'accompagnement global"
        verbose_name_plural = "réglages de l'accompagnement global"
        constraints = [
            models.CheckConstraint(
                condition=Q(max_extensions__lte=MAX_EXTENSIONS_BOUND)
                & Q(extension_months__gte=1)
                & Q(extension_months__lte=EXTENSION_MONTHS_BOUND),
                name="support_settings_bounds",
            )
        ]

    def __str__(self) -> str:
        return f"Réglages de l'accompagnement global ({self.department_id})"

    @classmethod
    def for_department(cls, department_id: str) -> SupportSettings:
        """The territory's settings, or the defaults (unsaved) when it set none."""
        found = cls.objects.filter(department_id=department_id).first()
        return found or cls(department_id=department_id)


class TeamRole(models.TextChoices):
    REFERENT = "referent", "Référent ou référente"
    DEDICATED_COUNSELOR = "dedicated_counselor", "Conseiller ou conseillère dédié(e)"
    SOCIAL_WORKER = "social_worker", "Travailleur ou travailleuse sociale"
    MEMBER = "member", "Autre membre"


class TeamMemberQuerySet(models.QuerySet["TeamMember"]):
    def current(self) -> TeamMemberQuerySet:
        return self.filter(left_at__isnull=True)


class TeamMember(models.Model):
    """A professional on an accompaniment's team. Leaving keeps the row (history)."""

    accompaniment = models.ForeignKey(Accompaniment, on_delete=models.CASCADE, related_name="team")
    # Denormalised from the accompaniment: "the persons of this user" is one index scan.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="team_memberships",
        verbose_name="professionnel",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="organisation",
    )
    role = models.CharField("rôle", max_length=30, choices=TeamRole.choices)
    joined_at = models.DateTimeField("arrivée", auto_now_add=True)
    join_reason = models.TextField("motif de l'arrivée", blank=True)
    left_at = models.DateTimeField("départ", null=True, blank=True)
    leave_reason = models.TextField("motif du départ", blank=True)

    objects = TeamMemberQuerySet.as_manager()

    class Meta:
        verbose_name = "membre de l'équipe"
        verbose_name_plural = "membres de l'équipe"
        ordering = ["joined_at", "id"]
        indexes = [
            models.Index(
                fields=["user", "person"],
                condition=Q(left_at__isnull=True),
                name="team_current_user_person",
            ),
            models.Index(
                fields=["organisation", "person"],
                condition=Q(left_at__isnull=True),
                name="team_current_org_person",
            ),
            # The steering figures by organisation: a team's organisations read from the
            # index, accompaniment by accompaniment.
            models.Index(fields=["accompaniment", "organisation"], name="team_organisations"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["accompaniment", "user"],
                condition=Q(left_at__isnull=True),
                name="team_member_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class JoinRequestStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"


# The referent answers a request to join first; after this delay any member of the team may.
JOIN_REFERENT_FIRST = timedelta(hours=48)


class JoinRequestQuerySet(models.QuerySet["JoinRequest"]):
    def pending(self) -> JoinRequestQuerySet:
        return self.filter(status=JoinRequestStatus.PENDING)


class JoinRequest(models.Model):
    """A professional asks to join an accompaniment's team (``invited_by`` empty), or a team
    member invites one. Nobody joins a team on their own word: a request is granted by the
    team (its referent first, any member after 48 hours), an invitation by the invitee."""

    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.CASCADE, related_name="join_requests"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="join_requests",
        verbose_name="professionnel",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("motif")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="invité par",
    )
    status = models.CharField(
        "état",
        max_length=20,
        choices=JoinRequestStatus.choices,
        default=JoinRequestStatus.PENDING,
    )
    created_at = models.DateTimeField("demandée le", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decline_reason = models.TextField("motif du refus", blank=True)

    objects = JoinRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "demande pour rejoindre une équipe"
        verbose_name_plural = "demandes pour rejoindre une équipe"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["accompaniment", "user"],
                condition=Q(status="pending"),
                name="join_request_pending_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["accompaniment"], condition=Q(status="pending"), name="join_pending_acc"
            ),
            models.Index(fields=["user", "-created_at"], name="join_request_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.accompaniment_id} ({self.get_status_display()})"

    @property
    def is_invitation(self) -> bool:
        return self.invited_by_id is not None

    @property
    def open_to_whole_team_at(self) -> datetime:
        return self.created_at + JOIN_REFERENT_FIRST


class Visibility(models.TextChoices):
    AUTHOR = "author", "Moi seulement"
    ORGANISATION = "organisation", "Mon organisation"
    TEAM = "team", "L'équipe de l'accompagnement"
    TEAM_AND_PERSON = "team_and_person", "L'équipe et la personne"


class NoteQuerySet(models.QuerySet["Note"]):
    def visible_to(self, access: FileAccess) -> NoteQuerySet:
        """The notes this user sees in the file (the rule: ``FileAccess.item_filter``)."""
        return self.filter(access.item_filter(author_field="author"))


class Medium(models.TextChoices):
    IN_PERSON = "in_person", "Entretien physique"
    PHONE = "phone", "Téléphone"
    VIDEO = "video", "Visio"
    HOME_VISIT = "home_visit", "Visite à domicile"
    EMAIL = "email", "Courriel ou message"
    OTHER = "other", "Autre"


class Note(models.Model):
    """A note of an interview (entretien), with its visibility."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="auteur"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField("date de l'entretien")
    medium = models.CharField("modalité", max_length=20, choices=Medium.choices)
    text = models.TextField("note", max_length=NOTE_MAX_LENGTH)
    is_health = models.BooleanField("contient des informations de santé", default=False)
    visibility = models.CharField("visible par", max_length=20, choices=Visibility.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NoteQuerySet.as_manager()

    class Meta:
        verbose_name = "note d'entretien"
        verbose_name_plural = "notes d'entretien"
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["person", "-date"], name="note_person_date")]

    def __str__(self) -> str:
        return f"Entretien du {self.date:%d/%m/%Y}"


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", "Prévu"
    HELD = "held", "Honoré"
    MISSED = "missed", "Manqué"
    CANCELLED = "cancelled", "Annulé"


class Appointment(models.Model):
    """A meeting with the person: when, where, with whom, what became of it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="appointments")
    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField("date et heure")
    place = models.CharField("lieu", max_length=200)
    with_whom = models.CharField("avec", max_length=200)
    status = models.CharField(
        "statut",
        max_length=20,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.PLANNED,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rendez-vous"
        verbose_name_plural = "rendez-vous"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"], name="appointment_person_at")]

    def __str__(self) -> str:
        return f"Rendez-vous du {self.at:%d/%m/%Y}"


class EventKind(models.TextChoices):
    PERSON = "person", "Dossier"
    CONSENT = "consent", "Consentement"
    ACCOMPANIMENT = "accompaniment", "Accompagnement"
    TEAM = "team", "Équipe"
    NOTE = "note", "Note d'entretien"
    APPOINTMENT = "appointment", "Rendez-vous"
    DIAGNOSTIC = "diagnostic", "Diagnostic partagé"
    PLAN = "plan", "Plan d'action"
    REFERRAL = "referral", "Orientation"
    CHILDCARE = "childcare", "Garde d'enfants"
    RSA = "rsa", "RSA"


class TimelineQuerySet(models.QuerySet["TimelineEvent"]):
    def visible_to(self, access: FileAccess) -> TimelineQuerySet:
        """The events this user sees, by the same rule as the notes."""
        return self.filter(access.item_filter(author_field="actor"))


class TimelineEvent(models.Model):
    """One line of the file's chronology, across institutions, written by the actions."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField("type", max_length=20, choices=EventKind.choices)
    at = models.DateTimeField("date")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="par",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField("résumé", max_length=300)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        verbose_name = "événement"
        verbose_name_plural = "chronologie"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at", "-id"], name="timeline_person_at")]

    def __str__(self) -> str:
        return self.summary


# --- The shared diagnostic -----------------------------------------------------------
# Its themes, situations, objectives and statuses come from the referential
# (``binome.support.referential``); the codes are stored, the labels read from it.


class BarrierLevel(models.TextChoices):
    NONE = "none", "Pas de frein"
    TO_LIFT = "to_lift", "Frein à lever"
    BLOCKING = "blocking", "Frein bloquant"
    NOT_ADDRESSED = "not_addressed", "Non abordé"


BARRIER_LEVELS = (BarrierLevel.TO_LIFT, BarrierLevel.BLOCKING)
MAX_MOBILITY_RADIUS_KM = 200
COMMENT_MAX_LENGTH = 4000


class Availability(models.TextChoices):
    IMMEDIATE = "immediate", "Immédiate"
    WITHIN_MONTH = "within_month", "Dans le mois"
    WITHIN_QUARTER = "within_quarter", "Dans les trois mois"
    PART_TIME = "part_time", "À temps partiel seulement"
    NOT_NOW = "not_now", "Pas disponible pour l'instant"


class DepartmentSituation(models.Model):
    """A situation a département adds to a theme of the referential (its own wording)."""

    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="département",
    )
    theme = models.CharField("thème", max_length=40, choices=referential.theme_choices)
    label = models.CharField("situation", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "situation ajoutée par le département"
        verbose_name_plural = "situations ajoutées par le département"
        ordering = ["theme", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "theme", "label"], name="department_situation_once"
            )
        ]

    def __str__(self) -> str:
        return self.label


class DiagnosticStatus(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    VALIDATED = "validated", "Validé"


class DiagnosticQuerySet(models.QuerySet["Diagnostic"]):
    def visible_to(self, access: FileAccess) -> DiagnosticQuerySet:
        """The diagnostics this user sees (shared with the team: the rule of the notes)."""
        return self.filter(access.item_filter(author_field="recorded_by"))

    def validated(self) -> DiagnosticQuerySet:
        """The diagnostics validated by both professionals: the only ones that count."""
        return self.filter(status=DiagnosticStatus.VALIDATED)

    def drafts(self) -> DiagnosticQuerySet:
        return self.filter(status=DiagnosticStatus.DRAFT)


class Diagnostic(models.Model):
    """One shared diagnostic, made with the person. A re-evaluation is a new row: the
    previous ones stay, and the barriers lifted over time are read from them."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="diagnostics")
    accompaniment = models.ForeignKey(
        Accompaniment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="diagnostics",
        verbose_name="accompagnement",
    )
    made_on = models.DateField("fait le")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    co_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="fait avec",
    )
    co_author_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    visibility = models.CharField(
        "visible par",
        max_length=20,
        choices=Visibility.choices,
        default=Visibility.TEAM_AND_PERSON,
    )
    # The professional part.
    project = models.TextField("projet professionnel", max_length=COMMENT_MAX_LENGTH, blank=True)
    qualification = models.CharField("qualification", max_length=200, blank=True)
    availability = models.CharField(
        "disponibilité", max_length=20, choices=Availability.choices, blank=True
    )
    mobility_radius_km = models.PositiveSmallIntegerField(
        "rayon de mobilité (km)", null=True, blank=True
    )
    # The conclusion.
    recommended_kind = models.CharField(
        "accompagnement préconisé",
        max_length=20,
        choices=referential.orientation_choices,
        blank=True,
    )
    recommendation_reason = models.TextField("pourquoi", max_length=COMMENT_MAX_LENGTH, blank=True)
    # A draft until both professionals of the binôme validated it (``DiagnosticValidation``).
    status = models.CharField(
        "statut",
        max_length=20,
        choices=DiagnosticStatus.choices,
        default=DiagnosticStatus.DRAFT,
        db_default=DiagnosticStatus.DRAFT,
    )
    validated_at = models.DateTimeField("validé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DiagnosticQuerySet.as_manager()

    class Meta:
        verbose_name = "diagnostic partagé"
        verbose_name_plural = "diagnostics partagés"
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["person", "-made_on", "-id"], name="diagnostic_person")]

    def __str__(self) -> str:
        return f"Diagnostic du {self.made_on:%d/%m/%Y}"

    @property
    def is_draft(self) -> bool:
        return self.status == DiagnosticStatus.DRAFT


class DiagnosticValidation(models.Model):
    """One professional of the binôme validated the diagnostic as it stands: the France
    Travail side and the social side each validate once; a change of the draft removes the
    validations given before it."""

    diagnostic = models.ForeignKey(Diagnostic, on_delete=models.CASCADE, related_name="validations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField("côté du binôme", max_length=20)
    at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "validation du diagnostic"
        verbose_name_plural = "validations du diagnostic"
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["diagnostic", "side"], name="diagnostic_validation_once_per_side"
            )
        ]

    def __str__(self) -> str:
        return f"Validation du {self.at:%d/%m/%Y}"


class DiagnosticTheme(models.Model):
    """The answer of a diagnostic for one theme: situations and level of the barrier.

    Shared with everyone who sees the diagnostic; the comments carry their own visibility.
    """

    diagnostic = models.ForeignKey(Diagnostic, on_delete=models.CASCADE, related_name="answers")
    theme = models.CharField("thème", max_length=40, choices=referential.theme_choices)
    situations = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, verbose_name="situations"
    )
    # Empty while a draft leaves the theme unassessed: validation refuses it.
    level = models.CharField(
        "niveau", max_length=20, choices=BarrierLevel.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = "thème du diagnostic"
        verbose_name_plural = "thèmes du diagnostic"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["diagnostic", "theme"], name="diagnostic_theme_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_theme_display()} : {self.get_level_display().lower()}"

    @property
    def is_barrier(self) -> bool:
        return self.level in BARRIER_LEVELS


class DiagnosticCommentQuerySet(models.QuerySet["DiagnosticComment"]):
    def visible_to(self, access: FileAccess) -> DiagnosticCommentQuerySet:
        """The comments this user reads: the rule of the notes."""
        return self.filter(access.item_filter(author_field="author"))


class DiagnosticComment(models.Model):
    """A professional's comment on a theme of a diagnostic, with its visibility."""

    answer = models.ForeignKey(DiagnosticTheme, on_delete=models.CASCADE, related_name="comments")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="auteur"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    visibility = models.CharField("visible par", max_length=20, choices=Visibility.choices)
    text = models.TextField("commentaire", max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DiagnosticCommentQuerySet.as_manager()

    class Meta:
        verbose_name = "commentaire du diagnostic"
        verbose_name_plural = "commentaires du diagnostic"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Commentaire du {self.created_at:%d/%m/%Y}"


# --- The plan: objectives → actions ----------------------------------------------------

OPEN_ACTION_STATUSES = ("planned", "in_progress", "standby")
DONE_ACTION_STATUS = "done"
OBJECTIVE_OPEN_STATUS = "in_progress"


class PlanItemQuerySet(models.QuerySet[Any]):
    def visible_to(self, access: FileAccess) -> PlanItemQuerySet:
        """The plan items this user sees: the rule of the notes (shared with the team)."""
        return self.filter(access.item_filter(author_field="created_by"))


class PlanItem(models.Model):
    """What objectives and actions share: who wrote them, for whom, and a version that
    refuses the save of a form opened before someone else's change."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    visibility = models.CharField(
        "visible par",
        max_length=20,
        choices=Visibility.choices,
        default=Visibility.TEAM_AND_PERSON,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="modifié par",
    )
    version = models.PositiveIntegerField(default=1)

    objects = PlanItemQuerySet.as_manager()

    class Meta:
        abstract = True


class Objective(PlanItem):
    """An objective of an accompaniment's plan, for a theme (referential or free text)."""

    accompaniment = models.ForeignKey(
        Accompaniment, on_delete=models.CASCADE, related_name="objectives"
    )
    theme = models.CharField("thème", max_length=40, choices=referential.theme_choices)
    label = models.CharField("objectif", max_length=300)
    status = models.CharField(
        "statut",
        max_length=20,
        choices=referential.objective_status_choices,
        default=OBJECTIVE_OPEN_STATUS,
    )

    class Meta:
        verbose_name = "objectif"
        verbose_name_plural = "objectifs"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["accompaniment", "theme"], name="objective_acc_theme")]

    def __str__(self) -> str:
        return self.label


class Action(PlanItem):
    """An action towards an objective: status, due date, who carries it, maybe a service."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="actions")
    label = models.CharField("action", max_length=300)
    status = models.CharField(
        "statut", max_length=20, choices=referential.action_status_choices, default="planned"
    )
    due_on = models.DateField("échéance", null=True, blank=True)
    carried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="portée par",
    )
    carried_by_person = models.BooleanField("portée par la personne", default=False)
    service = models.ForeignKey(
        "directory.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="service de l'annuaire",
    )
    done_on = models.DateField("réalisée le", null=True, blank=True)

    class Meta:
        verbose_name = "action"
        verbose_name_plural = "actions"
        ordering = ["due_on", "created_at", "id"]
        indexes = [
            # The worklist's "overdue actions" alert: open actions by person and due date.
            models.Index(
                fields=["person", "due_on"],
                condition=Q(status__in=OPEN_ACTION_STATUSES),
                name="action_open_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(carried_by__isnull=False) & Q(carried_by_person=True)),
                name="action_carried_once",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today


# The caseload per département and month kept by the nightly job, and the FSE+
# questionnaire (their own modules, loaded with the app's models).
from binome.support.caseload import (  # noqa: E402, F401
    CaseloadCoverage,
    CaseloadMonth,
    ExitMonth,
    FiguresMonth,
)
from binome.support.fse import FseAnswers  # noqa: E402, F401
