"""Browser tests: Playwright (sync API) driving the system's Chromium against pytest-django's
live server, with an axe-core check on every page visited (see accessibility.py).

Chromium is the distribution's (``/usr/bin/chromium``, installed by ``scripts/ensure-chromium``;
``BINOME_CHROMIUM`` points elsewhere): Playwright's own browser downloads are not used.
A missing Chromium fails the tests, it never skips them: CI must really run them.

The live server answers from another thread, so the data must be committed: these tests use
``transactional_db``, which empties every table after each test. That also empties the
départements and communes loaded by a data migration; ``live_personas`` loads them again
before each test, and ``_referential_restored`` once the browser tests are done, so that
tests running after them find the database as the migrations left it (pytest-django runs
the transactional tests after all the others).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect, sync_playwright

from tests.browser.accessibility import Visits
from tests.database import ensure_referential

CHROMIUM = os.environ.get("BINOME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI and containers run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No network: nothing but the live server may be contacted.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
]
TIMEOUT_MS = 10_000  # for actions and expect(): generous, CI machines are shared


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_call_passed] = report.passed
    return report


_call_passed = pytest.StashKey[bool]()


@pytest.fixture(scope="package", autouse=True)
def _referential_restored(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        ensure_referential()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium, headless, for all the browser tests."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium est introuvable ({CHROMIUM}) : les tests du navigateur ne peuvent pas "
            "tourner. Installez-le avec « scripts/ensure-chromium » (Debian/Ubuntu : "
            "apt-get install chromium) ou donnez son chemin dans BINOME_CHROMIUM.",
            pytrace=False,
        )
    # Playwright's sync API keeps an asyncio loop parked in this thread while the tests run;
    # Django would take every ORM call of the test itself for one made from async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(f"Chromium ({CHROMIUM}) ne démarre pas :\n{exc}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Every page reports what the Content-Security-Policy blocked, in the console, where
# ``_collect_csp_violation`` reads it beside Chromium's own « Refused to … » messages.
_CSP_MARK = "binome-csp-violation"
_REPORT_CSP_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error("{_CSP_MARK} " + JSON.stringify({{
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
  }}));
}});
"""


def _collect_csp_violation(message: ConsoleMessage, tab: Page, violations: list[str]) -> None:
    text = message.text
    if text.startswith(_CSP_MARK) or "Content Security Policy" in text:
        violations.append(f"{tab.url} : {text.removeprefix(_CSP_MARK).strip()}")


@pytest.fixture
def page(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser tab (no cookies) on the live server, in French, desktop size.

    After a passing test, fails if a page had a JavaScript error, had content blocked by
    the Content-Security-Policy, or was not checked with ``assert_accessible``.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    tab = context.new_page()
    visits = Visits(tab)
    visits.attach(tab)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"{tab.url} : {error}"))
    violations: list[str] = []
    tab.on("console", lambda message: _collect_csp_violation(message, tab, violations))
    yield tab
    context.close()
    if not request.node.stash.get(_call_passed, False):
        return
    if errors:
        pytest.fail("Erreur JavaScript :\n" + "\n".join(errors), pytrace=False)
    if violations:
        pytest.fail(
            "Contenu refusé par la Content-Security-Policy :\n" + "\n".join(violations),
            pytrace=False,
        )
    unchecked = [url for url in visits.unchecked() if url != "about:blank"]
    if unchecked:
        pytest.fail(
            "Pages visitées sans contrôle axe-core (appelez assert_accessible(page)) :\n"
            + "\n".join(unchecked),
            pytrace=False,
        )


@pytest.fixture
def live_personas(transactional_db: None) -> dict[str, Any]:
    """The personas of the demo territory, committed, so that the live server sees them."""
    from tests.conftest import committed_demo_for_transactional_test

    return committed_demo_for_transactional_test()


@pytest.fixture
def live_orgs(live_personas: dict[str, Any]) -> dict[str, Any]:
    """The demo organisations by key (ft_toulon, dep83…), committed."""
    from binome.organisations.models import Organisation
    from binome.site.demo import ORGANISATIONS

    by_name = {o.name: o for o in Organisation.objects.all()}
    return {key: by_name[name] for key, name, *_ in ORGANISATIONS}
