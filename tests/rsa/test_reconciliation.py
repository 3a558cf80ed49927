"""« À rapprocher »: a doubtful match waits for a human, who links the flow's person to the
existing file or creates a new one; until then she cannot be oriented."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.rsa import orientations
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow
from binome.rsa.models import Beneficiary, MatchStatus, OrientationKind
from binome.support.models import EventKind, TimelineEvent
from binome.territories.models import Department
from tests.rsa.conftest import RsaTerritory, rsa_flow

# Born the day small_var's Zoé Exemple was, a name spelt a little differently: maybe her.
NIR = "2900583123456"


@pytest.fixture
def doubtful(rsa_var: RsaTerritory) -> Beneficiary:
    today = timezone.localdate()
    header = FluxHeader("CAF", "M", today - datetime.timedelta(days=5), None)
    almost = PersonRow(Role.APPLICANT, "Exemples", "Zoe", datetime.date(1990, 5, 4), nir=NIR)
    result = import_flux(
        rsa_flow(
            header,
            DossierRow(
                number="2001",
                matricule="4444444",
                requested_on=today - datetime.timedelta(days=10),
                state=RightState.OPEN,
                persons=(almost,),
            ),
        ),
        department=Department.objects.get(code="83"),
        by=rsa_var.mia,
    )
    assert result.to_reconcile == 1
    return Beneficiary.objects.select_related("dossier").get(dossier__number="2001")


def list_url() -> str:
    return reverse("rsa:to_reconcile", args=["83"])


def post(rsa_var: RsaTerritory, beneficiary: Beneficiary, data: dict[str, object]):
    client = rsa_var.var.client(rsa_var.mia)
    return client.post(reverse("rsa:reconcile", args=[beneficiary.pk]), data, follow=True)


def test_the_list_shows_the_flows_data_beside_the_candidate(
    rsa_var: RsaTerritory, doubtful: Beneficiary, django_assert_num_queries
) -> None:
    client = rsa_var.var.client(rsa_var.mia)
    client.get(list_url())  # the session's first request warms its caches
    with django_assert_num_queries(9):
        response = client.get(list_url())
    assert response.status_code == 200
    assert [row.pk for row in response.context["rows"]] == [doubtful.pk]
    html = response.content.decode()
    assert "Zoe EXEMPLES — RSA CAF n° 2001" in html and "Zoé EXEMPLE" in html
    assert "04/05/1990" in html and "Transmis" in html and "Non renseigné" in html
    read = AuditEvent.objects.filter(kind=AuditKind.READ, actor=rsa_var.mia).latest("pk")
    assert read.person_ids == [rsa_var.var.person.pk]


def test_the_list_and_the_decisions_are_the_orientation_managers_only(
    rsa_var: RsaTerritory, doubtful: Beneficiary
) -> None:
    var = rsa_var.var
    for user in (var.alice, var.bob, var.dan, var.charlie):
        client = var.client(user)
        assert client.get(list_url()).status_code == 404
        url = reverse("rsa:reconcile", args=[doubtful.pk])
        assert client.post(url, {"decision": "different"}).status_code == 404
    assert var.client(rsa_var.mia).get(reverse("rsa:to_reconcile", args=["91"])).status_code == 404
    doubtful.refresh_from_db()
    assert doubtful.match_status == MatchStatus.TO_RECONCILE


def test_a_person_to_reconcile_cannot_be_oriented(
    rsa_var: RsaTerritory, doubtful: Beneficiary
) -> None:
    client = rsa_var.var.client(rsa_var.mia)
    names = [
        row.first_name for row in client.get(reverse("rsa:to_orient", args=["83"])).context["rows"]
    ]
    assert "Zoe" not in names
    with pytest.raises(ValidationError, match="« à rapprocher » : rapprochez-la"):
        orientations.orient(
            beneficiary=doubtful,
            decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
            by=rsa_var.mia,
            organisation=rsa_var.var.departement,
        )
    assert client.get(reverse("rsa:orient", args=[doubtful.pk])).status_code == 404


def test_the_same_person_links_the_dossier_to_the_existing_file(
    rsa_var: RsaTerritory, doubtful: Beneficiary
) -> None:
    zoe = rsa_var.var.person
    persons_before = Person.objects.count()
    response = post(rsa_var, doubtful, {"person": zoe.pk})
    assert "Zoe Exemples : rapprochée du dossier de Zoé EXEMPLE." in response.content.decode()

    doubtful.refresh_from_db()
    assert doubtful.person == zoe and doubtful.match_status == MatchStatus.MATCHED
    assert not doubtful.candidates.exists() and doubtful.nir_encrypted == ""
    assert Person.objects.count() == persons_before
    zoe.refresh_from_db()
    assert zoe.nir.startswith(NIR)  # the flow's NIR, which her file lacked
    event = TimelineEvent.objects.get(person=zoe, kind=EventKind.RSA)
    assert "Rapprochée du dossier RSA CAF n° 2001" in event.summary
    assert AuditEvent.objects.filter(
        kind=AuditKind.RSA_RECONCILED, actor=rsa_var.mia, person_id=zoe.pk
    ).exists()
    # Now bound to orient, with the deadline the flow started.
    rows = (
        rsa_var.var.client(rsa_var.mia).get(reverse("rsa:to_orient", args=["83"])).context["rows"]
    )
    assert doubtful.pk in [row.pk for row in rows]
    assert post(rsa_var, doubtful, {"person": zoe.pk}).status_code == 200  # no 500 twice


def test_a_different_person_gets_a_new_file(rsa_var: RsaTerritory, doubtful: Beneficiary) -> None:
    zoe = rsa_var.var.person
    response = post(rsa_var, doubtful, {"decision": "different"})
    assert "Zoe Exemples : nouveau dossier créé, à orienter." in response.content.decode()

    doubtful.refresh_from_db()
    new = doubtful.person
    assert new is not None and new != zoe and doubtful.match_status == MatchStatus.CREATED
    assert (new.first_name, new.last_name, new.birth_date) == (
        "Zoe",
        "Exemples",
        datetime.date(1990, 5, 4),
    )
    assert new.organisation == rsa_var.var.departement and new.caf_number == "4444444"
    assert new.nir.startswith(NIR)
    zoe.refresh_from_db()
    assert not zoe.has_nir
    assert AuditEvent.objects.filter(kind=AuditKind.PERSON_CREATED, person_id=new.pk).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_RECONCILED, person_id=new.pk).exists()
    event = TimelineEvent.objects.get(person=new, kind=EventKind.RSA)
    assert "personne différente des dossiers proposés" in event.summary


def test_bad_decisions_are_refused_in_french_and_change_nothing(
    rsa_var: RsaTerritory, doubtful: Beneficiary
) -> None:
    other = Person.objects.create(
        department_id="83",
        organisation=rsa_var.var.departement,
        first_name="Autre",
        last_name="Personne",
        birth_date=datetime.date(1990, 5, 4),
    )
    html = post(rsa_var, doubtful, {"person": other.pk}).content.decode()
    assert "n&#x27;est pas parmi ceux que l&#x27;import a proposés" in html
    html = post(rsa_var, doubtful, {"person": "abc"}).content.decode()
    assert "Choisissez le dossier qui est celui de la personne." in html
    doubtful.refresh_from_db()
    assert doubtful.match_status == MatchStatus.TO_RECONCILE and doubtful.person is None
    assert not AuditEvent.objects.filter(kind=AuditKind.RSA_RECONCILED).exists()

    post(rsa_var, doubtful, {"decision": "different"})
    html = post(rsa_var, doubtful, {"decision": "different"}).content.decode()
    assert "a déjà été rapprochée d&#x27;un dossier" in html
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_RECONCILED).count() == 1


def test_a_file_in_the_intermediate_archive_is_never_matched(rsa_var: RsaTerritory) -> None:
    """Zoé's file is archived (out of every professional's reach): a flow naming her opens
    a new file instead of proposing the archived one to the orientation manager."""
    from binome.retention import actions as retention_actions
    from binome.retention import archive
    from binome.support import actions as support_actions
    from binome.support.models import ExitReason
    from tests.retention.conftest import age_file, days_until_deadline_is

    var = rsa_var.var
    support_actions.end_accompaniment(
        accompaniment=var.accompaniment,
        ended_on=timezone.localdate(),
        reason=ExitReason.DURABLE_JOB,
        situation="",
        by=var.alice,
        organisation=var.france_travail,
    )
    archive.set_archive_settings(
        department_id="83", enabled=True, years=3, justification="Recours", by=var.alice
    )
    age_file(var.person, days_until_deadline_is(30))
    retention_actions.run()
    age_file(var.person, 31)
    assert retention_actions.run().archived == 1
    today = timezone.localdate()
    header = FluxHeader("CAF", "M", today - datetime.timedelta(days=5), None)
    same = PersonRow(Role.APPLICANT, "Exemple", "Zoé", datetime.date(1990, 5, 4), nir=NIR)
    result = import_flux(
        rsa_flow(
            header,
            DossierRow(
                number="2002",
                matricule="5555555",
                requested_on=today - datetime.timedelta(days=10),
                state=RightState.OPEN,
                persons=(same,),
            ),
        ),
        department=Department.objects.get(code="83"),
        by=rsa_var.mia,
    )
    assert result.to_reconcile == 0
    beneficiary = Beneficiary.objects.get(dossier__number="2002")
    assert beneficiary.person_id is not None and beneficiary.person_id != var.person.pk
