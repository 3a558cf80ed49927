"""Generator step: the persons of the shared files (``binome generate``).

Persons are spread over the départements by population, and inside a département over
its communes by population. Each is given, for the next step (``binome.support``), the
professionals of their binôme: a France Travail counselor and a social worker of the
département (département, CCAS, CAF, MSA or association), never a steering officer. The
file is held by the counselor's organisation. France Travail ids and CAF numbers are
generated, and a NIR for ``NIR_SHARE`` of the persons (valid: sex, year and month of birth,
the commune of residence standing for the place of birth, an order number, the key),
stored as the application stores it: its keyed hash and its Fernet encryption.

Generated persons are those held by a generated organisation: the reset deletes them
(and, by cascade, everything of their files).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from binome.core.generation import (
    FEMALE_FIRST_NAMES,
    LAST_NAMES,
    MALE_FIRST_NAMES,
    REFERENCE_TIME,
    STREETS,
    Context,
    GeneratedUser,
    allocate,
    sql_delete,
    step,
)
from binome.core.text import normalize
from binome.organisations.models import OrganisationKind, TerritoryRoleKind
from binome.people import crypto
from binome.people.models import Person

K = OrganisationKind
SOCIAL_KINDS = {K.DEPARTMENT, K.CCAS, K.CAF, K.MSA, K.ASSOCIATION}
REFERENCE_DATE: date = REFERENCE_TIME.date()
NIR_SHARE = 0.4  # persons whose NIR is known (RSA files from the CAF/MSA carry it)


def generated_nir(*, female: bool, birth_date: date, insee_code: str, order: int) -> str:
    """A valid NIR (13 digits and the 2-digit key): Corsica's 2A/2B count as 19/18."""
    body = f"{2 if female else 1}{birth_date:%y%m}{insee_code}{order:03d}"
    number = int(body.replace("2A", "19").replace("2B", "18"))
    return f"{body}{97 - number % 97:02d}"


@dataclass(frozen=True)
class GeneratedPerson:
    id: int
    department_code: str
    counselor: GeneratedUser
    social_worker: GeneratedUser


def _delete_generated_persons(domain_suffix: str) -> dict[str, int]:
    deleted = sql_delete(Person.objects.filter(organisation__email__endswith=domain_suffix))
    return {"personnes supprimées": deleted}


@step("personnes", models=(Person,), reset=_delete_generated_persons)
def generate_persons(ctx: Context) -> dict[str, int]:
    rng = ctx.rng
    steering = {
        user_id
        for _, user_id, _, role in ctx.ids["territory_roles"]
        if role == TerritoryRoleKind.STEERING
    }
    counselors: dict[str, list[GeneratedUser]] = defaultdict(list)
    social: dict[str, list[GeneratedUser]] = defaultdict(list)
    for user in ctx.ids["users"]:
        if user.id in steering:
            continue
        organisation = user.organisation
        if organisation.kind == K.FRANCE_TRAVAIL:
            counselors[organisation.department_code].append(user)
        elif organisation.kind in SOCIAL_KINDS:
            social[organisation.department_code].append(user)
    departments = [d for d in ctx.ids["departments"] if counselors[d.code] and social[d.code]]
    shares = allocate(ctx.scale.volume("persons"), [d.population + 1 for d in departments])
    ids = ctx.reserve_ids(Person, sum(shares))
    persons: list[GeneratedPerson] = []
    rows: list[tuple[object, ...]] = []
    next_id = iter(ids)
    fernet = crypto.fernet()  # one instance: its key is parsed once
    for department, share in zip(departments, shares, strict=True):
        dep_counselors, dep_social = counselors[department.code], social[department.code]
        for _ in range(share):
            pk = next(next_id)
            female = rng.random() < 0.58
            first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            birth_name = rng.choice(LAST_NAMES) if female and rng.random() < 0.3 else ""
            counselor, social_worker = rng.choice(dep_counselors), rng.choice(dep_social)
            commune = department.pick_commune(rng)
            contact = (
                REFERENCE_DATE - timedelta(days=rng.randint(0, 90)) if rng.random() < 0.9 else None
            )
            birth_date = REFERENCE_DATE - timedelta(days=rng.randint(18 * 365, 64 * 365))
            nir_hash = nir_encrypted = ""
            if rng.random() < NIR_SHARE:
                nir = generated_nir(
                    female=female,
                    birth_date=birth_date,
                    insee_code=commune.insee_code,
                    order=rng.randint(1, 999),
                )
                nir_hash = crypto.identifier_hash(nir)
                nir_encrypted = fernet.encrypt(nir.encode()).decode()
            rows.append(
                (
                    pk,
                    department.code,
                    counselor.organisation.id,
                    first,
                    last,
                    birth_name,
                    birth_date,
                    "F" if female else "M",
                    f"06{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.8 else "",
                    "",
                    f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    commune.insee_code,
                    f"{rng.randint(0, 9_999_999):07d}{chr(65 + rng.randint(0, 25))}",
                    f"{rng.randint(0, 9_999_999):07d}" if rng.random() < 0.7 else "",
                    nir_hash,
                    nir_encrypted,
                    normalize(f"{first} {last} {birth_name}"),
                    contact,
                    ctx.past_datetime(max_days=700, min_days=1),
                )
            )
            persons.append(GeneratedPerson(pk, department.code, counselor, social_worker))
    count = ctx.copy(
        Person,
        [
            "id",
            "department",
            "organisation",
            "first_name",
            "last_name",
            "birth_name",
            "birth_date",
            "sex",
            "phone",
            "email",
            "address",
            "commune",
            "france_travail_id",
            "caf_number",
            "nir_hash",
            "nir_encrypted",
            "search_name",
            "last_contact_on",
            "created_at",
        ],
        rows,
    )
    ctx.ids["persons"] = persons
    return {"personnes": count}
