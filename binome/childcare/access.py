"""Who sees and does what in childcare: scoped fetches (404 outside reach) and predicates.

- A provider's page (its places) is for the active members of its organisation, an
  organisation of kind « Accueil du jeune enfant ».
- A solicitation (the request as the provider sees it) is for the provider's members.
- A request, as the team sees it, is fetched through the person's file
  (``binome.support.access.get_file_for_user``): its current team members.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from binome.access.predicates import active_memberships, is_member
from binome.childcare.models import Solicitation
from binome.organisations.models import Organisation, OrganisationKind


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
