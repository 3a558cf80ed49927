"""Who may see or do what. Small named predicates, used by views, templates and the API.

The roles of a user are loaded once per request (``roles_of``) and cached on the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from binome.core.queries import PreparedQuery, instance_columns, instance_from_row
from binome.organisations.models import (
    MemberFunction,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    TerritoryRole,
    TerritoryRoleKind,
)


@dataclass
class Roles:
    member_of: set[int] = field(default_factory=set)
    admin_of: set[int] = field(default_factory=set)
    departments: set[str] = field(default_factory=set)
    territory: dict[str, set[str]] = field(default_factory=dict)  # department → roles

    def has_territory_role(self, department_id: str, role: str) -> bool:
        return role in self.territory.get(department_id, set())


# What ``active_memberships`` reads on every request: ``Membership.objects.working`` with
# its organisation and département, compiled once per process (its compilation cost five
# times its execution), the same instances built from the row.
_WORKING_RELATED = ("organisation", "organisation__department")
_WORKING = PreparedQuery(
    lambda p: Membership.objects.working(p.user).values(
        *instance_columns(Membership, *_WORKING_RELATED)
    ),
    user=int,
)


def active_memberships(user: Any) -> list[Membership]:
    """The user's active memberships of active organisations, by organisation name, their
    organisation and its département loaded (one query, cached on the user object: the
    roles and the header's organisation switcher read the same list)."""
    cached: list[Membership] | None = getattr(user, "_binome_memberships", None)
    if cached is not None:
        return cached
    memberships: list[Membership] = []
    if user.is_authenticated:
        memberships = [
            instance_from_row(row, Membership, *_WORKING_RELATED)
            for row in _WORKING.run(user=user.pk)
        ]
    user._binome_memberships = memberships
    return memberships


# The user's territory roles: read on every request (the second factor's check), compiled
# once per process.
_TERRITORY_ROLES = PreparedQuery(
    lambda p: TerritoryRole.objects.filter(user_id=p.user).values("department_id", "role"),
    user=int,
)


def roles_of(user: Any) -> Roles:
    """The user's active memberships and territory roles (cached on the user object)."""
    cached: Roles | None = getattr(user, "_binome_roles", None)
    if cached is not None:
        return cached
    roles = Roles()
    if user.is_authenticated:
        for membership in active_memberships(user):
            roles.member_of.add(membership.organisation_id)
            roles.departments.add(membership.organisation.department_id)
            if membership.role == Role.ADMIN:
                roles.admin_of.add(membership.organisation_id)
        for row in _TERRITORY_ROLES.run(user=user.pk):
            roles.territory.setdefault(row["department_id"], set()).add(row["role"])
            roles.departments.add(row["department_id"])
    user._binome_roles = roles
    return roles


def forget_roles(user: Any) -> None:
    """Drop the cached roles after a change of membership or role."""
    for cached in ("_binome_roles", "_binome_memberships"):
        if hasattr(user, cached):
            delattr(user, cached)


def is_territory_admin(user: Any, department_id: str) -> bool:
    """The user administers the territory of this département."""
    return roles_of(user).has_territory_role(department_id, "territory_admin")


def is_archivist(user: Any, department_id: str) -> bool:
    """The user is the territory's archivist: reads the files of its intermediate archive."""
    return roles_of(user).has_territory_role(department_id, TerritoryRoleKind.ARCHIVIST)


def is_any_territory_admin(user: Any) -> bool:
    """The user administers at least one territory."""
    return any("territory_admin" in r for r in roles_of(user).territory.values())


def is_member(user: Any, organisation: Organisation) -> bool:
    """The user is an active member of this organisation."""
    return organisation.pk in roles_of(user).member_of


def is_organisation_admin(user: Any, organisation: Organisation) -> bool:
    """The user is an administrator of this organisation."""
    return organisation.pk in roles_of(user).admin_of


def works_in_department(user: Any, department_id: str) -> bool:
    """The user belongs to an organisation of the département or holds a role over it."""
    return department_id in roles_of(user).departments


def can_view_organisation(user: Any, organisation: Organisation) -> bool:
    """Professionals see the organisations of the territories they work in."""
    return works_in_department(user, organisation.department_id)


def can_manage_organisation(user: Any, organisation: Organisation) -> bool:
    """Its own administrators and the territory's administrators manage an organisation."""
    return is_organisation_admin(user, organisation) or is_territory_admin(
        user, organisation.department_id
    )


def can_manage_members(user: Any, organisation: Organisation) -> bool:
    """Invite, deactivate and change the role of members."""
    return can_manage_organisation(user, organisation)


def can_create_organisation(user: Any, department_id: str) -> bool:
    """Only the territory's administrators add organisations to it."""
    return is_territory_admin(user, department_id)


def can_view_audit_log(user: Any, department_id: str) -> bool:
    """The territory's administrators read its audit log."""
    return is_territory_admin(user, department_id)


def requires_second_factor(user: Any) -> bool:
    """Organisation and territory administrators, and the archivists who read the files of
    an intermediate archive, must use a second factor (TOTP)."""
    roles = roles_of(user)
    return (
        bool(roles.admin_of)
        or is_any_territory_admin(user)
        or any(TerritoryRoleKind.ARCHIVIST in r for r in roles.territory.values())
        or user.is_superuser
    )


# --- Directory: organisations editing their own structures and services -----------------
#
# Every active member of an organisation, professional or administrator, edits its directory
# entries: in a crèche or a small association the person who knows the service (hours, free
# places, how to mobilise it) is rarely the account's administrator, and the administrator
# already controls who is a member. The safeguards are the territory's moderation of every
# structure an organisation declares, the audit log, and error reports by professionals.


def can_edit_directory_of(user: Any, organisation: Organisation) -> bool:
    """Active members (professional or admin) edit their organisation's structures and services."""
    return is_member(user, organisation)


def can_edit_directory_entry(user: Any, entry: Any) -> bool:
    """A structure or service owned by one of the user's organisations."""
    return entry.owner_id is not None and entry.owner_id in roles_of(user).member_of


def can_moderate_structures(user: Any, department_id: str) -> bool:
    """The territory's administrators approve or reject the structures declared in it."""
    return is_territory_admin(user, department_id)


def can_report_service(user: Any) -> bool:
    """Professionals (a membership or a territory role) report an error on a service."""
    roles = roles_of(user)
    return bool(roles.member_of or roles.territory)


def can_resolve_reports_of(user: Any, service: Any) -> bool:
    """The service's editors: its organisation's members, else the territory's admins."""
    if service.owner_id is not None:
        return can_edit_directory_entry(user, service)
    return service.department_id is not None and is_territory_admin(user, service.department_id)


def can_manage_api_tokens(user: Any, organisation: Organisation) -> bool:
    """An organisation's own administrators create and revoke its API tokens."""
    return is_organisation_admin(user, organisation)


def can_import_directory(user: Any, department_id: str) -> bool:
    """The territory's administrators import directory files for it."""
    return is_territory_admin(user, department_id)


# --- Persons' files: who accompanies, who steers, what a team role unlocks -------------
#
# What a user may see inside one file (``FileAccess``: the team, each item's visibility,
# the consent) is read by the app that owns the files, ``binome.support.access``, with the
# rules below.

# Organisations whose professionals accompany persons (and so may find one to join a team).
NOT_ACCOMPANYING = (OrganisationKind.CHILDCARE,)
# Roles on the team that need the NIR: the referent (RSA, CAF/MSA files) and the social
# worker (social rights). The dedicated counselor works with the France Travail id.
NIR_ROLES = frozenset({"referent", "social_worker"})
# Roles on the team that see and record the health situations of the diagnostic (the social
# side of the support); the others see the level of the health barrier only.
HEALTH_ROLES = frozenset({"referent", "social_worker"})
# The team roles a member may hold, by the function their organisation's administrator
# declared (``Membership.function``): a role is never taken on one's own word. A member
# whose function does not allow the role recorded on the team acts as a plain member.
ROLES_BY_FUNCTION: dict[str, frozenset[str]] = {
    MemberFunction.SOCIAL_WORKER: frozenset({"referent", "social_worker", "member"}),
    MemberFunction.DEDICATED_COUNSELOR: frozenset({"referent", "dedicated_counselor", "member"}),
    MemberFunction.FT_COUNSELOR: frozenset({"referent", "member"}),
}
# The role a member gets on a team they join, from their declared function.
DEFAULT_ROLE_OF_FUNCTION: dict[str, str] = {
    MemberFunction.SOCIAL_WORKER: "social_worker",
    MemberFunction.DEDICATED_COUNSELOR: "dedicated_counselor",
}


def allowed_team_roles(function: str | None) -> frozenset[str]:
    """The team roles that the declared function allows (``member`` for any function)."""
    return ROLES_BY_FUNCTION.get(function or "", frozenset({"member"}))


def effective_team_role(role: str, function: str | None) -> str:
    """The role recorded on the team, bounded by the member's declared function."""
    return role if role in allowed_team_roles(function) else "member"


def default_team_role(function: str | None) -> str:
    return DEFAULT_ROLE_OF_FUNCTION.get(function or "", "member")


def binome_seat(role: str, function: str | None) -> str:
    """The part of the binôme a team member takes: their role bounded by their declared
    function; a member recorded as « référent » takes the part their function gives (being
    the referent is a designation, not a part: a social worker who is the referent is still
    the binôme's social worker)."""
    role = effective_team_role(role, function)
    return default_team_role(function) if role == "referent" else role


def steering_departments(user: Any) -> list[str]:
    roles = roles_of(user)
    return sorted(d for d, kinds in roles.territory.items() if TerritoryRoleKind.STEERING in kinds)


def is_steering(user: Any, department_id: str) -> bool:
    """The user steers the département's programme: never a named file of it."""
    return department_id in steering_departments(user)


def can_view_organisation_dashboard(user: Any, organisation: Organisation) -> bool:
    """An organisation's figures (and its FSE+ completeness): its administrators, and its
    territory's administrators and steering officers."""
    department_id = organisation.department_id
    return (
        is_organisation_admin(user, organisation)
        or is_territory_admin(user, department_id)
        or is_steering(user, department_id)
    )


def can_view_national_steering(user: Any) -> bool:
    """National steering: the départements side by side (figures only), given by the
    permission ``steering.view_national_dashboard`` (or to the instance's superusers)."""
    return bool(user.is_active and user.has_perm("steering.view_national_dashboard"))


def finder_departments(user: Any) -> set[str]:
    """Départements where the user works in an organisation that accompanies persons."""
    cached: set[str] | None = getattr(user, "_binome_finder_departments", None)
    if cached is not None:
        return cached
    departments: set[str] = set()
    if user.is_authenticated:
        # From the memberships the request already loaded (one query shared with the roles).
        departments = {
            membership.organisation.department_id
            for membership in active_memberships(user)
            if membership.organisation.kind not in NOT_ACCOMPANYING
        }
        departments -= set(steering_departments(user))
    user._binome_finder_departments = departments
    return departments


def can_create_person(user: Any, department_id: str) -> bool:
    """A professional who accompanies persons in the département may open a file there."""
    return department_id in finder_departments(user)


def can_create_person_here(user: Any, membership: Any) -> bool:
    """The user may open a new file, and so orient a person, in the département of the
    organisation they work for now (``membership``: the request's current one)."""
    return bool(membership) and can_create_person(user, membership.organisation.department_id)


def works_with_named_persons(user: Any, membership: Any) -> bool:
    """The current organisation's lists of persons and referrals are the user's: not for a
    steering officer of its département, who sees figures only."""
    return bool(membership) and not is_steering(user, membership.organisation.department_id)
