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
from binome.directory.models import PublicationStatus, Service, Structure
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.support.demo import load_demo_ccas_file, load_demo_file
from binome.support.demo_plan import load_demo_plan
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
        "helene",
        "Hélène",
        "Marchand",
        "helene.marchand@caf91.test",
        "agent CAF de l'Essonne (critères AVIP des demandes de garde de l'Essonne)",
        (("caf91", Role.PROFESSIONAL, "Chargée d'accueil et d'instruction"),),
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
        "agnes",
        "Agnès",
        "Roussel",
        "agnes.roussel@var.test",
        "archiviste, déléguée à la protection des données du Département du Var : lit seule "
        "les dossiers de l'archive intermédiaire du Var, un motif à chaque consultation "
        "(double authentification)",
        (("dep83", Role.PROFESSIONAL, "Déléguée à la protection des données"),),
        (("83", TerritoryRoleKind.ARCHIVIST),),
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
    Persona(
        "gwenael",
        "Gwenaël",
        "Le Bihan",
        "gwenael.lebihan@francetravail.test",
        "conseiller dédié France Travail Quimper : reçoit les orientations du CCAS de Quimper",
        (("ft_quimper", Role.PROFESSIONAL, "Conseiller dédié"),),
    ),
]

# The functions the demo organisations' administrators declared, by the personas' job titles.
DECLARED_FUNCTIONS: dict[str, str] = {
    "Conseillère dédiée": MemberFunction.DEDICATED_COUNSELOR,
    "Conseiller dédié": MemberFunction.DEDICATED_COUNSELOR,
    "Conseiller": MemberFunction.FT_COUNSELOR,
    "Travailleur social": MemberFunction.SOCIAL_WORKER,
    "Travailleuse sociale": MemberFunction.SOCIAL_WORKER,
    "Chargé d'accueil et d'instruction": MemberFunction.CAF_AGENT,
    "Chargée d'accueil et d'instruction": MemberFunction.CAF_AGENT,
    "Directrice": MemberFunction.CHILDCARE,
    "Chargé de pilotage": MemberFunction.OTHER,
    "Administratrice du territoire": MemberFunction.OTHER,
    "Déléguée à la protection des données": MemberFunction.OTHER,
}

# The six accompagnateurs d'insertion of the Alpes-de-Haute-Provence.
ACCOMPAGNATEURS_04 = [
    ("Julie", "Arnaud"),
    ("Thomas", "Blanc"),
    ("Amina", "Cherif"),
    ("Louis", "Fabre"),
    ("Manon", "Garcia"),
    ("Hugo", "Roux"),
]


# A France Travail Quimper counselor (not a dedicated one): he submits the situation of a
# person the CCAS follows to his agency's dedicated counselor, Gwenaël.
QUIMPER_COUNSELOR = ("Yann", "Kerhervé", "yann.kerherve@francetravail.test")


def load_demo_quimper_file() -> None:
    """Loïc, followed by the CCAS de Quimper and by Yann at France Travail Quimper (the
    demo territory of ``binome demo``; the test personas alone do not have him)."""
    organisations = demo_organisations()
    sophie = User.objects.get(email="sophie.legall@ccas-quimper.test")
    yann = User.objects.get(email=QUIMPER_COUNSELOR[2])
    load_demo_ccas_file(sophie, yann, organisations)


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
            membership, _ = Membership.objects.get_or_create(
                user=user,
                organisation=organisations[org_key],
                defaults={"role": role, "job_title": job},
            )
            # What each persona does, as their organisation's administrator declared it.
            function = DECLARED_FUNCTIONS.get(job, "")
            if membership.function != function:
                membership.function = function
                membership.save(update_fields=["function"])
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
            defaults={
                "role": Role.PROFESSIONAL,
                "job_title": "Accompagnateur d'insertion",
                "function": MemberFunction.SOCIAL_WORKER,
            },
        )
    first, last, email = QUIMPER_COUNSELOR
    yann = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=settings.DEMO_PASSWORD, first_name=first, last_name=last
    )
    Membership.objects.get_or_create(
        user=yann,
        organisation=organisations["ft_quimper"],
        defaults={
            "role": Role.PROFESSIONAL,
            "job_title": "Conseiller",
            "function": MemberFunction.FT_COUNSELOR,
        },
    )
    nadia_file = load_demo_file(users, organisations)
    load_demo_plan(nadia_file, users, organisations)
    return users


