"""Deterministic synthetic data at national volumes, for benchmarks (``binome generate``).

The generator is a registry of **steps** run in order inside one transaction. Each step
receives a :class:`Context`: the database connection, its own ``random.Random`` (seeded
from the seed *and* the step's name, so adding a step never changes what the earlier
ones produce), the scale (:class:`ScaleConfig`) and ``ctx.ids``, what earlier steps
produced. Rows are loaded with PostgreSQL ``COPY`` (``ctx.copy``), never one ORM save
per row, with primary keys reserved from the table's sequence (``ctx.reserve_ids``) so a
step knows the ids it wrote without reading them back.

A later app adds its own step in a ``generate.py`` module of its package (imported
before a run, in ``INSTALLED_APPS`` order)::

    from binome.core.generate import Context, step

    def _delete_generated_persons(domain_suffix: str) -> dict[str, int]:
        ...

    @step("persons", models=(Person,), reset=_delete_generated_persons)
    def persons(ctx: Context) -> dict[str, int]:
        volume = ctx.scale.volume("persons")          # add the key to SCALES
        organisations = ctx.ids["organisations"]      # GeneratedOrganisation records
        ids = ctx.reserve_ids(Person, volume)
        count = ctx.copy(Person, ["id", "first_name", ...], rows)
        ctx.ids["persons"] = ids
        return {"personnes": count}

Generated rows are recognised by the e-mail domain ``<tag>.gen.binome.test`` (users and
organisations), where the tag names the scale and the seed (``national-s42``): the demo
personas never collide with them, a re-run of the same scale and seed is detected and
skipped, and ``--reset`` deletes exactly them (the resets run in reverse step order, so
a later step removes its rows before the users and organisations they point to).
No step writes audit events: the audit log is append-only and could not be cleaned up.

``ctx.ids`` after the foundation steps:

- ``departments``: list of :class:`DepartmentPlan` (communes, population, professionals)
- ``organisations``: list of :class:`GeneratedOrganisation`
- ``users``: list of :class:`GeneratedUser` (the professionals)
- ``memberships``: list of :class:`GeneratedMembership`
- ``territory_roles``: list of ``(id, user_id, department_code, role)``
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet, deletion
from django.utils.module_loading import module_has_submodule
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from binome.accounts.models import User
from binome.core.text import normalize
from binome.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.territories.models import Commune, Department

GENERATED_DOMAIN = "gen.binome.test"
# Every generated account shares this password (hashed once per run).
GENERATED_PASSWORD = "Binome-genere-2026"  # noqa: S105 - synthetic benchmark accounts only
DEFAULT_DEPARTMENT = "83"
DEFAULT_SEED = 42
# Dates are drawn before this fixed instant, so that a seed always gives the same rows.
REFERENCE_TIME = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)

# Volumes per scale. A later step adds its own key ("persons": 2_000_000 …) and reads it
# with ``ctx.scale.volume("persons")``. "tiny" is for the tests (hidden in the command).
SCALES: dict[str, dict[str, int]] = {
    "national": {
        "professionals": 50_000,
        "structures": 100_000,
        "services": 150_000,
        "persons": 1_000_000,
        "accompaniments": 1_200_000,
        "referrals": 300_000,
    },
    "departement": {
        "professionals": 2_000,
        "structures": 1_600,
        "services": 2_400,
        "persons": 50_000,
        "accompaniments": 60_000,
        "referrals": 130_000,
    },
    "tiny": {
        "professionals": 40,
        "structures": 30,
        "services": 45,
        "persons": 60,
        "accompaniments": 72,
        "referrals": 90,
    },
}
PUBLIC_SCALES = ("departement", "national")
LOCAL_SCALES = ("departement", "tiny")  # one département


class GenerationError(Exception):
    """The generation cannot run as asked (message in French, for the operator)."""


# --- scale and context -------------------------------------------------------------


@dataclass(frozen=True)
class ScaleConfig:
    """What to generate: a scale, its seed, its départements and its volumes."""

    name: str
    seed: int
    department: str | None  # None: every département (national)
    volumes: Mapping[str, int]

    def volume(self, key: str) -> int:
        return self.volumes[key]

    @property
    def tag(self) -> str:
        """Names the data set in the e-mail domain: ``national-s42``, ``departement-d83-s7``."""
        parts = [self.name]
        if self.department is not None:
            parts.append(f"d{self.department.lower()}")
        defaults = SCALES[self.name]
        parts.extend(
            f"{key[0]}{value}"
            for key, value in sorted(self.volumes.items())
            if defaults.get(key) != value
        )
        parts.append(f"s{self.seed}")
        return "-".join(parts)

    @property
    def domain(self) -> str:
        return f"{self.tag}.{GENERATED_DOMAIN}"


def scale_config(
    name: str,
    *,
    seed: int = DEFAULT_SEED,
    department: str | None = None,
    professionals: int | None = None,
) -> ScaleConfig:
    if name not in SCALES:
        raise GenerationError(f"Échelle inconnue « {name} » ({', '.join(PUBLIC_SCALES)}).")
    if seed < 0:
        raise GenerationError("La graine doit être un entier positif ou nul.")
    if name in LOCAL_SCALES:
        department = (department or DEFAULT_DEPARTMENT).upper()
    elif department is not None:
        raise GenerationError("--department ne s'utilise qu'avec --scale departement.")
    volumes = dict(SCALES[name])
    if professionals is not None:
        if professionals < 1:
            raise GenerationError("Le nombre de professionnels doit être d'au moins 1.")
        volumes["professionals"] = professionals
    return ScaleConfig(name=name, seed=seed, department=department, volumes=volumes)


@dataclass
class Context:
    """What a step receives."""

    connection: BaseDatabaseWrapper
    rng: random.Random
    scale: ScaleConfig
    ids: dict[str, Any]
    password_hash: str

    def reserve_ids(self, model: type[Model], count: int) -> list[int]:
        """``count`` primary keys taken from the table's sequence, for rows written by COPY."""
        if count <= 0:
            return []
        pk_column = model._meta.pk.column
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk_column, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def copy(
        self, model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> int:
        """Load rows with COPY; ``fields`` are model field names, in the order of each row."""
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(_column(model, name)) for name in fields)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        count = 0
        with self.connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def past_datetime(self, *, max_days: int, min_days: int = 0) -> datetime:
        """A working-hours instant between ``max_days`` and ``min_days`` before the reference."""
        days = self.rng.randint(min_days, max_days)
        seconds = self.rng.randint(7 * 3600, 18 * 3600)
        midnight = REFERENCE_TIME.replace(hour=0, minute=0)
        return midnight - timedelta(days=days) + timedelta(seconds=seconds)


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise GenerationError(f"{model.__name__}.{name} n'est pas une colonne.")
    return field.column


