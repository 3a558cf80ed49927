"""``binome directory import FILE [FILE…]`` and ``binome directory export …``.

import: prints the counts and each rejected row as « fichier:ligne champ : raison ».
Exit code 0 when every row was applied, 1 when rows were rejected (the others were
applied), 2 when a file could not be read (nothing was written).

export: ``--format datainclusion --kind services|structures [-o FILE]`` writes the JSON
list to FILE, or to the standard output; ``--format hsds [-o FILE]`` writes the whole
directory (organizations, locations, services, taxonomies…) as one HSDS 3.0 JSON document.
Every import leaves a line in the audit log (author: « ligne de commande »).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from binome.directory.exporter import write_datainclusion
from binome.directory.hsds import write_hsds
from binome.directory.importer import import_directory


class Command(BaseCommand):
    help = "Importer ou exporter l'annuaire (data·inclusion v1, HSDS 3.0)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser("import", help="importer des fichiers JSON ou CSV")
        importing.add_argument("files", nargs="+", metavar="FICHIER")
        exporting = actions.add_parser("export", help="exporter les structures ou les services")
        exporting.add_argument(
            "--format", choices=["datainclusion", "hsds"], default="datainclusion"
        )
        exporting.add_argument(
            "--kind",
            choices=["services", "structures"],
            help="data·inclusion : services ou structures (HSDS : un seul document)",
        )
        exporting.add_argument("-o", "--output", metavar="FICHIER")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options["files"])
        else:
            self._export(options["format"], options["kind"], options["output"])

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

    def _export(self, format: str, kind: str | None, output: str | None) -> None:
        if format == "datainclusion" and kind is None:
            raise CommandError("--kind services ou --kind structures est obligatoire.")

        def write(out: TextIO) -> str:
            if format == "hsds":
                counts = write_hsds(out)
                return ", ".join(f"{count} {table}" for table, count in counts.items())
            return f"{write_datainclusion(str(kind), out)} {kind}"

        if output is None:
            write(sys.stdout)
            sys.stdout.flush()
        else:
            with open(output, "w", encoding="utf-8") as out:
                summary = write(out)
            self.stderr.write(f"Exporté dans {output} : {summary}.")