def demo_organisations() -> dict[str, Organisation]:
    """The demo organisations by key (ft_toulon, dep83, ccas_quimper…), once loaded."""
    by_name = {
        o.name: o for o in Organisation.objects.filter(name__in=[o[1] for o in ORGANISATIONS])
    }
    return {key: by_name[name] for key, name, *_ in ORGANISATIONS}


# --- The demo directory -------------------------------------------------------------------
# Structures and services of the demo territories, in data·inclusion v1 terms. The crèches
# AVIP belong to the demo organisations (they edit them in "Nos services"); the others have
# no account in Binôme. ``load_demo_directory`` adds what is missing and changes nothing
# that exists (source "demo", keyed by source_id).

DEMO_SOURCE = "demo"

# key: (name, owner organisation key or "", commune INSEE, address, phone, e-mail, website,
#       opening hours, description)
DEMO_STRUCTURES: dict[str, tuple[str, str, str, str, str, str, str, str, str]] = {
    "petits-pas": (
        "Crèche AVIP Les Petits Pas",
        "creche_toulon",
        "83137",
        "12 rue Picot",
        "04 94 41 20 10",
        "contact@creche-toulon.test",
        "",
        "Mo-Fr 07:30-18:30",
        "Établissement d'accueil du jeune enfant de 40 berceaux, labellisé à vocation "
        "d'insertion professionnelle (AVIP).",
    ),
    "moussaillons": (
        "Crèche AVIP Les Moussaillons",
        "creche_la_seyne",
        "83126",
        "5 rue Clément Daniel",
        "04 94 06 31 52",
        "contact@creche-la-seyne.test",
        "",
        "Mo-Fr 07:30-18:00",
        "Multi-accueil municipal labellisé AVIP, quartier Berthe.",
    ),
    "mousses": (
        "Crèche AVIP Les Mousses",
        "creche_sanary",
        "83123",
        "18 avenue de l'Europe Unie",
        "04 94 88 14 70",
        "contact@creche-sanary.test",
        "",
        "Mo-Fr 08:00-18:30",
        "Crèche associative de 30 places, labellisée AVIP.",
    ),
    "lucioles": (
        "Crèche AVIP Les Lucioles",
        "creche_draguignan",
        "83050",
        "Chemin de Sainte-Barbe",
        "04 94 50 62 18",
        "contact@creche-draguignan.test",
        "",
        "Mo-Fr 07:30-18:30",
        "Multi-accueil labellisé AVIP de la dracénie.",
    ),
    "calins": (
        "Micro-crèche Les Câlins",
        "",
        "83069",
        "3 avenue Gambetta",
        "04 94 65 21 33",
        "bonjour@microcreche-calins.test",
        "",
        "Mo-Fr 08:00-19:00",
        "Micro-crèche privée de 12 places, accueil régulier et occasionnel.",
    ),
    "rpe-brignoles": (
        "Relais petite enfance de Brignoles",
        "",
        "83023",
        "Place Carami",
        "04 94 86 16 40",
        "rpe@brignoles-agglo.test",
        "",
        "Tu,Th 09:00-12:00,13:30-17:00",
        "Service public d'information sur les modes d'accueil du jeune enfant.",
    ),
    "ecole-sociale": (
        "Auto-école sociale Cap Permis",
        "",
        "83137",
        "47 boulevard de Strasbourg",
        "04 94 22 18 90",
        "accueil@cap-permis-toulon.test",
        "",
        "Mo-Fr 09:00-12:30,13:30-17:30",
        "Association d'insertion qui prépare au permis de conduire les personnes éloignées "
        "de l'emploi, avec une pédagogie adaptée.",
    ),
    "garage-solidaire": (
        "Garage solidaire Var Mobilité",
        "",
        "83062",
        "Zone d'activités des Plantades, 210 rue Marcel Paul",
        "04 94 14 77 02",
        "orientation@garage-solidaire-var.test",
        "",
        "Mo-Fr 08:30-12:00,13:30-17:30",
        "Garage associatif et chantier d'insertion : réparation à prix solidaire, location "
        "et vente de véhicules aux personnes en parcours d'insertion.",
    ),
    "fjt-toulon": (
        "Résidence habitat jeunes Toulon Centre",
        "",
        "83137",
        "22 rue Victor Clappier",
        "04 94 92 55 10",
        "accueil@habitat-jeunes-toulon.test",
        "",
        "Mo-Fr 09:00-18:00",
        "Foyer de jeunes travailleurs : 90 logements meublés pour les 18-30 ans.",
    ),
    "pcb-toulon": (
        "Point conseil budget du Var — Toulon",
        "",
        "83137",
        "Immeuble Le Méditerranée, 1 place de la Liberté",
        "04 94 18 60 30",
        "pcb-toulon@udaf-var.test",
        "",
        "Mo-Th 09:00-12:00,14:00-17:00",
        "Point conseil budget labellisé par l'État, porté par l'union départementale des "
        "associations familiales.",
    ),
    "pass-toulon": (
        "Permanence d'accès aux soins de santé — Hôpital Sainte-Musse",
        "",
        "83137",
        "54 rue Henri Sainte-Claire Deville",
        "04 94 14 50 00",
        "pass@ch-toulon.test",
        "",
        "Mo-Fr 08:30-16:30",
        "Consultations médicales et sociales pour les personnes sans couverture maladie ou "
        "avec des droits incomplets.",
    ),
    "pcb-quimper": (
        "Point conseil budget du Finistère — Quimper",
        "",
        "29232",
        "8 rue Frédéric Le Guyader",
        "02 98 64 00 15",
        "pcb-quimper@cresus-bretagne.test",
        "",
        "Mo,We,Fr 09:00-12:30",
        "Point conseil budget : accompagnement budgétaire et dossiers de surendettement.",
    ),
    "mobilite-quimper": (
        "Plateforme mobilité Cornouaille",
        "",
        "29232",
        "2 allée de Kernilis",
        "02 98 10 24 60",
        "contact@mobilite-cornouaille.test",
        "",
        "Mo-Fr 09:00-12:00,13:30-17:00",
        "Plateforme de mobilité pour l'emploi : diagnostic, location de scooters et de "
        "voitures, aide au permis.",
    ),
    "creche-evry": (
        "Crèche AVIP Les P'tits Loups d'Évry",
        "rpe_evry",
        "91228",
        "Rue du Bois Sauvage",
        "01 60 78 42 10",
        "contact@rpe-evry.test",
        "",
        "Mo-Fr 07:30-18:30",
        "Multi-accueil labellisé AVIP de l'agglomération Grand Paris Sud.",
    ),
    "epicerie-massy": (
        "Épicerie sociale et solidaire de Massy",
        "",
        "91377",
        "4 avenue Nationale",
        "01 69 20 13 44",
        "epicerie@massy-solidaire.test",
        "",
        "Tu,Th,Sa 09:30-12:30",
        "Épicerie solidaire : produits à 10 à 30 % de leur prix et ateliers budget.",
    ),
}


