"""What the API answers, as pydantic models: they make the OpenAPI document.

The service and structure fields are the data·inclusion v1 models' own (types, enums,
French descriptions: ``data-inclusion-schema``, never a hand copy), except ``id``: in the
API it is Binôme's identifier (the one of ``/services/{id}``); the schema's ``id`` (the
identifier at the source) is ``id_source``.

The endpoints build plain dicts (``binome.api.output``) and do not re-validate them on
each request; ``tests/api`` checks real answers against these models.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from data_inclusion.schema import v1
from ninja import Schema
from pydantic import BaseModel, Field, create_model

# Fields the data·inclusion package leaves without a description.
_DESCRIPTIONS = {
    "adresse": "Adresse (numéro et voie).",
    "complement_adresse": "Complément d'adresse.",
    "code_postal": "Code postal.",
    "commune": "Nom de la commune.",
    "code_insee": "Code INSEE de la commune.",
    "latitude": "Latitude (WGS84).",
    "longitude": "Longitude (WGS84).",
    "modes_accueil": "Modes d'accueil : en présentiel, à distance.",
    "contact_nom_prenom": "Nom et prénom du contact.",
    "site_web": "Site web de la structure.",
}


def _datainclusion_fields(model: type[BaseModel], *, drop: set[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in drop:
            continue
        description = info.description or _DESCRIPTIONS.get(name)
        annotation = info.annotation
        if name == "id":
            fields["id_source"] = (annotation, Field(description=description))
            continue
        fields[name] = (annotation, Field(description=description))
    return fields


class StructureRef(Schema):
    id: int = Field(description="Identifiant de la structure dans Binôme (/structures/{id}).")
    id_source: str = Field(description="Identifiant de la structure à la source.")
    nom: str = Field(description="Nom de la structure.")


ServiceOut = create_model(
    "Service",
    __base__=Schema,
    id=(int, Field(description="Identifiant du service dans Binôme (/services/{id}).")),
    **_datainclusion_fields(v1.Service, drop={"structure_id"}),
    structure=(StructureRef, Field(description="La structure qui porte le service.")),
    distance_km=(
        float | None,
        Field(
            description=(
                "Distance en kilomètres entre le centre de la commune recherchée et le "
                "service ; absente sans commune ou pour un service sans coordonnées."
            )
        ),
    ),
    a_verifier=(
        bool,
        Field(
            description=(
                "Vrai quand la fiche a passé sa fréquence de mise à jour : ses informations "
                "sont à vérifier auprès de la structure avant d'orienter une personne."
            )
        ),
    ),
    date_verification=(
        date,
        Field(description="Date à partir de laquelle la fiche est à vérifier (AAAA-MM-JJ)."),
    ),
    lien_binome=(str, Field(description="La fiche du service dans Binôme (connexion requise).")),
)

StructureOut = create_model(
    "Structure",
    __base__=Schema,
    id=(int, Field(description="Identifiant de la structure dans Binôme (/structures/{id}).")),
    **_datainclusion_fields(v1.Structure, drop=set()),
)


class Page(Schema):
    total: int = Field(description="Nombre total de résultats, toutes pages confondues.")
    page: int = Field(description="Numéro de cette page (à partir de 1).")
    taille: int = Field(description="Nombre de résultats par page demandé.")
    nombre_pages: int = Field(description="Nombre de pages (au moins 1).")
    page_suivante: str | None = Field(
        description="Adresse complète de la page suivante, absente sur la dernière."
    )
    page_precedente: str | None = Field(
        description="Adresse complète de la page précédente, absente sur la première."
    )


class ServicePage(Page):
    resultats: list[ServiceOut] = Field(  # type: ignore[valid-type]
        description="Les services de la page, les plus pertinents d'abord."
    )


class StructurePage(Page):
    resultats: list[StructureOut] = Field(  # type: ignore[valid-type]
        description="Les structures de la page, par nom."
    )


class ErrorDetail(Schema):
    parametre: str = Field(description="Le paramètre en cause (ou « requête »).")
    message: str = Field(description="Ce qui ne va pas, en français.")


class ErrorBody(Schema):
    code: str = Field(
        description=(
            "Code stable de l'erreur : parametre_invalide, jeton_absent, jeton_invalide, "
            "jeton_revoque, organisation_inactive, introuvable, methode_non_autorisee, "
            "trop_de_requetes, erreur_interne."
        )
    )
    message: str = Field(description="Message en français, à montrer à une personne.")
    details: list[ErrorDetail] = Field(description="Le détail par paramètre, s'il y a lieu.")


class ErrorOut(Schema):
    erreur: ErrorBody
