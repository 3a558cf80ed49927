"""The RSA imports of the demo territory, loaded by ``binome demo``. Idempotent: what exists
is left as is.

The Var's département sends its own monthly spreadsheet of RSA beneficiaries: the mapping of
its columns is saved for the Var (« Tableau mensuel du Département »), and a sample of it
(``data/tableur-demo-var.csv``: four households, one row with a date of 31/02) waits « à
vérifier » on Claire's import page, to be previewed and imported.
"""

from __future__ import annotations

from pathlib import Path

from binome.accounts.models import User
from binome.rsa.imports import store_spreadsheet
from binome.rsa.models import FlowImport, SpreadsheetMapping
from binome.territories.models import Department

SAMPLE = Path(__file__).resolve().parent / "data" / "tableur-demo-var.csv"
MAPPING_NAME = "Tableau mensuel du Département"
MAPPING = {
    "number": "N° dossier CAF",
    "role": "Qualité",
    "last_name": "Nom d'usage",
    "birth_name": "Nom de naissance",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "nir": "NIR",
    "sex": "Sexe",
    "subject": "Droits et devoirs",
    "phone": "Téléphone",
    "address": "Commune",
}


def load_demo_rsa_imports(users: dict[str, User]) -> None:
    """The Var's saved mapping and the sample spreadsheet waiting on Claire's page."""
    var = Department.objects.get(code="83")
    mapping, _created = SpreadsheetMapping.objects.get_or_create(
        department=var,
        name=MAPPING_NAME,
        defaults={"columns": MAPPING, "updated_by": users.get("claire")},
    )
    if FlowImport.objects.filter(department=var, file_name=SAMPLE.name).exists():
        return
    store_spreadsheet(
        department=var,
        file_name=SAMPLE.name,
        content=SAMPLE.read_bytes(),
        by=users["claire"],
        mapping=mapping,
    )