StepFunction = Callable[[Context], Mapping[str, int]]
ResetFunction = Callable[[str], Mapping[str, int]]


@dataclass(frozen=True)
class Step:
    name: str
    run: StepFunction
    models: tuple[type[Model], ...] = ()
    reset: ResetFunction | None = None


STEPS: list[Step] = []


def step(
    name: str, *, models: Sequence[type[Model]] = (), reset: ResetFunction | None = None
) -> Callable[[StepFunction], StepFunction]:
    """Register a generator step, run after those already registered.

    ``models``: the tables it writes (analysed at the end). ``reset(domain_suffix)``:
    deletes what earlier runs generated (rows tied to users or organisations whose
    e-mail ends with ``domain_suffix``), returns counts by label.
    """

    def register(func: StepFunction) -> StepFunction:
        if any(existing.name == name for existing in STEPS):
            raise GenerationError(f"L'étape de génération « {name} » est déclarée deux fois.")
        STEPS.append(Step(name=name, run=func, models=tuple(models), reset=reset))
        return func

    return register


def registered_steps() -> list[Step]:
    """The steps of Binôme's apps (their ``generate`` modules), in INSTALLED_APPS order."""
    for app_config in apps.get_app_configs():
        if app_config.name.startswith("binome.") and module_has_submodule(
            app_config.module, "generate"
        ):
            import_module(f"{app_config.name}.generate")
    return list(STEPS)


# --- running ---------------------------------------------------------------------------


@dataclass
class StepReport:
    name: str
    counts: Mapping[str, int]
    seconds: float


@dataclass
class Report:
    config: ScaleConfig
    skipped: bool = False
    existing: dict[str, int] = field(default_factory=dict)
    resets: list[StepReport] = field(default_factory=list)
    steps: list[StepReport] = field(default_factory=list)
    commit_seconds: float = 0.0
    analyze_seconds: float = 0.0
    total_seconds: float = 0.0


Logger = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def existing_datasets() -> dict[str, int]:
    """Generated data sets present in the database: tag → number of generated users."""
    pattern = f"%.{GENERATED_DOMAIN}"
    found: Counter[str] = Counter()
    with connection.cursor() as cursor:
        for table in (User._meta.db_table, Organisation._meta.db_table):
            cursor.execute(
                f"SELECT split_part(email, '@', 2), count(*) FROM {table} "  # noqa: S608 - model table names
                "WHERE email LIKE %s GROUP BY 1",
                [pattern],
            )
            for domain, count in cursor.fetchall():
                tag = domain.removesuffix(f".{GENERATED_DOMAIN}")
                found[tag] += count if table == User._meta.db_table else 0
    return dict(found)


