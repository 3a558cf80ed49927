"""Test suite set-up: the real PostgreSQL (embedded unless DATABASE_URL), strict templates,
and the named personas of the demo territory."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import pytest
from django.template import Context
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import small_var  # noqa: F401  (the small territory's fixture)

_database_in_use: contextlib.AbstractContextManager[None] | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Start the embedded PostgreSQL for this run, unless DATABASE_URL names another one."""
    global _database_in_use
    if os.environ.get("DATABASE_URL") or hasattr(config, "workerinput"):
        return
    from binome.core import embedded_pg

    _database_in_use = embedded_pg.in_use()
    _database_in_use.__enter__()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _database_in_use is not None:
        _database_in_use.__exit__(None, None, None)


class _InvalidTemplateVariable(str):
    """Makes any undefined variable in one of our templates fail the test that renders it.

    Templates of third-party packages (django-dsfr's field snippets) are left lenient.
    """

    def __mod__(self, other: Any) -> str:
        template_name = _current_template_name()
        if template_name and "site-packages" in template_name:
            return ""
        raise AssertionError(f"Variable de gabarit indéfinie : {other!r} dans {template_name}")


def _current_template_name() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        context = frame.f_locals.get("context")
        if isinstance(context, Context):
            template = context.render_context.template
            return str(template.origin.name) if template is not None else ""
        frame = frame.f_back  # type: ignore[assignment]
    return ""


@pytest.fixture(autouse=True)
def _strict_templates(settings: Any) -> None:
    for engine in settings.TEMPLATES:
        engine["OPTIONS"]["string_if_invalid"] = _InvalidTemplateVariable("%s")


@pytest.fixture
def personas(db: None) -> dict[str, Any]:
    """Inès, Marc, Sophie, Karim, Léa, Paul, Claire, Nadia and Charlie, in the demo territory."""
    from binome.site.demo import load_demo

    return load_demo()


@pytest.fixture
def orgs(personas: dict[str, Any]) -> dict[str, Any]:
    """The demo organisations by key (ft_toulon, dep83, ccas_quimper…)."""
    from binome.organisations.models import Organisation
    from binome.site.demo import ORGANISATIONS

    by_name = {o.name: o for o in Organisation.objects.all()}
    return {key: by_name[name] for key, name, *_ in ORGANISATIONS}


def login_as(client: Client, user: Any) -> Client:
    """Log the user in, with the second factor already verified when they have one."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    """client_for("ines") → a test client logged in as Inès."""

    def make(key: str) -> Client:
        return login_as(Client(), personas[key])

    return make
