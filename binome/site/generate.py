"""The generator's runs (``binome generate``) and its foundation steps: the territories'
plan, organisations, professionals, memberships and territory roles.

Each app's steps stay in its own ``generate`` module (see ``binome.core.generation``);
``STEP_MODULES`` lists them in the order they run, the foundation first.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from datetime import timedelta
from importlib import import_module

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from binome.accounts.models import User
from binome.core.generation import (
    FEMALE_FIRST_NAMES,
    GENERATED_DOMAIN,
    GENERATED_PASSWORD,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    PHONE_PREFIXES,
    STEPS,
    STREETS,
    CommuneRef,
    Context,
    DepartmentPlan,
    GeneratedMembership,
    GeneratedOrganisation,
    GeneratedUser,
    GenerationError,
    Logger,
    Report,
    ScaleConfig,
    Step,
    StepReport,
    _phone,
    allocate,
    email_part,
    format_counts,
    make_siren,
    make_siret,
    number,
    of,
    sql_delete,
    step,
)
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.support import caseload
from binome.territories.models import Commune, Department

# The modules whose steps the generator runs, in this order: a step reads what the earlier
# ones wrote in ``ctx.ids``. A new app adds its ``generate`` module here.
STEP_MODULES = (
    "binome.site.generate",
    "binome.directory.generate",
    "binome.people.generate",
    "binome.support.generate",
    "binome.referrals.generate",
    "binome.rsa.generate",
    "binome.childcare.generate",
)


def registered_steps() -> list[Step]:
    """The steps of ``STEP_MODULES``, in their order (then in each module's order)."""
    for module in STEP_MODULES:
        import_module(module)
    rank = {module: index for index, module in enumerate(STEP_MODULES)}
    unlisted = sorted({item.module for item in STEPS} - rank.keys())
    if unlisted:
        raise GenerationError(f"Étapes de génération hors de STEP_MODULES : {', '.join(unlisted)}.")
    # A module imported earlier (by a test, a script) registered its steps earlier: the
    # order of the list, not of the imports, decides.
    return sorted(STEPS, key=lambda item: rank[item.module])


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
                # A sub-domain (the childminders' accounts: ``assmat.<tag>``) is its tag's.
                tag = domain.removesuffix(f".{GENERATED_DOMAIN}").rsplit(".", 1)[-1]
                found[tag] += count if table == User._meta.db_table else 0
    return dict(found)


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
    # The steering dashboards' monthly rollup, as the nightly job would leave it.
    t0 = time.perf_counter()
    rows = caseload.refresh()
    caseload.tidy()
    log(f"  {'ROLLUP':<18} {time.perf_counter() - t0:7.2f} s   {number(rows)} mois de file active")
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
# The function each job title's organisation declares (what the member sees of files).
F = MemberFunction
FUNCTION_OF_TITLE: dict[str, str] = {
    "Conseiller dédié accompagnement global": F.DEDICATED_COUNSELOR,
    "Conseiller emploi": F.FT_COUNSELOR,
    "Conseiller entreprise": F.FT_COUNSELOR,
    "Travailleur social": F.SOCIAL_WORKER,
    "Assistant de service social": F.SOCIAL_WORKER,
    "Référent RSA": F.SOCIAL_WORKER,
    "Conseiller en économie sociale et familiale": F.SOCIAL_WORKER,
    "Chargé d'insertion": F.SOCIAL_WORKER,
    "Technicien conseil": F.CAF_AGENT,
    "Conseiller service à l'usager": F.CAF_AGENT,
    "Conseiller protection sociale": F.CAF_AGENT,
    "Agent d'accueil social": F.ADMINISTRATIVE,
    "Conseiller en insertion professionnelle": F.SOCIAL_WORKER,
    "Accompagnateur socioprofessionnel": F.SOCIAL_WORKER,
    "Éducateur de jeunes enfants": F.CHILDCARE,
    "Assistant maternel": F.CHILDCARE,
    "Auxiliaire de puériculture": F.CHILDCARE,
}
MANAGER_TITLES: dict[str, tuple[str, str]] = {
    K.FRANCE_TRAVAIL: ("Responsable d'équipe", "Responsable d'équipe"),
    K.DEPARTMENT: ("Responsable de service", "Responsable de service"),
    K.CCAS: ("Directeur du CCAS", "Directrice du CCAS"),
    K.CHILDCARE: ("Directeur de structure", "Directrice de structure"),
    K.MISSION_LOCALE: ("Directeur", "Directrice"),
    K.ASSOCIATION: ("Directeur", "Directrice"),
}


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
    for rank, (pk, organisation) in enumerate(zip(ids, workplaces, strict=True), start=1):
        female = rng.random() < 0.72
        first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{email_part(first)}.{email_part(last)}.{rank}@{domain}"
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
                FUNCTION_OF_TITLE.get(titles[0], F.OTHER),
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
            "function",
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
