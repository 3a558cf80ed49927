"""Referrals (orientations): between institutions, to the binôme, to any service of the
directory, and reorientation requests — each one a tracked object with an answer, a due
date and an outcome.

The life cycle is an explicit state machine (:data:`TRANSITIONS`); every change is a
:class:`ReferralEvent` row (from, to, who — possibly nobody when the answer came through a
signed link or a periodic job —, how, when). The figures (delays, rates) are computed from
those rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Extract
from django.utils import timezone

from binome.core.queries import PreparedQuery
from binome.support import referential
from binome.support.models import Kind as AccompanimentKind

if TYPE_CHECKING:
    from binome.accounts.models import User

DEFAULT_REMINDER_DAYS = 10
DEFAULT_EXPIRY_DAYS = 30
DEFAULT_URGENT_HOURS = 48
URGENT_HOURS_MIN, URGENT_HOURS_MAX = 4, 168
# « Relancer »: the sender's nudge, once a day at most (whoever nudged).
NUDGE_INTERVAL = timedelta(hours=24)


class ReferralKind(models.TextChoices):
    GLOBAL = "global", "Vers l'accompagnement global (binôme)"
    SOCIAL = "social", "Vers l'accompagnement social"
    SERVICE = "service", "Vers un service de l'annuaire"
    REORIENTATION = "reorientation", "Demande de réorientation"
    # The département's orientation of an RSA beneficiary, notified to the referent body
    # (sent by ``binome.rsa``, never from the referral form).
    RSA = "rsa", "Orientation RSA"


class Status(models.TextChoices):
    SENT = "sent", "Envoyée"
    SEEN = "seen", "Vue"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"
    EXPIRED = "expired", "Expirée"
    STARTED = "started", "Commencée"
    COMPLETED = "completed", "Terminée"
    ABANDONED = "abandoned", "Abandonnée"
    NO_SHOW = "no_show", "Personne non venue"


# The state machine, in one place: from → the states it may go to. The outcome states
# (started → completed | abandoned, no-show) follow only a referral to a service
# (``FOLLOWED_KINDS``): see :meth:`Referral.allowed_transitions`.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SENT: frozenset(
        {Status.SEEN, Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED}
    ),
    Status.SEEN: frozenset({Status.ACCEPTED, Status.DECLINED, Status.WITHDRAWN, Status.EXPIRED}),
    Status.ACCEPTED: frozenset({Status.STARTED, Status.NO_SHOW}),
    Status.STARTED: frozenset({Status.COMPLETED, Status.ABANDONED}),
    Status.DECLINED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.ABANDONED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
AWAITING = (Status.SENT, Status.SEEN)  # waiting for an answer: reminded, then expired
OPEN = (Status.SENT, Status.SEEN, Status.ACCEPTED, Status.STARTED)
OUTCOME_STATES = (Status.STARTED, Status.COMPLETED, Status.ABANDONED, Status.NO_SHOW)
FOLLOWED_KINDS = (ReferralKind.SERVICE,)


class DeclineReason(models.TextChoices):
    UNREACHABLE = "unreachable", "Personne injoignable"
    NOT_ELIGIBLE = "not_eligible", "Personne non éligible"
    NO_PLACE = "no_place", "Pas de place disponible"
    ALREADY_SUPPORTED = "already_supported", "Personne déjà accompagnée"
    DUPLICATE = "duplicate", "Orientation en double"
    MAINTAINED = "maintained", "Accompagnement maintenu (réorientation non retenue)"
    OTHER = "other", "Autre motif"


class Urgency(models.TextChoices):
    NORMAL = "normal", "Normale"
    URGENT = "urgent", "Urgente"


class Via(models.TextChoices):
    APP = "app", "Binôme"
    LINK = "link", "Lien sécurisé"
    JOB = "job", "Traitement automatique"


class EventAction(models.TextChoices):
    """What a :class:`ReferralEvent` records: a change of state, or a step without one."""

    SENT = "sent", "Envoi"
    SEEN = "seen", "Lecture"
    ACCEPTED = "accepted", "Acceptation"
    DECLINED = "declined", "Refus"
    WITHDRAWN = "withdrawn", "Retrait"
    EXPIRED = "expired", "Expiration"
    STARTED = "started", "Début"
    COMPLETED = "completed", "Fin"
    ABANDONED = "abandoned", "Abandon"
    NO_SHOW = "no_show", "Absence"
    REMINDED = "reminded", "Relance"
    ASSIGNED = "assigned", "Attribution"
    LINK_SENT = "link_sent", "Lien envoyé"
    NUDGED = "nudged", "Relance par l'orienteur"


class ReferralSettings(models.Model):
    """A territory's delays: reminder without an answer, then expiry; the hours an urgent
    referral is due within."""

    department = models.OneToOneField(
        "territories.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="referral_settings",
        verbose_name="département",
    )
    reminder_days = models.PositiveSmallIntegerField(
        "relance sans réponse après (jours)", default=DEFAULT_REMINDER_DAYS
    )
    expiry_days = models.PositiveSmallIntegerField(
        "expiration après la relance (jours)", default=DEFAULT_EXPIRY_DAYS
    )
    urgent_hours = models.PositiveSmallIntegerField(
        "délai de réponse d'une orientation urgente (heures)", default=DEFAULT_URGENT_HOURS
    )

    class Meta:
        verbose_name = "délais des orientations"
        verbose_name_plural = "délais des orientations"
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_days__gte=1) & Q(expiry_days__gte=1),
                name="referral_settings_positive",
            ),
            models.CheckConstraint(
                condition=Q(urgent_hours__gte=URGENT_HOURS_MIN)
                & Q(urgent_hours__lte=URGENT_HOURS_MAX),
                name="referral_settings_urgent_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"Délais des orientations ({self.department_id})"

    @classmethod
    def delays_for(cls, department_id: str) -> tuple[int, int]:
        """(reminder days, expiry days) of the département, the defaults when unset."""
        found = cls.objects.filter(department_id=department_id).first()
        if found is None:
            return DEFAULT_REMINDER_DAYS, DEFAULT_EXPIRY_DAYS
        return found.reminder_days, found.expiry_days

    @classmethod
    def urgent_hours_for(cls, department_id: str) -> int:
        """The hours an urgent referral of the département is due within."""
        found = cls.objects.filter(department_id=department_id).first()
        return DEFAULT_URGENT_HOURS if found is None else found.urgent_hours


class ReferralQuerySet(models.QuerySet["Referral"]):
    def awaiting(self) -> ReferralQuerySet:
        return self.filter(status__in=AWAITING)

    def on_answer_clock(self) -> ReferralQuerySet:
        """Unanswered, and of a kind that is reminded, then expires without an answer: not
        an RSA orientation, the département's decision the law requires, which neither
        expires nor is refused (its referent body may only ask for a reorientation, and
        ``binome.rsa`` follows its own deadlines)."""
        return self.awaiting().exclude(kind=ReferralKind.RSA)

    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN)

    def received_by(self, organisation_id: int) -> ReferralQuerySet:
        return self.filter(to_organisation_id=organisation_id)

    def due_for_reminder(self, today: date) -> ReferralQuerySet:
        """Unanswered past their due date, not reminded yet, not expired. The urgent ones
        with a due time are reminded on their own clock (:meth:`urgent_due_for_reminder`);
        those sent before due times existed keep this daily reminder."""
        return (
            self.on_answer_clock()
            .filter(due_on__lte=today, reminded_at__isnull=True, expires_on__gt=today)
            .exclude(urgency=Urgency.URGENT, due_at__isnull=False)
        )

    def urgent_due_for_reminder(self, now: datetime) -> ReferralQuerySet:
        """Urgent, unanswered past their due time, not reminded yet, not expired."""
        return self.on_answer_clock().filter(
            urgency=Urgency.URGENT,
            due_at__lte=now,
            reminded_at__isnull=True,
            expires_on__gt=timezone.localdate(now),
        )

    def urgent_half_time(self, now: datetime) -> ReferralQuerySet:
        """Urgent, unanswered past half of their delay (not yet at its end), not reminded
        of it yet: ``now - sent_at >= due_at - now``."""
        return (
            self.on_answer_clock()
            .filter(
                urgency=Urgency.URGENT,
                due_at__gt=now,
                half_reminded_at__isnull=True,
                reminded_at__isnull=True,
            )
            .alias(
                elapsed=models.ExpressionWrapper(
                    models.Value(now) - models.F("sent_at"), output_field=models.DurationField()
                ),
                left=models.ExpressionWrapper(
                    models.F("due_at") - models.Value(now), output_field=models.DurationField()
                ),
            )
            .filter(elapsed__gte=models.F("left"))
        )

    def due_for_expiry(self, today: date) -> ReferralQuerySet:
        return self.on_answer_clock().filter(expires_on__lte=today)

    def inbox_order(self, today: date) -> ReferralQuerySet:
        """Overdue first (oldest due date first), then the others by due date."""
        return self.annotate(
            is_overdue=models.Case(
                models.When(Q(status__in=AWAITING, due_on__lt=today), then=models.Value(0)),
                default=models.Value(1),
            )
        ).order_by("is_overdue", "due_on", "id")


class Referral(models.Model):
    """One orientation of a person, from a professional to an organisation, a structure of
    the directory (maybe without an account: then its contact e-mail), or the territory's
    orientation managers (reorientation)."""

    kind = models.CharField("type d'orientation", max_length=20, choices=ReferralKind.choices)
    status = models.CharField("état", max_length=20, choices=Status.choices, default=Status.SENT)
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="referrals", verbose_name="personne"
    )
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="département",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="orientée par",
    )
    sender_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name="organisation d'origine",
    )
    # The target: an organisation with members (its inbox), or a structure of the directory
    # (its service when chosen) — with an owner organisation, or without an account (then
    # ``contact_email`` receives a signed link). A reorientation request has neither: the
    # territory's orientation managers answer it.
    to_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_received",
        verbose_name="organisation destinataire",
    )
    structure = models.ForeignKey(
        "directory.Structure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="structure destinataire",
    )
    service = models.ForeignKey(
        "directory.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="service",
    )
    contact_email = models.EmailField("adresse de la structure", blank=True)
    # The content.
    reason = models.TextField("motif de l'orientation", max_length=4000)
    barriers = ArrayField(
        models.CharField(max_length=40, choices=referential.theme_choices),
        default=list,
        blank=True,
        verbose_name="freins concernés",
    )
    urgency = models.CharField(
        "urgence", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    # A reorientation: the accompaniment to change and the kind asked for; the manager's
    # decision opens the new accompaniment with the chosen team.
    accompaniment = models.ForeignKey(
        "support.Accompaniment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="accompagnement concerné",
    )
    requested_kind = models.CharField(
        "accompagnement demandé",
        max_length=20,
        choices=AccompanimentKind.choices,
        blank=True,
    )
    new_accompaniment = models.ForeignKey(
        "support.Accompaniment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="nouvel accompagnement",
    )
    # The receiving side.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="attribuée à",
    )
    decline_reason = models.CharField(
        "motif du refus", max_length=30, choices=DeclineReason.choices, blank=True
    )
    answer_message = models.TextField("message de la réponse", max_length=4000, blank=True)
    appointment_at = models.DateTimeField("rendez-vous le", null=True, blank=True)
    first_step = models.CharField("première étape", max_length=300, blank=True)
    appointment = models.ForeignKey(
        "support.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="rendez-vous de diagnostic",
    )
    outcome_message = models.TextField("précisions sur la suite", max_length=4000, blank=True)
    # Dates (the events have them all; these make the inbox and the job one index scan).
    sent_at = models.DateTimeField("envoyée le", default=timezone.now)
    due_on = models.DateField("réponse attendue le")
    # The due time: an urgent referral's is the sending plus the territory's hours (its
    # ``due_on`` is that time's local date, for the inbox's order); another's is the end of
    # its ``due_on``.
    due_at = models.DateTimeField("réponse attendue avant", null=True, blank=True)
    expires_on = models.DateField("expire le")
    seen_at = models.DateTimeField("vue le", null=True, blank=True)
    reminded_at = models.DateTimeField("relancée le", null=True, blank=True)
    half_reminded_at = models.DateTimeField("relancée à mi-délai le", null=True, blank=True)
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)
    started_at = models.DateTimeField("commencée le", null=True, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    # The same form posted twice creates one referral.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = "orientation"
        verbose_name_plural = "orientations"
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["to_organisation", "status", "due_on"], name="referral_inbox"),
            # The inbox's default tab: an organisation's awaiting referrals in due-date order,
            # read page by page straight from this index (no sort of thousands of rows).
            models.Index(
                fields=["to_organisation", "due_on", "id"],
                condition=Q(status__in=AWAITING),
                name="referral_inbox_awaiting",
            ),
            # The inbox's other tabs and « Toutes », page after page (keyset pagination on
            # ``(due_on, id)``, see binome/referrals/inbox.py): an ordered scan of the
            # organisation's referrals from the page's key, whatever the depth, instead of a
            # sort of all of them and an OFFSET.
            models.Index(fields=["to_organisation", "due_on", "id"], name="referral_inbox_order"),
            models.Index(fields=["person", "-sent_at"], name="referral_person"),
            models.Index(fields=["sender_organisation", "-sent_at"], name="referral_sent"),
            # The steering figures: a département's referrals sent in a period.
            models.Index(fields=["department", "sent_at"], name="referral_department_sent"),
            models.Index(
                fields=["due_on"],
                condition=Q(status__in=AWAITING, reminded_at__isnull=True),
                name="referral_to_remind",
            ),
            models.Index(
                fields=["expires_on"],
                condition=Q(status__in=AWAITING),
                name="referral_to_expire",
            ),
            # The urgent referrals' clock, every quarter of an hour: a few rows.
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=AWAITING, urgency="urgent", reminded_at__isnull=True),
                name="referral_urgent_to_remind",
            ),
            models.Index(
                fields=["department", "kind", "status"],
                condition=Q(kind="reorientation"),
                name="referral_reorientations",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="reorientation", to_organisation__isnull=True, structure__isnull=True)
                    | (
                        ~Q(kind="reorientation")
                        & (Q(to_organisation__isnull=False) | Q(structure__isnull=False))
                    )
                ),
                name="referral_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            # One open referral of a kind per person and target: a second one is refused
            # with a message (a double submission of the same form is recognised by its key).
            models.UniqueConstraint(
                fields=["person", "kind", "to_organisation", "structure"],
                condition=Q(status__in=OPEN),
                nulls_distinct=False,
                name="referral_open_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.kind == ReferralKind.REORIENTATION:
            return "Responsable des orientations du territoire"
        if self.service_id is not None and self.service is not None:
            structure = self.structure.name if self.structure is not None else ""
            return f"{self.service.name} ({structure})" if structure else self.service.name
        if self.to_organisation_id is not None and self.to_organisation is not None:
            return self.to_organisation.name
        return self.structure.name if self.structure is not None else ""

    @property
    def has_account(self) -> bool:
        """The target answers in Binôme (an organisation with members, or the managers)."""
        return self.to_organisation_id is not None or self.kind == ReferralKind.REORIENTATION

    @property
    def is_awaiting(self) -> bool:
        return self.status in AWAITING

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def allowed_transitions(self) -> frozenset[str]:
        allowed = TRANSITIONS[self.status]
        if self.kind not in FOLLOWED_KINDS:
            allowed = allowed - set(OUTCOME_STATES)
        if self.kind == ReferralKind.RSA:  # the law's orientation: never refused nor expired
            allowed = allowed - {Status.DECLINED, Status.EXPIRED}
        return allowed

    def can_go_to(self, status: str) -> bool:
        return status in self.allowed_transitions()

    @property
    def is_urgent(self) -> bool:
        return self.urgency == Urgency.URGENT

    def is_overdue(self, today: date | None = None) -> bool:
        if self.is_urgent and self.due_at is not None and today is None:
            return self.is_awaiting and self.due_at < timezone.now()
        return self.is_awaiting and self.due_on < (today or timezone.localdate())


class ReceivedCount(models.Model):
    """How many referrals an organisation received, per state: the inbox's tab counts read
    from a few rows, whatever the number of referrals.

    Kept exact by PostgreSQL statement-level triggers on the referrals table (migration
    ``0004_inbox_counts``): every write path — the actions, a set-based job's ``UPDATE``,
    the generator's ``COPY``, a ``DELETE`` — moves the counts in the same transaction. The
    application never writes these rows; ``check_received_counts`` compares them with a
    count of the referrals."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField("état", max_length=20, choices=Status.choices)
    count = models.BigIntegerField("nombre", default=0)

    class Meta:
        verbose_name = "nombre d'orientations reçues"
        verbose_name_plural = "nombres d'orientations reçues"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "status"], name="received_count_once")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} — {self.status} : {self.count}"


