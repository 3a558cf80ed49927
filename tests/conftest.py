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


@pytest.fixture(autouse=True)
def _directory_words_forgotten() -> None:
    """Each test searches its own directory's vocabulary: the words' queries the search
    keeps for ten minutes (``search.known_words``) are forgotten before it."""
    from binome.directory import search

    search._words_kept.clear()


# The demo territory takes seconds to load. Each worker loads it once, committed, before its
# first test that asks for the personas; that test and the next ones run inside a transaction
# rolled back at their end, as every database test does, so each finds the demo as loaded.
# For this, the tests are ordered: those that do not use the demo first (they expect the
# database as the migrations left it), then those that do, then the transactional tests,
# which start by emptying the database of the demo (and load it again, committed, for
# themselves when they ask for it: a live server must see it).
_committed_demo_users: dict[str, int] | None = None


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction")
        or marker.kwargs.get("reset_sequences")
        or (marker.args and marker.args[0])
    ):
        return True
    names = getattr(item, "fixturenames", ())
    return "transactional_db" in names or "live_server" in names


def _test_group(item: pytest.Item) -> int:
    names = getattr(item, "fixturenames", ())
    if _is_transactional(item):
        return 2
    if "personas" in names:
        return 1
    if "db" in names or item.get_closest_marker("django_db") is not None:
        return 0
    return 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_test_group)  # stable: pytest-django's order is kept within each group
    for item in items:
        if _test_group(item) == 1:
            # Set up before the test's transaction begins (session fixtures come first).
            item.fixturenames.insert(0, "_committed_demo")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _committed_demo(django_db_setup: None, django_db_blocker: Any) -> None:
    global _committed_demo_users
    from binome.site.demo import load_demo

    with django_db_blocker.unblock():
        users = load_demo()
    _committed_demo_users = {key: user.pk for key, user in users.items()}


@pytest.fixture(autouse=True)
def _demo_emptied_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    global _committed_demo_users
    if _committed_demo_users is None or not _is_transactional(request.node):
        return
    from django.core.management import call_command

    from tests.database import ensure_referential

    with request.getfixturevalue("django_db_blocker").unblock():
        call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
        ensure_referential()
    _committed_demo_users = None


_demo_snapshot: Any = None  # the demo's rows, for the transactional tests of this worker


def committed_demo_for_transactional_test() -> dict[str, Any]:
    """The demo territory committed, for a transactional test (a live server must see it).

    Loaded once per worker through the ORM, then put back from a copy of its rows.
    """
    global _demo_snapshot
    from binome.accounts.models import User
    from binome.site.demo import PERSONAS, load_demo
    from tests.database import DatabaseSnapshot, ensure_referential

    if _demo_snapshot is None:
        ensure_referential()
        users = load_demo()
        _demo_snapshot = DatabaseSnapshot()
        return users
    _demo_snapshot.restore()
    by_email = {
        user.email: user for user in User.objects.filter(email__in=[p.email for p in PERSONAS])
    }
    return {persona.key: by_email[persona.email] for persona in PERSONAS}


@pytest.fixture
def personas(request: pytest.FixtureRequest, db: None) -> dict[str, Any]:
    """Inès, Marc, Sophie, Karim, Léa, Paul, Claire, Nadia and Charlie, in the demo territory."""
    from binome.accounts.models import User

    if _is_transactional(request.node):
        return committed_demo_for_transactional_test()
    if _committed_demo_users is None:
        pytest.fail("Le territoire de démonstration n'est pas chargé : ordre des tests rompu.")
    users = User.objects.in_bulk(_committed_demo_users.values())
    return {key: users[pk] for key, pk in _committed_demo_users.items()}


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
