from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html", {"title": "Déclaration d'accessibilité"})


@require_GET
def legal(request: HttpRequest) -> HttpResponse:
    return render(request, "core/legal.html", {"title": "Mentions légales"})


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html", {"title": "Données personnelles"})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"title": "Page introuvable"}, status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"title": "Accès refusé"}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: the page must render even when the database is unreachable.
    return HttpResponse(render_to_string("500.html"), status=500)
