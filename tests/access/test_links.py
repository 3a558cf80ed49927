"""No link leads to a refusal: every persona follows the links of the pages they see, in the
demo territory as ``binome demo`` loads it, and every one opens (a page or a redirect).

A link to a page that answers 404 or 403 tells the user of something they may not see, or
offers a door that does not open; a 500 is a bug. The access matrix checks each URL for each
persona; this test checks what the pages offer them.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from binome.referrals.demo import load_demo_referrals
from binome.site.demo import demo_organisations, load_demo_directory
from tests.conftest import login_as

# Links followed: this site's pages, not the ones that end the session or produce a
# document (a PDF takes a second to render, the API answers tokens only).
_LEAVE = re.compile(r"^/(deconnexion|static|media|api/v1)/|\.pdf$|/pdf/|/contrat")
_HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)')
# Pages of one shape (the same view for another id) are followed once per persona.
MAX_PAGES = 70


def _shape(path: str, query: str) -> str:
    return re.sub(r"\d+", "N", path) + ("?" + re.sub(r"=[^&]*", "=", query) if query else "")


def _crawl(client: Client) -> tuple[int, list[str]]:
    """Follow the links from the home page; (pages opened, problems found)."""
    queue: deque[tuple[str, str]] = deque([("/", "(accueil)")])
    seen: set[str] = set()
    problems: list[str] = []
    opened = 0
    while queue and opened < MAX_PAGES:
        url, found_on = queue.popleft()
        parts = urlsplit(url)
        shape = _shape(parts.path, parts.query)
        if shape in seen:
            continue
        seen.add(shape)
        response = client.get(url)
        opened += 1
        if response.status_code not in (200, 302):
            problems.append(f"{url} → {response.status_code} (lien de {found_on})")
            continue
        if response.status_code == 302:
            queue.append((response["Location"], url))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for href in _HREF.findall(response.content.decode()):
            target = urljoin(url, href.replace("&amp;", "&"))
            target_parts = urlsplit(target)
            if target_parts.netloc and target_parts.netloc != "testserver":
                continue  # another site
            if not target_parts.path.startswith("/") or _LEAVE.search(target_parts.path):
                continue
            local = target_parts.path + (f"?{target_parts.query}" if target_parts.query else "")
            queue.append((local, url))
    return opened, problems


@pytest.mark.parametrize(
    "persona",
    [
        "ines",
        "marc",
        "sophie",
        "karim",
        "helene",
        "lea",
        "paul",
        "claire",
        "nadia",
        "charlie",
        "agnes",
    ],
)
def test_every_link_a_persona_is_shown_opens(persona: str, personas: dict[str, Any]) -> None:
    load_demo_directory()
    load_demo_referrals(personas, demo_organisations())
    client = login_as(Client(), personas[persona])

    opened, problems = _crawl(client)

    assert opened >= 5, f"{persona} n'a ouvert que {opened} pages"
    assert not problems, f"Liens qui n'aboutissent pas pour {persona} :\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "persona",
    [
        "ines",
        "marc",
        "sophie",
        "karim",
        "helene",
        "lea",
        "paul",
        "claire",
        "charlie",
        "gwenael",
        "agnes",
    ],
)
def test_every_link_of_the_home_page_opens(persona: str, personas: dict[str, Any]) -> None:
    """Each line of « À traiter », each « Tout voir » and each button of the home page's
    content opens a page (after its redirects, if any) for the persona it is shown to."""
    load_demo_directory()
    load_demo_referrals(personas, demo_organisations())
    client = login_as(Client(), personas[persona])
    body = client.get("/").content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    links = {
        href.replace("&amp;", "&")
        for href in _HREF.findall(main)
        if href.startswith("/") and not _LEAVE.search(urlsplit(href).path)
    }

    problems = [
        f"{link} → {status}"
        for link in sorted(links)
        if (status := client.get(link, follow=True).status_code) != 200
    ]

    assert links, f"aucun lien sur la page d'accueil de {persona}"
    assert not problems, f"Liens de l'accueil qui n'aboutissent pas pour {persona} :\n" + (
        "\n".join(problems)
    )
