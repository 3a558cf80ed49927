"""RSA: the dossiers the CAF and the MSA send, their states over time, and the persons bound
by the rights and duties, each matched to a file of Binôme or left for a human to reconcile."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from binome.core.text import normalize
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.referrals.models import Referral
from binome.rsa.flux import RightState, Role
from binome.territories.models import Department

# The law gives the département six weeks, from the information that the right opened, to
# orient each new beneficiary bound by the rights and duties.
ORIENTATION_DELAY = datetime.timedelta(weeks=6)
# The contrat d'engagement is signed within one month of the orientation's notification.
CONTRACT_MONTHS = 1
# The deadlines job warns this many days before a deadline.
WARNING_DAYS = 7


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "À vérifier"  # a spreadsheet waiting for its mapping and preview
    QUEUED = "queued", "En attente"
    RUNNING = "running", "En cours"
    APPLIED = "applied", "Appliqué"
    REFUSED = "refused", "Refusé"


class SpreadsheetMapping(models.Model):
    """Which column of a département's spreadsheet holds which field (``spreadsheets.FIELDS``):
    ``columns`` maps a field's key to a column's header."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("nom", max_length=100)
    columns = models.JSONField("colonnes", default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifiée par",
    )
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "correspondance de colonnes"
        verbose_name_plural = "correspondances de colonnes"
        ordering = ["department", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="rsa_mapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class FlowImportQuerySet(models.QuerySet["FlowImport"]):
    def for_department(self, department_id: str) -> FlowImportQuerySet:
        return self.filter(department_id=department_id)

    def unfinished(self) -> FlowImportQuerySet:
        return self.filter(status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING])


class FlowImport(models.Model):
    """One file received from the CAF or the MSA (or a département's spreadsheet), and what its
    import did.

    A file uploaded from the territory's page is kept here (``content``) while it waits for
    the worker, which writes the progress (``percent``) as it reads, then the report.
    """

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField("fichier", max_length=255)
    file_hash = models.CharField("empreinte SHA-256", max_length=64, db_index=True)
    sender = models.CharField("émetteur", max_length=3, blank=True)
    flow_kind = models.CharField("type de flux", max_length=1, blank=True)
    flow_created_on = models.DateField("flux créé le", null=True, blank=True)
    reference_date = models.DateField("date de référence", null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="importé par",
    )
    started_at = models.DateTimeField("commencé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    status = models.CharField("statut", max_length=10, choices=ImportStatus.choices)
    size = models.PositiveBigIntegerField("taille (octets)", default=0)
    mapping = models.ForeignKey(
        SpreadsheetMapping,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="correspondance de colonnes",
    )
    content = models.BinaryField("contenu", null=True, editable=False)
    percent = models.PositiveSmallIntegerField("avancement (%)", default=0)
    # The worker's last sign of life on this import (its start, then each progress report).
    progress_at = models.DateTimeField("dernier avancement le", null=True, blank=True)
    message = models.TextField("message", blank=True)
    created = models.PositiveIntegerField("dossiers créés", default=0)
    updated = models.PositiveIntegerField("dossiers mis à jour", default=0)
    unchanged = models.PositiveIntegerField("dossiers inchangés", default=0)
    to_reconcile = models.PositiveIntegerField("personnes à rapprocher", default=0)
    rejected = models.PositiveIntegerField("dossiers rejetés", default=0)
    rejections = models.JSONField("rejets", default=list, blank=True)

    objects = FlowImportQuerySet.as_manager()

    class Meta:
        verbose_name = "import de flux RSA"
        verbose_name_plural = "imports de flux RSA"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["department", "-started_at"], name="rsa_flowimport_department")
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.APPLIED, ImportStatus.REFUSED}

    @property
    def is_spreadsheet(self) -> bool:
        return not self.file_name.lower().endswith(".xml")