def number(value: int) -> str:
    """12345 → "12 345" (French thousands separator, a narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f")


def format_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{number(value)} {label}" for label, value in counts.items())


def _log_step(log: Logger, report: StepReport) -> None:
    log(f"  {report.name:<18} {report.seconds:7.2f} s   {format_counts(report.counts) or '—'}")


def generate(config: ScaleConfig, *, reset: bool = False, log: Logger = _quiet) -> Report:
    """Delete earlier generated data if ``reset``, then generate ``config`` in one transaction.

    Without ``reset``, an existing data set of the same tag is kept (``report.skipped``)
    and another generated data set is an error: two would mix in the figures.
    """
    started = time.perf_counter()
    report = Report(config=config)
    steps = registered_steps()
    _check_departments(config)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One generation at a time: the second waits, then sees the first one's rows.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('binome.generate'))")
        report.existing = existing_datasets()
        if reset:
            suffix = f".{GENERATED_DOMAIN}"
            if report.existing:
                log(f"Suppression des données générées ({', '.join(sorted(report.existing))}) :")
            for item in reversed(steps):
                if item.reset is None:
                    continue
                t0 = time.perf_counter()
                counts = item.reset(suffix)
                reset_report = StepReport(item.name, counts, time.perf_counter() - t0)
                report.resets.append(reset_report)
                if report.existing:
                    _log_step(log, reset_report)
        elif config.tag in report.existing:
            report.skipped = True
            report.total_seconds = time.perf_counter() - started
            return report
        elif report.existing:
            raise GenerationError(
                f"D'autres données générées sont présentes ({', '.join(sorted(report.existing))}) "
                f": relancez avec --reset pour les remplacer par « {config.tag} »."
            )
        log(
            f"Génération « {config.tag} » (échelle {config.name}, graine {config.seed}, "
            f"{number(config.volume('professionals'))} professionnels) :"
        )
        ctx = Context(
            connection=connection,
            rng=random.Random(config.seed),  # noqa: S311 - reproducible data, not secrets
            scale=config,
            ids={},
            password_hash=make_password(GENERATED_PASSWORD),
        )
        for item in steps:
            ctx.rng = random.Random(f"{config.seed}:{item.name}")  # noqa: S311
            t0 = time.perf_counter()
            counts = item.run(ctx)
            step_report = StepReport(item.name, counts, time.perf_counter() - t0)
            report.steps.append(step_report)
            _log_step(log, step_report)
        commit_started = time.perf_counter()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: they are checked here.
    report.commit_seconds = time.perf_counter() - commit_started
    log(f"  {'COMMIT':<18} {report.commit_seconds:7.2f} s   contrôle des clés étrangères")
    t0 = time.perf_counter()
    tables = list(dict.fromkeys(model._meta.db_table for item in steps for model in item.models))
    if tables:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")
    report.analyze_seconds = time.perf_counter() - t0
    log(f"  {'ANALYZE':<18} {report.analyze_seconds:7.2f} s   {', '.join(tables)}")
    report.total_seconds = time.perf_counter() - started
    return report


def _check_departments(config: ScaleConfig) -> None:
    if (
        config.department is not None
        and not Department.objects.filter(code=config.department).exists()
    ):
        raise GenerationError(
            f"Le département « {config.department} » n'existe pas (codes INSEE : 01, 2A, 83, 974…)."
        )


def sql_delete(queryset: QuerySet[Any]) -> int:
    """Delete the rows of ``queryset`` in a few set-based statements, as ``.delete()`` would.

    ``QuerySet.delete()`` loads every row and sends their ids back in ``IN (…)`` lists:
    minutes for 50,000 users. Here each relation is handled with a subquery instead:
    CASCADE deletes (recursively), SET_NULL updates, PROTECT and RESTRICT refuse,
    DO_NOTHING (the audit log) and database-level actions are left to the database.
    No delete signal is sent: generated rows have no receivers.
    """
    meta = queryset.model._meta
    pks = queryset.values("pk")
    # The relations Django's own delete follows, hidden ones ("+") and M2M tables included.
    relations: list[Any] = list(deletion.get_candidate_relations_to_delete(meta))
    for rel in relations:
        related = rel.related_model
        field_name = rel.field.name
        dependents = related._base_manager.filter(**{f"{field_name}__in": pks})
        on_delete = rel.on_delete
        if on_delete in deletion.SKIP_COLLECTION:
            continue
        if on_delete is deletion.CASCADE:
            sql_delete(dependents)
        elif on_delete is deletion.SET_NULL:
            dependents.update(**{field_name: None})
        elif on_delete in {deletion.PROTECT, deletion.RESTRICT}:
            if dependents.exists():
                raise GenerationError(
                    f"Des {related._meta.verbose_name_plural} non générés pointent vers des "
                    f"{meta.verbose_name_plural} générés : suppression impossible."
                )
        else:
            raise GenerationError(f"Suppression non prévue pour {rel} ({on_delete}).")
    return queryset._raw_delete(queryset.db)


# --- names and helpers -----------------------------------------------------------------

FEMALE_FIRST_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Christine", "Valérie",
    "Céline", "Stéphanie", "Sophie", "Aurélie", "Julie", "Émilie", "Camille", "Laura", "Léa",
    "Manon", "Chloé", "Sarah", "Pauline", "Claire", "Anne", "Hélène", "Caroline", "Virginie",
    "Laetitia", "Audrey", "Élodie", "Mélanie", "Karine", "Delphine", "Emma", "Inès", "Nadia",
    "Fatima", "Amina", "Yasmine", "Sabrina", "Samia", "Océane", "Lucie", "Justine", "Marion",
    "Charlotte", "Mathilde", "Agathe", "Anaïs", "Morgane", "Clémence", "Fanny", "Estelle",
    "Florence", "Patricia", "Martine", "Véronique", "Corinne", "Nadège", "Séverine", "Aïcha",
    "Awa", "Maëlle", "Gwenaëlle", "Soizic", "Myriam", "Leïla", "Jeanne", "Louise", "Alice",
)  # fmt: skip
MALE_FIRST_NAMES = (
    "Jean", "Pierre", "Philippe", "Nicolas", "Christophe", "Stéphane", "Laurent", "Sébastien",
    "Julien", "David", "Frédéric", "Olivier", "Thomas", "Alexandre", "Maxime", "Antoine",
    "Romain", "Guillaume", "Mathieu", "Kévin", "Jérôme", "Vincent", "Franck", "Patrick", "Éric",
    "Thierry", "Didier", "Bruno", "Marc", "Paul", "Lucas", "Hugo", "Louis", "Théo", "Karim",
    "Mehdi", "Yacine", "Mohamed", "Samir", "Rachid", "Youssef", "Ibrahim", "Moussa", "Mamadou",
    "Benoît", "Cédric", "Fabien", "Damien", "Florian", "Jonathan", "Arnaud", "Grégory",
    "Yannick", "Loïc", "Gaël", "Erwan", "Adrien", "Quentin", "Baptiste", "Clément", "Jean-Marc",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
    "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
    "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Jean", "Dupuy", "Guillot",
    "Hubert", "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Louis", "Deschamps",
    "Huet", "Vasseur", "Perez", "Boucher", "Fleury", "Royer", "Klein", "Jacquet", "Adam",
    "Poirier", "Marty", "Aubry", "Guyot", "Carré", "Charles", "Renault", "Charpentier",
    "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez",
    "Le Gall", "Collet", "Léger", "Bouvier", "Julien", "Prévost", "Millet", "Perrot", "Daniel",
    "Le Roux", "Cousin", "Germain", "Breton", "Besson", "Langlois", "Rémy", "Le Goff",
    "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber",
    "Mallet", "Hamon", "Boulanger", "Jacob", "Monnier", "Michaud", "Rodriguez", "Guichard",
    "Gillet", "Étienne", "Grondin", "Poulain", "Tessier", "Chevallier", "Collin", "Chauvin",
    "Da Silva", "Bouchet", "Gay", "Lemaître", "Bénard", "Maréchal", "Humbert", "Reynaud",
    "Antoine", "Hoarau", "Perret", "Barthélemy", "Cordier", "Pichon", "Lejeune", "Gilbert",
    "Lamy", "Delaunay", "Pasquier", "Carlier", "Laporte", "Benali", "Haddad", "Belkacem",
    "Nguyen", "Diallo", "Traoré", "Mendy", "Bouaziz", "Kaya", "Mansouri", "Cissé", "Ferreira",
)  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "place de la Mairie",
    "rue Pasteur", "avenue du Général de Gaulle", "rue Gambetta", "rue Voltaire",
    "allée des Tilleuls", "chemin des Vignes", "rue de la Gare", "rue du Moulin",
    "rue des Écoles", "place du Marché", "avenue de la Libération", "rue Émile Zola",
    "rue Jules Ferry", "boulevard Carnot", "rue de l'Église", "impasse des Lilas",
    "rue Jean Moulin", "avenue des Frères Lumière", "rue Aristide Briand", "quai de la Marne",
)  # fmt: skip
CHILDCARE_NAMES = (
    "Les Petits Pas", "Les Lucioles", "Les Moussaillons", "Les Coccinelles", "Pomme d'Api",
    "Les Frimousses", "Les Pitchouns", "L'Île aux enfants", "Les Oursons", "Les Farfadets",
    "Arc-en-ciel", "Les P'tits Loups", "La Ribambelle", "Les Bout'chou", "Les Galopins",
)  # fmt: skip
ASSOCIATION_PATTERNS = (
    "Association Solidarité Emploi {de}",
    "Secours populaire — comité {de}",
    "Restos du cœur — centre {de}",
    "Emmaüs {commune}",
    "Régie de quartier {de}",
    "Chantier d'insertion Les Jardins {de}",
    "Garage solidaire {de}",
    "Plateforme mobilité {de}",
    "Auto-école sociale {de}",
    "Épicerie sociale {de}",
    "Centre social {de}",
    "Accueil de jour {de}",
    "Association d'aide aux familles {de}",
    "Point conseil budget {de}",
    "Ressourcerie {de}",
)
PHONE_PREFIXES = ("01", "02", "03", "04", "05", "09")
DIRECTION_SERVICES = (
    "Direction de l'insertion et de l'emploi",
    "Direction de l'enfance et de la famille",
    "Direction de l'action sociale",
)
TERRITORIAL_SERVICES = (
    "Maison départementale des solidarités {de}",
    "Espace départemental des solidarités {de}",
    "Service territorial d'action sociale {de}",
)

K = OrganisationKind
# (kind, share of a département's organisations, minimum per département,
#  relative staff size: how many of the professionals work there)
ORGANISATION_MIX: tuple[tuple[str, float, int, float], ...] = (
    (K.FRANCE_TRAVAIL, 0.14, 1, 4.0),
    (K.DEPARTMENT, 0.08, 1, 6.0),
    (K.CAF, 0.025, 1, 3.0),
    (K.MSA, 0.015, 1, 1.5),
    (K.CCAS, 0.26, 1, 0.8),
    (K.MISSION_LOCALE, 0.07, 1, 1.5),
    (K.ASSOCIATION, 0.26, 0, 0.5),
    (K.CHILDCARE, 0.15, 1, 0.35),
)
PROFESSIONALS_PER_ORGANISATION = 7.5
SIRET_SHARE = 0.6  # organisations that filled in their SIRET
SECOND_MEMBERSHIP_SHARE = 0.04
INACTIVE_MEMBERSHIP_SHARE = 0.02

# (masculine, feminine) job titles by organisation kind, the most frequent first.
JOB_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    K.FRANCE_TRAVAIL: (
        ("Conseiller dédié accompagnement global", "Conseillère dédiée accompagnement global"),
        ("Conseiller emploi", "Conseillère emploi"),
        ("Conseiller entreprise", "Conseillère entreprise"),
        ("Psychologue du travail", "Psychologue du travail"),
    ),
    K.DEPARTMENT: (
        ("Travailleur social", "Travailleuse sociale"),
        ("Assistant de service social", "Assistante de service social"),
        ("Référent RSA", "Référente RSA"),
        (
            "Conseiller en économie sociale et familiale",
            "Conseillère en économie sociale et familiale",
        ),
        ("Chargé d'insertion", "Chargée d'insertion"),
    ),
    K.CAF: (
        ("Technicien conseil", "Technicienne conseil"),
        ("Travailleur social", "Travailleuse sociale"),
        ("Conseiller service à l'usager", "Conseillère service à l'usager"),
    ),
    K.MSA: (
        ("Travailleur social", "Travailleuse sociale"),
        ("Conseiller protection sociale", "Conseillère protection sociale"),
    ),
    K.CCAS: (
        ("Travailleur social", "Travailleuse sociale"),
        ("Agent d'accueil social", "Agente d'accueil social"),
        (
            "Conseiller en économie sociale et familiale",
            "Conseillère en économie sociale et familiale",
        ),
    ),
    K.MISSION_LOCALE: (
        ("Conseiller en insertion professionnelle", "Conseillère en insertion professionnelle"),
        ("Chargé de projet", "Chargée de projet"),
    ),
    K.ASSOCIATION: (
        ("Accompagnateur socioprofessionnel", "Accompagnatrice socioprofessionnelle"),
        ("Encadrant technique d'insertion", "Encadrante technique d'insertion"),
        ("Conseiller mobilité", "Conseillère mobilité"),
        ("Coordinateur", "Coordinatrice"),
    ),
    K.CHILDCARE: (
        ("Éducateur de jeunes enfants", "Éducatrice de jeunes enfants"),
        ("Assistant maternel", "Assistante maternelle"),
        ("Auxiliaire de puériculture", "Auxiliaire de puériculture"),
    ),
}
MANAGER_TITLES: dict[str, tuple[str, str]] = {
    K.FRANCE_TRAVAIL: ("Responsable d'équipe", "Responsable d'équipe"),
    K.DEPARTMENT: ("Responsable de service", "Responsable de service"),
    K.CCAS: ("Directeur du CCAS", "Directrice du CCAS"),
    K.CHILDCARE: ("Directeur de structure", "Directrice de structure"),
    K.MISSION_LOCALE: ("Directeur", "Directrice"),
    K.ASSOCIATION: ("Directeur", "Directrice"),
}


def of(name: str) -> str:
    """The French "de" before a place name: de Toulon, d'Évry, du Havre, des Mureaux."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if normalize(name[:1]) in {"a", "e", "i", "o", "u", "y", "h"}:
        return f"d'{name}"
    return f"de {name}"


