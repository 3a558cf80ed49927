"""The person of a shared file: identity, contact, identifiers, household, consents.

Every item of a file (consent, household member, and in ``support`` the accompaniment,
note, appointment, timeline event) carries a ``person`` foreign key, so that a later
merge of duplicates re-points rows with one UPDATE per table.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.core.text import normalize
from binome.people import crypto
from binome.territories.models import Commune, Department

# Two names are "similar" from this trigram similarity (order of words does not count:
# "Belkacem Nadia" and "Nadia Belkacem" share every trigram; one typo keeps it above 0.4).
NAME_SIMILARITY = 0.35


def compact_nir(value: str) -> str:
    return stdnum_nir.compact(value or "")


def validate_nir(value: str) -> None:
    """15 characters (13 + a 2-digit key), Corsica's 2A/2B allowed, the key right."""
    try:
        stdnum_nir.validate(value)
    except Exception:
        raise ValidationError(
            "Ce NIR (numéro de sécurité sociale) n'est pas valide : il compte 13 chiffres "
            "suivis d'une clé de 2 chiffres (15 en tout), et la clé doit correspondre. "
            "Vérifiez-le sur la carte Vitale ou l'attestation de droits.",
            code="invalid_nir",
        ) from None


def validate_birth_date(value: date) -> None:
    if value > timezone.localdate():
        raise ValidationError(
            "La date de naissance ne peut pas être dans le futur.", code="future_birth_date"
        )
    if value.year < 1900:
        raise ValidationError(
            "La date de naissance est antérieure à 1900 : vérifiez l'année.", code="old_birth_date"
        )


class Sex(models.TextChoices):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class PersonQuerySet(models.QuerySet["Person"]):
    """Who may open or find a person's file depends on the teams, which are support's (the
    floor above): ``binome.support.access.visible_persons`` and ``findable_persons``."""

    def matching(
        self,
        *,
        department_id: str,
        first_name: str,
        last_name: str,
        birth_date: date | None,
        birth_name: str = "",
        nir: str = "",
        france_travail_id: str = "",
        caf_number: str = "",
    ) -> PersonQuerySet:
        """Existing persons of the département that may be the same person.

        Same NIR (by its keyed hash), same France Travail id, same CAF/MSA number, or the
        same birth date and similar names (accent-free, typo-tolerant, first and last
        names in any order, the birth name counted too).
        """
        same = Q()
        if nir:
            same |= Q(nir_hash=crypto.identifier_hash(compact_nir(nir)))
        if france_travail_id:
            same |= Q(france_travail_id=france_travail_id.strip().upper())
        if caf_number:
            same |= Q(caf_number=caf_number.strip())
        names = normalize(f"{first_name} {last_name} {birth_name}")
        qs = self.filter(department_id=department_id, merged_into__isnull=True)
        if birth_date is not None and names:
            qs = qs.annotate(  # type: ignore[assignment]
                name_similarity=TrigramSimilarity("search_name", names)
            )
            same |= Q(birth_date=birth_date, name_similarity__gte=NAME_SIMILARITY)
        elif not same:
            return self.none()
        return qs.filter(same)


