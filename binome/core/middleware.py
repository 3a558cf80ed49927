"""Middleware of the whole site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from binome.core.http import BIGINT_MAX

# The partners' API (``binome.api``) answers bad input with its own JSON errors.
API_PREFIX = "/api/v1/"


class BoundedPathIntsMiddleware:
    """An ``<int:…>`` of a URL past PostgreSQL's bigint is a 404, like any id that names no row.

    Django's ``int`` converter accepts any number of digits, and Django 6 no longer lets a
    project register its own converter under that name: without this, ``/personnes/2**63/``
    reaches the view. The ORM's lookups find no row for it, but a raw query, an OFFSET or a
    value written back would fail (``bigint out of range``). Checked once here, for every
    URL, rather than in each view. The API answers its own 404, naming the parameter.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if request.path.startswith(API_PREFIX):
            return
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > BIGINT_MAX:
                raise Http404("Identifiant hors limites.")


class RefuseNulCharacterMiddleware:
    """A request whose address or fields hold a NUL character (0x00) is refused with a 400.

    PostgreSQL stores no NUL in text: a value read straight from the query string or the
    body and given to a query (a département's code, a filter) would make the query fail.
    No browser sends one from what a user types; refusing it here, with the parameter
    named, spares every view the check. Forms would say the same (Django's fields refuse
    NUL), but only for what goes through a form. The API answers its own errors.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            where = _nul_in(request)
            if where is not None:
                return render(
                    request,
                    "core/bad_request.html",
                    {
                        "title": "Demande refusée",
                        "message": (
                            f"{where} contient un caractère invisible que Binôme n'accepte pas "
                            "(le caractère nul). Retapez la valeur sans la copier, puis "
                            "recommencez."
                        ),
                    },
                    status=400,
                )
        return self.get_response(request)


def _nul_in(request: HttpRequest) -> str | None:
    """Where the request holds a NUL character (said in French), or None."""
    if "\x00" in request.path:
        return "L'adresse de la page"
    fields = [request.GET]
    if request.method == "POST":
        fields.append(request.POST)
    for data in fields:
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                shown = name.replace("\x00", "").strip()[:40] or "?"
                return f"Le champ « {shown} »"
    return None