_RECEIVED_COUNTS = PreparedQuery(
    lambda p: ReceivedCount.objects.filter(organisation_id=p.organisation).values(
        "status", "count"
    ),
    organisation=int,
)


def received_counts(organisation_id: int) -> dict[str, int]:
    """The organisation's received referrals per state (one read of at most ten rows; the
    inbox's every page: compiled once per process)."""
    return {
        row["status"]: row["count"] for row in _RECEIVED_COUNTS.run(organisation=organisation_id)
    }


def check_received_counts(organisation_id: int | None = None) -> dict[tuple[int, str], int]:
    """The (organisation, state) pairs whose stored count differs from the referrals
    counted now, with the difference (empty: the counts are exact)."""
    referrals = Referral.objects.filter(to_organisation__isnull=False)
    counts = ReceivedCount.objects.exclude(count=0)
    if organisation_id is not None:
        referrals = referrals.filter(to_organisation_id=organisation_id)
        counts = counts.filter(organisation_id=organisation_id)
    actual = {
        (row["to_organisation_id"], row["status"]): row["n"]
        for row in referrals.values("to_organisation_id", "status").annotate(n=models.Count("id"))
    }
    stored = {(c.organisation_id, c.status): c.count for c in counts}
    return {
        key: stored.get(key, 0) - actual.get(key, 0)
        for key in actual.keys() | stored.keys()
        if stored.get(key, 0) != actual.get(key, 0)
    }