@dataclass(frozen=True)
class DemoService:
    key: str
    structure: str
    name: str
    description: str
    thematiques: tuple[str, ...]
    publics: tuple[str, ...] = ("tous-publics",)
    type: str = "accompagnement"
    fees: str = "gratuit"
    mobilisation_modes: tuple[str, ...] = ("telephoner",)
    mobilisable_by: tuple[str, ...] = ("professionnels",)
    mobilisation_details: str = ""
    access_conditions: str = ""
    eligibility_zone: tuple[str, ...] = ()  # the structure's département when empty
    reception_modes: tuple[str, ...] = ("en-presentiel",)
    age_days: int = 20  # updated_on = today - age_days


DEMO_SERVICES: list[DemoService] = [
    DemoService(
        "petits-pas-avip",
        "petits-pas",
        "Places en crèche AVIP pour parents en recherche d'emploi — Toulon",
        "Huit berceaux réservés aux enfants de 0 à 3 ans dont un parent est demandeur "
        "d'emploi, pour lui permettre de se rendre aux entretiens, de suivre une formation ou "
        "de reprendre un emploi. Accueil possible en moins de quinze jours.",
        ("famille--garde-denfants",),
        ("demandeurs-emploi", "familles"),
        mobilisation_details=(
            "La conseillère France Travail appelle la directrice (avant 10 h) avec la date "
            "souhaitée ; la CAF vérifie les critères AVIP."
        ),
        access_conditions=(
            "Parent demandeur d'emploi inscrit à France Travail ; enfant de moins de 3 ans."
        ),
        eligibility_zone=("83137", "83126", "83129", "83062", "83144"),
    ),
    DemoService(
        "moussaillons-avip",
        "moussaillons",
        "Places en crèche AVIP pour parents en insertion — La Seyne-sur-Mer",
        "Six places réservées aux enfants de parents en recherche d'emploi ou en formation, "
        "avec une période d'adaptation courte.",
        ("famille--garde-denfants",),
        ("demandeurs-emploi", "familles"),
        mobilisation_details=(
            "Demande par la conseillère France Travail, par téléphone ou courriel."
        ),
        eligibility_zone=("83126", "83129", "83123", "83137"),
        mobilisation_modes=("telephoner", "envoyer-un-courriel"),
    ),
    DemoService(
        "mousses-avip",
        "mousses",
        "Places en crèche AVIP pour parents en recherche d'emploi — Sanary-sur-Mer",
        "Quatre places AVIP pour les enfants de 10 semaines à 3 ans.",
        ("famille--garde-denfants",),
        ("demandeurs-emploi", "familles"),
        mobilisation_details="Appeler la crèche le matin ; réponse sous 48 heures.",
        eligibility_zone=("83",),
    ),
    DemoService(
        "lucioles-avip",
        "lucioles",
        "Places en crèche AVIP — Draguignan",
        "Cinq places réservées aux parents demandeurs d'emploi de la dracénie.",
        ("famille--garde-denfants",),
        ("demandeurs-emploi", "familles"),
        mobilisation_details="Appeler la directrice.",
    ),
    DemoService(
        "calins-occasionnel",
        "calins",
        "Accueil occasionnel en micro-crèche — Hyères",
        "Accueil à l'heure ou à la demi-journée des enfants de 3 mois à 3 ans, selon les "
        "places disponibles.",
        ("famille--garde-denfants",),
        ("familles",),
        fees="payant",
        mobilisable_by=("usagers", "professionnels"),
    ),
    DemoService(
        "rpe-brignoles-info",
        "rpe-brignoles",
        "Information sur les modes de garde — Brignoles",
        "Liste des assistantes maternelles disponibles, aide aux démarches d'embauche et au "
        "complément de libre choix du mode de garde.",
        ("famille--garde-denfants", "famille--soutien-a-la-parentalite-et-a-leducation"),
        ("familles",),
        type="information",
        mobilisable_by=("usagers", "professionnels"),
    ),
    DemoService(
        "aide-permis",
        "ecole-sociale",
        "Aide au permis de conduire — auto-école sociale",
        "Préparation au code et à la conduite à un tarif solidaire, en petits groupes, pour "
        "les personnes dont l'absence de permis bloque l'accès à l'emploi. Évaluation de "
        "départ, vingt heures de conduite au minimum, accompagnement à l'examen.",
        ("mobilite--preparer-un-permis", "mobilite--financer-ma-mobilite"),
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux", "jeunes"),
        type="formation",
        fees="payant",
        mobilisation_details=(
            "Fiche de prescription envoyée par le conseiller ou le travailleur social ; "
            "entretien d'entrée sous trois semaines. Reste à charge de 150 € à 300 € selon "
            "les ressources."
        ),
        mobilisation_modes=("envoyer-un-courriel", "telephoner"),
        access_conditions=(
            "Être accompagné par France Travail, le Département ou une mission locale."
        ),
    ),
    DemoService(
        "garage-location",
        "garage-solidaire",
        "Location de véhicules et garage solidaire",
        "Location de voitures et de scooters à 5 € par jour pour se rendre au travail ou en "
        "formation (jusqu'à trois mois), réparations facturées au prix des pièces.",
        (
            "mobilite--acceder-a-un-vehicule",
            "mobilite--entretenir-reparer-son-vehicule",
        ),
        ("demandeurs-emploi", "beneficiaires-des-minimas-sociaux"),
        type="aide-materielle",
        fees="payant",
        mobilisation_details=(
            "Orientation par courriel avec la fiche de liaison : la structure n'a pas de compte "
            "dans Binôme."
        ),
        mobilisation_modes=("envoyer-un-courriel",),
    ),
    DemoService(
        "fjt-logement",
        "fjt-toulon",
        "Logement temporaire pour jeunes en emploi ou en formation",
        "Studios meublés de 18 à 25 m², redevance couverte en partie par l'APL, "
        "accompagnement vers le logement autonome.",
        ("logement-hebergement--rechercher-une-solution-dhebergement-temporaire",),
        ("jeunes",),
        fees="payant",
        mobilisable_by=("usagers", "professionnels"),
        mobilisation_modes=("se-presenter", "telephoner"),
    ),
    DemoService(
        "pcb-toulon-budget",
        "pcb-toulon",
        "Point conseil budget : dettes, surendettement, budget",
        "Conseil gratuit et confidentiel pour faire le point sur son budget, négocier avec "
        "les créanciers et constituer un dossier de surendettement auprès de la Banque de "
        "France.",
        (
            "difficultes-financieres--situation-dendettement-surendettement",
            "difficultes-financieres--ameliorer-sa-gestion-budgetaire",
        ),
        mobilisable_by=("usagers", "professionnels"),
        mobilisation_modes=("telephoner", "se-presenter"),
        reception_modes=("en-presentiel", "a-distance"),
    ),
    DemoService(
        "pass-soins",
        "pass-toulon",
        "Accès aux soins sans couverture maladie",
        "Consultation médicale, délivrance de médicaments et ouverture des droits à la "
        "complémentaire santé solidaire avec l'assistante sociale de l'hôpital.",
        ("sante--acces-aux-soins",),
        mobilisable_by=("usagers", "professionnels"),
        mobilisation_modes=("se-presenter",),
        age_days=300,  # past its update frequency: shown "à vérifier"
    ),
    DemoService(
        "pcb-quimper-budget",
        "pcb-quimper",
        "Point conseil budget — Quimper",
        "Accompagnement budgétaire gratuit, prévention des impayés et aide au dossier de "
        "surendettement.",
        ("difficultes-financieres--situation-dendettement-surendettement",),
        mobilisable_by=("usagers", "professionnels"),
    ),
    DemoService(
        "mobilite-quimper-permis",
        "mobilite-quimper",
        "Aide au permis de conduire et location de scooters — Cornouaille",
        "Diagnostic mobilité, location de scooters à 2 € par jour, financement partiel du "
        "permis B pour les demandeurs d'emploi.",
        ("mobilite--preparer-un-permis", "mobilite--acceder-a-un-vehicule"),
        ("demandeurs-emploi",),
        mobilisation_modes=("envoyer-un-courriel",),
    ),
    DemoService(
        "creche-evry-avip",
        "creche-evry",
        "Places en crèche AVIP — Évry-Courcouronnes",
        "Places réservées aux enfants de parents demandeurs d'emploi, attribuées en moins de "
        "quinze jours.",
        ("famille--garde-denfants",),
        ("demandeurs-emploi", "familles"),
        mobilisation_details="La conseillère France Travail envoie la demande par courriel.",
        mobilisation_modes=("envoyer-un-courriel",),
    ),
    DemoService(
        "epicerie-massy-aide",
        "epicerie-massy",
        "Épicerie solidaire et ateliers budget — Massy",
        "Accès pour trois mois renouvelables sur orientation d'un travailleur social.",
        ("difficultes-financieres--ameliorer-sa-gestion-budgetaire",),
        type="aide-materielle",
        fees="payant",
        mobilisation_modes=("envoyer-un-courriel",),
    ),
]


