from typing import Any

from django.core.management.base import BaseCommand

from binome.accounts.models import User
from binome.childcare.demo import load_demo_childcare
from binome.referrals.demo import load_demo_referrals
from binome.retention.demo import load_demo_retention
from binome.rsa.demo import load_demo_rsa
from binome.rsa.demo_imports import load_demo_rsa_imports
from binome.site.demo import (
    demo_organisations,
    load_demo,
    load_demo_directory,
    load_demo_quimper_file,
)
from binome.steering.demo import load_demo_fse
from binome.support.caseload import refresh as refresh_caseload
from binome.support.demo import load_demo_decisions


class Command(BaseCommand):
    help = (
        "Charge le territoire de démonstration (Var, Alpes-de-Haute-Provence, Essonne, Finistère)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="seulement si la base n'a encore aucun compte"
        )

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        if if_empty and User.objects.exists():
            return
        users = load_demo()
        services = load_demo_directory()
        load_demo_referrals(users, demo_organisations())
        load_demo_quimper_file()
        load_demo_decisions(users, demo_organisations())
        load_demo_childcare(users, demo_organisations())
        load_demo_rsa(users, demo_organisations())
        load_demo_rsa_imports(users)
        load_demo_retention(users, demo_organisations())
        load_demo_fse(users, demo_organisations())
        # The dashboards' monthly rollup, as the nightly job would have it.
        refresh_caseload()
        self.stdout.write(
            f"Territoire de démonstration chargé ({len(users)} personas, "
            f"{services} service{'s' if services > 1 else ''} ajouté{'s' if services > 1 else ''} "
            "à l'annuaire)."
        )
