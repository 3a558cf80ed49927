"""``binome manage refresh_caseload``: rebuild the steering's monthly caseload now, as the
nightly job does (after an upgrade, or to see a change dated back without waiting)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from binome.support.caseload import refresh, tidy


class Command(BaseCommand):
    help = "Recalcule la file active par département et par mois (le calcul de chaque nuit)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = refresh()
        tidy()
        self.stdout.write(f"File active par mois recalculée : {written} ligne(s).")
