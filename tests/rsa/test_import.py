"""Importing a CAF flow: files matched or created, the six-week clock, states kept with their
flow, the same flow twice changing nothing, a refused file writing nothing but its refusal."""

from __future__ import annotations

import datetime
import io

from stdnum.fr import nir as stdnum_nir

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Person
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow, write_flux
from binome.rsa.models import Beneficiary, Dossier, DossierState, FlowImport, MatchStatus
from binome.support.models import TimelineEvent
from binome.territories.models import Department

NOVEMBER = FluxHeader("CAF", "M", datetime.date(2026, 11, 30), datetime.date(2026, 11, 1))
DECEMBER = FluxHeader("CAF", "M", datetime.date(2026, 12, 31), datetime.date(2026, 12, 1))
NIR = "2850583123456"


def household(number: str, state: RightState = RightState.AWAITING_DECISION, **kw) -> DossierRow:
    return DossierRow(
        number=number,
        matricule="7788990",
        requested_on=datetime.date(2026, 10, 12),
        state=state,
        persons=kw.get(
            "persons",
            (
                PersonRow(Role.APPLICANT, "Lefèvre", "Hélène", datetime.date(1985, 5, 3), nir=NIR),
                PersonRow(Role.SPOUSE, "Lefèvre", "Noël", datetime.date(1983, 2, 9), sex="1"),
                PersonRow(Role.CHILD, "Lefèvre", "Zoé", datetime.date(2019, 8, 1), subject=False),
            ),
        ),
    )


def flow(
    header: FluxHeader, *dossiers: DossierRow, declared_count: int | None = None
) -> io.BytesIO:
    out = io.BytesIO()
    write_flux(out, header, dossiers, declared_count=declared_count)
    out.seek(0)
    return out


def var() -> Department:
    return Department.objects.get(code="83")


def test_a_new_household_gets_its_files_and_its_orientation_deadline(small_var) -> None:
    result = import_flux(flow(NOVEMBER, household("0001")), department=var(), by=small_var.dan)

    assert result.status == "applied", result.message
    assert (result.created, result.updated, result.unchanged, result.rejected) == (1, 0, 0, 0)
    dossier = Dossier.objects.get(number="0001")
    assert dossier.state == RightState.AWAITING_DECISION and dossier.children == 1
    spouse, applicant = Beneficiary.objects.filter(dossier=dossier).order_by("role")
    assert (applicant.role, spouse.role) == (Role.APPLICANT, Role.SPOUSE)
    assert applicant.match_status == MatchStatus.CREATED
    helene = applicant.person
    assert helene.organisation == small_var.departement  # the département holds the file
    assert helene.nir == NIR + stdnum_nir.calc_check_digits(NIR)
    assert helene.caf_number == "7788990"
    assert applicant.right_opened_on == datetime.date(2026, 11, 30)
    assert applicant.orientation_due_on == datetime.date(2027, 1, 11)  # six weeks
    # The child is counted in the household, never made a file of her own.
    assert not Person.objects.filter(first_name="Zoé", last_name="Lefèvre").exists()
    line = TimelineEvent.objects.get(person=helene)
    assert line.summary == "Dossier créé depuis le flux mensuel CAF du 30/11/2026 (RSA n° 0001)"
    created = AuditEvent.objects.get(kind=AuditKind.PERSON_CREATED, person_id=helene.pk)
    assert created.actor_label == "import automatique" and "flux mensuel CAF" in created.what
    audit = AuditEvent.objects.get(kind=AuditKind.RSA_IMPORT)
    assert audit.actor == small_var.dan and "1 dossier(s) créé(s)" in audit.what


def test_the_same_flow_twice_changes_nothing(small_var) -> None:
    data = flow(
        NOVEMBER,
        household("0001"),
        household(
            "0002",
            persons=(
                PersonRow(Role.APPLICANT, "Durand", "Paul", datetime.date(1970, 1, 2), sex="1"),
            ),
        ),
    ).getvalue()
    import_flux(io.BytesIO(data), department=var(), by=None)
    counts_before = (
        Person.objects.count(),
        Beneficiary.objects.count(),
        DossierState.objects.count(),
    )

    again = import_flux(io.BytesIO(data), department=var(), by=None)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert counts_before == (
        Person.objects.count(),
        Beneficiary.objects.count(),
        DossierState.objects.count(),
    )


def test_a_newer_flow_updates_the_state_and_keeps_its_history(small_var) -> None:
    import_flux(flow(NOVEMBER, household("0001")), department=var(), by=None)

    december = import_flux(
        flow(DECEMBER, household("0001", RightState.OPEN)), department=var(), by=None
    )

    assert (december.created, december.updated, december.unchanged) == (0, 1, 0)
    dossier = Dossier.objects.get(number="0001")
    assert dossier.state == RightState.OPEN and dossier.last_import == december
    assert [(s.state, s.flow.flow_created_on) for s in dossier.states.all()] == [
        (RightState.AWAITING_DECISION, datetime.date(2026, 11, 30)),
        (RightState.OPEN, datetime.date(2026, 12, 31)),
    ]
    # The clock runs from the first flow that told of the right, not the newest.
    applicant = dossier.beneficiaries.get(role=Role.APPLICANT)
    assert applicant.orientation_due_on == datetime.date(2027, 1, 11)


