"""Who sees a person's file, and what of it: the rules of shared professional secrecy.

- A professional sees a person's file when they are a **current team member** of one of
  the person's accompaniments (``level = "team"``).
- Inside the file, each item (note, timeline event…) has a visibility: its author only,
  the author's organisation (the members of that organisation *on the team*), the team,
  or the team and the person. Items shared with the team by **another organisation than
  the one that holds the file** are seen by a team member only while the person's
  ``share_file`` consent is active; the holding organisation's team members see them
  always. Withdrawing the consent takes effect at the next query (nothing is cached).
- An **organisation administrator** sees only the basics (name, accompaniment state,
  team) of the persons one of their organisation's members is on the team of
  (``level = "basics"``).
- **Steering** roles never see a named file of their département (404), whatever
  their memberships.
- A file in the intermediate archive (``Person.archived_until``) is a 404 for everyone:
  only the territory's archivist reads it, on retention's pages.
- Everyone else gets a 404. The **professionals of the département** (not the crèches,
  not steering) who found a person through the identity search (NIR, or names and birth
  date: ``binome.people.matching``) see their minimal identity — name, birth year, commune —
  and may *ask* to join a team with a reason; the team grants it
  (``can_decide_join_request``). A typed id alone is a 404.
- The roles that unlock the NIR and health details are bounded by the function the
  member's organisation declared (``effective_team_role``), never chosen on a form.

Every read of a file or of an item goes through :func:`get_file_for_user`, which
writes the read to the audit log (``binome.access.audit.record_read``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from binome.access.audit import record_read_when_shown
from binome.access.predicates import (
    HEALTH_ROLES,
    NIR_ROLES,
    effective_team_role,
    finder_departments,
    is_steering,
    roles_of,
    steering_departments,
)
from binome.core.queries import USER_NAME, select_related_only
from binome.organisations.models import Membership, Organisation
from binome.people.models import Consent, ConsentScope

if TYPE_CHECKING:
    from binome.people.models import Person, PersonQuerySet
    from binome.support.models import Accompaniment, JoinRequest, TeamMember

Level = Literal["team", "basics"]
SHARED_VISIBILITIES = ("team", "team_and_person")


def member_function_of(user_field: str = "user", organisation_field: str = "organisation") -> Any:
    """A subquery: the declared function of the row's user in the row's organisation."""
    return Subquery(
        Membership.objects.filter(
            user=OuterRef(user_field), organisation=OuterRef(organisation_field), is_active=True
        ).values("function")[:1]
    )


@dataclass
class FileAccess:
    """What one user may see of one person's file, computed once per request."""

    user: Any
    person: Person
    level: Level
    team_organisations: set[int] = field(default_factory=set)
    team_roles: set[str] = field(default_factory=set)
    accompaniment_ids: set[int] = field(default_factory=set)
    shared: bool = False  # an active share_file consent
    # The current team members of all the person's accompaniments (user and organisation
    # loaded): the access is computed from them, and the file page lists them.
    team: list[TeamMember] = field(default_factory=list)

    @property
    def is_team(self) -> bool:
        return self.level == "team"

    @property
    def holds_file(self) -> bool:
        """The user is on the team for the organisation that holds the file."""
        return self.person.organisation_id in self.team_organisations

    def acting_organisation(self, current_membership: Membership | None) -> Organisation:
        """The organisation the user acts for in this file: the one they work for now when
        it is on the team, else one of their organisations on the team."""
        if current_membership and current_membership.organisation_id in self.team_organisations:
            return current_membership.organisation
        if not self.team_organisations:
            raise PermissionDenied
        return Organisation.objects.get(pk=min(self.team_organisations))

    def current_accompaniment(self) -> Accompaniment | None:
        """The newest open accompaniment of the person whose team the user is on."""
        from binome.support.models import Accompaniment

        return (
            Accompaniment.objects.filter(pk__in=sorted(self.accompaniment_ids))
            .open()
            .newest_first()
            .first()
        )

    def item_filter(self, *, author_field: str) -> Q:
        """The items of the file this user sees (see the module's docstring)."""
        if not self.is_team:
            return Q(pk__in=[])
        visible = Q(**{f"{author_field}_id": self.user.pk})
        visible |= Q(visibility="organisation", organisation_id__in=self.team_organisations)
        visible |= Q(
            visibility__in=SHARED_VISIBILITIES, organisation_id__in=self.team_organisations
        )
        if self.shared or self.holds_file:
            visible |= Q(visibility__in=SHARED_VISIBILITIES)
        return visible


