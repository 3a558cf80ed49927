"""Structures and services of the territory, following the data·inclusion schema v1.

Field names are English (house rule); ``binome/directory/datainclusion.py`` maps them to
the schema's French names for import and export.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.template.defaultfilters import floatformat
from django.utils import timezone

from binome.directory import referentials as ref
from binome.organisations.models import validate_siret

DEFAULT_UPDATE_FREQUENCY_DAYS = 183  # about six months
# A remote service (offered « à distance »), kept near any commune whatever the distance,
# and an eligibility zone open to the whole country: none, or « france ».
REMOTE_SERVICE = models.Q(reception_modes__contains=["a-distance"])
OPEN_ZONE = models.Q(eligibility_zone=[]) | models.Q(eligibility_zone__contains=["france"])


class PublicationStatus(models.TextChoices):
    PUBLISHED = "published", "Publiée"
    PENDING = "pending", "En attente de modération"
    DRAFT = "draft", "Brouillon"
    REJECTED = "rejected", "Refusée"


class ServiceQuerySet(models.QuerySet["Service"]):
    def published(self) -> ServiceQuerySet:
        return self.filter(status=PublicationStatus.PUBLISHED)

    def needs_checking(self, today: date | None = None) -> ServiceQuerySet:
        """Past their update frequency (the SQL twin of ``Service.needs_checking``)."""
        return self.filter(due_on__lt=today or timezone.localdate())

    def owned_by(self, organisation_ids: Iterable[int]) -> ServiceQuerySet:
        return self.filter(owner_id__in=sorted(organisation_ids))


class Provenance(models.Model):
    """Where a row comes from and who touched it in Binôme."""

    source = models.CharField("source", max_length=100)
    source_id = models.CharField("identifiant à la source", max_length=300)
    source_link = models.URLField("lien à la source", max_length=500, blank=True)
    updated_on = models.DateField("date de dernière mise à jour")
    imported_at = models.DateTimeField("importée le", null=True, blank=True)
    # The fingerprint of the file's row the last import wrote here
    # (``importer.content_hash``): a re-run skips the rows whose fingerprint is the same,
    # without checking them again. Empty for rows created in Binôme.
    content_hash = models.CharField(
        "empreinte du dernier import",
        max_length=32,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    # Set when the owning organisation edits it in Binôme: a later import of another
    # source never overwrites a locally edited row.
    edited_locally_at = models.DateTimeField("modifiée dans Binôme le", null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifiée par",
    )
    owner = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation responsable",
    )
    status = models.CharField(
        "publication",
        max_length=20,
        choices=PublicationStatus.choices,
        default=PublicationStatus.PUBLISHED,
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        abstract = True


class Place(models.Model):
    """An address with its commune and coordinates (WGS84)."""

    address = models.CharField("adresse", max_length=255, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=255, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune_name = models.CharField("commune (libellé de la source)", max_length=150, blank=True)
    commune = models.ForeignKey(
        "territories.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
    )
    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="département",
    )
    latitude = models.FloatField("latitude", null=True, blank=True)
    longitude = models.FloatField("longitude", null=True, blank=True)

    class Meta:
        abstract = True


class Structure(Provenance, Place):
    """An organisation that offers services (data·inclusion ``structure``)."""

    name = models.CharField("nom", max_length=150)
    description = models.TextField("description", blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True, validators=[validate_siret])
    phone = models.CharField("téléphone", max_length=30, blank=True)
    email = models.EmailField("courriel", blank=True)
    website = models.URLField("site web", max_length=500, blank=True)
    opening_hours = models.CharField("horaires d'accueil (format OSM)", max_length=500, blank=True)
    accessibility_link = models.URLField("accessibilité du lieu", max_length=500, blank=True)
    networks = ArrayField(
        models.CharField(max_length=80, choices=ref.RESEAUX_PORTEURS),
        default=list,
        blank=True,
        verbose_name="réseaux porteurs",
    )
    # Moderation of a structure declared by an organisation (``status`` pending → published
    # or rejected) by a territory administrator of its département.
    moderated_at = models.DateTimeField("modérée le", null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modérée par",
    )
    # A database default: the importer writes structures with raw SQL that names its columns.
    rejection_reason = models.TextField("motif du refus", blank=True, default="", db_default="")

    class Meta:
        verbose_name = "structure"
        verbose_name_plural = "structures"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="structure_source_id")
        ]

    def __str__(self) -> str:
        return self.name


class Service(Provenance, Place):
    """A service a structure offers (data·inclusion ``service``)."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="services", verbose_name="structure"
    )
    name = models.CharField("nom", max_length=150)
    description = models.TextField("description")
    type = models.CharField("type", max_length=40, choices=ref.TYPES, blank=True)
    thematiques = ArrayField(
        models.CharField(max_length=120, choices=ref.THEMATIQUES),
        default=list,
        blank=True,
        verbose_name="thématiques",
    )
    fees = models.CharField("frais", max_length=20, choices=ref.FRAIS, blank=True)
    fees_details = models.TextField("précisions sur les frais", blank=True)
    publics = ArrayField(
        models.CharField(max_length=80, choices=ref.PUBLICS),
        default=list,
        blank=True,
        verbose_name="publics",
    )
    publics_details = models.TextField("précisions sur les publics", blank=True)
    access_conditions = models.TextField("conditions d'accès", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    email = models.EmailField("courriel", blank=True)
    contact_name = models.CharField("contact", max_length=150, blank=True)
    reception_modes = ArrayField(
        models.CharField(max_length=30, choices=ref.MODES_ACCUEIL),
        default=list,
        blank=True,
        verbose_name="modes d'accueil",
    )
    # INSEE codes of communes, départements, EPCI, or "france".
    eligibility_zone = ArrayField(
        models.CharField(max_length=12),
        default=list,
        blank=True,
        verbose_name="zone d'éligibilité",
    )
    mobilisation_link = models.URLField("lien de mobilisation", max_length=500, blank=True)
    mobilisation_modes = ArrayField(
        models.CharField(max_length=40, choices=ref.MODES_MOBILISATION),
        default=list,
        blank=True,
        verbose_name="modes de mobilisation",
    )
    mobilisable_by = ArrayField(
        models.CharField(max_length=30, choices=ref.MOBILISABLE_PAR),
        default=list,
        blank=True,
        verbose_name="mobilisable par",
    )
    mobilisation_details = models.TextField("précisions sur la mobilisation", blank=True)
    weekly_hours = models.FloatField("volume horaire hebdomadaire", null=True, blank=True)
    number_of_weeks = models.PositiveIntegerField("nombre de semaines", null=True, blank=True)
    opening_hours = models.CharField("horaires d'accueil (format OSM)", max_length=500, blank=True)
    update_frequency_days = models.PositiveIntegerField(
        "fréquence de mise à jour (jours)", default=DEFAULT_UPDATE_FREQUENCY_DAYS
    )
    # Search columns, written by the database trigger of migration 0002 on every INSERT
    # and UPDATE (the ORM, COPY and the importer's INSERT … ON CONFLICT alike): never set
    # them in Python.
    # Weighted French words: name (A), structure name and thématique labels (B),
    # description (C), in the accent-insensitive configuration ``french_unaccent``.
    search_vector = SearchVectorField(null=True, editable=False)
    # What the words are matched against (migration 0010): ``search_vector`` and, at weight
    # D, the labels of the publics, the précisions on the publics and the structure's
    # description. The ranking reads ``search_vector`` alone: a service that holds every
    # word itself comes first.
    match_vector = SearchVectorField(null=True, editable=False)
    # Lower-case, accent-free name ("creche avip").
    search_name = models.TextField(default="", editable=False)
    # The ranking's terms that are the service's own (``search._BASE``), written by
    # PostgreSQL on every write rather than computed for each candidate of each search
    # (they were a tenth of a search with words across France):
    # what a counselor needs to act, from 0 to 1 — 0.5 for a phone or an e-mail, 0.5 for
    # mobilisation details or a link;
    completeness = models.GeneratedField(
        expression=models.Case(
            models.When(~models.Q(phone="") | ~models.Q(email=""), then=models.Value(0.5)),
            default=models.Value(0.0),
        )
        + models.Case(
            models.When(
                ~models.Q(mobilisation_details="") | ~models.Q(mobilisation_link=""),
                then=models.Value(0.5),
            ),
            default=models.Value(0.0),
        ),
        output_field=models.FloatField(),
        db_persist=True,
    )
    # and the day after which it is past its update frequency (``needs_checking``).
    due_on = models.GeneratedField(
        expression=models.ExpressionWrapper(
            models.F("updated_on") + models.F("update_frequency_days"),
            output_field=models.DateField(),
        ),
        output_field=models.DateField(),
        db_persist=True,
    )

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = "service"
        verbose_name_plural = "services"
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="service_source_id")
        ]
        indexes = [
            # Full-text: ``match_vector @@ '(crech) & (perm | permi)'::tsquery``, the typed
            # words once corrected against ``SearchWord`` (see ``search.words_query``).
            # GIN keeps, for each lexeme ("crech", "perm"), the list of the rows that have
            # it: a query reads the lists of its few lexemes, not the 150,000 vectors. It is
            # the only index the words read: typos are corrected on the small vocabulary
            # table, never by a trigram match over the services.
            GinIndex(fields=["match_vector"], name="service_match_vector"),
            # The remote services' words (7,000 of the 150,000 services), in two indexes: a
            # search near a commune reads the remote services that hold the words from
            # these small indexes, and the services near the commune from the two above,
            # ANDed (see ``search._ranking_sql``), rather than OR-ing the 7,000 remote
            # services' row list with the place's box before AND-ing it with the words.
            # Those open to the whole country (no eligibility zone, or « france »: 4,300 of
            # them) have their words alone; the others have their zone's codes too, so that
            # a search reads only those of the commune's zone (a few dozen) rather than
            # every remote service holding the words, two in five of which it dropped. The
            # conditions are written as the search writes them (``search.REMOTE_CONDITION``,
            # ``search.OPEN_ZONE``): PostgreSQL uses a partial index only for a query
            # holding its condition.
            GinIndex(
                fields=["match_vector"],
                name="service_remote_open_words",
                condition=REMOTE_SERVICE & OPEN_ZONE,
            ),
            GinIndex(
                fields=["eligibility_zone", "match_vector"],
                name="service_remote_zoned_words",
                condition=REMOTE_SERVICE & ~OPEN_ZONE,
            ),
            # Words near a commune: the squares of a grid that hold each published service
            # (``directory_grid_cells``, migration 0015: 0.25°, 0.5° and 1°) with its words,
            # in one GIN index. A search gives the squares that cover its circle
            # (``search.grid_cells``) and PostgreSQL intersects their lists with the words'
            # lists inside the index: it reads only the services that have both, in a
            # crowded place as in a quiet one. Partial: only the published services are
            # searched, and the search writes that condition as a constant
            # (``search.PUBLISHED``).
            GinIndex(
                models.Func(
                    models.F("latitude"),
                    models.F("longitude"),
                    function="directory_grid_cells",
                    output_field=ArrayField(models.IntegerField()),
                ),
                models.F("match_vector"),
                name="service_published_cells_words",
                condition=models.Q(status=PublicationStatus.PUBLISHED),
            ),
            # Array filters: ``thematiques && '{…}'`` (a catégorie is many sub-thématiques),
            # ``publics && '{…}'``, ``reception_modes @> '{a-distance}'`` (remote services,
            # kept whatever the distance: OR-ed with the place's GiST index below). GIN on an
            # array has one entry per code: "any of these codes" reads one row list per code.
            # The search combines them with the place's index (BitmapAnd / BitmapOr), so a
            # catégorie near a commune reads the few thousand rows that have both.
            GinIndex(fields=["thematiques"], name="service_thematiques"),
            GinIndex(fields=["publics"], name="service_publics"),
            GinIndex(fields=["reception_modes"], name="service_reception_modes"),
            # Place: ``directory_earth_point(latitude, longitude) <@ earth_box(centre, radius)``.
            # earthdistance puts each point on the Earth's surface in 3-D (a ``cube``);
            # ``earth_box`` is the cube around the sphere's cap of the radius, and GiST, a
            # tree of nested boxes, returns the points inside without looking at the others.
            # The box is a little larger than the cap: the search checks the distance after.
            # ``directory_earth_point`` (migration 0003) has a SQL-standard body, so the
            # expression does not depend on the session's search_path, and PostgreSQL
            # inlines it (plain arithmetic per row, no function call).
            GistIndex(
                models.Func(
                    models.F("latitude"),
                    models.F("longitude"),
                    function="directory_earth_point",
                    output_field=models.FloatField(),
                ),
                name="service_earth_point",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_remote(self) -> bool:
        return "a-distance" in self.reception_modes

    @property
    def duration(self) -> str:
        """What the service asks of the person's time, in French: « 7,5 h par semaine,
        pendant 12 semaines » (empty when the source says nothing of it)."""
        parts = []
        if self.weekly_hours:
            parts.append(f"{floatformat(self.weekly_hours, -1)} h par semaine")
        if self.number_of_weeks:
            weeks = self.number_of_weeks
            weeks_label = f"{weeks} semaine{'s' if weeks > 1 else ''}"
            parts.append(f"pendant {weeks_label}" if parts else weeks_label)
        return ", ".join(parts)

    def needs_checking(self, today: date | None = None) -> bool:
        """Past its update frequency: shown as "à vérifier" and ranked lower."""
        today = today or timezone.localdate()
        return self.updated_on + timedelta(days=self.update_frequency_days) < today


class SearchWord(models.Model):
    """A lexeme of the services' search vectors: the vocabulary typos are corrected against.

    Filled by two statement-level triggers on the services (migration 0006), whoever
    writes them; never written in Python. About 170,000 lexemes for the 150,000 services
    of the national data set.
    """

    word = models.TextField("lexème", primary_key=True)

    class Meta:
        db_table = "directory_search_word"
        verbose_name = "mot de l'annuaire"
        verbose_name_plural = "mots de l'annuaire"
        indexes = [
            # ``word % 'formaton'`` (pg_trgm similarity): the lexemes sharing enough
            # three-letter pieces with a typed word unknown to the vocabulary. A GIN
            # trigram index on 170,000 short words answers in a millisecond or two, where
            # the same match on 150,000 service names took tens of milliseconds.
            GinIndex(OpClass("word", name="gin_trgm_ops"), name="search_word_trgm"),
        ]

    def __str__(self) -> str:
        return self.word


class ReportReason(models.TextChoices):
    CLOSED = "ferme", "Le service est fermé (temporairement ou définitivement)"
    WRONG_CONTACT = "coordonnees", "Les coordonnées sont erronées"
    WRONG_HOURS = "horaires", "Les horaires sont erronés"
    WRONG_CONDITIONS = "conditions", "Les conditions d'accès sont erronées"
    GONE = "nexiste_plus", "Le service n'existe plus"
    OTHER = "autre", "Autre"


class ReportStatus(models.TextChoices):
    OPEN = "open", "À traiter"
    RESOLVED = "resolved", "Traité"


class ServiceReportQuerySet(models.QuerySet["ServiceReport"]):
    def open(self) -> ServiceReportQuerySet:
        return self.filter(status=ReportStatus.OPEN)


class ServiceReport(models.Model):
    """A professional reports an error on a service; its editors fix it and resolve it."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="reports", verbose_name="service"
    )
    reasons = ArrayField(
        models.CharField(max_length=20, choices=ReportReason.choices),
        verbose_name="motifs",
    )
    details = models.TextField("précisions", blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="signalé par",
    )
    reporter_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="organisation de l'auteur",
    )
    status = models.CharField(
        "état", max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    created_at = models.DateTimeField("signalé le", auto_now_add=True)
    resolved_at = models.DateTimeField("traité le", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="traité par",
    )

    objects = ServiceReportQuerySet.as_manager()

    class Meta:
        verbose_name = "signalement"
        verbose_name_plural = "signalements"
        indexes = [models.Index(fields=["service", "status"], name="service_report_open")]

    def __str__(self) -> str:
        return f"{self.service} — {self.created_at:%d/%m/%Y}"

    def reason_labels(self) -> list[str]:
        labels = dict(ReportReason.choices)
        return [labels.get(code, code) for code in self.reasons]


class FreshnessReminder(models.Model):
    """A monthly reminder e-mail sent to an editor: at most one per user and month."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="destinataire",
    )
    month = models.DateField("mois")  # the first day of the month
    services = ArrayField(models.IntegerField(), default=list, verbose_name="services listés")
    sent_at = models.DateTimeField("envoyé le", auto_now_add=True)

    class Meta:
        verbose_name = "rappel de mise à jour"
        verbose_name_plural = "rappels de mise à jour"
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="freshness_reminder_month")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.month:%m/%Y}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "En attente"
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    FAILED = "failed", "Échec"


