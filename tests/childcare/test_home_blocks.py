"""The home page's childcare blocks: the provider's requests to answer, the CAF's criteria to
check; every line opens."""

from __future__ import annotations

from binome.organisations.models import MemberFunction, Organisation, OrganisationKind
from tests.childcare.conftest import Essonne
from tests.childcare.test_requests import send_to_both
from tests.factories import make_member
from tests.site.test_today import _block, _home


def _lines_open(client, block: str) -> None:
    for href in [part.split('"')[0] for part in block.split('href="')[1:]]:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_a_provider_sees_the_requests_to_answer_with_the_parent_initial_only(
    essonne: Essonne,
) -> None:
    send_to_both(essonne)
    nina = essonne.var.client(essonne.nina)
    block = _block(_home(nina), "childcare_received")
    assert "Awa D." in block and "Diallo" not in block
    assert "Urgence" in block
    _lines_open(nina, block)
    # Charlie, the counselor, has no such block.
    assert _block(_home(essonne.var.client(essonne.charlie)), "childcare_received") == ""


def test_the_caf_agent_sees_the_requests_whose_criteria_to_check(essonne: Essonne) -> None:
    send_to_both(essonne)
    caf = Organisation.objects.create(
        name="CAF de l'Essonne",
        kind=OrganisationKind.CAF,
        department_id="91",
        commune_id="91228",
    )
    karim = make_member("Karim", caf, function=MemberFunction.CAF_AGENT)
    client = essonne.var.client(karim)
    block = _block(_home(client), "childcare_to_check")
    assert "Awa DIALLO" in block
    _lines_open(client, block)
    # The Var's CAF agent sees none of the Essonne's requests.
    assert "Awa" not in _block(_home(essonne.var.client(essonne.var.carol)), "childcare_to_check")
