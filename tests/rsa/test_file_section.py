"""The RSA section of the person's file: the dossier, its states with the flow each came
from, the household role, the rights and duties, the activity the flow gave; the orientation,
its referent and contract. For the file's team only, in a fixed number of queries."""

from __future__ import annotations

import datetime

from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.rsa import orientations
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow
from binome.rsa.models import Beneficiary, OrientationKind, activity_label
from binome.territories.models import Department
from tests.rsa.conftest import RsaTerritory, rsa_flow

OCTOBER = FluxHeader("CAF", "M", datetime.date(2026, 10, 31), datetime.date(2026, 10, 1))
NOVEMBER = FluxHeader("CAF", "M", datetime.date(2026, 11, 30), datetime.date(2026, 11, 1))


def zoe_flow(header: FluxHeader, state: RightState, activity: str):
    zoe = PersonRow(Role.APPLICANT, "Exemple", "Zoé", datetime.date(1990, 5, 4), activity=activity)
    return rsa_flow(
        header,
        DossierRow(
            number="3001",
            matricule="5555555",
            requested_on=datetime.date(2026, 10, 3),
            state=state,
            no_fixed_address=True,
            family_situation="ISO",
            persons=(zoe,),
        ),
    )


def section_url(rsa_var: RsaTerritory) -> str:
    return reverse("rsa:file_section", args=[rsa_var.var.person.pk])


def test_the_flows_activity_is_read_stored_and_updated(rsa_var: RsaTerritory) -> None:
    var = Department.objects.get(code="83")
    import_flux(zoe_flow(OCTOBER, RightState.AWAITING_DECISION, "CHO"), department=var, by=None)
    zoe = Beneficiary.objects.get(dossier__number="3001")
    assert zoe.activity == "CHO" and zoe.activity_label == "Chômeur(se) sans justificatif"
    result = import_flux(zoe_flow(NOVEMBER, RightState.OPEN, "SAL"), department=var, by=None)
    assert result.updated == 1
    zoe.refresh_from_db()
    assert zoe.activity == "SAL"
    assert activity_label("ZZZ") == "Activité « ZZZ » (code de la CAF)" and activity_label("") == ""


def test_the_team_sees_the_dossier_its_states_and_the_orientation(
    rsa_var: RsaTerritory, django_assert_num_queries
) -> None:
    var = Department.objects.get(code="83")
    import_flux(zoe_flow(OCTOBER, RightState.AWAITING_DECISION, "CHO"), department=var, by=None)
    import_flux(zoe_flow(NOVEMBER, RightState.OPEN, "CHO"), department=var, by=None)
    zoe = Beneficiary.objects.select_related("dossier").get(dossier__number="3001")
    assert zoe.person == rsa_var.var.person
    orientations.orient(
        beneficiary=zoe,
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )

    client = rsa_var.var.client(rsa_var.var.alice)
    client.get(section_url(rsa_var))  # the session's first request warms its caches
    with django_assert_num_queries(11):
        response = client.get(section_url(rsa_var))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Dossier CAF n° 3001",
        "numéro allocataire 5555555",
        "Sans domicile fixe",
        "Demandeur, isolé(e)",
        "Soumis(e) aux droits et devoirs",
        "Chômeur(se) sans justificatif",
        "Orientation sociale vers CCAS de Toulon",
        "À désigner par CCAS de Toulon",
        "À signer avant le",
    ):
        assert text in html, text
    # Each state with the flow it came from, oldest first.
    states = response.context["beneficiaries"][0].dossier.states.all()
    assert [(s.state, s.flow.flow_created_on) for s in states] == [
        (RightState.AWAITING_DECISION, OCTOBER.created_on),
        (RightState.OPEN, NOVEMBER.created_on),
    ]
    assert AuditEvent.objects.filter(
        kind=AuditKind.READ, actor=rsa_var.var.alice, what="RSA : dossier et orientation"
    ).exists()


def test_the_section_is_the_files_team_only(rsa_var: RsaTerritory) -> None:
    url = section_url(rsa_var)
    bob = rsa_var.var.client(rsa_var.var.bob)
    # A file the flows never named: nothing to show.
    before = bob.get(url)
    assert before.status_code == 200 and "RSA" not in before.content.decode()
    var = Department.objects.get(code="83")
    import_flux(zoe_flow(OCTOBER, RightState.OPEN, "CHO"), department=var, by=None)
    assert "Dossier CAF n° 3001" in bob.get(url).content.decode()
    assert rsa_var.var.client(rsa_var.var.charlie).get(url).status_code == 404
    assert rsa_var.var.client(rsa_var.ccas_worker).get(url).status_code == 404