class ImportRunQuerySet(models.QuerySet["ImportRun"]):
    def for_department(self, department_id: str) -> ImportRunQuerySet:
        return self.filter(department_id=department_id)


class ImportRun(models.Model):
    """One import of data·inclusion files started from a territory administrator's page.

    The files are stored in the database (``ImportFile``), so that any worker can run the
    import; the worker writes the progress as it goes and the report at the end.
    """

    department = models.ForeignKey(
        "territories.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="territoire",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="lancé par",
    )
    status = models.CharField(
        "état", max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    # What the worker is doing ("contrôle des lignes"…), and how far (0 to 100).
    stage = models.CharField("étape", max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField("avancement (%)", default=0)
    rows_total = models.PositiveIntegerField("lignes lues", default=0)
    rows_checked = models.PositiveIntegerField("lignes contrôlées", default=0)
    # The report: counts, rejected rows ([{file, line, field, reason}]), file errors.
    counts = models.JSONField("résultats", default=dict, blank=True)
    rejected = models.JSONField("lignes rejetées", default=list, blank=True)
    rejected_rows = models.PositiveIntegerField("nombre de lignes rejetées", default=0)
    errors = models.JSONField("erreurs", default=list, blank=True)
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    # The worker's last sign of life on this run (its start, then each progress report):
    # a run "en cours" silent for long, whose job no worker runs, was interrupted
    # (``imports.fail_stale_imports``).
    progress_at = models.DateTimeField("dernier avancement le", null=True, blank=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        verbose_name = "import de l'annuaire"
        verbose_name_plural = "imports de l'annuaire"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "-created_at"], name="importrun_department")]

    def __str__(self) -> str:
        return f"Import du {self.created_at:%d/%m/%Y %H:%M} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.FAILED}

    @property
    def applied_rows(self) -> int:
        """Rows of the files now in the directory: created, updated, unchanged or kept."""
        return sum(
            int(count)
            for kind in ("structures", "services")
            for key, count in (self.counts.get(kind) or {}).items()
            if key in {"created", "updated", "unchanged", "kept"}
        )


class ImportFile(models.Model):
    """A file uploaded for an import, kept with it."""

    run = models.ForeignKey(
        ImportRun, on_delete=models.CASCADE, related_name="files", verbose_name="import"
    )
    name = models.CharField("nom", max_length=255)
    size = models.PositiveIntegerField("taille (octets)")
    content = models.BinaryField("contenu")

    class Meta:
        verbose_name = "fichier importé"
        verbose_name_plural = "fichiers importés"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
