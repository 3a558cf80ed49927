"""The soak's writes (``bench/soak_forms.py``, used by ``bench/locustfile.py``) are accepted
by the real views: each form's page is read, filled as the soak fills it, and posted with
its CSRF token checked. A form whose fields change without the soak following fails here
instead of turning a load run's writes into errors."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from django.test import Client

from binome.accounts.models import User
from binome.referrals.models import Referral, Status
from binome.support.models import Action, Note, Objective

BENCH = Path(__file__).resolve().parents[2] / "bench" / "soak_forms.py"


def _soak_forms() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_forms", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


forms = _soak_forms()


def _client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _post(client: Client, url: str, values: Any) -> Any:
    """The soak's GET then POST of a form; the answer of the POST."""
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    filled = forms.fill(text, url, values(text) if callable(values) else values)
    assert filled is not None, f"no form posting to {url}"
    assert "csrfmiddlewaretoken" in filled
    answer = client.post(url, filled)
    assert answer.status_code == 302, forms.first_error(answer.content.decode())
    return answer


def test_the_soaks_note_is_written(small_var: Any) -> None:
    person = small_var.person
    _post(
        _client(small_var.alice), f"/suivi/personnes/{person.pk}/notes/ajouter/", forms.NOTE_VALUES
    )
    note = Note.objects.get(person=person)
    assert note.text == forms.NOTE


def test_the_soaks_objective_then_action_are_added(small_var: Any) -> None:
    person, client = small_var.person, _client(small_var.alice)
    _post(client, f"/suivi/personnes/{person.pk}/plan/objectifs/ajouter/", forms.objective_values)
    objective = Objective.objects.get(person=person)
    assert objective.label == "Retrouver un logement stable"
    # The person's file now links to the objective's « add an action », as the soak reads it.
    file_page = client.get(f"/personnes/{person.pk}/").content.decode()
    links = re.findall(r'href="(/suivi/objectifs/\d+/actions/ajouter/)"', file_page)
    assert links == [f"/suivi/objectifs/{objective.pk}/actions/ajouter/"]
    _post(client, links[0], forms.ACTION_VALUES)
    assert Action.objects.get(objective=objective).label == "Appeler la CAF"


def test_the_soaks_referral_is_sent_to_another_organisation_and_accepted(
    small_var: Any,
) -> None:
    person = small_var.person
    _post(
        _client(small_var.alice),
        f"/orientations/personnes/{person.pk}/orienter/",
        forms.referral_values,
    )
    referral = Referral.objects.get(person=person)
    assert referral.to_organisation != small_var.france_travail
    recipient = {small_var.caf: small_var.carol, small_var.departement: small_var.bob}[
        referral.to_organisation
    ]
    client = _client(recipient)
    detail = client.get(f"/orientations/{referral.pk}/").content.decode()
    accept = f"/orientations/{referral.pk}/accepter/"
    assert f'href="{accept}"' in detail
    _post(client, accept, forms.ACCEPT_VALUES)
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED


def test_an_empty_textarea_is_filled_and_an_empty_override_removes_a_field() -> None:
    page = """<form method="post" action="/a/">
      <input type="hidden" name="csrfmiddlewaretoken" value="t">
      <textarea name="text" required>
</textarea>
      <select name="visibility">
        <option value="">Par défaut</option><option value="x">X</option>
      </select>
      <input type="text" name="label" value="gardé">
    </form>"""
    assert forms.fill(page, "/a/", {"label": ""}) == {
        "csrfmiddlewaretoken": "t",
        "text": forms.NOTE,
    }