class ReferralMilestones(models.Model):
    """When a referral reached the steps its figures read (``binome.referrals.figures``):
    its first « sent », its first answer, its first « started », and whether it was ever
    accepted, declined, withdrawn or not attended. One row per referral that has steps.

    A rollup of ``ReferralEvent`` kept exact by PostgreSQL statement-level triggers on the
    steps (migration ``0007_referral_milestones``): every writer of steps — the actions, the
    set-based daily job, the generator's ``COPY``, a ``DELETE`` — moves it in the same
    transaction. The figures read it instead of grouping a year of steps per referral. Each
    row also carries its referral's scope and sending time, kept by triggers on the referrals
    (migration ``0009_milestones_scope``). The application never writes these rows;
    ``check_milestones`` compares them with the steps and the referrals.
    """

    referral = models.OneToOneField(
        Referral,
        on_delete=models.DO_NOTHING,  # the steps' DELETE trigger removes the row
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    sent_at = models.DateTimeField("envoyée le", null=True)
    answered_at = models.DateTimeField("répondue le", null=True)
    started_at = models.DateTimeField("commencée le", null=True)
    accepted = models.BooleanField("acceptée", default=False)
    declined = models.BooleanField("refusée", default=False)
    withdrawn = models.BooleanField("retirée", default=False)
    no_show = models.BooleanField("personne non venue", default=False)
    # The delays the figures take medians of, in seconds (NULL when not reached).
    answer_seconds = models.GeneratedField(
        expression=Extract(models.F("answered_at") - models.F("sent_at"), "epoch"),
        output_field=models.FloatField(null=True),
        db_persist=True,
    )
    start_seconds = models.GeneratedField(
        expression=Extract(models.F("started_at") - models.F("sent_at"), "epoch"),
        output_field=models.FloatField(null=True),
        db_persist=True,
    )
    # The referral's scope and period, copied from it by triggers on the referrals (migration
    # ``0009_milestones_scope``): an organisation's or a département's year of figures is one
    # range of one index that holds every column the figures read, without the referrals.
    kind = models.CharField("type d'orientation", max_length=20, blank=True)
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    sender_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    to_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    referral_sent_at = models.DateTimeField("orientation envoyée le", null=True)

    class Meta:
        verbose_name = "jalons d'une orientation"
        verbose_name_plural = "jalons des orientations"
        # What the figures read (binome/referrals/figures.py), in each scope's index: no
        # visit of the table, no join.
        indexes = [
            models.Index(
                fields=[scope, "referral_sent_at"],
                include=[
                    *(["to_organisation", "sender_organisation"] if scope == "department" else []),
                    "kind",
                    "sent_at",
                    "answer_seconds",
                    "start_seconds",
                    "accepted",
                    "declined",
                    "withdrawn",
                    "no_show",
                ],
                name=f"referral_milestones_{name}",
            )
            for scope, name in (
                ("to_organisation", "received"),
                ("sender_organisation", "sent"),
                ("department", "department"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}"


# The milestones of referrals, computed from their steps (the same expressions as the
# triggers of migration 0007).
MILESTONES_SQL = """
    SELECT e.referral_id,
           min(e.at) FILTER (WHERE e.action = 'sent'),
           min(e.at) FILTER (WHERE e.action IN ('accepted', 'declined')),
           min(e.at) FILTER (WHERE e.action = 'started'),
           bool_or(e.action = 'accepted'),
           bool_or(e.action = 'declined'),
           bool_or(e.action = 'withdrawn'),
           bool_or(e.action = 'no_show')
    FROM referrals_referralevent e
    GROUP BY e.referral_id
"""


def check_milestones() -> list[int]:
    """The referrals whose stored milestones differ from their steps, or whose stored scope
    and sending time differ from the referral's (empty: exact)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT coalesce(actual.referral_id, stored.referral_id) FROM (
                SELECT steps.*, coalesce(r.kind, ''), r.department_id, r.sender_organisation_id,
                       r.to_organisation_id, r.sent_at
                FROM ({MILESTONES_SQL}) AS steps
                LEFT JOIN referrals_referral r ON r.id = steps.referral_id
            ) AS actual (referral_id, sent_at, answered_at, started_at, accepted, declined,
                         withdrawn, no_show, kind, department_id, sender_organisation_id,
                         to_organisation_id, referral_sent_at)
            FULL JOIN referrals_referralmilestones AS stored
                ON stored.referral_id = actual.referral_id
            WHERE (actual.sent_at, actual.answered_at, actual.started_at, actual.accepted,
                   actual.declined, actual.withdrawn, actual.no_show, actual.kind,
                   actual.department_id, actual.sender_organisation_id,
                   actual.to_organisation_id, actual.referral_sent_at)
                IS DISTINCT FROM
                  (stored.sent_at, stored.answered_at, stored.started_at, stored.accepted,
                   stored.declined, stored.withdrawn, stored.no_show, stored.kind,
                   stored.department_id, stored.sender_organisation_id,
                   stored.to_organisation_id, stored.referral_sent_at)
            ORDER BY 1
            """  # noqa: S608 - a constant
        )
        return [row[0] for row in cursor.fetchall()]


def answer_dates(sent_on: date, department_id: str) -> tuple[date, date]:
    """(due date, expiry date) of a referral sent that day in that département."""
    reminder_days, expiry_days = ReferralSettings.delays_for(department_id)
    due_on = sent_on + timedelta(days=reminder_days)
    return due_on, due_on + timedelta(days=expiry_days)


def due_time_label(due_at: datetime) -> str:
    """« 07/12 à 16h00 »: the local day and time of a due time."""
    local = timezone.localtime(due_at)
    return f"{local:%d/%m} à {local:%H}h{local:%M}"


def urgent_line(referral: Referral) -> str:
    """What an urgent referral's notifications and e-mails say of it (empty otherwise)."""
    if referral.urgency != Urgency.URGENT or referral.due_at is None:
        return ""
    return f"Orientation urgente : réponse attendue avant le {due_time_label(referral.due_at)}."


def end_of_day(day: date) -> datetime:
    """The last instant of a local day (the due time of a referral due that day)."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) - timedelta(
        microseconds=1
    )


def answer_deadlines(
    sent_at: datetime, department_id: str, *, urgent: bool
) -> tuple[datetime, date, date]:
    """(due time, due date, expiry date) of a referral sent then in that département: an
    urgent one is due within the territory's hours (its due date is that time's local
    date), another at the end of its due date."""
    found = ReferralSettings.objects.filter(department_id=department_id).first()
    reminder_days, expiry_days, urgent_hours = (
        (found.reminder_days, found.expiry_days, found.urgent_hours)
        if found is not None
        else (DEFAULT_REMINDER_DAYS, DEFAULT_EXPIRY_DAYS, DEFAULT_URGENT_HOURS)
    )
    if urgent:
        due_at = sent_at + timedelta(hours=urgent_hours)
        due_on = timezone.localdate(due_at)
    else:
        due_on = timezone.localdate(sent_at) + timedelta(days=reminder_days)
        due_at = end_of_day(due_on)
    return due_at, due_on, due_on + timedelta(days=expiry_days)


class ReferralEvent(models.Model):
    """One step of a referral: a change of state (from → to) or a reminder, an assignment…
    ``actor`` is empty when the answer came through a signed link (``via="link"``) or from
    the periodic job (``via="job"``)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("étape", max_length=20, choices=EventAction.choices)
    from_status = models.CharField("de", max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField("vers", max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="par",
    )
    actor_label = models.CharField("par (au moment des faits)", max_length=300, blank=True)
    via = models.CharField("par le biais de", max_length=10, choices=Via.choices, default=Via.APP)
    at = models.DateTimeField("le", default=timezone.now)
    message = models.TextField("message", blank=True)
    details = models.JSONField("données", default=dict, blank=True)

    class Meta:
        verbose_name = "étape d'une orientation"
        verbose_name_plural = "étapes des orientations"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"], name="referral_event_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.from_status or '—'} → {self.to_status})"


