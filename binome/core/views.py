from __future__ import annotations

import sys

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from binome.core import privacy as privacy_sections


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html", {"title": "Déclaration d'accessibilité"})


@require_GET
def legal(request: HttpRequest) -> HttpResponse:
    return render(request, "core/legal.html", {"title": "Mentions légales"})


def duration_in_words(months: int) -> str:
    """« deux ans », « un an », « 18 mois »: a duration of the settings as the page says it."""
    years = {12: "un an", 24: "deux ans", 36: "trois ans"}
    return years.get(months, f"{months} mois")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy page: what the code does, its durations read from the settings."""
    return render(
        request,
        "core/privacy.html",
        {
            "title": "Données personnelles",
            "file_retention": duration_in_words(settings.BINOME_RETENTION_MONTHS),
            "notice_days": settings.BINOME_RETENTION_NOTICE_DAYS,
            "audit_retention": duration_in_words(settings.BINOME_AUDIT_RETENTION_MONTHS),
            # The apps' own paragraphs (a territory's intermediate archive).
            "sections": privacy_sections.sections(),
        },
    )


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"title": "Page introuvable"}, status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"title": "Accès refusé"}, status=403)


# Seconds a client is asked to wait before trying again while the database is unreachable.
RETRY_AFTER = 30


def database_unreachable(exception: BaseException | None) -> bool:
    """The exception is the database being out of reach (stopped, restarting, the
    connection cut), not an error of the request: the connection it came from no longer
    answers. Django closes such a connection at the end of the request and opens a new
    one for the next (``CONN_HEALTH_CHECKS``): the service recovers by itself."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return False
    connection = connections[DEFAULT_DB_ALIAS]
    return connection.connection is None or not connection.is_usable()


def error_503(request: HttpRequest | None = None) -> HttpResponse:
    """« Service momentanément indisponible », rendered without the database."""
    response = HttpResponse(render_to_string("503.html", {"retry_after": RETRY_AFTER}), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def error_500(request: HttpRequest) -> HttpResponse:
    # Called while the crash is being handled: the exception is the current one.
    if database_unreachable(sys.exc_info()[1]):
        return error_503(request)
    # No request context: the page must render even when the database is unreachable.
    return HttpResponse(render_to_string("500.html"), status=500)
