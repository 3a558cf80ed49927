"""The axe-core check, to run on every page a browser test visits.

``assert_accessible(page)`` fails on any violation, whatever its impact, and on content
of the page that spills over its footer (text drawn over other text is unreadable: axe-core
does not see it). The ``page``
fixture (conftest.py) keeps a ``Visits`` log of the documents the page loaded, and fails
a test that passed without checking one of them.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_axe = Axe()

# Every rule axe-core runs by default (WCAG 2.0 to 2.2, A and AA, and best practices).
_OPTIONS = {"resultTypes": ["violations"]}


class Visits:
    """The documents a page loaded, and which of them went through axe-core."""

    def __init__(self, page: Page) -> None:
        self.loaded: list[str] = []
        self.checked: set[int] = set()
        page.on("load", lambda loaded: self.loaded.append(loaded.url))

    def mark_current_checked(self) -> None:
        if self.loaded:
            self.checked.add(len(self.loaded) - 1)

    def unchecked(self) -> list[str]:
        return [url for i, url in enumerate(self.loaded) if i not in self.checked]

    @staticmethod
    def of(page: Page) -> Visits | None:
        return getattr(page, "_binome_visits", None)

    def attach(self, page: Page) -> None:
        page._binome_visits = self  # type: ignore[attr-defined]


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    """A readable list: rule, impact, what it asks, and the selectors of each faulty node."""
    lines = [f"axe-core : {len(violations)} règle(s) non respectée(s) sur {url}"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'impact non précisé'}] "
            f"{violation['help']} — {violation['helpUrl'].split('?')[0]}"
        )
        for node in violation["nodes"]:
            target = " ".join(
                " >> ".join(part) if isinstance(part, list) else str(part)
                for part in node["target"]
            )
            lines.append(f"    · {target}")
            summary = (node.get("failureSummary") or "").strip()
            lines.extend(f"        {line.strip()}" for line in summary.splitlines())
    return "\n".join(lines)


# The elements of the main content, in the flow of the page, whose box goes below the top of
# the footer (e.g. a DSFR card stretched to its grid column's height pushing what follows it
# out of the column). Not looked into: positioned layers (menus, modals), what is not shown
# (hidden, or in a closed <details>), and what a scrolling box clips (an autocomplete list).
_OVERFLOWING_FOOTER = """() => {
  const main = document.getElementById("contenu");
  const footer = document.getElementById("pied-de-page");
  if (!main || !footer) return [];
  const limit = footer.getBoundingClientRect().top + 1;
  const found = [];
  const visit = (node) => {
    if (!node.checkVisibility({visibilityProperty: true})) return;
    const style = getComputedStyle(node);
    if (style.position === "fixed" || style.position === "absolute") return;
    const box = node.getBoundingClientRect();
    if (box.width && box.height && box.bottom > limit) {
      const text = (node.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
      found.push(`<${node.tagName.toLowerCase()} class="${node.className}"> « ${text} »`);
    }
    if (style.overflowX !== "visible" || style.overflowY !== "visible") return;
    for (const child of node.children) visit(child);
  };
  for (const child of main.children) visit(child);
  return found.slice(0, 5);
}"""


def assert_accessible(page: Page) -> None:
    """Fail unless axe-core finds no violation at all on the page, as it is now.

    Wait first for what the page should show (``expect(...)``): a click that navigates
    returns before the next page is there.
    """
    page.wait_for_load_state("load")
    response = _axe.run(page, options=_OPTIONS).response
    visits = Visits.of(page)
    if visits is not None:
        visits.mark_current_checked()
    if response["violations"]:
        pytest.fail(format_violations(page.url, response["violations"]), pytrace=False)
    overflowing = page.evaluate(_OVERFLOWING_FOOTER)
    if overflowing:
        pytest.fail(
            f"Du contenu de {page.url} déborde sur le pied de page :\n"
            + "\n".join(f"    · {element}" for element in overflowing),
            pytrace=False,
        )
