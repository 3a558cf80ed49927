from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from stdnum.fr import siret as stdnum_siret

from binome.territories.models import Commune, Department

if TYPE_CHECKING:
    from binome.accounts.models import User


def validate_siret(value: str) -> None:
    """A SIRET of 14 digits whose Luhn key is right (python-stdnum)."""
    try:
        stdnum_siret.validate(value)
    except Exception:
        raise ValidationError(
            "Ce numéro SIRET n'est pas valide : il doit compter 14 chiffres et sa clé de "
            "contrôle doit être juste (vérifiez-le sur l'annuaire des entreprises).",
            code="invalid_siret",
        ) from None


class OrganisationKind(models.TextChoices):
    FRANCE_TRAVAIL = "france_travail", "Agence France Travail"
    DEPARTMENT = "departement", "Service du département"
    CAF = "caf", "CAF"
    MSA = "msa", "MSA"
    CCAS = "ccas", "CCAS / CIAS"
    MISSION_LOCALE = "mission_locale", "Mission locale"
    ASSOCIATION = "association", "Association"
    CHILDCARE = "accueil_enfant", "Accueil du jeune enfant"
    OTHER = "autre", "Autre"


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def active(self) -> OrganisationQuerySet:
        return self.filter(is_active=True)

    def in_departments(self, department_ids: Iterable[str]) -> OrganisationQuerySet:
        """Organisations of these départements (``binome.access.scoping`` gives a user's)."""
        # Sorted: the same départements make the same SQL.
        return self.filter(department_id__in=sorted(department_ids))


class Organisation(models.Model):
    """A partner of the territory: France Travail agency, département service, CAF, CCAS…"""

    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type", max_length=30, choices=OrganisationKind.choices)
    siret = models.CharField(
        "SIRET", max_length=14, blank=True, validators=[validate_siret], db_index=True
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="organisations",
        verbose_name="département",
    )
    address = models.CharField("adresse", max_length=255, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name="commune",
    )
    email = models.EmailField("e-mail de contact", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["name"]
        indexes = [models.Index(fields=["department", "kind"], name="organisation_dept_kind")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PROFESSIONAL = "professional", "Professionnel"
    ADMIN = "admin", "Administrateur de l'organisation"


class MemberFunction(models.TextChoices):
    """What a member does, declared by the organisation's administrator (never by the member):
    what they may see in a shared file follows from it (``binome.support.access``)."""

    FT_COUNSELOR = "conseiller_ft", "Conseiller ou conseillère France Travail"
    DEDICATED_COUNSELOR = (
        "conseiller_dedie",
        "Conseiller ou conseillère dédié(e) (accompagnement global)",
    )
    SOCIAL_WORKER = "travailleur_social", "Travailleur ou travailleuse sociale"
    CAF_AGENT = "agent_caf", "Agent CAF ou MSA (droits et prestations)"
    CHILDCARE = "petite_enfance", "Professionnel(le) de la petite enfance"
    ADMINISTRATIVE = "administratif", "Accueil ou gestion administrative"
    OTHER = "autre", "Autre fonction"


_EVERYWHERE = (MemberFunction.ADMINISTRATIVE, MemberFunction.OTHER)
# The functions an administrator may declare, by kind of organisation: a CAF agent is a
# social worker only if the CAF says so; nobody at a crèche is a France Travail counselor.
FUNCTIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.FRANCE_TRAVAIL: (
        MemberFunction.FT_COUNSELOR,
        MemberFunction.DEDICATED_COUNSELOR,
        *_EVERYWHERE,
    ),
    OrganisationKind.DEPARTMENT: (MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.CAF: (MemberFunction.CAF_AGENT, MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.MSA: (MemberFunction.CAF_AGENT, MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.CCAS: (MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.MISSION_LOCALE: (MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.ASSOCIATION: (MemberFunction.SOCIAL_WORKER, *_EVERYWHERE),
    OrganisationKind.CHILDCARE: (MemberFunction.CHILDCARE, *_EVERYWHERE),
    OrganisationKind.OTHER: _EVERYWHERE,
}


def function_choices(kind: str) -> list[tuple[str, str]]:
    """The functions an organisation of this kind may declare, for a form's select."""
    allowed = FUNCTIONS_BY_KIND.get(kind, _EVERYWHERE)
    return [("", "Non déclarée")] + [
        (value, label) for value, label in MemberFunction.choices if value in allowed
    ]


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, user__is_active=True)

    def working(self, user: User | int) -> MembershipQuerySet:
        """The user's (or user id's) active memberships of active organisations, by
        organisation name, with their organisation and its département (what the roles and
        the header read)."""
        return (
            self.filter(user=user, is_active=True, organisation__is_active=True)
            .select_related("organisation", "organisation__department")
            .order_by("organisation__name")
        )


class Membership(models.Model):
    """A user works in an organisation, with a role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="utilisateur",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="organisation",
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.PROFESSIONAL)
    job_title = models.CharField("intitulé du poste", max_length=120, blank=True)
    function = models.CharField(
        "fonction déclarée",
        max_length=30,
        choices=MemberFunction.choices,
        blank=True,
        default="",
        db_default="",  # bulk loads (COPY) that do not name it
        help_text="Déclarée par un administrateur de l'organisation : elle détermine ce que le "
        "membre voit des dossiers partagés (NIR, santé).",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="invité par",
    )
    deactivated_at = models.DateTimeField("désactivée le", null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = "appartenance"
        verbose_name_plural = "appartenances"
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organisation} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class TerritoryRoleKind(models.TextChoices):
    TERRITORY_ADMIN = "territory_admin", "Administrateur du territoire"
    ORIENTATION_MANAGER = "orientation_manager", "Responsable des orientations"
    STEERING = "steering", "Pilotage"
    # The territory's archivist (its data protection officer): the only one who reads the
    # files of the intermediate archive, each read with its reason in the audit log.
    ARCHIVIST = "archivist", "Archiviste (délégué à la protection des données)"


class TerritoryRole(models.Model):
    """A role over a whole département: administration, orientation, steering."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="territory_roles",
        verbose_name="utilisateur",
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="territory_roles",
        verbose_name="département",
    )
    role = models.CharField("rôle", max_length=30, choices=TerritoryRoleKind.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="attribué par",
    )
    created_at = models.DateTimeField("attribué le", auto_now_add=True)

    class Meta:
        verbose_name = "rôle territorial"
        verbose_name_plural = "rôles territoriaux"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="territory_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.department_id})"


class Partnership(models.Model):
    """An organisation of another département declared a partner of a territory: the
    territory's professionals may refer persons to it."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="partnerships",
        verbose_name="territoire",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="partnerships",
        verbose_name="organisation partenaire",
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="déclaré par",
    )
    created_at = models.DateTimeField("déclaré le", auto_now_add=True)

    class Meta:
        verbose_name = "partenariat"
        verbose_name_plural = "partenariats"
        constraints = [
            models.UniqueConstraint(
                fields=["department", "organisation"], name="partnership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — partenaire du territoire {self.department_id}"
