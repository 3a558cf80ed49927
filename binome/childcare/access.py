"""Who sees and does what in childcare: scoped fetches (404 outside reach) and predicates.

- A provider's page (its places) is for the active members of its organisation, an
  organisation of kind « Accueil du jeune enfant ».
- A solicitation (the request as the provider sees it) is for the provider's members.
- The territory's **childcare coordination** — the CAF agents (declared function) of the
  département's CAF, and its territory administrators — sees the requests of the
  département with the criteria only (no file, no diagnostic, no notes), and is told of
  those left unanswered past their due time.
- A request, as the team sees it, is fetched through the person's file
  (``binome.support.access.get_file_for_user``): its current team members.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from binome.access.predicates import active_memberships, is_member, roles_of
from binome.childcare.models import ChildcareRequest, Solicitation
from binome.organisations.models import (
    MemberFunction,
    Organisation,
    OrganisationKind,
    TerritoryRoleKind,
)


def provider_organisations(user: Any) -> list[Organisation]:
    """The childcare organisations the user is an active member of (no query of its own:
    the memberships are cached on the user)."""
    return [
        membership.organisation
        for membership in active_memberships(user)
        if membership.organisation.kind == OrganisationKind.CHILDCARE
    ]


def can_manage_places(user: Any, organisation: Organisation) -> bool:
    """Declare and confirm a childcare organisation's places: its active members."""
    return organisation.kind == OrganisationKind.CHILDCARE and is_member(user, organisation)


def get_provider_organisation_for_user(user: Any, organisation_id: int) -> Organisation:
    """The childcare organisation whose places the user keeps, or 404."""
    for organisation in provider_organisations(user):
        if organisation.pk == organisation_id:
            return organisation
    raise Http404


def get_solicitation_for_user(user: Any, solicitation_id: int) -> Solicitation:
    """A solicitation addressed to one of the user's childcare organisations, or 404."""
    qs = Solicitation.objects.filter(
        pk=solicitation_id,
        provider__organisation_id__in=sorted(o.pk for o in provider_organisations(user)),
    ).select_related("provider__organisation", "request", "request__organisation")
    solicitation = qs.first()
    if solicitation is None:
        raise Http404
    return solicitation


def coordinated_departments(user: Any) -> set[str]:
    """The départements whose childcare the user coordinates (no query of its own)."""
    departments = {
        membership.organisation.department_id
        for membership in active_memberships(user)
        if membership.organisation.kind == OrganisationKind.CAF
        and membership.function == MemberFunction.CAF_AGENT
    }
    departments |= {
        department_id
        for department_id, roles in roles_of(user).territory.items()
        if TerritoryRoleKind.TERRITORY_ADMIN in roles
    }
    return departments


def is_childcare_coordinator(user: Any, department_id: str) -> bool:
    """The user coordinates the childcare of the département: a CAF agent of its CAF, or
    one of its territory administrators."""
    return department_id in coordinated_departments(user)


def get_request_for_coordinator(user: Any, request_id: int) -> ChildcareRequest:
    """A request of a département the user coordinates, or 404."""
    childcare_request = (
        ChildcareRequest.objects.select_related("organisation", "created_by", "person")
        .filter(pk=request_id)
        .first()
    )
    if childcare_request is None or not is_childcare_coordinator(
        user, childcare_request.department_id
    ):
        raise Http404
    return childcare_request
