"""What retention keeps about its own work: the legal holds, the notices sent before a
file's anonymisation, the anonymised files and the report of each run."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(lifted_at__isnull=True)


class LegalHold(models.Model):
    """A territory administrator keeps a file beyond its retention (a litigation, a
    request of a judge), with the reason; lifted later, also with who and when."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name="personne"
    )
    reason = models.TextField("motif", max_length=2000)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par"
    )
    set_at = models.DateTimeField("posé le", auto_now_add=True)
    lifted_at = models.DateTimeField("levé le", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="levé par",
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = "conservation pour motif légal"
        verbose_name_plural = "conservations pour motif légal"
        ordering = ["-set_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(lifted_at__isnull=True), name="one_active_hold"
            )
        ]

    def __str__(self) -> str:
        return self.reason[:60]


class RetentionNotice(models.Model):
    """The team (or the territory's administrators) told that a file will be anonymised.

    One per person and last contact: a new contact moves the deadline, so the notice of
    the old one no longer counts. The file is anonymised on ``anonymise_on`` at the
    earliest — never less than the notice period after the notice was sent."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    last_contact_on = models.DateField("dernier contact")
    deadline = models.DateField("fin de la durée de conservation")
    anonymise_on = models.DateField("anonymisation à partir du")
    notified_on = models.DateField("prévenu le")
    recipient_ids = models.JSONField("destinataires", default=list)

    class Meta:
        verbose_name = "avertissement avant anonymisation"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "last_contact_on"], name="one_notice_per_last_contact"
            )
        ]
        indexes = [models.Index(fields=["anonymise_on"], name="retention_notice_due")]

    def __str__(self) -> str:
        return f"{self.person_id} : {self.deadline:%d/%m/%Y}"


class AnonymisationCause(models.TextChoices):
    RETENTION = "retention", "Fin de la durée de conservation"
    MISTAKE = "mistake", "Dossier créé par erreur"


class Anonymisation(models.Model):
    """A file anonymised: what stays of it is its structure (dates, kinds, outcomes)."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    department = models.ForeignKey(
        "territories.Department", on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    cause = models.CharField("cause", max_length=20, choices=AnonymisationCause.choices)
    reason = models.TextField("motif", blank=True)
    last_contact_on = models.DateField("dernier contact", null=True, blank=True)
    at = models.DateTimeField("anonymisé le", auto_now_add=True)
    run = models.ForeignKey(
        "RetentionRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "dossier anonymisé"
        verbose_name_plural = "dossiers anonymisés"
        indexes = [models.Index(fields=["department", "-at"], name="anonymisation_dept")]

    def __str__(self) -> str:
        return f"{self.person_id} ({self.get_cause_display()})"


class RetentionRun(models.Model):
    """One run of the retention job: its counts, per territory, and how long it took."""

    started_at = models.DateTimeField("commencé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    dry_run = models.BooleanField("à blanc", default=False)
    today = models.DateField("date de référence")
    notified = models.PositiveIntegerField("dossiers signalés", default=0)
    anonymised = models.PositiveIntegerField("dossiers anonymisés", default=0)
    kept = models.PositiveIntegerField("dossiers conservés (motif)", default=0)
    archived = models.PositiveIntegerField("dossiers archivés", default=0)
    # Of the anonymised, those whose intermediate archive came to its end.
    archive_expired = models.PositiveIntegerField("archives arrivées à échéance", default=0)
    # Per département code: {"notify": n, "anonymise": n, "kept": n, "archive": n,
    # "archive_expired": n}.
    by_department = models.JSONField("par territoire", default=dict)
    audit_partitions_created = models.JSONField("partitions créées", default=list)
    audit_partitions_dropped = models.JSONField("partitions supprimées", default=list)
    duration_ms = models.PositiveIntegerField("durée (ms)", default=0)

    class Meta:
        verbose_name = "passage de la conservation"
        verbose_name_plural = "passages de la conservation"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%d/%m/%Y %H:%M}"


class DataAccessRequest(models.Model):
    """The person's request to obtain all that Binôme holds about her (RGPD, article 15),
    and its answer: dated both, the answer due within one month."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name="personne"
    )
    requested_on = models.DateField("demandé le")
    # Who recorded it: a professional of the team, or the person herself from her space.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    by_person = models.BooleanField("demandé depuis son espace", default=False)
    answered_at = models.DateTimeField("données remises le", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "demande d'accès à ses données"
        verbose_name_plural = "demandes d'accès à ses données"
        ordering = ["-requested_on", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} : {self.requested_on:%d/%m/%Y}"

    @property
    def due_on(self) -> date:
        """One month to answer (RGPD, article 12.3)."""
        from binome.retention.contact import add_months

        return add_months(self.requested_on, 1)


# The intermediate archive's duration, in years, that a territory may choose.
ARCHIVE_YEARS_MIN = 1
ARCHIVE_YEARS_MAX = 10
ARCHIVE_YEARS_DEFAULT = 3


class ArchiveSettings(models.Model):
    """A territory's intermediate archive (CNIL, référentiel social et médico-social):
    off by default. On, a file at the end of its retention is archived instead of
    anonymised — out of every professional's reach, read only by the territory's archivist —
    for ``years``, then anonymised. The written justification is required when on; the
    privacy page shows it."""

    department = models.OneToOneField(
        "territories.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="archive_settings",
        verbose_name="département",
    )
    enabled = models.BooleanField("archive intermédiaire", default=False)
    years = models.PositiveSmallIntegerField(
        "durée de l'archive (années)", default=ARCHIVE_YEARS_DEFAULT
    )
    justification = models.TextField("justification écrite", max_length=3000, blank=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "archive intermédiaire du territoire"
        verbose_name_plural = "archives intermédiaires des territoires"
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gte=ARCHIVE_YEARS_MIN) & Q(years__lte=ARCHIVE_YEARS_MAX),
                name="archive_settings_years",
            ),
            models.CheckConstraint(
                condition=Q(enabled=False) | ~Q(justification=""),
                name="archive_settings_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"Archive intermédiaire ({self.department_id})"

    @classmethod
    def for_department(cls, department_id: str) -> ArchiveSettings:
        """The territory's settings, or the defaults (off, unsaved) when it set none."""
        found = cls.objects.filter(department_id=department_id).first()
        return found or cls(department_id=department_id)


class ArchiveQuerySet(models.QuerySet["Archive"]):
    def current(self) -> ArchiveQuerySet:
        return self.filter(closed_at__isnull=True)


class ArchiveOutcome(models.TextChoices):
    ANONYMISED = "anonymised", "Anonymisé à la fin de l'archive"
    RESTORED = "restored", "Rétabli par l'administration du territoire"


class Archive(models.Model):
    """A file put in the intermediate archive by the retention job, until ``ends_on``;
    closed when anonymised at its end, or restored (a file archived by mistake)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", verbose_name="personne"
    )
    department = models.ForeignKey(
        "territories.Department", on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    last_contact_on = models.DateField("dernier contact")
    archived_at = models.DateTimeField("archivé le", auto_now_add=True)
    ends_on = models.DateField("fin de l'archive")
    run = models.ForeignKey(
        "RetentionRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField("sorti de l'archive le", null=True, blank=True)
    outcome = models.CharField("issue", max_length=20, choices=ArchiveOutcome.choices, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField("motif du rétablissement", max_length=2000, blank=True)

    objects = ArchiveQuerySet.as_manager()

    class Meta:
        verbose_name = "dossier archivé"
        verbose_name_plural = "dossiers archivés"
        ordering = ["ends_on", "person_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(closed_at__isnull=True), name="one_open_archive"
            )
        ]
        indexes = [models.Index(fields=["department", "ends_on"], name="archive_dept_end")]

    def __str__(self) -> str:
        return f"{self.person_id} : jusqu'au {self.ends_on:%d/%m/%Y}"