def is_on_a_team_of(user: Any, person: Person) -> bool:
    """The user is a current team member of one of the person's accompaniments."""
    from binome.support.models import TeamMember

    return TeamMember.objects.current().filter(user=user, person=person).exists()


def can_decide_join_request(user: Any, join_request: JoinRequest, *, now: Any = None) -> bool:
    """An invitation: the invitee. A request: the accompaniment's designated referent, or
    any current member of its team when it has no referent on the team or once 48 hours
    have passed."""
    from django.utils import timezone

    from binome.support.models import TeamMember

    if join_request.status != "pending" or not user.is_authenticated:
        return False
    if join_request.is_invitation:
        return bool(join_request.user_id == user.pk)
    team = dict(
        TeamMember.objects.current()
        .filter(accompaniment_id=join_request.accompaniment_id)
        .values_list("pk", "user_id")
    )
    if user.pk not in team.values():
        return False
    referent_id = join_request.accompaniment.referent_id
    referent = team.get(referent_id) if referent_id is not None else None
    if referent is None or referent == user.pk:
        return True
    return bool((now or timezone.now()) >= join_request.open_to_whole_team_at)


def visible_persons(qs: PersonQuerySet, user: Any) -> PersonQuerySet:
    """Persons whose file (or its basics) the user sees."""
    from binome.support.models import TeamMember

    if not user.is_authenticated:
        return qs.none()
    roles = roles_of(user)
    reach = Q(pk__in=TeamMember.objects.current().filter(user=user).values("person_id"))
    if roles.admin_of:
        reach |= Q(
            pk__in=TeamMember.objects.current()
            .filter(organisation_id__in=sorted(roles.admin_of))
            .values("person_id")
        )
    return qs.filter(reach, archived_until__isnull=True).exclude(
        department_id__in=steering_departments(user)
    )


def findable_persons(qs: PersonQuerySet, user: Any) -> PersonQuerySet:
    return qs.filter(
        department_id__in=sorted(finder_departments(user)),
        merged_into__isnull=True,
        archived_until__isnull=True,
    )


def file_access(user: Any, person: Person) -> FileAccess | None:
    """The user's access to the person's file, or None (then: 404).

    One query (the person's current team, all accompaniments), and a second one for the
    ``share_file`` consent unless the person was loaded with ``share_consent`` annotated
    (as :func:`get_file_for_user` does).
    """
    from binome.support.models import TeamMember

    if (
        not user.is_authenticated
        or is_steering(user, person.department_id)
        # In the intermediate archive: out of every professional's reach (its archivist
        # reads it through retention's own page, each read with its reason).
        or person.archived_until is not None
    ):
        return None
    team: list[TeamMember] = list(
        select_related_only(
            TeamMember.objects.current().filter(person=person),
            user=USER_NAME,
            organisation=["name"],
        ).annotate(member_function=member_function_of())
    )
    mine = [member for member in team if member.user_id == user.pk]
    if mine:
        shared = getattr(person, "share_consent", None)
        if shared is None:
            shared = (
                Consent.objects.active()
                .filter(person=person, scope=ConsentScope.SHARE_FILE)
                .exists()
            )
        return FileAccess(
            user=user,
            person=person,
            level="team",
            team_organisations={member.organisation_id for member in mine},
            # What the organisation declared the member does bounds the role on the team.
            team_roles={
                effective_team_role(member.role, getattr(member, "member_function", None))
                for member in mine
            },
            accompaniment_ids={member.accompaniment_id for member in mine},
            shared=bool(shared),
            team=team,
        )
    admin_of = roles_of(user).admin_of
    if admin_of and any(member.organisation_id in admin_of for member in team):
        return FileAccess(user=user, person=person, level="basics", team=team)
    return None


