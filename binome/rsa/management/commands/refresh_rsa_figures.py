"""``binome manage refresh_rsa_figures``: rebuild the RSA figures' monthly rollup now, as the
nightly job does (after an upgrade, or to see a change to a past month without waiting)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from binome.rsa.rollup import refresh, tidy


class Command(BaseCommand):
    help = "Recalcule les chiffres RSA par département et par mois (le calcul de chaque nuit)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = refresh()
        tidy()
        self.stdout.write(f"Chiffres RSA par mois recalculés : {written} ligne(s).")
