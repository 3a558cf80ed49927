"""Orientations « vers l'accompagnement global » at France Travail reach the agency's
dedicated counselors (the members whose administrator declared the function « conseiller
dédié »), both ways: a social worker orients a job seeker to them, and, inside France
Travail, a counselor submits the situation of a person followed by a CCAS to the dedicated
counselors of their own agency (« et inversement », the Quimper convention).

Only such an orientation may be addressed to one's own organisation; the dedicated
counselors are told of it, see it in the agency's inbox and answer it; the one who accepts
joins the person's team."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from binome.access.predicates import active_memberships
from binome.accounts.models import User
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
)
from binome.referrals.models import Referral, ReferralKind


def goes_to_dedicated_counselors(kind: str, to_organisation: Organisation | None) -> bool:
    """An orientation to the binôme addressed to a France Travail organisation."""
    return (
        kind == ReferralKind.GLOBAL
        and to_organisation is not None
        and to_organisation.kind == OrganisationKind.FRANCE_TRAVAIL
    )


def reaches_dedicated_counselors(referral: Referral) -> bool:
    """The referral is answered by the dedicated counselors of its receiving organisation."""
    if referral.kind != ReferralKind.GLOBAL or referral.to_organisation_id is None:
        return False
    return goes_to_dedicated_counselors(referral.kind, referral.to_organisation)


def dedicated_counselors(organisation_id: int) -> QuerySet[User]:
    """The organisation's active members declared « conseiller dédié »."""
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.active()
        .filter(organisation_id=organisation_id, function=MemberFunction.DEDICATED_COUNSELOR)
        .values("user_id"),
    ).order_by("last_name", "first_name", "id")


def is_dedicated_counselor_of(user: Any, organisation_id: int | None) -> bool:
    """The user is declared « conseiller dédié » in that organisation (from the memberships
    the request already loaded)."""
    return any(
        membership.organisation_id == organisation_id
        and membership.function == MemberFunction.DEDICATED_COUNSELOR
        for membership in active_memberships(user)
    )


def _agencies_with_dedicated_counselors(department_id: str, exclude: int) -> list[str]:
    return list(
        Organisation.objects.filter(
            department_id=department_id,
            kind=OrganisationKind.FRANCE_TRAVAIL,
            is_active=True,
            pk__in=Membership.objects.active()
            .filter(function=MemberFunction.DEDICATED_COUNSELOR)
            .values("organisation_id"),
        )
        .exclude(pk=exclude)
        .order_by("name")
        .values_list("name", flat=True)[:5]
    )


def check_recipient(
    *, kind: str, by: User, organisation: Organisation, to_organisation: Organisation
) -> None:
    """Refuse, in French, an orientation that would reach nobody who may take it: to one's
    own organisation other than to its dedicated counselors, or to a France Travail
    organisation that declared none."""
    internal = to_organisation.pk == organisation.pk
    if kind == ReferralKind.RSA:  # the département may orient towards its own services
        return
    if internal and not goes_to_dedicated_counselors(kind, to_organisation):
        raise ValidationError(
            "Vous ne pouvez pas orienter vers votre propre organisation, sauf vers les "
            "conseillers dédiés de votre agence France Travail (accompagnement global)."
        )
    if not goes_to_dedicated_counselors(kind, to_organisation):
        return
    counselors = [user.pk for user in dedicated_counselors(to_organisation.pk)]
    if internal:
        counselors = [pk for pk in counselors if pk != by.pk]
    if counselors:
        return
    elsewhere = _agencies_with_dedicated_counselors(
        to_organisation.department_id, to_organisation.pk
    )
    hint = (
        " Agences du territoire qui en ont : " + ", ".join(elsewhere) + "."
        if elsewhere
        else " Aucune agence du territoire n'en a déclaré."
    )
    if internal and is_dedicated_counselor_of(by, to_organisation.pk):
        raise ValidationError(
            "Vous êtes le seul conseiller dédié déclaré de votre agence : ouvrez "
            "l'accompagnement global vous-même depuis le dossier." + hint
        )
    raise ValidationError(
        f"« {to_organisation.name} » n'a déclaré aucun conseiller dédié à l'accompagnement "
        "global : son administrateur déclare cette fonction dans la liste de ses membres." + hint
    )
