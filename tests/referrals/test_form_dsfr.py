"""The referral form in DSFR components: radios and checkboxes, an error summary at the top
whose links lead to the fields, and the fields of one kind of orientation said required
for that kind (not « facultatif »)."""

from __future__ import annotations

import html
import re
from typing import Any

from django.urls import reverse

from binome.people.models import Person


def _body(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_radios_and_checkboxes_are_dsfr_components(client_for: Any, nadia_file: Person) -> None:
    body = _body(client_for("ines").get(reverse("referrals:create", args=[nadia_file.pk])))

    # A radio: its own group, the input then its DSFR label.
    assert re.search(
        r'<div class="fr-radio-group">\s*<input type="radio" name="kind" value="global"[^>]*'
        r'id="id_kind_0"[^>]*>\s*<label class="fr-label" for="id_kind_0">',
        body,
    )
    assert re.search(r'<div class="fr-radio-group">\s*<input type="radio" name="urgency"', body)
    assert re.search(
        r'<div class="fr-checkbox-group">\s*<input type="checkbox" name="barriers"', body
    )
    assert '<fieldset class="fr-fieldset"' in body


def test_the_fields_of_one_kind_say_for_which_kind_they_are_required(
    client_for: Any, nadia_file: Person
) -> None:
    body = _body(client_for("ines").get(reverse("referrals:create", args=[nadia_file.pk])))

    assert 'data-kinds="global social"' in body
    assert 'data-kinds="service"' in body
    assert "Organisation destinataire (obligatoire pour l'accompagnement global ou social)" in body
    assert "Service de l'annuaire (obligatoire pour une orientation vers un service)" in body
    assert "referrals/referral_form.js" in body
    assert "Organisation destinataire (facultatif)" not in body


def test_an_error_summary_at_the_top_links_to_each_field(
    client_for: Any, nadia_file: Person
) -> None:
    url = reverse("referrals:create", args=[nadia_file.pk])
    response = client_for("ines").post(
        url,
        {"kind": "social", "reason": "", "idempotency_key": "6f1c1d0e-4a8f-4a62-9a0e-1f0b8f5d2c11"},
    )
    body = _body(response)

    assert response.status_code == 400
    summary = body[
        body.index('id="erreurs-formulaire"') : body.index(
            "</div>", body.index('id="erreurs-formulaire"')
        )
    ]
    assert (
        "<a href=\"#id_reason\">Motif de l'orientation : Indiquez le motif de l'orientation.</a>"
        in summary
    )
    assert (
        '<a href="#id_to_organisation">Organisation destinataire : '
        "Choisissez l'organisation destinataire.</a>"
    ) in summary
    # The summary comes before the form's fields.
    assert body.index('id="erreurs-formulaire"') < body.index('name="kind"')
    # Each link leads to an element of the page.
    for anchor in re.findall(r'href="#([\w-]+)"', summary):
        assert f'id="{anchor}"' in body


def test_a_missing_kind_links_to_its_first_radio(client_for: Any, nadia_file: Person) -> None:
    url = reverse("referrals:create", args=[nadia_file.pk])
    body = _body(client_for("ines").post(url, {"reason": "Logement."}))
    assert '<a href="#id_kind_0">Type d\'orientation :' in body