class Person(models.Model):
    """A person supported by the partners of a département: one shared file."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="département"
    )
    # The organisation that holds the file (the one that created it): its team members see
    # the file's shared items without a share consent; the other organisations need it.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="organisation détentrice du dossier",
    )
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom d'usage", max_length=100)
    birth_name = models.CharField("nom de naissance", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance", validators=[validate_birth_date])
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("adresse e-mail", blank=True)
    address = models.CharField("adresse", max_length=255, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
    )
    france_travail_id = models.CharField(
        "identifiant France Travail", max_length=20, blank=True, db_index=True
    )
    caf_number = models.CharField("numéro allocataire CAF/MSA", max_length=20, blank=True)
    nir_hash = models.CharField(max_length=64, blank=True, editable=False)
    nir_encrypted = models.TextField(blank=True, editable=False)
    # Accent-free "first last birth" names, for the trigram matching of duplicates.
    search_name = models.CharField(max_length=320, editable=False)
    # The person's own account (their space), when they have one.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
        verbose_name="compte de la personne",
    )
    # Set by a territory admin's merge of duplicates (later): the kept file.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="fusionnée dans",
    )
    # Set while the file is in its territory's intermediate archive (retention): out of every
    # professional's reach — lists, search, its pages — read only by the territory's
    # archivist, and anonymised on that day.
    archived_until = models.DateField("archivé jusqu'au", null=True, blank=True)
    # Last note or held appointment: the worklist's "no contact for 30 days" alert.
    last_contact_on = models.DateField("dernier contact", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="créée par",
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = "personne"
        verbose_name_plural = "personnes"
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["department", "birth_date"], name="person_dept_birth"),
            models.Index(fields=["nir_hash"], name="person_nir_hash"),
            models.Index(fields=["caf_number"], name="person_caf_number"),
            GinIndex(OpClass("search_name", name="gin_trgm_ops"), name="person_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = normalize(f"{self.first_name} {self.last_name} {self.birth_name}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"

    def set_nir(self, nir: str) -> None:
        """Keep the NIR as a keyed hash and an encrypted value (never in clear)."""
        nir = compact_nir(nir)
        self.nir_hash = crypto.identifier_hash(nir) if nir else ""
        self.nir_encrypted = crypto.encrypt(nir) if nir else ""

    @property
    def nir(self) -> str:
        """The clear NIR: show it only where ``can_view_nir`` allows."""
        return crypto.decrypt(self.nir_encrypted)

    @property
    def has_nir(self) -> bool:
        return bool(self.nir_hash)


class HouseholdRelation(models.TextChoices):
    CHILD = "child", "Enfant"
    PARTNER = "partner", "Conjoint ou conjointe"
    OTHER = "other", "Autre membre du foyer"


class HouseholdMember(models.Model):
    """A member of the person's household; children matter for childcare (AVIP)."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="household", verbose_name="personne"
    )
    relation = models.CharField(
        "lien", max_length=20, choices=HouseholdRelation.choices, default=HouseholdRelation.CHILD
    )
    first_name = models.CharField("prénom", max_length=100)
    birth_date = models.DateField(
        "date de naissance", null=True, blank=True, validators=[validate_birth_date]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "membre du foyer"
        verbose_name_plural = "membres du foyer"
        ordering = ["birth_date", "first_name"]

    def __str__(self) -> str:
        return self.first_name


class ConsentScope(models.TextChoices):
    SHARE_FILE = "share_file", "Partage du dossier entre les partenaires de l'accompagnement"
    REFER = "refer_to_organisation", "Orientation vers une organisation ou une structure nommée"
    CHILDCARE_CAF = "childcare_caf", "Transmission des données de garde d'enfants à la CAF"


class ConsentMethod(models.TextChoices):
    ORAL = "oral", "Oral"
    WRITTEN = "written", "Écrit"
    SIGNED_DOCUMENT = "signed_document", "Document signé (joint)"


class ConsentQuerySet(models.QuerySet["Consent"]):
    def active(self) -> ConsentQuerySet:
        return self.filter(withdrawn_at__isnull=True)

    def of_scope(self, scope: str) -> ConsentQuerySet:
        return self.filter(scope=scope)


def consent_document_path(instance: Consent, filename: str) -> str:
    """Stored under the extension of the type read from the content, never the name's."""
    extension = instance.document_type or "bin"
    return f"consents/{instance.person_id}/{timezone.now():%Y%m%d%H%M%S%f}.{extension}"


class Consent(models.Model):
    """The person's consent for one scope; withdrawn at once, access rules follow it."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="consents", verbose_name="personne"
    )
    scope = models.CharField("objet", max_length=30, choices=ConsentScope.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation destinataire",
    )
    # A referral to a structure of the directory that has no account in Binôme.
    structure = models.ForeignKey(
        "directory.Structure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="structure destinataire",
    )
    method = models.CharField("recueilli", max_length=20, choices=ConsentMethod.choices)
    document = models.FileField(
        "document signé", upload_to=consent_document_path, blank=True, max_length=200
    )
    # The document's type read from its content (pdf, png, jpg): stored, served as.
    document_type = models.CharField("type du document", max_length=10, blank=True)
    given_on = models.DateField("donné le")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="enregistré par",
    )
    recorded_at = models.DateTimeField("enregistré le", auto_now_add=True)
    withdrawn_at = models.DateTimeField("retiré le", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="retrait enregistré par",
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = "consentement"
        verbose_name_plural = "consentements"
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["person", "scope"], name="consent_person_scope")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="refer_to_organisation")
                | Q(organisation__isnull=False)
                | Q(structure__isnull=False),
                name="consent_refer_names_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.get_scope_display()

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
