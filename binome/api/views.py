"""Pages of the API: the organisation's tokens, and the documentation for developers."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.scoping import get_organisation_for_user
from binome.api import actions
from binome.api.forms import DEFAULT_PER_PAGE, ApiTokenForm
from binome.api.models import ApiToken
from binome.core.typing import AuthenticatedRequest
from binome.directory.search import MAX_PER_PAGE
from binome.organisations.models import Organisation


def _managed_organisation(request: AuthenticatedRequest, pk: int) -> Organisation:
    """The organisation if the user may manage its tokens; 404 outside reach, else 403."""
    organisation = get_organisation_for_user(request.user, pk)
    if not predicates.can_manage_api_tokens(request.user, organisation):
        raise PermissionDenied
    return organisation


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The organisation's tokens; a new one's secret is shown once, in the POST's answer."""
    organisation = _managed_organisation(request, pk)
    form = ApiTokenForm(request.POST or None)
    created: ApiToken | None = None
    secret = ""
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = actions.create_token(
                organisation=organisation,
                name=form.cleaned_data["name"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            form = ApiTokenForm()
    tokens = (
        ApiToken.objects.filter(organisation=organisation)
        .select_related("created_by", "revoked_by")
        .order_by("revoked_at", "-created_at", "-id")
    )
    return render(
        request,
        "api/tokens.html",
        {
            "title": f"Accès à l'API — {organisation.name}",
            "organisation": organisation,
            "tokens": tokens,
            "form": form,
            "created": created,
            "secret": secret,
        },
    )


@login_required
@require_POST
def token_revoke(request: AuthenticatedRequest, pk: int, token_pk: int) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, pk)
    token = get_object_or_404(ApiToken, pk=token_pk, organisation=organisation)
    if not predicates.can_manage_api_tokens(request.user, organisation):
        raise PermissionDenied
    try:
        actions.revoke_token(token=token, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"Le jeton « {token.name} » est révoqué.")
    return redirect("api_pages:tokens", organisation.pk)


@require_GET
def documentation(request: HttpRequest) -> HttpResponse:
    """How to get a token, the endpoints, examples: readable without an account."""
    base = request.build_absolute_uri("/api/v1/").rstrip("/")
    return render(
        request,
        "api/documentation.html",
        {
            "title": "Documentation de l'API",
            "base": base,
            "openapi_url": reverse("api:openapi-json"),
            "default_per_page": DEFAULT_PER_PAGE,
            "max_per_page": MAX_PER_PAGE,
            "rate_limit": settings.API_RATE_LIMIT,
        },
    )