class SharedItemType(models.TextChoices):
    DIAGNOSTIC = "diagnostic", "Diagnostic partagé"
    NOTE = "note", "Note d'entretien"
    OBJECTIVE = "objective", "Objectif du plan"


class SharedItem(models.Model):
    """An item of the file the sender chose to share with the receiver: the receiver sees
    exactly these, even without being on the person's team."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="shared_items")
    item_type = models.CharField("type", max_length=20, choices=SharedItemType.choices)
    item_id = models.BigIntegerField("identifiant")

    class Meta:
        verbose_name = "élément partagé"
        verbose_name_plural = "éléments partagés"
        ordering = ["item_type", "item_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "item_type", "item_id"], name="shared_item_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_item_type_display()} n° {self.item_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"referrals/{instance.referral_id}/{uuid.uuid4().hex}.{instance.file_type}"


class Attachment(models.Model):
    """A document joined to a referral (PDF or image, type checked by its content)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("fichier", upload_to=attachment_path, max_length=200)
    name = models.CharField("nom", max_length=200)
    file_type = models.CharField("type", max_length=10)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


def actor_label(user: User | None, via: str) -> str:
    if user is not None:
        return user.get_full_name() or user.email
    return dict(Via.choices)[via]


class ReferralLinkQuerySet(models.QuerySet["ReferralLink"]):
    def current(self) -> ReferralLinkQuerySet:
        return self.filter(revoked_at__isnull=True)


class ReferralLink(models.Model):
    """A signed link e-mailed to a structure without an account: it opens that referral
    only. The signed token carries the referral's id and this row's ``nonce``: sending a
    new link revokes the earlier ones (their nonce is kept, so a revoked link is told
    apart from a forged one)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="links")
    nonce = models.CharField("jeton", max_length=43, unique=True, editable=False)
    email = models.EmailField("envoyé à")
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="envoyé par",
    )
    revoked_at = models.DateTimeField("remplacé le", null=True, blank=True)
    opened_at = models.DateTimeField("dernière ouverture", null=True, blank=True)

    objects = ReferralLinkQuerySet.as_manager()

    class Meta:
        verbose_name = "lien sécurisé d'une orientation"
        verbose_name_plural = "liens sécurisés des orientations"
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["referral", "-sent_at"], name="referral_link_sent")]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(revoked_at__isnull=True),
                name="referral_link_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"Lien de l'orientation n° {self.referral_id} ({self.email})"
