"""The generator's ground: steps, their context and the helpers they share.

Deterministic synthetic data at national volumes, for benchmarks (``binome generate``).
The generator is a list of **steps** run in order inside one transaction. Each step
receives a :class:`Context`: the database connection, its own ``random.Random`` (seeded
from the seed *and* the step's name, so adding a step never changes what the earlier
ones produce), the scale (:class:`ScaleConfig`) and ``ctx.ids``, what earlier steps
produced. Rows are loaded with PostgreSQL ``COPY`` (``ctx.copy``), never one ORM save
per row, with primary keys reserved from the table's sequence (``ctx.reserve_ids``) so a
step knows the ids it wrote without reading them back.

An app adds its own steps in a ``generate.py`` module of its package, importing only this
module and the floors below its own; the top floor (``binome.site.generate``) lists the
modules in the order their steps run and runs them::

    from binome.core.generation import Context, step

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

``ctx.ids`` after the foundation steps (``binome.site.generate``):

- ``departments``: list of :class:`DepartmentPlan` (communes, population, professionals)
- ``organisations``: list of :class:`GeneratedOrganisation`
- ``users``: list of :class:`GeneratedUser` (the professionals)
- ``memberships``: list of :class:`GeneratedMembership`
- ``territory_roles``: list of ``(id, user_id, department_code, role)``
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet, deletion
from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

from binome.core.text import normalize

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
        "childcare_providers": 1_200,
        "childcare_requests": 100_000,  # two years of 50,000
        # The country's persons bound by the RSA's rights and duties: a local scale keeps
        # its département's share (binome.rsa.generate).
        "rsa_persons": 2_000_000,
    },
    "departement": {
        "professionals": 2_000,
        "structures": 1_600,
        "services": 2_400,
        "persons": 50_000,
        "accompaniments": 60_000,
        "referrals": 130_000,
        "childcare_providers": 60,
        "childcare_requests": 5_000,
        "rsa_persons": 2_000_000,
    },
    "tiny": {
        "professionals": 40,
        "structures": 30,
        "services": 45,
        "persons": 60,
        "accompaniments": 72,
        "referrals": 90,
        "childcare_providers": 8,
        "childcare_requests": 40,
        "rsa_persons": 0,  # the RSA step's test sets its own (the others count persons)
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
    module: str  # where it is declared: ``binome.site.generate`` orders the modules
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
        STEPS.append(
            Step(
                name=name,
                run=func,
                module=func.__module__,
                models=tuple(models),
                reset=reset,
            )
        )
        return func

    return register


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


def number(value: int) -> str:
    """12345 → "12 345" (French thousands separator, a narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f")


def format_counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{number(value)} {label}" for label, value in counts.items())


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

PHONE_PREFIXES = ("01", "02", "03", "04", "05", "09")


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
