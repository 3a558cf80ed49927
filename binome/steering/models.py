"""The territory's steering: its settings (the target delay of the binôme's first steps)."""

from __future__ import annotations

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
