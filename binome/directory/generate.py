"""Generator step: the directory's structures and services (``binome generate``).

Structures are spread over the départements by population, and inside a département
over its communes by population (a commune centre, a few hundred metres of jitter).
Each structure has a kind ("Crèche", "Auto-école sociale", "CCAS"…) that decides the
catégories of its one to three services; names and descriptions are made from the
thématique's French label. About 5 % of the services are remote, eligibility zones
vary (none, the commune, the département, "france", a few communes), about 15 % are
past their update frequency ("à vérifier"), 3 % are not published. Rows are loaded by
COPY; the search columns are filled by the database trigger of migration 0002.

Generated rows have the source ``binome-generate``: the reset deletes exactly them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Field, Model

from binome.core.generation import (
    REFERENCE_TIME,
    Context,
    DepartmentPlan,
    _phone,
    allocate,
    email_part,
    make_siren,
    make_siret,
    sql_delete,
    step,
)
from binome.directory import referentials as ref
from binome.directory.models import PublicationStatus, Service, Structure
from binome.territories.models import Commune

SOURCE = "binome-generate"
REFERENCE_DATE: date = REFERENCE_TIME.date()
LABELS = dict(ref.THEMATIQUES)

# Kind of structure → (name patterns, its catégories, relative frequency).
# "{commune}" is the commune's name, "{nom}" a proper name.
KINDS: tuple[tuple[tuple[str, ...], tuple[str, ...], int], ...] = (
    (("CCAS de {commune}", "CIAS de {commune}"),
     ("difficultes-financieres", "difficultes-administratives-ou-juridiques",
      "logement-hebergement"), 10),
    (("Crèche {nom}", "Crèche AVIP {nom}", "Multi-accueil {nom}", "Micro-crèche {nom}"),
     ("famille",), 10),
    (("Auto-école sociale {commune}", "Plateforme mobilité {commune}", "Garage solidaire {nom}"),
     ("mobilite",), 7),
    (("Mission locale de {commune}", "Maison de l'emploi de {commune}"),
     ("trouver-un-emploi", "choisir-un-metier", "preparer-sa-candidature"), 8),
    (("Épicerie solidaire {nom}", "Restos du cœur de {commune}", "Secours populaire {commune}"),
     ("equipement-et-alimentation", "difficultes-financieres"), 9),
    (("Espace France Services de {commune}", "Point numérique {commune}"),
     ("numerique", "difficultes-administratives-ou-juridiques"), 8),
    (("Centre social {nom}", "Maison de quartier {nom}"),
     ("famille", "numerique", "lecture-ecriture-calcul", "remobilisation"), 9),
    (("Point conseil budget {commune}", "UDAF de {commune}"),
     ("difficultes-financieres",), 4),
    (("Centre de santé {nom}", "Maison de santé de {commune}", "CMP de {commune}"),
     ("sante",), 6),
    (("Organisme de formation {nom}", "GRETA de {commune}", "École de la deuxième chance"),
     ("se-former", "lecture-ecriture-calcul"), 7),
    (("Boutique de gestion {commune}", "Couveuse d'entreprises {nom}"),
     ("creer-une-entreprise",), 3),
    (("CHRS {nom}", "Résidence sociale {nom}", "Agence immobilière sociale {commune}"),
     ("logement-hebergement",), 6),
    (("Chantier d'insertion {nom}", "Association intermédiaire {nom}",
      "Entreprise d'insertion {nom}"),
     ("trouver-un-emploi", "remobilisation", "se-former"), 8),
    (("Association {nom}",),
     ("souvrir-a-linternational", "remobilisation", "famille", "numerique"), 5),
)  # fmt: skip
PROPER_NAMES = (
    "Les Petits Pas", "Les Lucioles", "Arc-en-ciel", "Le Phare", "L'Escale", "Horizon",
    "La Passerelle", "Les Colibris", "Le Tremplin", "Les Oliviers", "La Clé", "Émergence",
    "Solidarité", "L'Envol", "Les Cigales", "Cap Avenir", "Le Relais", "Entraide",
    "Les Mimosas", "Pierre-Brossolette", "Jean-Moulin", "Louise-Michel", "Simone-Veil",
    "Les Tilleuls", "La Source", "Renaissance", "Trait d'union", "Le Lien", "Archipel",
)  # fmt: skip
# Service names by sub-thématique: a few hand-written, the others from the label.
SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "famille--garde-denfants": (
        "Places en crèche AVIP pour parents en recherche d'emploi",
        "Garde d'enfants en horaires atypiques",
        "Accueil d'urgence d'enfants pour un entretien d'embauche",
    ),
    "mobilite--preparer-un-permis": (
        "Aide au permis de conduire",
        "Préparation au code de la route",
        "Permis B accompagné pour personnes en insertion",
    ),
    "mobilite--acceder-a-un-vehicule": (
        "Location solidaire de voitures et de scooters",
        "Prêt de vélos électriques",
    ),
    "equipement-et-alimentation--alimentation": (
        "Épicerie sociale et solidaire",
        "Distribution de colis alimentaires",
    ),
    "logement-hebergement--mal-loges-sans-logis": ("Hébergement d'urgence",),
    "difficultes-financieres--situation-dendettement-surendettement": (
        "Accompagnement au dossier de surendettement",
        "Conseil budgétaire",
    ),
    "numerique--realiser-des-demarches-administratives-avec-un-accompagnement": (
        "Aide aux démarches en ligne",
    ),
}
PREFIXES = ("Accompagnement", "Atelier", "Permanence", "Aide", "Soutien", "Information")
PUBLIC_WEIGHTS = (
    ("tous-publics", 30), ("demandeurs-emploi", 12), ("beneficiaires-des-minimas-sociaux", 10),
    ("jeunes", 10), ("familles", 8), ("femmes", 5), ("seniors", 4),
    ("personnes-en-situation-de-handicap", 5), ("residents-qpv-frr", 4),
    ("personnes-exilees", 3), ("personnes-en-situation-durgence", 3),
)  # fmt: skip
OPENING_HOURS = (
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Mo-Fr 08:30-12:30,13:30-17:30; Sa 09:00-12:00",
    "Mo,Tu,Th,Fr 09:00-12:00,14:00-16:30; We 09:00-12:00",
    "Mo-Fr 07:30-18:30",
    "Tu,Th 14:00-17:00",
    "",
)
SENTENCES = (
    "Un conseiller vous reçoit sur rendez-vous et étudie votre situation.",
    "Accompagnement individuel et ateliers collectifs.",
    "Orientation possible par un travailleur social ou un conseiller France Travail.",
    "Les démarches se font avec la personne, à son rythme.",
    "Service gratuit, sans condition de ressources.",
    "Une réponse sous huit jours après l'orientation.",
)
MOBILISATION = (
    "Appeler le secrétariat le matin en précisant « accompagnement global ».",
    "Envoyer la fiche de liaison par courriel au référent de la structure.",
    "La personne peut se présenter aux heures de permanence avec une pièce d'identité.",
    "Orientation par le conseiller : remplir le formulaire en ligne.",
)

_THEMATIQUES_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    code: ref.thematiques_of_category(code) for code, _label in ref.CATEGORIES
}


def _reset(_domain_suffix: str) -> dict[str, int]:
    services = sql_delete(Service.objects.filter(source=SOURCE))
    structures = sql_delete(Structure.objects.filter(source=SOURCE))
    return {"services": services, "structures": structures}


class _Rows:
    """Rows for COPY with every concrete column PostgreSQL does not write itself (search
    columns, generated columns): the ones not given take their default."""

    def __init__(self, model: type[Model]) -> None:
        self.fields: list[Field[Any, Any]] = [
            f
            for f in model._meta.concrete_fields
            if f.name not in {"search_vector", "search_name", "match_vector"} and not f.generated
        ]
        self.names = [f.name for f in self.fields]
        self.defaults = {f.name: None if f.null else f.get_default() for f in self.fields}

    def row(self, values: Mapping[str, object]) -> tuple[object, ...]:
        return tuple(values.get(name, self.defaults[name]) for name in self.names)


def _weighted_publics(rng: random.Random) -> list[str]:
    codes = [code for code, _w in PUBLIC_WEIGHTS]
    weights = [w for _code, w in PUBLIC_WEIGHTS]
    chosen = rng.choices(codes, weights=weights, k=rng.randint(1, 3))
    return list(dict.fromkeys(chosen))


def _service_name(rng: random.Random, thematique: str) -> str:
    names = SERVICE_NAMES.get(thematique)
    if names and rng.random() < 0.8:
        return rng.choice(names)
    label = LABELS[thematique]
    return f"{rng.choice(PREFIXES)} : {label[0].lower()}{label[1:]}"


def _structure_name(rng: random.Random, patterns: Sequence[str], commune_name: str) -> str:
    return rng.choice(patterns).format(commune=commune_name, nom=rng.choice(PROPER_NAMES))


@step("annuaire", models=(Structure, Service), reset=_reset)
def generate_directory(ctx: Context) -> dict[str, int]:
    rng, domain = ctx.rng, ctx.scale.domain
    departments: list[DepartmentPlan] = ctx.ids["departments"]
    n_structures = ctx.scale.volume("structures")
    n_services = ctx.scale.volume("services")
    coordinates = {
        code: (lat, lon, name, postal_codes)
        for code, lat, lon, name, postal_codes in Commune.objects.filter(
            department__in=[d.code for d in departments]
        ).values_list("insee_code", "latitude", "longitude", "name", "postal_codes")
    }
    per_department = allocate(n_structures, [d.population + 1 for d in departments])
    kind_weights = [weight for _p, _c, weight in KINDS]

    structure_ids = ctx.reserve_ids(Structure, n_structures)
    # Services per structure: one each, the rest shared out, at most three more.
    extra = [0] * n_structures
    for _ in range(max(0, n_services - n_structures)):
        extra[rng.randrange(n_structures)] += 1
    structures = _Rows(Structure)
    structure_rows: list[tuple[object, ...]] = []
    planned: list[tuple[int, str, tuple[str, ...], str, float, float, int]] = []
    ids = iter(structure_ids)
    number = 0
    for department, count in zip(departments, per_department, strict=True):
        for _ in range(count):
            pk = next(ids)
            commune = department.pick_commune(rng)
            lat, lon, commune_name, postal_codes = coordinates[commune.insee_code]
            lat += rng.uniform(-0.01, 0.01)
            lon += rng.uniform(-0.01, 0.01)
            patterns, categories, _weight = rng.choices(KINDS, weights=kind_weights)[0]
            name = _structure_name(rng, patterns, commune_name)[:150]
            updated = REFERENCE_DATE - timedelta(days=rng.randint(0, 400))
            created = REFERENCE_TIME - timedelta(days=rng.randint(400, 1500))
            siret = make_siret(rng, make_siren(rng)) if rng.random() < 0.5 else ""
            structure_rows.append(
                structures.row(
                    {
                        "id": pk,
                        "source": SOURCE,
                        "source_id": f"{ctx.scale.tag}-s{pk}",
                        "updated_on": updated,
                        "status": PublicationStatus.PUBLISHED.value,
                        "created_at": created,
                        "updated_at": created,
                        "address": f"{rng.randint(1, 120)} rue {rng.choice(PROPER_NAMES)}",
                        "postal_code": postal_codes[0] if postal_codes else "",
                        "commune_name": commune_name,
                        "commune": commune.insee_code,
                        "department": department.code,
                        "latitude": lat,
                        "longitude": lon,
                        "name": name,
                        "description": f"{name} accueille les habitants de {commune_name}.",
                        "siret": siret,
                        "phone": _phone(rng, "04"),
                        "email": f"contact.{email_part(name)[:40]}.{pk}@{domain}",
                        "opening_hours": rng.choice(OPENING_HOURS),
                    }
                )
            )
            planned.append(
                (pk, department.code, categories, commune.insee_code, lat, lon, 1 + extra[number])
            )
            number += 1
    count = ctx.copy(Structure, structures.names, structure_rows)

    service_ids = iter(ctx.reserve_ids(Service, sum(p[6] for p in planned)))
    services = _Rows(Service)
    department_communes = {d.code: d for d in departments}
    remote = stale = 0

    def service_rows() -> Any:
        nonlocal remote, stale
        for structure_id, dep_code, categories, insee, lat, lon, how_many in planned:
            for _ in range(how_many):
                pk = next(service_ids)
                category = rng.choice(categories)
                main = rng.choice(_THEMATIQUES_BY_CATEGORY[category])
                thematiques = list(
                    dict.fromkeys(
                        [main, *rng.sample(_THEMATIQUES_BY_CATEGORY[category], k=1)]
                        if rng.random() < 0.4
                        else [main]
                    )
                )
                name = _service_name(rng, main)[:150]
                if rng.random() < 0.05:
                    modes = (
                        ["a-distance"] if rng.random() < 0.5 else ["a-distance", "en-presentiel"]
                    )
                    remote += 1
                else:
                    modes = ["en-presentiel"]
                draw = rng.random()
                if draw < 0.55:
                    zone: list[str] = []
                elif draw < 0.8:
                    zone = [dep_code]
                elif draw < 0.9:
                    zone = [insee]
                elif draw < 0.95:
                    zone = ["france"]
                else:
                    plan = department_communes[dep_code]
                    zone = [c.insee_code for c in plan.pick_distinct_communes(rng, 4)]
                if rng.random() < 0.15:
                    updated = REFERENCE_DATE - timedelta(days=rng.randint(190, 900))
                    stale += 1
                else:
                    updated = REFERENCE_DATE - timedelta(days=rng.randint(0, 170))
                created = REFERENCE_TIME - timedelta(days=rng.randint(200, 1500))
                label = LABELS[main]
                description = " ".join(
                    [
                        f"{name}. {label} pour les personnes accompagnées du territoire.",
                        *rng.sample(SENTENCES, k=rng.randint(1, 3)),
                    ]
                )
                yield services.row(
                    {
                        "id": pk,
                        "structure": structure_id,
                        "source": SOURCE,
                        "source_id": f"{ctx.scale.tag}-v{pk}",
                        "updated_on": updated,
                        "status": (
                            PublicationStatus.PUBLISHED.value
                            if rng.random() > 0.03
                            else PublicationStatus.DRAFT.value
                        ),
                        "created_at": created,
                        "updated_at": created,
                        "commune": insee,
                        "department": dep_code,
                        "latitude": lat,
                        "longitude": lon,
                        "name": name,
                        "description": description,
                        "type": rng.choice(ref.TYPES)[0],
                        "thematiques": thematiques,
                        "fees": "gratuit" if rng.random() < 0.85 else "payant",
                        "publics": _weighted_publics(rng),
                        "phone": _phone(rng, "04") if rng.random() < 0.8 else "",
                        "email": f"service.{pk}@{domain}" if rng.random() < 0.6 else "",
                        "reception_modes": modes,
                        "eligibility_zone": zone,
                        "mobilisation_modes": rng.sample(
                            [code for code, _l in ref.MODES_MOBILISATION], k=rng.randint(1, 2)
                        ),
                        "mobilisation_details": (
                            rng.choice(MOBILISATION) if rng.random() < 0.7 else ""
                        ),
                        "opening_hours": rng.choice(OPENING_HOURS),
                    }
                )

    service_count = ctx.copy(Service, services.names, service_rows())
    return {
        "structures": count,
        "services": service_count,
        "à distance": remote,
        "à vérifier": stale,
    }
