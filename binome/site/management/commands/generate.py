from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from binome.core.generation import (
    DEFAULT_DEPARTMENT,
    DEFAULT_SEED,
    GENERATED_DOMAIN,
    GENERATED_PASSWORD,
    SCALES,
    GenerationError,
    number,
    scale_config,
)
from binome.site.generate import generate


class Command(BaseCommand):
    help = (
        "Génère des données synthétiques déterministes pour les mesures de performance : "
        "professionnels, organisations, appartenances et rôles territoriaux, chargés par COPY "
        "en une transaction. --scale national : environ 50 000 professionnels dans tous les "
        "départements ; --scale departement : environ 2 000 dans un département "
        f"(--department, {DEFAULT_DEPARTMENT} par défaut). Même graine, mêmes données. Les "
        "comptes générés ont une adresse en "
        f"@<échelle>[-d<département>]-s<graine>.{GENERATED_DOMAIN} (national-s42, "
        f"departement-d83-s42) et tous le mot de passe « {GENERATED_PASSWORD} ». Sans "
        "--reset, une génération déjà présente pour la même échelle et la même graine n'est "
        "pas refaite."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=list(SCALES),
            metavar="{departement,national}",
            required=True,
            help="volume à générer",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"graine du générateur (défaut {DEFAULT_SEED})",
        )
        parser.add_argument(
            "--department",
            help=f"code du département pour --scale departement (défaut {DEFAULT_DEPARTMENT})",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="supprimer d'abord toutes les données générées auparavant",
        )
        # For the tests: any number of professionals (the data set gets its own tag).
        parser.add_argument("--professionals", type=int, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = scale_config(
                options["scale"],
                seed=options["seed"],
                department=options["department"],
                professionals=options["professionals"],
            )
            report = generate(config, reset=options["reset"], log=self.stdout.write)
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        if report.skipped:
            self.stdout.write(
                f"Les données générées « {config.tag} » sont déjà présentes "
                f"({number(report.existing[config.tag])} professionnels) : rien à faire. "
                "Relancez avec --reset pour les recréer."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Terminé en {report.total_seconds:.1f} s. Comptes en @{config.domain}, "
                f"mot de passe « {GENERATED_PASSWORD} »."
            )
        )
