"""Security headers: the Content-Security-Policy, the Permissions-Policy, and no copy kept by
the browser of a response that carries a person's data (agency PCs are shared); and the
templates keep what the policy needs (no inline script, no style attribute)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from binome.core.views import error_500
from binome.people.models import Person

TEMPLATE_ROOT = Path(settings.BASE_DIR) / "binome"


@pytest.fixture
def nadia_file(personas: dict[str, Any]) -> Person:
    return Person.objects.get(user=personas["nadia"])


def csp_directives(response: Any) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_not_stored(response: Any) -> None:
    """The browser keeps no copy of the response, not even for its back button."""
    cache_control = {item.strip() for item in response.headers["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "private"} <= cache_control, cache_control
    assert response.headers["Pragma"] == "no-cache"
    assert "Expires" in response.headers


def assert_secured(response: Any) -> None:
    assert_not_stored(response)
    assert "default-src" in csp_directives(response)
    assert "geolocation=()" in response.headers["Permissions-Policy"]


# --- Responses that carry a person's data --------------------------------------------------


def test_the_person_file_is_not_stored(client_for: Any, nadia_file: Person) -> None:
    response = client_for("ines").get(reverse("people:detail", args=[nadia_file.pk]))
    assert response.status_code == 200
    assert "BELKACEM" in response.content.decode()
    assert_secured(response)


def test_the_engagement_pdf_is_not_stored(client_for: Any, nadia_file: Person) -> None:
    response = client_for("marc").get(reverse("people:engagement_pdf", args=[nadia_file.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert_not_stored(response)
    own = client_for("nadia").get(reverse("space:engagement_pdf"))
    assert own.status_code == 200
    assert_not_stored(own)


def test_an_htmx_fragment_of_the_file_is_not_stored(client_for: Any, nadia_file: Person) -> None:
    url = reverse("support:plan_suggestions", args=[nadia_file.pk, "mobilite"])
    response = client_for("ines").get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert_not_stored(response)


@pytest.mark.parametrize(
    ("persona", "name"),
    [("nadia", "space:home"), ("ines", "support:worklist"), ("ines", "referrals:inbox")],
)
def test_the_person_space_worklist_and_inbox_are_not_stored(
    client_for: Any, persona: str, name: str
) -> None:
    response = client_for(persona).get(reverse(name))
    assert response.status_code == 200
    assert_secured(response)


def test_a_referral_link_page_is_not_stored_though_anonymous(
    personas: dict[str, Any], client: Client
) -> None:
    response = client.get(reverse("referral_links:open", args=["lien-inconnu"]))
    assert response.status_code == 400
    assert_secured(response)


def test_an_anonymous_public_page_keeps_the_default_caching(db: None, client: Client) -> None:
    """Nothing personal on the login page: the rule is about a person's data, not every page."""
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers
    assert "default-src" in csp_directives(response)


def test_static_files_keep_their_own_caching(client_for: Any) -> None:
    response = client_for("ines").get(settings.STATIC_URL + "core/binome.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "Last-Modified" in response.headers


# --- Content-Security-Policy and Permissions-Policy -----------------------------------------


def test_the_content_security_policy_is_strict(client_for: Any) -> None:
    directives = csp_directives(client_for("ines").get(reverse("site:home")))
    assert directives == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }


def test_the_logout_form_may_go_on_to_proconnect() -> None:
    """form-action also applies to the redirects after a form: the logout of an agent logged
    in with ProConnect ends at ProConnect's session end, on the issuer's origin."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(*settings.SECURE_CSP['form-action'])",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "binome.settings",
            "PROCONNECT_ISSUER": "https://auth.proconnect.example/api/v2",
            "PROCONNECT_CLIENT_ID": "binome",
            "PROCONNECT_CLIENT_SECRET": "secret",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'self'", "https://auth.proconnect.example"]


def test_the_permissions_policy_turns_every_feature_off(db: None, client: Client) -> None:
    header = client.get(reverse("accounts:login")).headers["Permissions-Policy"]
    features = dict(item.strip().split("=") for item in header.split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "fullscreen"):
        assert features[feature] == "()"
    assert set(features.values()) == {"()"}


# --- What the policy needs of the templates -------------------------------------------------

# Templates never served to a browser: e-mails (mail readers drop style sheets, so the HTML
# of an e-mail carries its styles inline), the engagement contract and the person's data
# (right of access), printed to PDF.
NOT_SERVED = (
    "people/engagement_pdf.html",
    "retention/person_data_pdf.html",
    "steering/minutes_pdf.html",
)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(?P<body>.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
FORBIDDEN = {
    "attribut style=": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "élément <style>": re.compile(r"<style\b", re.IGNORECASE),
    "gestionnaire d'événement on…=": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "URL javascript:": re.compile(r"javascript:", re.IGNORECASE),
    "code évalué par htmx (hx-on, js:)": re.compile(r"hx-on|['\"]js:", re.IGNORECASE),
}


def served_templates() -> list[Path]:
    templates = sorted(TEMPLATE_ROOT.glob("**/templates/**/*.html"))
    assert len(templates) > 100
    return [
        path
        for path in templates
        if "email" not in path.parent.parts and not str(path).endswith(NOT_SERVED)
    ]


def test_the_templates_not_served_to_a_browser_exist() -> None:
    for name in NOT_SERVED:
        assert list(TEMPLATE_ROOT.glob(f"*/templates/{name}")), name


def test_no_template_has_inline_script_or_style() -> None:
    """The policy allows no inline script or style: they go to static files and CSS classes."""
    faults = []
    for path in served_templates():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(TEMPLATE_ROOT)
        for match in INLINE_SCRIPT.finditer(text):
            if match.group("body").strip():
                faults.append(f"{where} : <script> avec du code")
        for what, pattern in FORBIDDEN.items():
            if pattern.search(text):
                faults.append(f"{where} : {what}")
    assert not faults, "\n".join(faults)


def test_the_server_error_page_takes_its_layout_from_the_style_sheet(rf: Any) -> None:
    response = error_500(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert f'href="{settings.STATIC_URL}core/binome.css"' in body
    assert '<main class="binome-error-page">' in body
