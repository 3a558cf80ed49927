"""``binome directory import FILE [FILE…]`` and ``binome directory export …``.

import: prints the counts and each rejected row as « fichier:ligne champ : raison ».
Exit code 0 when every row was applied, 1 when rows were rejected (the others were
applied), 2 when a file could not be read (nothing was written).

export: ``--format datainclusion --kind services|structures [-o FILE]`` writes the JSON
list to FILE, or to the standard output.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from binome.directory.exporter import write_datainclusion
from binome.directory.importer import import_directory


class Command(BaseCommand):
    help = "Importer ou exporter l'annuaire au format data·inclusion v1."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser("import", help="importer des fichiers JSON ou CSV")
        importing.add_argument("files", nargs="+", metavar="FICHIER")
        exporting = actions.add_parser("export", help="exporter les structures ou les services")
        exporting.add_argument("--format", choices=["datainclusion"], default="datainclusion")
        exporting.add_argument("--kind", choices=["services", "structures"], required=True)
        exporting.add_argument("-o", "--output", metavar="FICHIER")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options["files"])
        else:
            self._export(options["kind"], options["output"])

    def _import(self, files: list[str]) -> None:
        report = import_directory(files)
        for line in report.lines():
            self.stdout.write(line)
        if report.file_errors:
            raise CommandError("aucune donnée importée.", returncode=2)
        if report.rejected_rows:
            raise CommandError(
                f"{report.rejected_rows} ligne(s) rejetée(s) ; les autres ont été importées.",
                returncode=1,
            )

    def _export(self, kind: str, output: str | None) -> None:
        if output is None:
            count = write_datainclusion(kind, sys.stdout)
            sys.stdout.flush()
        else:
            with open(output, "w", encoding="utf-8") as out:
                count = write_datainclusion(kind, out)
            self.stderr.write(f"{count} {kind} exporté(e)s dans {output}.")
