"""The demo territory: the seed territories of the programme, with the personas as users.

Used by ``binome demo`` / ``make run`` and, as the named personas, by the test suite.
Idempotent: loading twice changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.accounts.models import User
from binome.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.territories.models import Commune, Department

K = OrganisationKind

# (key, name, kind, département, commune INSEE, address)
ORGANISATIONS: list[tuple[str, str, str, str, str, str]] = [
    # Var
    ("caf83", "CAF du Var", K.CAF, "83", "83137", "Rue Émile Ollivier"),
    (
        "ft_toulon",
        "France Travail Toulon",
        K.FRANCE_TRAVAIL,
        "83",
        "83137",
        "Avenue de Lattre de Tassigny",
    ),
    (
        "ft_la_seyne",
        "France Travail La Seyne-sur-Mer",
        K.FRANCE_TRAVAIL,
        "83",
        "83126",
        "Avenue Pierre Fraysse",
    ),
    (
        "ft_draguignan",
        "France Travail Draguignan",
        K.FRANCE_TRAVAIL,
        "83",
        "83050",
        "Boulevard Jean Jaurès",
    ),
    (
        "dep83",
        "Département du Var — Direction de l'insertion",
        K.DEPARTMENT,
        "83",
        "83137",
        "Rue Racine",
    ),
    ("ccas_toulon", "CCAS de Toulon", K.CCAS, "83", "83137", "Place Noël Blache"),
    (
        "creche_toulon",
        "Crèche AVIP Les Petits Pas — Toulon",
        K.CHILDCARE,
        "83",
        "83137",
        "Rue Picot",
    ),
    (
        "creche_sanary",
        "Crèche AVIP Les Mousses — Sanary-sur-Mer",
        K.CHILDCARE,
        "83",
        "83123",
        "Avenue de l'Europe Unie",
    ),
    (
        "creche_la_seyne",
        "Crèche AVIP Les Moussaillons — La Seyne-sur-Mer",
        K.CHILDCARE,
        "83",
        "83126",
        "Rue Clément Daniel",
    ),
    (
        "creche_draguignan",
        "Crèche AVIP Les Lucioles — Draguignan",
        K.CHILDCARE,
        "83",
        "83050",
        "Chemin de Sainte-Barbe",
    ),
    # Alpes-de-Haute-Provence
    (
        "dep04",
        "Département des Alpes-de-Haute-Provence — Pôle solidarité",
        K.DEPARTMENT,
        "04",
        "04070",
        "Rue Pasteur",
    ),
    (
        "ft_digne",
        "France Travail Digne-les-Bains",
        K.FRANCE_TRAVAIL,
        "04",
        "04070",
        "Avenue Demontzey",
    ),
    (
        "ft_manosque",
        "France Travail Manosque",
        K.FRANCE_TRAVAIL,
        "04",
        "04112",
        "Boulevard Martin Bret",
    ),
    # Essonne
    ("caf91", "CAF de l'Essonne", K.CAF, "91", "91228", "Boulevard François Mitterrand"),
    (
        "ft_evry",
        "France Travail Évry",
        K.FRANCE_TRAVAIL,
        "91",
        "91228",
        "Place des Terrasses de l'Agora",
    ),
    (
        "rpe_evry",
        "Relais petite enfance d'Évry-Courcouronnes",
        K.CHILDCARE,
        "91",
        "91228",
        "Rue du Bois Sauvage",
    ),
    (
        "am_evry",
        "Assistantes maternelles labellisées AVIP — Évry-Courcouronnes",
        K.CHILDCARE,
        "91",
        "91228",
        "",
    ),
    (
        "am_corbeil",
        "Assistantes maternelles labellisées AVIP — Corbeil-Essonnes",
        K.CHILDCARE,
        "91",
        "91174",
        "",
    ),
    # Finistère
    ("ccas_quimper", "CCAS de Quimper", K.CCAS, "29", "29232", "Rue de Kerguélen"),
    ("ft_quimper", "France Travail Quimper", K.FRANCE_TRAVAIL, "29", "29232", "Rue de Locronan"),
    (
        "dep29",
        "Département du Finistère — Direction de l'action sociale",
        K.DEPARTMENT,
        "29",
        "29232",
        "Rue Pierre Mendès France",
    ),
]


@dataclass(frozen=True)
class Persona:
    key: str
    first_name: str
    last_name: str
    email: str
    description: str
    memberships: tuple[tuple[str, str, str], ...] = ()  # (organisation key, role, job title)
    territory_roles: tuple[tuple[str, str], ...] = ()  # (département, role)
    totp: bool = False


PERSONAS: list[Persona] = [
    Persona(
        "ines",
        "Inès",
        "Benali",
        "ines.benali@francetravail.test",
        "conseillère dédiée France Travail, agence de Toulon (et de La Seyne-sur-Mer)",
        (
            ("ft_toulon", Role.PROFESSIONAL, "Conseillère dédiée"),
            ("ft_la_seyne", Role.PROFESSIONAL, "Conseillère dédiée"),
        ),
    ),
    Persona(
        "marc",
        "Marc",
        "Lefèvre",
        "marc.lefevre@var.test",
        "travailleur social, Département du Var",
        (("dep83", Role.PROFESSIONAL, "Travailleur social"),),
    ),
    Persona(
        "sophie",
        "Sophie",
        "Le Gall",
        "sophie.legall@ccas-quimper.test",
        "travailleuse sociale, CCAS de Quimper",
        (("ccas_quimper", Role.PROFESSIONAL, "Travailleuse sociale"),),
    ),
    Persona(
        "karim",
        "Karim",
        "Haddad",
        "karim.haddad@caf83.test",
        "agent CAF du Var (critères AVIP)",
        (("caf83", Role.PROFESSIONAL, "Chargé d'accueil et d'instruction"),),
    ),
    Persona(
        "lea",
        "Léa",
        "Martin",
        "lea.martin@creche-toulon.test",
        "directrice de la crèche AVIP Les Petits Pas (administratrice, double authentification)",
        (("creche_toulon", Role.ADMIN, "Directrice"),),
        totp=True,
    ),
    Persona(
        "paul",
        "Paul",
        "Giraud",
        "paul.giraud@var.test",
        "chargé de pilotage, Département du Var",
        (("dep83", Role.PROFESSIONAL, "Chargé de pilotage"),),
        (("83", TerritoryRoleKind.STEERING),),
    ),
    Persona(
        "claire",
        "Claire",
        "Dubois",
        "claire.dubois@var.test",
        "administratrice du territoire du Var (double authentification)",
        (("dep83", Role.ADMIN, "Administratrice du territoire"),),
        (("83", TerritoryRoleKind.TERRITORY_ADMIN), ("83", TerritoryRoleKind.ORIENTATION_MANAGER)),
        totp=True,
    ),
    Persona(
        "nadia",
        "Nadia",
        "Belkacem",
        "nadia.belkacem@exemple.test",
        "personne accompagnée (son espace personnel)",
    ),
    Persona(
        "charlie",
        "Charlie",
        "Durand",
        "charlie.durand@francetravail.test",
        "conseiller France Travail Évry (Essonne) : n'a accès à rien dans le Var",
        (("ft_evry", Role.PROFESSIONAL, "Conseiller"),),
    ),
]

# The six accompagnateurs d'insertion of the Alpes-de-Haute-Provence.
ACCOMPAGNATEURS_04 = [
    ("Julie", "Arnaud"),
    ("Thomas", "Blanc"),
    ("Amina", "Cherif"),
    ("Louis", "Fabre"),
    ("Manon", "Garcia"),
    ("Hugo", "Roux"),
]


def totp_key(email: str) -> str:
    """A stable TOTP key per demo persona, so the demo's authenticator entries keep working."""
    return hashlib.sha256(f"binome-demo-totp:{email}".encode()).hexdigest()[:40]


