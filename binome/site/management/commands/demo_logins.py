import base64
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from binome.site.demo import PERSONAS, QUIMPER_COUNSELOR, totp_key


class Command(BaseCommand):
    help = "Affiche les comptes de démonstration."

    def handle(self, *args: Any, **options: Any) -> None:
        out = self.stdout.write
        out(f"\nComptes de démonstration (mot de passe commun : {settings.DEMO_PASSWORD})\n")
        for p in PERSONAS:
            out(f"  {p.first_name:<8} {p.email:<38} {p.description}")
        first, _, email = QUIMPER_COUNSELOR
        out(
            f"  {first:<8} {email:<38} conseiller France Travail Quimper : soumet au conseiller "
            "dédié la situation de Loïc, suivi par le CCAS"
        )
        out("\nDouble authentification (Léa, Claire) : ajoutez la clé dans une application TOTP,")
        out("ou affichez le code du moment avec « binome manage demo_totp EMAIL ».")
        for p in PERSONAS:
            if p.totp:
                secret = base64.b32encode(bytes.fromhex(totp_key(p.email))).decode()
                out(f"  {p.first_name:<8} clé TOTP : {secret}")
        out("")