def email_part(text: str) -> str:
    return normalize(text).replace(" ", "-")


def _phone(rng: random.Random, prefix: str) -> str:
    return " ".join([prefix, *(f"{rng.randint(0, 99):02d}" for _ in range(4))])


def make_siren(rng: random.Random) -> str:
    while True:
        body = f"{rng.randint(10_000_000, 99_999_999)}"
        if not body.startswith("356"):  # La Poste's SIRETs follow another rule
            return body + luhn.calc_check_digit(body)


def make_siret(rng: random.Random, siren: str) -> str:
    body = f"{siren}{rng.randint(1, 9999):04d}"
    siret = body + luhn.calc_check_digit(body)
    stdnum_siret.validate(siret)
    return siret


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` proportionally to ``weights`` (largest remainder): deterministic."""
    weight_sum = sum(weights)
    if not weights or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --- foundation steps ------------------------------------------------------------------


@dataclass(frozen=True)
class CommuneRef:
    insee_code: str
    name: str
    population: int


@dataclass
class DepartmentPlan:
    code: str
    name: str
    communes: list[CommuneRef]
    professionals: int = 0
    cum_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        running = 0.0
        for commune in self.communes:
            running += commune.population + 1
            self.cum_weights.append(running)

    @property
    def population(self) -> int:
        return sum(c.population for c in self.communes)

    def pick_commune(self, rng: random.Random) -> CommuneRef:
        """A commune drawn with a probability proportional to its population."""
        return rng.choices(self.communes, cum_weights=self.cum_weights)[0]

    def pick_distinct_communes(self, rng: random.Random, count: int) -> list[CommuneRef]:
        """``count`` communes, weighted by population, each once while there are enough."""
        keys = [
            (math.log(1.0 - rng.random()) / (c.population + 1), c.insee_code, c)
            for c in self.communes
        ]
        keys.sort(key=lambda item: (item[0], item[1]), reverse=True)
        chosen = [c for _key, _code, c in keys[:count]]
        while len(chosen) < count:
            chosen.append(self.pick_commune(rng))
        return chosen


@dataclass(frozen=True)
class GeneratedOrganisation:
    id: int
    name: str
    kind: str
    department_code: str
    commune_insee: str
    staff_weight: float


@dataclass(frozen=True)
class GeneratedUser:
    id: int
    email: str
    first_name: str
    last_name: str
    female: bool
    organisation: GeneratedOrganisation  # where they mainly work


@dataclass(frozen=True)
class GeneratedMembership:
    id: int
    user_id: int
    organisation_id: int
    role: str
    is_active: bool


def _reset_territory_roles(domain_suffix: str) -> dict[str, int]:
    deleted, _ = TerritoryRole.objects.filter(user__email__endswith=domain_suffix).delete()
    return {"rôles territoriaux supprimés": deleted}


def _reset_memberships(domain_suffix: str) -> dict[str, int]:
    deleted, _ = Membership.objects.filter(user__email__endswith=domain_suffix).delete()
    return {"appartenances supprimées": deleted}


def _reset_users(domain_suffix: str) -> dict[str, int]:
    # Follows every relation to users (TOTP devices, "invited by"…); the audit log is
    # not a constraint (DO_NOTHING) and keeps its lines.
    return {
        "utilisateurs supprimés": sql_delete(User.objects.filter(email__endswith=domain_suffix))
    }


def _reset_organisations(domain_suffix: str) -> dict[str, int]:
    deleted = sql_delete(Organisation.objects.filter(email__endswith=domain_suffix))
    return {"organisations supprimées": deleted}


@step("territoires")
def plan_territories(ctx: Context) -> dict[str, int]:
    """Read the départements and communes; share the professionals by population."""
    communes: dict[str, list[CommuneRef]] = defaultdict(list)
    queryset = Commune.objects.order_by("insee_code").values_list(
        "insee_code", "name", "population", "department_id"
    )
    if ctx.scale.department is not None:
        queryset = queryset.filter(department_id=ctx.scale.department)
    for insee_code, name, population, department_id in queryset:
        communes[department_id].append(CommuneRef(insee_code, name, population))
    departments = [
        DepartmentPlan(code=code, name=name, communes=communes[code])
        for code, name in Department.objects.filter(code__in=list(communes))
        .order_by("code")
        .values_list("code", "name")
    ]
    shares = allocate(ctx.scale.volume("professionals"), [d.population for d in departments])
    for department, share in zip(departments, shares, strict=True):
        department.professionals = share
    ctx.ids["departments"] = departments
    return {
        "départements": len(departments),
        "communes": sum(len(d.communes) for d in departments),
    }


def _organisation_counts(professionals: int) -> list[tuple[str, int, float]]:
    total = max(1, round(professionals / PROFESSIONALS_PER_ORGANISATION))
    return [
        (str(kind), max(minimum, round(share * total)), staff)
        for kind, share, minimum, staff in ORGANISATION_MIX
    ]


# Paris, Marseille and Lyon: their number of arrondissements.
ARRONDISSEMENTS = {"75056": 20, "13055": 16, "69123": 9}
QUARTERS = ("Centre", "Nord", "Sud", "Est", "Ouest", "Gare", "Les Hauts", "Rive gauche")


def _town_label(rng: random.Random, commune: CommuneRef, occurrence: int) -> str:
    """The commune's name, with an arrondissement or a quarter when it has several sites."""
    arrondissements = ARRONDISSEMENTS.get(commune.insee_code)
    if arrondissements:
        number = rng.randint(1, arrondissements)
        return f"{commune.name} {number}{'er' if number == 1 else 'e'}"
    if occurrence == 1:
        return commune.name
    return f"{commune.name} {QUARTERS[(occurrence - 2) % len(QUARTERS)]}"


def _organisation_names(
    ctx: Context, department: DepartmentPlan, kind: str, count: int
) -> list[tuple[str, CommuneRef]]:
    """Plausible names for ``count`` organisations of one kind in one département."""
    rng = ctx.rng
    dep = department.name
    if kind in {K.FRANCE_TRAVAIL, K.CCAS, K.MISSION_LOCALE}:
        places = department.pick_distinct_communes(rng, count)
    else:
        places = [department.pick_commune(rng) for _ in range(count)]
    names: list[tuple[str, CommuneRef]] = []
    occurrences: Counter[str] = Counter()
    for index, commune in enumerate(places):
        occurrences[commune.insee_code] += 1
        town = _town_label(rng, commune, occurrences[commune.insee_code])
        of_town = of(town)
        if kind == K.FRANCE_TRAVAIL:
            name = f"France Travail {town}"
        elif kind == K.DEPARTMENT:
            if index < len(DIRECTION_SERVICES) and index < max(1, count // 4):
                name = f"{DIRECTION_SERVICES[index]} — {dep}"
            else:
                name = rng.choice(TERRITORIAL_SERVICES).format(de=of_town)
        elif kind == K.CAF:
            name = f"CAF — {dep}" if index == 0 else f"CAF — {dep} — accueil {of_town}"
        elif kind == K.MSA:
            name = f"MSA — agence {of_town}"
        elif kind == K.CCAS:
            name = f"CIAS du pays {of_town}" if rng.random() < 0.12 else f"CCAS {of_town}"
        elif kind == K.MISSION_LOCALE:
            name = f"Mission locale {of_town}"
        elif kind == K.ASSOCIATION:
            name = rng.choice(ASSOCIATION_PATTERNS).format(de=of_town, commune=town)
        else:
            name = rng.choice(
                (
                    f"Crèche AVIP {rng.choice(CHILDCARE_NAMES)} — {town}",
                    f"Micro-crèche {rng.choice(CHILDCARE_NAMES)} — {town}",
                    f"Relais petite enfance {of_town}",
                    f"Assistantes maternelles labellisées AVIP — {town}",
                )
            )
        names.append((name, commune))
    return names


@step("organisations", models=(Organisation,), reset=_reset_organisations)
def generate_organisations(ctx: Context) -> dict[str, int]:
    rng, domain = ctx.rng, ctx.scale.domain
    departments: list[DepartmentPlan] = ctx.ids["departments"]
    planned: list[tuple[str, str, DepartmentPlan, CommuneRef, float]] = []
    seen: Counter[str] = Counter()
    for department in departments:
        if department.professionals == 0:
            continue
        for kind, count, staff in _organisation_counts(department.professionals):
            for index, (name, commune) in enumerate(
                _organisation_names(ctx, department, kind, count)
            ):
                seen[name] += 1
                if seen[name] > 1:
                    name = f"{name} ({seen[name]})"
                weight = staff * rng.lognormvariate(0, 0.5)
                if kind == K.DEPARTMENT and index == 0:
                    weight *= 3  # the direction in charge of insertion: the biggest team
                planned.append((name, kind, department, commune, weight))
    ids = ctx.reserve_ids(Organisation, len(planned))
    france_travail_siren = make_siren(rng)  # one SIREN, one SIRET per agency
    department_siren: dict[str, str] = {}
    sirets: set[str] = set()
    organisations: list[GeneratedOrganisation] = []
    rows: list[tuple[object, ...]] = []
    for pk, (name, kind, department, commune, weight) in zip(ids, planned, strict=True):
        siret = ""
        if rng.random() < SIRET_SHARE:
            if kind == K.FRANCE_TRAVAIL:
                siren = france_travail_siren
            elif kind == K.DEPARTMENT:
                if department.code not in department_siren:
                    department_siren[department.code] = make_siren(rng)
                siren = department_siren[department.code]
            else:
                siren = make_siren(rng)
            siret = make_siret(rng, siren)
            while siret in sirets:
                siret = make_siret(rng, siren)
            sirets.add(siret)
        created = ctx.past_datetime(max_days=4 * 365, min_days=30)
        rows.append(
            (
                pk,
                name,
                kind,
                siret,
                department.code,
                f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                commune.insee_code,
                f"contact.{len(rows) + 1}@{domain}",
                _phone(rng, rng.choice(PHONE_PREFIXES)),
                rng.random() > 0.01,
                created,
                created,
            )
        )
        organisations.append(
            GeneratedOrganisation(pk, name, kind, department.code, commune.insee_code, weight)
        )
    count = ctx.copy(
        Organisation,
        [
            "id",
            "name",
            "kind",
            "siret",
            "department",
            "address",
            "commune",
            "email",
            "phone",
            "is_active",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    ctx.ids["organisations"] = organisations
    return {"organisations": count, "avec SIRET": len(sirets)}


@step("utilisateurs", models=(User,), reset=_reset_users)
def generate_users(ctx: Context) -> dict[str, int]:
    """The professionals: each one works mainly in one organisation of their département."""
    rng, domain = ctx.rng, ctx.scale.domain
    by_department: dict[str, list[GeneratedOrganisation]] = defaultdict(list)
    for organisation in ctx.ids["organisations"]:
        by_department[organisation.department_code].append(organisation)
    workplaces: list[GeneratedOrganisation] = []
    for department in ctx.ids["departments"]:
        organisations = by_department[department.code]
        if not organisations:
            continue
        # One member each at least, the others shared by staff size.
        extra = allocate(
            max(0, department.professionals - len(organisations)),
            [o.staff_weight for o in organisations],
        )
        for organisation, more in zip(organisations, extra, strict=True):
            workplaces.extend([organisation] * (1 + more))
    ids = ctx.reserve_ids(User, len(workplaces))
    users: list[GeneratedUser] = []
    rows: list[tuple[object, ...]] = []
    for number, (pk, organisation) in enumerate(zip(ids, workplaces, strict=True), start=1):
        female = rng.random() < 0.72
        first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{email_part(first)}.{email_part(last)}.{number}@{domain}"
        phone = ""
        if rng.random() < 0.3:
            phone = _phone(rng, "06")
        rows.append(
            (
                pk,
                ctx.password_hash,
                False,
                email,
                first,
                last,
                phone,
                True,
                False,
                ctx.past_datetime(max_days=3 * 365, min_days=1),
            )
        )
        users.append(GeneratedUser(pk, email, first, last, female, organisation))
    count = ctx.copy(
        User,
        [
            "id",
            "password",
            "is_superuser",
            "email",
            "first_name",
            "last_name",
            "phone",
            "is_active",
            "is_staff",
            "date_joined",
        ],
        rows,
    )
    ctx.ids["users"] = users
    return {"professionnels": count}


@step("appartenances", models=(Membership,), reset=_reset_memberships)
def generate_memberships(ctx: Context) -> dict[str, int]:
    """Everyone in their organisation, a few admins per organisation, some in two."""
    rng = ctx.rng
    users: list[GeneratedUser] = ctx.ids["users"]
    members: dict[int, list[GeneratedUser]] = defaultdict(list)
    for user in users:
        members[user.organisation.id].append(user)
    admins: set[tuple[int, int]] = set()
    for organisation_id, staff in members.items():
        how_many = 1 if len(staff) <= 15 else 2 if len(staff) <= 60 else 3
        admins.update((user.id, organisation_id) for user in rng.sample(staff, how_many))
    by_department: dict[str, list[GeneratedOrganisation]] = defaultdict(list)
    for organisation in ctx.ids["organisations"]:
        by_department[organisation.department_code].append(organisation)
    planned: list[tuple[GeneratedUser, GeneratedOrganisation]] = [
        (u, u.organisation) for u in users
    ]
    for user in users:
        if rng.random() < SECOND_MEMBERSHIP_SHARE:
            others = [
                o
                for o in by_department[user.organisation.department_code]
                if o.id != user.organisation.id
            ]
            if others:
                planned.append((user, rng.choice(others)))
    ids = ctx.reserve_ids(Membership, len(planned))
    memberships: list[GeneratedMembership] = []
    rows: list[tuple[object, ...]] = []
    for pk, (user, organisation) in zip(ids, planned, strict=True):
        is_admin = (user.id, organisation.id) in admins
        role = str(Role.ADMIN if is_admin else Role.PROFESSIONAL)
        if is_admin and organisation.kind in MANAGER_TITLES:
            titles = MANAGER_TITLES[organisation.kind]
        else:
            choices = JOB_TITLES[organisation.kind]
            titles = rng.choices(choices, weights=[2**-i for i in range(len(choices))])[0]
        is_active = is_admin or rng.random() >= INACTIVE_MEMBERSHIP_SHARE
        created = ctx.past_datetime(max_days=3 * 365, min_days=1)
        deactivated = None if is_active else created + timedelta(days=rng.randint(30, 300))
        rows.append(
            (
                pk,
                user.id,
                organisation.id,
                role,
                titles[1] if user.female else titles[0],
                is_active,
                created,
                deactivated,
            )
        )
        memberships.append(GeneratedMembership(pk, user.id, organisation.id, role, is_active))
    count = ctx.copy(
        Membership,
        [
            "id",
            "user",
            "organisation",
            "role",
            "job_title",
            "is_active",
            "created_at",
            "deactivated_at",
        ],
        rows,
    )
    ctx.ids["memberships"] = memberships
    return {
        "appartenances": count,
        "administrateurs": len(admins),
        "dans deux organisations": count - len(users),
    }


TERRITORY_ROLE_PLAN: tuple[tuple[str, int, frozenset[str]], ...] = (
    (TerritoryRoleKind.TERRITORY_ADMIN, 2, frozenset({K.DEPARTMENT})),
    (TerritoryRoleKind.ORIENTATION_MANAGER, 2, frozenset({K.DEPARTMENT, K.FRANCE_TRAVAIL})),
    (TerritoryRoleKind.STEERING, 3, frozenset({K.DEPARTMENT, K.FRANCE_TRAVAIL, K.CAF})),
)


@step("rôles territoriaux", models=(TerritoryRole,), reset=_reset_territory_roles)
def generate_territory_roles(ctx: Context) -> dict[str, int]:
    """A few territory admins, orientation managers and steering officers per département."""
    rng = ctx.rng
    by_department: dict[str, list[GeneratedUser]] = defaultdict(list)
    for user in ctx.ids["users"]:
        by_department[user.organisation.department_code].append(user)
    planned: list[tuple[int, str, str]] = []
    for department in ctx.ids["departments"]:
        staff = by_department[department.code]
        taken: set[int] = set()
        for role, count, kinds in TERRITORY_ROLE_PLAN:
            candidates = [
                u for u in staff if u.organisation.kind in kinds and u.id not in taken
            ] or [u for u in staff if u.id not in taken]
            for user in rng.sample(candidates, min(count, len(candidates))):
                taken.add(user.id)
                planned.append((user.id, department.code, str(role)))
    ids = ctx.reserve_ids(TerritoryRole, len(planned))
    rows = [
        (pk, user_id, code, role, ctx.past_datetime(max_days=2 * 365, min_days=1))
        for pk, (user_id, code, role) in zip(ids, planned, strict=True)
    ]
    count = ctx.copy(TerritoryRole, ["id", "user", "department", "role", "created_at"], rows)
    ctx.ids["territory_roles"] = [
        (pk, user_id, code, role) for pk, (user_id, code, role) in zip(ids, planned, strict=True)
    ]
    return {"rôles territoriaux": count}