@transaction.atomic
def load_demo() -> dict[str, User]:
    departments = {d.code: d for d in Department.objects.filter(code__in=["83", "04", "91", "29"])}
    communes = {
        c.insee_code: c
        for c in Commune.objects.filter(insee_code__in={o[4] for o in ORGANISATIONS})
    }
    organisations: dict[str, Organisation] = {}
    for key, name, kind, dep, insee, address in ORGANISATIONS:
        organisations[key], _ = Organisation.objects.get_or_create(
            name=name,
            department=departments[dep],
            defaults={
                "kind": kind,
                "commune": communes[insee],
                "address": address,
                "email": f"contact@{key.replace('_', '-')}.test",
            },
        )
    users: dict[str, User] = {}
    for persona in PERSONAS:
        user = User.objects.filter(email=persona.email).first()
        if user is None:
            user = User.objects.create_user(
                email=persona.email,
                password=settings.DEMO_PASSWORD,
                first_name=persona.first_name,
                last_name=persona.last_name,
            )
        users[persona.key] = user
        for org_key, role, job in persona.memberships:
            Membership.objects.get_or_create(
                user=user,
                organisation=organisations[org_key],
                defaults={"role": role, "job_title": job},
            )
        for dep, role in persona.territory_roles:
            TerritoryRole.objects.get_or_create(user=user, department=departments[dep], role=role)
        if persona.totp:
            TOTPDevice.objects.get_or_create(
                user=user,
                name="Application d'authentification",
                defaults={"key": totp_key(persona.email), "confirmed": True},
            )
    for first, last in ACCOMPAGNATEURS_04:
        email = f"{first.lower()}.{last.lower()}@dep04.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=settings.DEMO_PASSWORD, first_name=first, last_name=last
        )
        Membership.objects.get_or_create(
            user=user,
            organisation=organisations["dep04"],
            defaults={"role": Role.PROFESSIONAL, "job_title": "Accompagnateur d'insertion"},
        )
    from binome.support.demo import load_demo_file

    nadia_file = load_demo_file(users, organisations)
    from binome.support.demo_plan import load_demo_plan

    load_demo_plan(nadia_file, users, organisations)
    return users
