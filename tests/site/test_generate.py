from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from stdnum.fr import siret as stdnum_siret

from binome.accounts.models import User
from binome.core.generation import GENERATED_DOMAIN, GENERATED_PASSWORD
from binome.organisations.models import (
    Membership,
    Organisation,
    Role,
    TerritoryRole,
    validate_siret,
)

pytestmark = pytest.mark.django_db

GENERATED = f".{GENERATED_DOMAIN}"


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate", "--scale", "tiny", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    users = User.objects.filter(email__endswith=GENERATED)
    organisations = Organisation.objects.filter(email__endswith=GENERATED)
    return {
        "emails": list(users.order_by("email").values_list("email", flat=True)),
        "organisations": sorted(
            organisations.values_list("name", "kind", "siret", "commune_id", "address")
        ),
        "memberships": sorted(
            Membership.objects.filter(user__email__endswith=GENERATED).values_list(
                "user__email", "organisation__name", "role", "job_title", "is_active"
            )
        ),
        "territory_roles": sorted(
            TerritoryRole.objects.filter(user__email__endswith=GENERATED).values_list(
                "user__email", "department_id", "role"
            )
        ),
    }


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    run("--seed", "1")
    first = snapshot()
    run("--seed", "1", "--reset")
    assert snapshot() == first
    run("--seed", "2", "--reset")
    other = snapshot()
    assert other["emails"] != first["emails"]
    assert other["organisations"] != first["organisations"]


def test_the_tiny_scale_generates_the_announced_volumes_in_one_departement():
    run("--seed", "3", "--department", "29")
    users = User.objects.filter(email__endswith="@tiny-d29-s3" + GENERATED)
    assert users.count() == 40
    organisations = Organisation.objects.filter(email__endswith=GENERATED)
    assert organisations.count() >= 7
    assert set(organisations.values_list("department_id", flat=True)) == {"29"}
    assert set(organisations.values_list("commune__department_id", flat=True)) == {"29"}
    # Everyone works somewhere; every organisation has members and at least one admin.
    assert not users.filter(memberships__isnull=True).exists()
    assert not organisations.annotate(
        admins=Count("memberships", filter=Q(memberships__role=Role.ADMIN))
    ).filter(admins=0)
    assert Membership.objects.filter(user__in=users).count() >= users.count()
    assert set(TerritoryRole.objects.filter(user__in=users).values_list("role", flat=True)) == {
        "territory_admin",
        "orientation_manager",
        "steering",
    }


def test_the_number_of_professionals_can_be_overridden():
    out = run("--seed", "1", "--professionals", "25")
    assert User.objects.filter(email__endswith="@tiny-d83-p25-s1" + GENERATED).count() == 25
    assert "25 professionnels" in out


def test_generated_sirets_are_valid():
    run("--seed", "4", "--professionals", "300")
    sirets = list(
        Organisation.objects.filter(email__endswith=GENERATED)
        .exclude(siret="")
        .values_list("siret", flat=True)
    )
    assert sirets
    assert len(set(sirets)) == len(sirets)
    for siret in sirets:
        validate_siret(siret)
        assert stdnum_siret.is_valid(siret)


def test_a_rerun_without_reset_does_not_duplicate():
    run("--seed", "5")
    before = snapshot()
    out = run("--seed", "5")
    assert "déjà présentes" in out
    assert snapshot() == before


def test_another_data_set_is_refused_without_reset():
    run("--seed", "5")
    with pytest.raises(CommandError, match="--reset"):
        run("--seed", "6")


def test_an_unknown_departement_is_refused():
    with pytest.raises(CommandError, match="n'existe pas"):
        run("--seed", "1", "--department", "00")


def test_generated_accounts_share_the_documented_password():
    run("--seed", "7")
    users = User.objects.filter(email__endswith=GENERATED)
    assert users.values("password").distinct().count() == 1
    assert check_password(GENERATED_PASSWORD, users.first().password)


def test_the_reset_removes_only_generated_rows(personas, orgs):
    demo_users = set(User.objects.values_list("email", flat=True))
    demo_organisations = set(Organisation.objects.values_list("name", flat=True))
    run("--seed", "8")
    generated = User.objects.filter(email__endswith=GENERATED)
    assert not demo_users & set(generated.values_list("email", flat=True))
    # A persona invited by a generated account: the reset clears "invited by", nothing more.
    membership = Membership.objects.get(user=personas["ines"], organisation=orgs["ft_toulon"])
    membership.invited_by = generated.first()
    membership.save(update_fields=["invited_by"])

    run("--seed", "9", "--reset")

    assert not User.objects.filter(email__endswith="-s8" + GENERATED).exists()
    assert set(User.objects.exclude(email__endswith=GENERATED).values_list("email", flat=True)) == (
        demo_users
    )
    assert set(
        Organisation.objects.exclude(email__endswith=GENERATED).values_list("name", flat=True)
    ) == (demo_organisations)
    membership.refresh_from_db()
    assert membership.invited_by is None
