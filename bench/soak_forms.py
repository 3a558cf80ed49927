"""The forms of ``binome bench soak``'s traffic, filled as a professional would (no locust
here: the locustfile uses these, and ``tests/core/test_soak_forms.py`` posts them to the
real views, so that a form's change that the soak's writes no longer satisfy fails a test
rather than a load run).

Each ``*_values`` gives the fields the user types or chooses on that form; ``fill`` adds
what the page's form already holds (the CSRF token, the hidden fields, the initial values)
and a plausible value for any other required field.
"""

from __future__ import annotations

import random
from datetime import date

import lxml.html

NOTE = "Point d'étape fait ensemble ; prochain rendez-vous à fixer."
NOTE_VALUES = {"text": NOTE}
ACTION_VALUES = {"label": "Appeler la CAF"}
ACCEPT_VALUES = {"first_step": "Appel de la personne cette semaine."}


def objective_values(page: str) -> dict[str, str]:
    """A free objective under the form's first theme."""
    return {
        "theme": first_option(page, "theme"),
        "referential_label": "",
        "free_label": "Retrouver un logement stable",
    }


def referral_values(page: str) -> dict[str, str]:
    """A global accompaniment asked of another organisation of the territory, chosen at
    random (one's own only takes France Travail's dedicated counselors; the same person
    cannot be sent twice to the same organisation while the first referral is open), the
    person's consent taken orally."""
    others = options(page, "to_organisation", unless="mon organisation")
    return {
        "kind": "global",
        "to_organisation": random.choice(others) if others else "",
        "service": "",
        "requested_kind": "",
        "reason": NOTE,
        "consent_now": "oral",
    }


def fill(page: str, action: str, overrides: dict[str, str]) -> dict[str, str] | None:
    """The values of the page's form posting to ``action`` (its CSRF token and what the
    server put in it), then ``overrides``; a required field left empty gets a plausible value.
    An override of ``""`` removes the field."""
    document = lxml.html.fromstring(page)
    # A form posts to its page when it has no action; the exact action first.
    forms = sorted(
        (
            f
            for f in document.forms
            if (f.get("method") or "get").lower() == "post"
            and (f.get("action") or "") in {action, ""}
        ),
        key=lambda f: (f.get("action") or "") != action,
    )
    if not forms:
        return None
    form = forms[0]
    # A textarea's value starts with the newline Django writes after its opening tag.
    values = {name: value for name, value in form.form_values() if value.strip()}
    for field in form.inputs:
        name = field.get("name")
        if not name or name in values or field.get("required") is None:
            continue
        if field.tag == "select":
            options = [o.get("value") for o in field.findall(".//option") if o.get("value")]
            if options:
                values[name] = options[0]
        elif field.tag == "textarea":
            values[name] = NOTE
        elif field.get("type") == "date":
            values[name] = date.today().isoformat()
        elif field.get("type") in {None, "text"}:
            values[name] = "Essai de charge"
        elif field.get("type") in {"radio", "checkbox"}:
            values[name] = field.get("value") or "on"
    values.update(overrides)
    return {name: value for name, value in values.items() if value != ""}


def first_error(page: str) -> str:
    """The page's first error message (an alert, or a field's), on one line."""
    if not page.strip():
        return ""
    found = lxml.html.fromstring(page).xpath(
        "//*[contains(@class, 'fr-alert--error') or contains(@class, 'fr-message--error')"
        " or contains(@class, 'fr-error-text')]"
    )
    return " ".join(found[0].text_content().split()) if found else ""


def options(page: str, name: str, unless: str = "") -> list[str]:
    """The non-empty values of the select ``name`` on the page, without the options whose
    label contains ``unless``."""
    document = lxml.html.fromstring(page)
    return [
        value
        for element in document.xpath("//select[@name=$name]//option", name=name)
        if (value := element.get("value") or "")
        and not (unless and unless in element.text_content())
    ]


def first_option(page: str, name: str, unless: str = "") -> str:
    """The first of ``options``, or ``""``."""
    return next(iter(options(page, name, unless)), "")
