"""``binome rsa import --departement 83 FILE [FILE…]``: import CAF/MSA RSA flows.

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
from binome.rsa.models import ImportStatus
from binome.territories.models import Department


class Command(BaseCommand):
    help = "Importer les flux RSA de la CAF ou de la MSA."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser("import", help="importer des flux XML bénéficiaires")
        importing.add_argument("--departement", required=True, metavar="CODE")
        importing.add_argument("files", nargs="+", metavar="FICHIER")

    def handle(self, *args: Any, **options: Any) -> None:
        department = Department.objects.filter(code=options["departement"]).first()
        if department is None:
            raise CommandError(
                f"Le département « {options['departement']} » est inconnu.", returncode=2
            )
        refused = rejected = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                self.stderr.write(f"{name} : fichier introuvable.")
                refused += 1
                continue
            result = import_flux(path, department=department, by=None)
            if result.status == ImportStatus.REFUSED:
                self.stderr.write(f"{name} : refusé. {result.message}")
                refused += 1
                continue
            self.stdout.write(f"{name} : {result.message}.")
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
