"""The territory's steering: its settings (the target delay of the binôme's first steps)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

DEFAULT_TARGET_DAYS = 21  # three weeks from the orientation to the diagnostic partagé
TARGET_DAYS_BOUNDS = (1, 180)


class SteeringSettings(models.Model):
    """A territory's target: the days from the orientation to the diagnostic partagé and
    to the activation of the accompaniment."""

    department = models.OneToOneField(
        "territories.Department",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="steering_settings",
        verbose_name="département",
    )
    target_days = models.PositiveSmallIntegerField(
        "objectif de délai entre l'orientation et le diagnostic (jours)",
        default=DEFAULT_TARGET_DAYS,
    )

    class Meta:
        verbose_name = "réglages du pilotage"
        verbose_name_plural = "réglages du pilotage"
        # National steering (no territory role reaches past its département): given to a
        # user or a group by the instance's administrators.
        permissions = [("view_national_dashboard", "Voir le tableau de bord national")]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_days__gte=TARGET_DAYS_BOUNDS[0])
                & Q(target_days__lte=TARGET_DAYS_BOUNDS[1]),
                name="steering_settings_target_bounds",
            )
        ]

    def __str__(self) -> str:
        return f"Réglages du pilotage ({self.department_id})"

    @classmethod
    def target_days_for(cls, department_id: str) -> int:
        """The territory's target delay in days, the default when it set none."""
        found = cls.objects.filter(department_id=department_id).values_list(
            "target_days", flat=True
        )
        return next(iter(found), DEFAULT_TARGET_DAYS)


# --- The comité de pilotage ----------------------------------------------------------


class ComiteSession(models.Model):
    """A session of the territory's comité de pilotage: its date and its members."""

    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="département",
    )
    held_on = models.DateField("date de la séance")
    place = models.CharField("lieu", max_length=200, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name="membres"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "séance du comité de pilotage"
        verbose_name_plural = "séances du comité de pilotage"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"Comité de pilotage du {self.held_on:%d/%m/%Y}"


class AgeBand(models.TextChoices):
    UNDER_26 = "under_26", "Moins de 26 ans"
    FROM_26_TO_44 = "26_44", "26 à 44 ans"
    FROM_45_TO_54 = "45_54", "45 à 54 ans"
    FROM_55 = "55_plus", "55 ans et plus"


class Household(models.TextChoices):
    ALONE = "alone", "Personne seule"
    SINGLE_PARENT = "single_parent", "Parent isolé"
    COUPLE = "couple", "En couple sans enfant"
    COUPLE_CHILDREN = "couple_children", "En couple avec enfant(s)"
    OTHER = "other", "Autre"


class ComiteCase(models.Model):
    """A « situation complexe » a team brings to a session: a pseudonymised summary written
    for the comité (never the file), the person's agreement, and the comité's answer,
    which goes back to the team's file."""

    session = models.ForeignKey(
        ComiteSession, on_delete=models.PROTECT, related_name="cases", verbose_name="séance"
    )
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    flagged_at = models.DateTimeField(auto_now_add=True)
    age_band = models.CharField("tranche d'âge", max_length=20, choices=AgeBand.choices)
    household = models.CharField("composition du foyer", max_length=20, choices=Household.choices)
    barriers = models.TextField("freins et leur niveau", max_length=2000)
    tried = models.TextField("ce qui a été tenté", max_length=4000)
    question = models.TextField("la question posée au comité", max_length=2000)
    agreement_on = models.DateField("accord de la personne recueilli le")
    decision = models.TextField("décision ou recommandation du comité", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "situation complexe"
        verbose_name_plural = "situations complexes"
        ordering = ["flagged_at", "id"]

    def __str__(self) -> str:
        return f"Situation n° {self.pk}"


# --- FSE+ operations -------------------------------------------------------------------


class FseOperation(models.Model):
    """A territory's FSE+ operation: the period and the organisations the European Social
    Fund's grant covers. Its participants are the global accompaniments activated in the
    period with a member of a covered organisation on their team (``steering.operations``)."""

    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="département",
    )
    name = models.CharField("nom de l'opération", max_length=200)
    starts_on = models.DateField("début de l'opération")
    ends_on = models.DateField("fin de l'opération")
    organisations = models.ManyToManyField(
        "organisations.Organisation", related_name="+", verbose_name="organisations couvertes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "opération FSE+"
        verbose_name_plural = "opérations FSE+"
        ordering = ["-starts_on", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="fse_operation_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name
