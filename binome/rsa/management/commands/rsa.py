"""``binome rsa import --departement 83 FILE [FILE…] [--mapping NAME]``: import CAF/MSA RSA
flows, or a département's spreadsheets (XLSX, ODS, CSV) read with the territory's saved mapping
of their columns.

Prints, per file, the counts and each rejected dossier as « dossier n° …(ligne …, élément …) :
raison ». Exit code 0 when every dossier was applied, 1 when dossiers were rejected (the
others were applied), 2 when a file was refused whole (nothing of it was written).
Every import leaves a line in the audit log (author: « import automatique »).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from binome.rsa.actions import import_flux
from binome.rsa.models import ImportStatus, SpreadsheetMapping
from binome.territories.models import Department


class Command(BaseCommand):
    help = "Importer les flux RSA de la CAF ou de la MSA."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser(
            "import", help="importer des flux XML bénéficiaires ou des tableurs du département"
        )
        importing.add_argument("--departement", required=True, metavar="CODE")
        importing.add_argument(
            "--mapping",
            metavar="NOM",
            help="la correspondance de colonnes enregistrée du territoire, pour les tableurs",
        )
        importing.add_argument("files", nargs="+", metavar="FICHIER")

    def handle(self, *args: Any, **options: Any) -> None:
        department = Department.objects.filter(code=options["departement"]).first()
        if department is None:
            raise CommandError(
                f"Le département « {options['departement']} » est inconnu.", returncode=2
            )
        mapping = None
        if options.get("mapping"):
            mapping = SpreadsheetMapping.objects.filter(
                department=department, name=options["mapping"]
            ).first()
            if mapping is None:
                known = ", ".join(
                    f"« {name} »"
                    for name in SpreadsheetMapping.objects.filter(
                        department=department
                    ).values_list("name", flat=True)
                )
                raise CommandError(
                    f"Aucune correspondance « {options['mapping']} » pour le "
                    f"{department.code} (enregistrées : {known or 'aucune'}).",
                    returncode=2,
                )
        refused = rejected = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                self.stderr.write(f"{name} : fichier introuvable.")
                refused += 1
                continue
            result = import_flux(path, department=department, by=None, mapping=mapping)
            if result.status == ImportStatus.REFUSED:
                self.stderr.write(f"{name} : refusé. {result.message}")
                refused += 1
                continue
            self.stdout.write(f"{name} : {result.message}.")
            self.stdout.write(f"  empreinte SHA-256 : {result.file_hash}")
            for line in result.rejections:
                self.stdout.write(f"  {line}")
            rejected += result.rejected
        if refused:
            raise CommandError(
                f"{refused} fichier(s) refusé(s) : rien n'en a été écrit.", returncode=2
            )
        if rejected:
            raise CommandError(
                f"{rejected} dossier(s) rejeté(s) ; les autres ont été importés.", returncode=1
            )