def test_an_existing_file_is_found_by_nir_or_by_identity(small_var) -> None:
    # small_var's Zoé Exemple, born 04/05/1990, has no NIR: found by her identity.
    zoe = PersonRow(Role.APPLICANT, "Exemple", "Zoé", datetime.date(1990, 5, 4))
    import_flux(flow(NOVEMBER, household("0003", persons=(zoe,))), department=var(), by=None)

    beneficiary = Beneficiary.objects.get(dossier__number="0003")
    assert beneficiary.match_status == MatchStatus.MATCHED
    assert beneficiary.person == small_var.person
    assert Person.objects.filter(first_name="Zoé").count() == 1


def test_a_doubtful_match_is_left_to_a_human(small_var) -> None:
    # Same birth date, a name spelt a little differently: maybe her, maybe not.
    almost = PersonRow(Role.APPLICANT, "Exemples", "Zoe", datetime.date(1990, 5, 4))
    result = import_flux(
        flow(NOVEMBER, household("0004", persons=(almost,))), department=var(), by=None
    )

    assert result.to_reconcile == 1
    beneficiary = Beneficiary.objects.get(dossier__number="0004")
    assert beneficiary.match_status == MatchStatus.TO_RECONCILE and beneficiary.person is None
    assert list(beneficiary.candidates.all()) == [small_var.person]
    assert Person.objects.filter(birth_date=datetime.date(1990, 5, 4)).count() == 1


def test_the_caf_number_alone_never_matches(small_var) -> None:
    small_var.person.caf_number = "7788990"
    small_var.person.save()
    stranger = PersonRow(Role.APPLICANT, "Autre", "Jeanne", datetime.date(1960, 3, 3))
    import_flux(flow(NOVEMBER, household("0005", persons=(stranger,))), department=var(), by=None)

    beneficiary = Beneficiary.objects.get(dossier__number="0005")
    assert beneficiary.match_status == MatchStatus.CREATED
    assert beneficiary.person != small_var.person


def test_a_cut_file_writes_nothing_but_its_refusal(small_var) -> None:
    persons_before = Person.objects.count()
    result = import_flux(
        flow(NOVEMBER, household("0001"), declared_count=3), department=var(), by=small_var.dan
    )

    assert result.status == "refused"
    assert "annonce 3 dossiers transmis mais en contient 1" in result.message
    assert not Dossier.objects.exists() and Person.objects.count() == persons_before
    assert list(FlowImport.objects.values_list("status", flat=True)) == ["refused"]
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_IMPORT, what__contains="refusé").exists()


def test_a_faulty_dossier_is_reported_and_the_others_applied(small_var) -> None:
    data = (
        flow(
            NOVEMBER,
            household("0001"),
            household(
                "0002",
                persons=(
                    PersonRow(Role.APPLICANT, "Durand", "Paul", datetime.date(1970, 1, 2), sex="1"),
                ),
            ),
        )
        .getvalue()
        .replace(b"1970-01-02", b"1970-02-31")
    )

    result = import_flux(io.BytesIO(data), department=var(), by=None)

    assert (result.created, result.rejected) == (1, 1)
    (rejection,) = result.rejections
    assert rejection.startswith("dossier n° 0002 (ligne ")
    assert "élément DTNAI) : « 1970-02-31 » n'est pas une date valide" in rejection


def test_a_territory_without_its_departement_service_is_refused(db) -> None:
    result = import_flux(flow(NOVEMBER, household("0001")), department=var(), by=None)
    assert result.status == "refused" and "aucun service du département" in result.message


def test_the_command_prints_the_report_and_exits_with_its_code(small_var, tmp_path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    good = tmp_path / "novembre.xml"
    good.write_bytes(flow(NOVEMBER, household("0001")).getvalue())
    out = io.StringIO()
    call_command("rsa", "import", "--departement", "83", str(good), stdout=out)
    assert f"{good} : 1 dossier(s) créé(s), 0 mis à jour" in out.getvalue()

    cut = tmp_path / "coupe.xml"
    cut.write_bytes(good.read_bytes()[:300])
    err = io.StringIO()
    try:
        call_command("rsa", "import", "--departement", "83", str(cut), stderr=err)
    except CommandError as exc:
        assert exc.returncode == 2
    else:
        raise AssertionError("a cut file must fail the command")
    assert "refusé" in err.getvalue() and "coupé" in err.getvalue()