@transaction.atomic
def load_demo_directory() -> int:
    """Add the demo directory's structures and services that are missing; returns how many
    services were added. Rows that exist (even edited since) are left as they are."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    insee = {s[2] for s in DEMO_STRUCTURES.values()}
    communes = {c.insee_code: c for c in Commune.objects.filter(insee_code__in=insee)}
    by_name = {o.name: o for o in Organisation.objects.all()}
    owners = {key: by_name.get(name) for key, name, *_ in ORGANISATIONS}
    structures: dict[str, Structure] = {}
    for key, (
        name,
        owner,
        code,
        address,
        phone,
        email,
        website,
        hours,
        description,
    ) in DEMO_STRUCTURES.items():
        commune = communes[code]
        structures[key], _ = Structure.objects.get_or_create(
            source=DEMO_SOURCE,
            source_id=key,
            defaults={
                "name": name,
                "owner": owners.get(owner) if owner else None,
                "description": description,
                "address": address,
                "postal_code": commune.postal_codes[0],
                "commune_name": commune.name,
                "commune": commune,
                "department_id": commune.department_id,
                "latitude": commune.latitude,
                "longitude": commune.longitude,
                "phone": phone,
                "email": email,
                "website": website,
                "opening_hours": hours,
                "updated_on": today - timedelta(days=20),
                "status": PublicationStatus.PUBLISHED,
            },
        )
    existing = set(Service.objects.filter(source=DEMO_SOURCE).values_list("source_id", flat=True))
    added = 0
    for demo in DEMO_SERVICES:
        if demo.key in existing:
            continue
        structure = structures[demo.structure]
        place = structure.commune
        assert place is not None
        Service.objects.create(
            source=DEMO_SOURCE,
            source_id=demo.key,
            structure=structure,
            owner=structure.owner,
            name=demo.name,
            description=demo.description,
            type=demo.type,
            thematiques=list(demo.thematiques),
            fees=demo.fees,
            publics=list(demo.publics),
            access_conditions=demo.access_conditions,
            phone=structure.phone,
            email=structure.email,
            address=structure.address,
            postal_code=structure.postal_code,
            commune_name=structure.commune_name,
            commune=place,
            department_id=place.department_id,
            latitude=place.latitude,
            longitude=place.longitude,
            reception_modes=list(demo.reception_modes),
            eligibility_zone=list(demo.eligibility_zone) or [place.department_id],
            mobilisation_modes=list(demo.mobilisation_modes),
            mobilisable_by=list(demo.mobilisable_by),
            mobilisation_details=demo.mobilisation_details,
            opening_hours=structure.opening_hours,
            updated_on=today - timedelta(days=demo.age_days),
            status=PublicationStatus.PUBLISHED,
        )
        added += 1
    return added
