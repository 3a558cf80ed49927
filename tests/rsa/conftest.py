"""An RSA territory in miniature: the small Var, its orientation manager Mia, a CCAS, and
the households a monthly CAF flow brought."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import pytest
from django.utils import timezone

from binome.accounts.models import User
from binome.organisations.models import (
    MemberFunction,
    Organisation,
    OrganisationKind,
    TerritoryRole,
    TerritoryRoleKind,
)
from binome.rsa.actions import import_flux
from binome.rsa.flux import FluxHeader, RightState, Role
from binome.rsa.flux_writer import DossierRow, PersonRow, write_flux
from binome.rsa.models import Beneficiary
from binome.territories.models import Department
from tests.factories import SmallTerritory, make_member, make_organisation


@dataclass
class RsaTerritory:
    var: SmallTerritory
    mia: User  # the département's orientation manager
    ccas: Organisation
    ccas_worker: User
    # Beneficiaries by first name: Hélène (due first), Noël her spouse, Farid (no fixed
    # address, a France Travail id), Gaëlle (not subject to rights and duties: never listed).
    people: dict[str, Beneficiary]


def rsa_flow(header: FluxHeader, *dossiers: DossierRow) -> io.BytesIO:
    out = io.BytesIO()
    write_flux(out, header, dossiers)
    out.seek(0)
    return out


def build_rsa_territory(var: SmallTerritory) -> RsaTerritory:
    mia = make_member("Mia", var.departement, function=MemberFunction.OTHER)
    TerritoryRole.objects.create(
        user=mia, department_id="83", role=TerritoryRoleKind.ORIENTATION_MANAGER
    )
    ccas = make_organisation("CCAS de Toulon", OrganisationKind.CCAS)
    ccas_worker = make_member("Cyril", ccas, function=MemberFunction.SOCIAL_WORKER)
    today = timezone.localdate()
    header = FluxHeader("CAF", "M", today - datetime.timedelta(days=20), None)
    import_flux(
        rsa_flow(
            header,
            DossierRow(
                number="1001",
                matricule="1111111",
                requested_on=today - datetime.timedelta(days=30),
                state=RightState.OPEN,
                family_situation="MAR",
                persons=(
                    PersonRow(Role.APPLICANT, "Lefèvre", "Hélène", datetime.date(1985, 5, 3)),
                    PersonRow(Role.SPOUSE, "Lefèvre", "Noël", datetime.date(1983, 2, 9), sex="1"),
                    PersonRow(
                        Role.CHILD, "Lefèvre", "Zoé", datetime.date(2019, 8, 1), subject=False
                    ),
                ),
            ),
            DossierRow(
                number="1002",
                matricule="2222222",
                requested_on=today - datetime.timedelta(days=30),
                state=RightState.AWAITING_DECISION,
                no_fixed_address=True,
                persons=(
                    PersonRow(
                        Role.APPLICANT,
                        "Benali",
                        "Farid",
                        datetime.date(1990, 1, 2),
                        sex="1",
                        france_travail_id="1234567A",
                    ),
                ),
            ),
            DossierRow(
                number="1003",
                matricule="3333333",
                requested_on=today - datetime.timedelta(days=30),
                state=RightState.OPEN,
                persons=(
                    PersonRow(
                        Role.APPLICANT, "Morel", "Gaëlle", datetime.date(1970, 3, 4), subject=False
                    ),
                ),
            ),
        ),
        department=Department.objects.get(code="83"),
        by=mia,
    )
    people = {b.first_name: b for b in Beneficiary.objects.select_related("dossier", "person")}
    # Hélène's deadline comes first, then Noël's, then Farid's.
    for days, name in ((3, "Hélène"), (10, "Noël"), (15, "Farid")):
        Beneficiary.objects.filter(pk=people[name].pk).update(
            orientation_due_on=today + datetime.timedelta(days=days)
        )
        people[name].refresh_from_db()
    return RsaTerritory(var, mia, ccas, ccas_worker, people)


@pytest.fixture
def rsa_var(small_var: SmallTerritory) -> RsaTerritory:
    return build_rsa_territory(small_var)
