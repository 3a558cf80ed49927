"""``binome manage rsa_demo_flows``: write again the demo's CAF flows of the Var
(``binome/rsa/demo/``), from the households of ``binome/rsa/demo.py``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from binome.rsa.demo import write_demo_flows


class Command(BaseCommand):
    help = "Écrire les flux RSA de démonstration du Var."

    def handle(self, *args: Any, **options: Any) -> None:
        for path in write_demo_flows():
            self.stdout.write(f"{path.name} écrit.")
