from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from binome.territories.models import Commune


@login_required
@require_GET
def commune_autocomplete(request: HttpRequest) -> HttpResponse:
    """Communes matching a name or a postal code, as an htmx fragment."""
    query = request.GET.get("q", "").strip()[:80]
    communes = Commune.objects.search(query, limit=10) if len(query) >= 2 else []
    return render(
        request,
        "territories/_commune_results.html",
        {"communes": communes, "query": query},
    )