class Dossier(models.Model):
    """A household's RSA dossier as its paying body last described it."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    body = models.CharField("organisme", max_length=3)  # CAF or MSA
    number = models.CharField("numéro de demande RSA", max_length=20)
    body_number = models.CharField("numéro d'organisme", max_length=10, blank=True)
    matricule = models.CharField("numéro allocataire", max_length=20, blank=True)
    requested_on = models.DateField("demande du", null=True, blank=True)
    state = models.CharField("état du droit", max_length=1, choices=RightState.choices)
    suspension_reason = models.CharField("motif de suspension", max_length=4, blank=True)
    closure_reason = models.CharField("motif de clôture", max_length=4, blank=True)
    closed_on = models.DateField("clos le", null=True, blank=True)
    no_fixed_address = models.BooleanField("sans domicile fixe", default=False)
    family_situation = models.CharField("situation familiale", max_length=3, blank=True)
    children = models.PositiveSmallIntegerField("enfants au foyer", default=0)
    first_import = models.ForeignKey(
        FlowImport, on_delete=models.PROTECT, related_name="+", verbose_name="premier flux"
    )
    last_import = models.ForeignKey(
        FlowImport, on_delete=models.PROTECT, related_name="+", verbose_name="dernier flux"
    )

    class Meta:
        verbose_name = "dossier RSA"
        verbose_name_plural = "dossiers RSA"
        constraints = [
            models.UniqueConstraint(
                fields=["department", "body", "number"], name="rsa_dossier_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body} {self.number}"


class DossierState(models.Model):
    """Each state a dossier went through, with the flow that brought it."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="states")
    state = models.CharField("état du droit", max_length=1, choices=RightState.choices)
    flow = models.ForeignKey(FlowImport, on_delete=models.PROTECT, related_name="+")
    known_on = models.DateField("connu le")

    class Meta:
        verbose_name = "état d'un dossier RSA"
        ordering = ["dossier", "known_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_state_display()} ({self.known_on:%d/%m/%Y})"


class MatchStatus(models.TextChoices):
    MATCHED = "matched", "Rapprochée d'un dossier de Binôme"
    CREATED = "created", "Dossier créé par l'import"
    TO_RECONCILE = "to_reconcile", "À rapprocher"


# The states under which a person bound by the rights and duties is to be oriented: the right
# requested, open, or suspended (not refused, not closed).
ACTIVE_STATES = (
    RightState.AWAITING_DECISION,
    RightState.OPEN,
    RightState.RIGHT_SUSPENDED,
    RightState.PAYMENT_SUSPENDED,
)


# The activity codes of the flows' ``Activite/ACT`` the file shows in French; another code is
# shown as such, with the words « code de la CAF ». The codes and their meaning are the CNAF's
# (the « ACT » nomenclature of the beneficiaries' flow, as published with the open-source
# RSA tools of the départements, e.g. WebRSA's list of the ``activites.act`` values):
# INT is the intermittent worker, not the temporary one; CHO the unemployed without proof
# (CHR the unemployed); CGP the paid leave (the parental leave is CAC); MAT the maternity
# or paternity leave; ETI and EXP the non-salaried workers of the general and agricultural
# schemes.
ACTIVITIES = {
    "SAL": "Salarié(e)",
    "INT": "Travailleur(se) intermittent(e)",
    "TSA": "Travailleur(se) saisonnier(ère)",
    "APP": "Apprenti(e)",
    "ETI": "Travailleur(se) non salarié(e) (régime général)",
    "EXP": "Travailleur(se) non salarié(e) agricole",
    "AMA": "Assistant(e) maternel(le) agréé(e)",
    "CHR": "Chômeur(se)",
    "CNI": "Chômeur(se) non indemnisé(e)",
    "CHO": "Chômeur(se) sans justificatif",
    "ETU": "Étudiant(e)",
    "SFP": "En stage de formation professionnelle",
    "MAL": "Malade",
    "MAT": "En congé maternité ou paternité",
    "CAC": "Cessation d'activité pour enfant (congé parental)",
    "CGP": "En congé payé",
    "INV": "Pensionné(e) d'invalidité",
    "PRE": "Préretraité(e)",
    "RET": "Retraité(e)",
    "SSA": "Sans activité",
}


def activity_label(code: str) -> str:
    """The French label of a flow's activity code ("" when none was given)."""
    if not code:
        return ""
    return ACTIVITIES.get(code, f"Activité « {code} » (code de la CAF)")


# Bound by the rights and duties, their clock running, a file of Binôme, not oriented yet,
# their right neither refused nor closed: « à orienter » (the predicate of its partial index,
# which the queries repeat word for word so that PostgreSQL uses it).
TO_ORIENT = Q(
    subject_to_rights_and_duties=True,
    orientation_due_on__isnull=False,
    oriented_on__isnull=True,
    person__isnull=False,
    dossier_state__in=ACTIVE_STATES,
)


class NameKey(models.Func):
    """The beneficiary's first and last names as ``normalize`` writes them (lower case, no
    accents, any other character than a-z and 0-9 a single space): the SQL function
    ``rsa_name_key`` of migration 0006, stored in « à orienter »'s index."""

    function = "rsa_name_key"
    output_field = models.TextField()

    def __init__(self) -> None:
        super().__init__(F("first_name"), F("last_name"))


class BeneficiaryQuerySet(models.QuerySet["Beneficiary"]):
    def in_department(self, department_id: str) -> BeneficiaryQuerySet:
        return self.filter(department_id=department_id)

    def named(self, text: str) -> BeneficiaryQuerySet:
        """Whose first or last name holds each word of ``text``, accents, case and
        punctuation aside (« lefevre » finds Hélène Lefèvre, « jean-pierre » Jean Pierre):
        compared with the names' key that « à orienter »'s index holds, not computed again
        for each row."""
        qs = self
        for word in text.split():
            if key := normalize(word):
                qs = qs.alias(name_key=NameKey()).filter(name_key__contains=key)
        return qs

    def to_orient(self) -> BeneficiaryQuerySet:
        """Bound by the rights and duties, their clock running, a file of Binôme, not
        oriented yet, their right neither refused nor closed."""
        return self.filter(TO_ORIENT)


class Beneficiary(models.Model):
    """An adult of an RSA household (applicant or spouse) and the file that is theirs.

    While the match is doubtful the person stays « à rapprocher »: the identity the flow gave
    is kept here for the human who decides, and no file is touched.
    """

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="beneficiaries")
    role = models.CharField("rôle", max_length=3, choices=Role.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    match_status = models.CharField("rapprochement", max_length=12, choices=MatchStatus.choices)
    candidates = models.ManyToManyField(Person, blank=True, related_name="+")
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    birth_name = models.CharField("nom de naissance", max_length=100, blank=True)
    birth_date = models.DateField("date de naissance")
    nir_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The flow's NIR, encrypted, kept only while the person is « à rapprocher »: the file the
    # human's decision links or creates receives it, then it is cleared.
    nir_encrypted = models.TextField(blank=True, editable=False)
    subject_to_rights_and_duties = models.BooleanField("soumis aux droits et devoirs")
    france_travail_id = models.CharField("identifiant France Travail", max_length=20, blank=True)
    activity = models.CharField("activité (code du flux)", max_length=3, blank=True)
    # The date the flows first told of an opened (or requested) right while the person was
    # bound by the rights and duties: the six weeks to orient run from it.
    right_opened_on = models.DateField("ouverture du droit connue le", null=True, blank=True)
    orientation_due_on = models.DateField("à orienter avant le", null=True, blank=True)
    # The day the current orientation was notified (none: still to orient). A reorientation
    # moves it; the deadlines job marks its warnings before and after the six weeks.
    oriented_on = models.DateField("orienté le", null=True, blank=True)
    orientation_warned_on = models.DateField(
        "échéance d'orientation signalée le", null=True, blank=True
    )
    # The dossier's département, state of the right and « sans domicile fixe », copied onto
    # its adults by the database (the triggers of migration 0005: on each insert here, on
    # each change of the dossier), so that « à orienter », its counters and the figures read
    # this table alone, on the partial indexes below. Never written by the code; the
    # dossier's own foreign key guards the département (no second constraint to check on
    # each of millions of rows).
    department = models.ForeignKey(
        Department,
        on_delete=models.DO_NOTHING,
        null=True,
        editable=False,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name="département (du dossier)",
    )
    dossier_state = models.CharField(
        "état du droit (du dossier)",
        max_length=1,
        choices=RightState.choices,
        blank=True,
        editable=False,
    )
    no_fixed_address = models.BooleanField(
        "sans domicile fixe (du dossier)", default=False, editable=False
    )

    objects = BeneficiaryQuerySet.as_manager()

    class Meta:
        verbose_name = "bénéficiaire du RSA"
        verbose_name_plural = "bénéficiaires du RSA"
        constraints = [
            models.UniqueConstraint(fields=["dossier", "role"], name="rsa_beneficiary_one_role")
        ]
        indexes = [
            models.Index(fields=["orientation_due_on"], name="rsa_beneficiary_due"),
            models.Index(fields=["match_status"], name="rsa_beneficiary_match"),
            # « À orienter »: exactly the persons ``to_orient`` selects, by département and
            # deadline, with what the list filters on: its page, its count (filtered or not)
            # and the home page's counter read it alone. The names' key is stored in it (a
            # name's search compares it, not ``unaccent`` on each row); the names, included,
            # let PostgreSQL read it in an index-only scan.
            models.Index(
                F("department"),
                F("orientation_due_on"),
                F("id"),
                NameKey(),
                include=["no_fixed_address", "first_name", "last_name"],
                condition=TO_ORIENT,
                name="rsa_beneficiary_to_orient",
            ),
            # The figures' stock and new entrants: by département and opening of the right.
            models.Index(
                fields=["department", "right_opened_on"],
                include=["id", "dossier_state"],
                condition=Q(subject_to_rights_and_duties=True, right_opened_on__isnull=False),
                name="rsa_beneficiary_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.role})"

    @property
    def activity_label(self) -> str:
        return activity_label(self.activity)


class OrientationKind(models.TextChoices):
    EMPLOYMENT = "emploi", "Professionnelle (emploi)"
    SOCIO_PROFESSIONAL = "socio_pro", "Socio-professionnelle"
    SOCIAL = "sociale", "Sociale"


class EmploymentSituation(models.TextChoices):
    """The national referential's « situation vis-à-vis de l'emploi »."""

    EMPLOYED = "employed", "En emploi"
    SEEKING = "seeking", "En recherche d'emploi depuis moins d'un an"
    LONG_TERM = "long_term", "Sans emploi depuis plus d'un an"
    NEVER = "never", "N'a jamais travaillé"
    TRAINING = "training", "En formation"


class Qualification(models.TextChoices):
    NONE = "none", "Sans diplôme"
    CAP_BEP = "cap_bep", "CAP, BEP ou équivalent"
    BAC = "bac", "Baccalauréat ou équivalent"
    HIGHER = "higher", "Diplôme de l'enseignement supérieur"


class Obstacle(models.TextChoices):
    """The referential's obstacles (« freins périphériques ») the decision weighs."""

    HEALTH = "health", "Santé"
    HOUSING = "housing", "Logement"
    MOBILITY = "mobility", "Mobilité"
    CHILDCARE = "childcare", "Garde d'enfants"
    CARER = "carer", "Aidant d'un proche"


# The kinds of organisation that may be a referent body (France Travail, the département, a
# CCAS, a mission locale, Cap emploi and the other organismes of the territory's pact).
REFERENT_BODY_KINDS = (
    "france_travail",
    "departement",
    "ccas",
    "mission_locale",
    "association",
    "autre",
)


class OrientationQuerySet(models.QuerySet["Orientation"]):
    def current(self) -> OrientationQuerySet:
        return self.filter(replaced_at__isnull=True)

    def received_by(self, organisation_ids: list[int]) -> OrientationQuerySet:
        return self.current().filter(referent_body_id__in=organisation_ids)

    def reorientation_asked(self, department_id: str) -> OrientationQuerySet:
        """Current, their referent body asking for a reorientation: the oldest request first."""
        return (
            self.current()
            .filter(department_id=department_id, reorientation_asked_at__isnull=False)
            .order_by("reorientation_asked_at", "id")
        )


class Orientation(models.Model):
    """The département's decision for one beneficiary: the kind and the referent body, with
    the referential's criteria; or the delegation to France Travail (by the manager, or by
    itself past six weeks). Then the referent body's référent de parcours and the contrat
    d'engagement, due one month after the notification. A reorientation replaces it: the
    new one's clocks start again."""

    # Indexed with the notification's day (``rsa_orientation_first``), not alone.
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="orientations", db_index=False
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        "territories.Department", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        "type d'orientation", max_length=10, choices=OrientationKind.choices, blank=True
    )
    delegated = models.BooleanField("déléguée à France Travail", default=False)
    referent_body = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="organisme référent",
    )
    employment_situation = models.CharField(
        "situation vis-à-vis de l'emploi",
        max_length=12,
        choices=EmploymentSituation.choices,
        blank=True,
    )
    qualification = models.CharField(
        "niveau de qualification", max_length=10, choices=Qualification.choices, blank=True
    )
    aspirations = models.TextField("aspirations", max_length=2000, blank=True)
    obstacles = ArrayField(
        models.CharField(max_length=12, choices=Obstacle.choices),
        default=list,
        blank=True,
        verbose_name="freins",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decided_at = models.DateTimeField("décidée le")
    notified_on = models.DateField("notifiée le")
    referral = models.ForeignKey(
        Referral,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="orientation transmise",
    )
    referent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="référent de parcours",
    )
    referent_designated_at = models.DateTimeField("référent désigné le", null=True, blank=True)
    contract_due_on = models.DateField("contrat attendu avant le", null=True, blank=True)
    contract_signed_on = models.DateField("contrat signé le", null=True, blank=True)
    # The deadlines job's marks: warned before the contract's due date, then after it.
    contract_warned_on = models.DateField("échéance du contrat signalée le", null=True, blank=True)
    contract_late_on = models.DateField("retard du contrat signalé le", null=True, blank=True)
    replaced_at = models.DateTimeField("remplacée le", null=True, blank=True)
    # The law's orientation is never refused nor left to expire: its referent body may only
    # ask, with a reason, for a reorientation, which goes back to the orientation managers
    # (until their new decision replaces this orientation).
    reorientation_asked_at = models.DateTimeField(
        "réorientation demandée le", null=True, blank=True
    )
    reorientation_asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="réorientation demandée par",
    )
    reorientation_reason = models.TextField(
        "motif de la demande de réorientation", max_length=2000, blank=True
    )

    objects = OrientationQuerySet.as_manager()

    class Meta:
        verbose_name = "orientation RSA"
        verbose_name_plural = "orientations RSA"
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary"],
                condition=Q(replaced_at__isnull=True),
                name="rsa_orientation_one_current",
            ),
            models.CheckConstraint(
                condition=Q(delegated=True) | ~Q(kind=""), name="rsa_orientation_has_kind"
            ),
        ]
        indexes = [
            models.Index(
                fields=["referent_body", "contract_due_on"],
                condition=Q(replaced_at__isnull=True),
                name="rsa_orientation_received",
            ),
            models.Index(
                fields=["contract_due_on"],
                condition=Q(replaced_at__isnull=True, contract_signed_on__isnull=True),
                name="rsa_orientation_contract_due",
            ),
            # The figures: each entrant's first notification read from the index alone.
            models.Index(fields=["beneficiary", "notified_on"], name="rsa_orientation_first"),
            # The figures: the orientations the département decided, by notification's day,
            # with every column the figures read (an index-only scan: PostgreSQL took the
            # département's index alone and filtered all its orientations by the day).
            models.Index(
                fields=["department", "notified_on"],
                include=["kind", "contract_signed_on", "referent_designated_at", "referent_body"],
                condition=~Q(kind=""),
                name="rsa_orientation_notified",
            ),
            # The reorientations asked for, waiting for the département's decision.
            models.Index(
                fields=["department", "reorientation_asked_at"],
                condition=Q(replaced_at__isnull=True, reorientation_asked_at__isnull=False),
                name="rsa_orientation_reorientation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} — {self.referent_body}"

    @property
    def label(self) -> str:
        if self.delegated and not self.kind:
            return "Déléguée à France Travail"
        return f"Orientation {self.get_kind_display().lower()}"

    @property
    def obstacle_labels(self) -> list[str]:
        return [Obstacle(code).label for code in self.obstacles]


# The figures' rollup per département and month kept by the nightly job (its own module,
# loaded with the app's models).
from binome.rsa.rollup import EntrantsMonth, FiguresCoverage, OrientationsMonth  # noqa: E402, F401
