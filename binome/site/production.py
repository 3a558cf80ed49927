"""What production must not run without: `binome serve` refuses to start while one is missing.

The development conveniences (DEBUG, a known SECRET_KEY, person keys derived from it,
plain-HTTP cookies) keep `make run` easy; in production each one is a hole.
"""

from __future__ import annotations

from django.conf import settings

from binome.people.crypto import derived_key

MIN_SECRET_KEY_LENGTH = 50


def production_problems() -> list[str]:
    """The settings that make these settings unfit for production, each with its fix, in
    French (empty when production may start)."""
    problems = []
    if settings.DEBUG:
        problems.append(
            "DEBUG est activé : définissez DEBUG=false (en mode DEBUG, une erreur affiche le code "
            "et la configuration du service)."
        )
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        problems.append(
            "SECRET_KEY est la clé de développement, connue de tous : définissez une clé propre "
            f"à cette installation ({MIN_SECRET_KEY_LENGTH} caractères aléatoires au moins)."
        )
    elif len(settings.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY est trop courte : {MIN_SECRET_KEY_LENGTH} caractères aléatoires au moins."
        )
    for name, purpose in (
        ("PERSON_MATCHING_KEY", "matching"),
        ("PERSON_ENCRYPTION_KEY", "encryption"),
    ):
        if getattr(settings, name) == derived_key(settings.SECRET_KEY, purpose):
            problems.append(
                f"{name} manque (la clé est alors déduite de SECRET_KEY) : définissez-la, "
                "elle protège le NIR des personnes."
            )
    if not (settings.SECURE_SSL_REDIRECT or settings.SECURE_PROXY_SSL_HEADER):
        problems.append(
            "HTTPS n'est pas configuré : définissez SECURE_SSL_REDIRECT=true, ou placez Binôme "
            "derrière un proxy HTTPS qui transmet l'en-tête X-Forwarded-Proto "
            "(SECURE_PROXY_SSL_HEADER, réglé quand SECURE_COOKIES=true)."
        )
    if not (settings.SECURE_HSTS_SECONDS and settings.SECURE_HSTS_INCLUDE_SUBDOMAINS):
        problems.append(
            "HSTS n'est pas activé avec includeSubDomains (SECURE_HSTS_SECONDS, "
            "SECURE_HSTS_INCLUDE_SUBDOMAINS) : ne désactivez pas SECURE_COOKIES."
        )
    if not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        problems.append(
            "Les cookies de session et CSRF ne sont pas réservés à HTTPS "
            "(SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE) : ne désactivez pas SECURE_COOKIES."
        )
    return problems
