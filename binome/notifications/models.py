"""In-app notifications and each user's choice of e-mails.

Other apps create notifications through :func:`binome.notifications.actions.notify` only.
A notification's title and body never carry a person's name or a detail of a file: the
kind of event, the organisation and a link to the scoped page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Notifications older than this are deleted by the nightly job.
RETENTION = timedelta(days=183)


class NotificationKind(models.TextChoices):
    REFERRAL_RECEIVED = "referral_received", "Orientation reçue"
    REFERRAL_ANSWERED = "referral_answered", "Réponse à une orientation"
    REFERRAL_REMINDER = "referral_reminder", "Relance d'une orientation"
    REFERRAL_EXPIRED = "referral_expired", "Orientation expirée"
    REFERRAL_OUTCOME = "referral_outcome", "Suite d'une orientation"
    REFERRAL_ASSIGNED = "referral_assigned", "Orientation attribuée"
    ACCOMPANIMENT_END_APPROACHING = (
        "accompaniment_end_approaching",
        "Fin d'accompagnement approchant",
    )
    POST_EXIT_FOLLOWUP = "post_exit_followup", "Situation 6 mois après la sortie"
    DIRECTORY = "directory", "Annuaire"
    TEAM_JOIN = "team_join", "Équipe d'un dossier"
    CHILDCARE = "childcare", "Garde d'enfants"
    RSA = "rsa", "RSA : orientation et contrat d'engagement"
    RETENTION = "retention", "Conservation des dossiers"


class EmailFrequency(models.TextChoices):
    IMMEDIATE = "immediate", "Un e-mail à chaque notification"
    DAILY = "daily", "Un résumé quotidien par e-mail"
    NEVER = "never", "Aucun e-mail (notifications dans Binôme seulement)"


class NotificationPreference(models.Model):
    """How a user wants to be told by e-mail. No row: an e-mail at once (the default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    email_frequency = models.CharField(
        "e-mails de notification",
        max_length=20,
        choices=EmailFrequency.choices,
        default=EmailFrequency.IMMEDIATE,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"
        indexes = [
            models.Index(
                fields=["email_frequency"],
                condition=Q(email_frequency="daily"),
                name="notification_pref_daily",
            )
        ]

    def __str__(self) -> str:
        return self.get_email_frequency_display()


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user: Any) -> NotificationQuerySet:
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def unread_first(self) -> NotificationQuerySet:
        return self.order_by(models.F("read_at").desc(nulls_first=True), "-created_at", "-id")

    def older_than(self, moment: datetime) -> NotificationQuerySet:
        return self.filter(created_at__lt=moment)


class Notification(models.Model):
    """One event told to one user: shown in the notification centre, e-mailed per preference."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name="destinataire",
    )
    kind = models.CharField("type", max_length=40, choices=NotificationKind.choices)
    title = models.CharField("titre", max_length=200)
    body = models.TextField("message")
    url = models.CharField("lien", max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="auteur",
    )
    created_at = models.DateTimeField("date", default=timezone.now)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    emailed_at = models.DateTimeField("envoyée par e-mail le", null=True, blank=True)
    # A recipient never gets two notifications with the same key (periodic jobs run twice).
    dedup_key = models.CharField("clé d'unicité", max_length=200, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header's count and the top of the list: the unread of a user, newest first.
            models.Index(
                "recipient",
                models.F("created_at").desc(),
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index("recipient", models.F("created_at").desc(), name="notification_recipient"),
            # The nightly retention delete.
            models.Index(fields=["created_at"], name="notification_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"],
                condition=~Q(dedup_key=""),
                name="notification_dedup_once",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