def can_view_file(access: FileAccess | None) -> bool:
    """The whole file (within each item's visibility): current team members."""
    return access is not None and access.is_team


def can_view_nir(access: FileAccess | None) -> bool:
    """The NIR in clear: the team's referent and social worker (see ``NIR_ROLES``)."""
    return access is not None and access.is_team and bool(access.team_roles & NIR_ROLES)


def can_view_health_details(access: FileAccess | None) -> bool:
    """The situations of the diagnostic's sensitive (health) themes: the team's social
    worker and referent (``HEALTH_ROLES``).

    Everyone else who sees the diagnostic — a France Travail dedicated counselor, another
    member — sees the level of the health barrier (to plan around it), not what it is
    made of, and does not record it: at a re-evaluation the situations are carried over
    unseen. Comments on the health theme carry their own visibility (by default the
    author's organisation), like notes flagged as health.
    """
    return access is not None and access.is_team and bool(access.team_roles & HEALTH_ROLES)


def can_view_childcare(access: FileAccess | None) -> bool:
    """The household's children: team members (childcare is part of the support)."""
    return can_view_file(access)


def can_act_on_accompaniment(access: FileAccess | None, accompaniment: Accompaniment) -> bool:
    """Change state, extend, end, add a member: the current team of that accompaniment."""
    return access is not None and accompaniment.pk in access.accompaniment_ids


class FileMerged(Http404):
    """The file was merged into another one that the user sees (``follow_merged_file``
    turns it into a redirect; a view without it answers 404, as for any unknown file)."""

    def __init__(self, kept_id: int) -> None:
        super().__init__("Ce dossier a été fusionné dans un autre.")
        self.kept_id = kept_id


def follow_merged_file(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page of a file (``pk`` in its URL) that was merged into another: redirect a user
    who sees the surviving file to the same page of it; others keep their 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except FileMerged as moved:
            match = request.resolver_match
            if match is None:  # pragma: no cover - always set for a routed view
                raise
            url = reverse(match.view_name, args=args, kwargs={**kwargs, "pk": moved.kept_id})
            if request.GET:
                url += "?" + request.GET.urlencode()
            return redirect(url)

    return wrapper


def get_file_for_user(
    request: HttpRequest,
    person_id: int,
    *,
    what: str,
    level: Level = "team",
    item: Model | None = None,
    record: bool = True,
    annotations: Mapping[str, Any] | None = None,
) -> tuple[Person, FileAccess]:
    """The person and the user's access, or 404 outside their reach (403 for basics only).

    A GET is a read: it is written to the audit log with ``what`` (the page or item).
    ``annotations`` are read with the person's row (e.g. the file page's flags of its
    sections, so that an empty section costs no statement).
    """
    from binome.people.models import Consent, ConsentScope, Person

    # One row by its key: no ORDER BY (``first()`` would add the model's, by name, to
    # compile and plan on every page of a file).
    person = next(
        iter(
            Person.objects.select_related("commune", "department", "organisation")
            .annotate(
                share_consent=Exists(
                    Consent.objects.active().filter(
                        person=OuterRef("pk"), scope=ConsentScope.SHARE_FILE
                    )
                )
            )
            .annotate(**(annotations or {}))
            .filter(pk=person_id, merged_into__isnull=True)
            .order_by()[:1]
        ),
        None,
    )
    if person is None:
        _raise_if_merged(request, person_id, level)
        raise Http404
    access = file_access(request.user, person)
    if access is None:
        raise Http404
    if level == "team" and not access.is_team:
        raise PermissionDenied
    if record:
        record_read_when_shown(request=request, obj=item or person, person_id=person.pk, what=what)
    return person, access


def _raise_if_merged(request: HttpRequest, person_id: int, level: Level) -> None:
    """On a GET of a merged file, ``FileMerged`` when the user sees the surviving one."""
    from binome.people.models import Person

    if request.method != "GET":
        return
    kept_id = (
        Person.objects.filter(pk=person_id, merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )
    kept = Person.objects.filter(pk=kept_id, merged_into__isnull=True).first() if kept_id else None
    if kept is None:
        return
    access = file_access(request.user, kept)
    if access is not None and (level == "basics" or access.is_team):
        raise FileMerged(kept.pk)
