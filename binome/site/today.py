"""The home page « À traiter »: what each professional has to do, in blocks.

A block is a function registered with :func:`block`. It receives the request's
:class:`Day` (who, for which organisation, today) and returns a :class:`BlockResult`: how
many things are waiting, the first few as :class:`Line` (each a link to where it is dealt
with) and the page that lists them all. A block reads its count and its first lines in
**one** query (``COUNT(*) OVER ()`` on the lines' query, :func:`first_lines`), so the page
costs a fixed number of queries whatever the volume of the territory.

To add a block (« diagnostics à valider », childcare requests, RSA orientations…): write a
function of a :class:`Day` returning a :class:`BlockResult`, decorate it with
``@block(key, title, applies=…)``; the registry's order is the page's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from binome.access.predicates import Roles, roles_of, steering_departments, works_with_named_persons
from binome.childcare.models import (
    ChildcareRequest,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
)
from binome.childcare.models import Urgency as ChildcareUrgency
from binome.core.queries import PreparedQuery
from binome.directory.models import ImportRun, ImportStatus, PublicationStatus, Structure
from binome.organisations.models import MemberFunction, OrganisationKind
from binome.people.models import Consent, ConsentScope
from binome.referrals.models import AWAITING, ReceivedCount, Referral, Urgency
from binome.rsa.home import managed_departments, to_orient_first
from binome.support.access import SHARED_VISIBILITIES
from binome.support.models import (
    Appointment,
    AppointmentStatus,
    Diagnostic,
    JoinRequest,
    Kind,
    State,
    TeamMember,
)

# Lines shown per block; « Tout voir » leads to the whole list.
LINES = 5
# An accompaniment ending within this many days is shown.
ENDING_WITHIN = timedelta(days=30)
# A failed import is shown this long, unless a later import of its territory succeeded.
FAILED_IMPORT_SHOWN = timedelta(days=30)


@dataclass(frozen=True)
class Line:
    """One thing to do: what, a link to where it is done, and a short detail."""

    text: str
    url: str
    detail: str = ""
    badge: str = ""  # « Urgente », « En retard », « Aujourd'hui »
    badge_class: str = ""


@dataclass
class BlockResult:
    count: int
    lines: list[Line]
    more_url: str
    more_label: str = "Tout voir"
    # The persons the lines name: the page writes one read line naming them all.
    person_ids: list[int] = field(default_factory=list)


@dataclass
class Day:
    """What the blocks read: the user, the organisation they act for, today."""

    user: Any
    membership: Any
    roles: Roles
    now: datetime
    today: date

    @property
    def organisation_id(self) -> int | None:
        return self.membership.organisation_id if self.membership else None

    @property
    def works_with_persons(self) -> bool:
        """A professional of a file team in their current organisation (not steering)."""
        return works_with_named_persons(self.user, self.membership)

    @property
    def administered_departments(self) -> list[str]:
        return sorted(
            code for code, kinds in self.roles.territory.items() if "territory_admin" in kinds
        )


@dataclass(frozen=True)
class BlockSpec:
    key: str
    title: str
    compute: Callable[[Day], BlockResult]
    applies: Callable[[Day], bool]


BLOCKS: list[BlockSpec] = []


def block(
    key: str, title: str, *, applies: Callable[[Day], bool]
) -> Callable[[Callable[[Day], BlockResult]], Callable[[Day], BlockResult]]:
    """Register a block of the home page (in the order of registration)."""

    def register(compute: Callable[[Day], BlockResult]) -> Callable[[Day], BlockResult]:
        BLOCKS.append(BlockSpec(key, title, compute, applies))
        return compute

    return register


@dataclass
class Block:
    key: str
    title: str
    result: BlockResult


def blocks_for(day: Day) -> list[Block]:
    """The blocks that apply to the user, computed (one query each)."""
    return [Block(spec.key, spec.title, spec.compute(day)) for spec in BLOCKS if spec.applies(day)]


def first_lines(qs: QuerySet[Any], limit: int = LINES) -> tuple[int, list[Any]]:
    """(how many rows ``qs`` has, its first ``limit`` rows), in one query."""
    rows = list(qs.annotate(home_total=Window(Count("pk")))[:limit])
    return (rows[0].home_total if rows else 0), rows


def _short_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def _person_name(person: Any) -> str:
    return str(person.full_name)


def _name(row: dict[str, Any]) -> str:
    """The person's name as the file shows it, from a prepared row's ``first_name`` and
    ``last_name`` (``Person.full_name``)."""
    return f"{row['first_name']} {row['last_name'].upper()}"


def _user_name(row: dict[str, Any]) -> str:
    """``User.get_full_name`` of a prepared row's ``user_first_name`` and ``user_last_name``."""
    return f"{row['user_first_name']} {row['user_last_name']}".strip()


PERSON_NAME = {"first_name": F("person__first_name"), "last_name": F("person__last_name")}


def _teams_of(user: Any) -> QuerySet[TeamMember]:
    """The current team rows of a user (a prepared query's parameter or a user)."""
    return TeamMember.objects.current().filter(user_id=user)


def _counted(qs: QuerySet[Any]) -> QuerySet[Any]:
    """``qs`` with the number of its rows on each row (``total``), cut to the lines shown:
    the count and the first lines in one statement."""
    return qs.annotate(total=Window(Count("pk")))[:LINES]


def _total(rows: list[dict[str, Any]]) -> int:
    return int(rows[0]["total"]) if rows else 0


# --- The file teams' professionals ---------------------------------------------------------
# Their blocks run on every home page of every professional: each is a prepared query,
# compiled once per process (binome.core.queries.PreparedQuery).


def _is_file_professional(day: Day) -> bool:
    return day.works_with_persons


def _awaiting_received(p: Any) -> QuerySet[Any]:
    return (
        Referral.objects.received_by(p.organisation)
        .awaiting()
        .order_by("due_on", "id")
        .values(
            "id",
            "urgency",
            "due_on",
            "due_at",
            "status",
            "person_id",
            sender_name=F("sender_organisation__name"),
            **PERSON_NAME,
        )
    )


_RECEIVED_URGENT = PreparedQuery(
    lambda p: _awaiting_received(p).filter(urgency=Urgency.URGENT)[:LINES], organisation=int
)
_RECEIVED_BY_DUE_DATE = PreparedQuery(
    lambda p: _awaiting_received(p).annotate(
        total=Coalesce(
            Subquery(
                ReceivedCount.objects.filter(organisation_id=p.organisation, status__in=AWAITING)
                .values("organisation_id")
                .annotate(total=Sum("count"))
                .values("total")
            ),
            0,
        )
    )[:LINES],
    organisation=int,
)


@block("received", "Orientations reçues à traiter", applies=_is_file_professional)
def received_referrals(day: Day) -> BlockResult:
    """The current organisation's referrals awaiting an answer: the urgent ones first, then
    the others by due date (the overdue ones first). Two reads of at most five rows each,
    in the order of the organisation's index of awaiting referrals; the count comes from
    the organisation's counters (an organisation may have thousands awaiting)."""
    organisation_id = day.organisation_id or 0
    urgent = _RECEIVED_URGENT.run(organisation=organisation_id)
    by_due_date = _RECEIVED_BY_DUE_DATE.run(organisation=organisation_id)
    count = _total(by_due_date)
    shown = {row["id"] for row in urgent}
    rows = (urgent + [r for r in by_due_date if r["id"] not in shown])[:LINES]
    lines = []
    for referral in rows:
        is_urgent = referral["urgency"] == Urgency.URGENT
        late = (
            referral["due_at"] < day.now
            if is_urgent and referral["due_at"]
            else referral["due_on"] < day.today
        )
        badge, badge_class = "", ""
        if is_urgent:
            badge, badge_class = "Urgente", "fr-badge--error"
        elif late:
            badge, badge_class = "En retard", "fr-badge--warning"
        elif referral["status"] == "sent":
            badge, badge_class = "Nouvelle", "fr-badge--new"
        lines.append(
            Line(
                text=_name(referral),
                url=reverse("referrals:detail", args=[referral["id"]]),
                detail=f"de {referral['sender_name']}, "
                f"réponse attendue le {_short_date(referral['due_on'])}",
                badge=badge,
                badge_class=badge_class,
            )
        )
    return BlockResult(
        count,
        lines,
        reverse("referrals:inbox"),
        person_ids=[r["person_id"] for r in rows],
    )


_SENT_UNANSWERED = PreparedQuery(
    lambda p: _counted(
        Referral.objects.filter(
            sender_organisation_id=p.organisation,
            sender_id=p.user,
            status__in=AWAITING,
            due_on__lt=p.today,
        )
        .order_by("due_on", "id")
        .values(
            "id",
            "due_on",
            "person_id",
            to_organisation_name=F("to_organisation__name"),
            structure_name=F("structure__name"),
            **PERSON_NAME,
        )
    ),
    organisation=int,
    user=int,
    today=date,
)


@block("sent", "Orientations envoyées sans réponse", applies=_is_file_professional)
def sent_unanswered(day: Day) -> BlockResult:
    """The user's referrals still unanswered past their due date."""
    rows = _SENT_UNANSWERED.run(
        organisation=day.organisation_id or 0, user=day.user.pk, today=day.today
    )
    lines = []
    for referral in rows:
        recipient = (
            referral["to_organisation_name"]
            or referral["structure_name"]
            or "les responsables des orientations"
        )
        lines.append(
            Line(
                text=_name(referral),
                url=reverse("referrals:detail", args=[referral["id"]]),
                detail=f"à {recipient}, réponse attendue le {_short_date(referral['due_on'])}",
                badge="Sans réponse",
                badge_class="fr-badge--warning",
            )
        )
    return BlockResult(
        _total(rows),
        lines,
        reverse("referrals:sent") + "?etat=a_traiter",
        person_ids=[r["person_id"] for r in rows],
    )


_APPOINTMENTS = PreparedQuery(
    lambda p: _counted(
        Appointment.objects.filter(
            person_id__in=_teams_of(p.user).values("person_id"),
            status=AppointmentStatus.PLANNED,
            at__gte=p.start,
            at__lt=p.end,
        )
        .order_by("at", "id")
        .values("at", "place", "person_id", **PERSON_NAME)
    ),
    user=int,
    start=datetime,
    end=datetime,
)


@block("appointments", "Rendez-vous du jour et de la semaine", applies=_is_file_professional)
def appointments(day: Day) -> BlockResult:
    """The planned appointments of the persons the user accompanies, today and the next six
    days."""
    start = timezone.make_aware(datetime.combine(day.today, time.min))
    tomorrow = start + timedelta(days=1)
    rows = _APPOINTMENTS.run(user=day.user.pk, start=start, end=start + timedelta(days=7))
    lines = []
    for appointment in rows:
        local = timezone.localtime(appointment["at"])
        today = appointment["at"] < tomorrow
        lines.append(
            Line(
                text=_name(appointment),
                url=reverse("people:detail", args=[appointment["person_id"]]) + "#rendez-vous",
                detail=f"le {local:%d/%m} à {local:%H}h{local:%M}, {appointment['place']}",
                badge="Aujourd'hui" if today else "",
                badge_class="fr-badge--info" if today else "",
            )
        )
    return BlockResult(
        _total(rows),
        lines,
        reverse("support:worklist"),
        "Voir mes personnes",
        person_ids=[a["person_id"] for a in rows],
    )


def _team_rows(p: Any, condition: Q, order: str) -> QuerySet[Any]:
    """The user's current team rows matching ``condition``, with their accompaniment's
    dates, by ``order`` then id, counted and cut to the lines shown."""
    return _counted(
        _teams_of(p.user)
        .filter(condition)
        .order_by(order, "id")
        .values(
            "person_id",
            "accompaniment_id",
            kind=F("accompaniment__kind"),
            started_on=F("accompaniment__started_on"),
            planned_end_on=F("accompaniment__planned_end_on"),
            followup_due_on=F("accompaniment__followup_due_on"),
            **PERSON_NAME,
        )
    )


def _kind_label(row: dict[str, Any]) -> str:
    return str(Kind(row["kind"]).label)


_TO_ACTIVATE = PreparedQuery(
    lambda p: _team_rows(p, Q(accompaniment__state=State.PROPOSED), "accompaniment__started_on"),
    user=int,
)


@block("to_activate", "Accompagnements à activer", applies=_is_file_professional)
def to_activate(day: Day) -> BlockResult:
    """The user's accompaniments proposed and not active yet, the oldest first."""
    rows = _TO_ACTIVATE.run(user=day.user.pk)
    lines = [
        Line(
            text=_name(row),
            url=reverse("people:detail", args=[row["person_id"]]) + "#synthese",
            detail=f"{_kind_label(row)}, proposé le {_short_date(row['started_on'])}",
        )
        for row in rows
    ]
    return BlockResult(
        _total(rows),
        lines,
        reverse("support:worklist"),
        "Voir mes personnes",
        person_ids=[row["person_id"] for row in rows],
    )


_ENDING = PreparedQuery(
    lambda p: _team_rows(
        p,
        Q(
            accompaniment__state__in=(State.ACTIVE, State.SUSPENDED),
            accompaniment__planned_end_on__lte=p.until,
        ),
        "accompaniment__planned_end_on",
    ),
    user=int,
    until=date,
)


@block(
    "ending", "Accompagnements qui se terminent dans les 30 jours", applies=_is_file_professional
)
def ending_soon(day: Day) -> BlockResult:
    """The user's open accompaniments whose planned end is within 30 days (or past)."""
    rows = _ENDING.run(user=day.user.pk, until=day.today + ENDING_WITHIN)
    lines = []
    for row in rows:
        end = row["planned_end_on"]
        past = end is not None and end < day.today
        lines.append(
            Line(
                text=_name(row),
                url=reverse("people:detail", args=[row["person_id"]]) + "#synthese",
                detail=f"{_kind_label(row)}, fin prévue le {_short_date(end) if end else '—'}",
                badge="Dépassée" if past else "",
                badge_class="fr-badge--warning" if past else "",
            )
        )
    return BlockResult(
        _total(rows),
        lines,
        reverse("support:worklist") + "?alerte=fin-proche&tri=fin",
        person_ids=[row["person_id"] for row in rows],
    )


_FOLLOWUPS = PreparedQuery(
    lambda p: _team_rows(
        p,
        Q(
            accompaniment__state=State.ENDED,
            accompaniment__followup_due_on__lte=p.today,
            accompaniment__followup_recorded_on__isnull=True,
        ),
        "accompaniment__followup_due_on",
    ),
    user=int,
    today=date,
)


@block("followups", "Situations à 6 mois à renseigner", applies=_is_file_professional)
def followups(day: Day) -> BlockResult:
    """Ended accompaniments whose situation six months after the exit is expected."""
    rows = _FOLLOWUPS.run(user=day.user.pk, today=day.today)
    lines = [
        Line(
            text=_name(row),
            url=reverse("support:accompaniment_followup", args=[row["accompaniment_id"]]),
            detail=f"attendue depuis le {_short_date(row['followup_due_on'])}"
            if row["followup_due_on"]
            else "",
        )
        for row in rows
    ]
    return BlockResult(
        _total(rows),
        lines,
        reverse("support:worklist") + "?alerte=situation-6-mois",
        person_ids=[row["person_id"] for row in rows],
    )


def _diagnostic_visible_to_co_author() -> Q:
    """A co-author sees the draft when it is of her organisation, when her organisation holds
    the file, or when it is shared with the team and the person consented to sharing her file
    (the rule of ``support.access``: every line opens)."""
    shared = Exists(
        Consent.objects.active()
        .of_scope(ConsentScope.SHARE_FILE)
        .filter(person_id=OuterRef("person_id"))
    )
    return (
        Q(organisation_id=F("co_author_organisation_id"))
        | Q(person__organisation_id=F("co_author_organisation_id"))
        | (Q(visibility__in=SHARED_VISIBILITIES) & Q(shared))
    )


_DIAGNOSTICS = PreparedQuery(
    lambda p: _counted(
        Diagnostic.objects.drafts()
        .filter(person_id__in=_teams_of(p.user).values("person_id"))
        .filter(
            Q(recorded_by_id=p.user) | (Q(co_author_id=p.user) & _diagnostic_visible_to_co_author())
        )
        .exclude(validations__user_id=p.user)
        .order_by("made_on", "id")
        .values("id", "made_on", "person_id", **PERSON_NAME)
    ),
    user=int,
)


@block("diagnostics", "Diagnostics partagés à valider", applies=_is_file_professional)
def diagnostics_to_validate(day: Day) -> BlockResult:
    """Drafts the user made or made with someone, on a team she is on, not validated by her."""
    rows = _DIAGNOSTICS.run(user=day.user.pk)
    lines = [
        Line(
            text=_name(row),
            url=reverse("support:diagnostic_detail", args=[row["id"]]),
            detail=f"brouillon du {_short_date(row['made_on'])}",
        )
        for row in rows
    ]
    return BlockResult(
        _total(rows),
        lines,
        reverse("support:worklist"),
        "Voir mes personnes",
        person_ids=[row["person_id"] for row in rows],
    )


_JOIN_REQUESTS = PreparedQuery(
    lambda p: _counted(
        JoinRequest.objects.pending()
        .filter(
            Q(
                accompaniment_id__in=_teams_of(p.user).values("accompaniment_id"),
                invited_by__isnull=True,
            )
            | Q(user_id=p.user, invited_by__isnull=False)
        )
        .order_by("created_at", "id")
        .values(
            "invited_by_id",
            "person_id",
            user_first_name=F("user__first_name"),
            user_last_name=F("user__last_name"),
            organisation_name=F("organisation__name"),
            **PERSON_NAME,
        )
    ),
    user=int,
)


@block("join_requests", "Demandes pour rejoindre une équipe", applies=_is_file_professional)
def join_requests(day: Day) -> BlockResult:
    """Requests to join one of the user's teams, and invitations the user received."""
    rows = _JOIN_REQUESTS.run(user=day.user.pk)
    url = reverse("support:join_requests")
    lines = [
        Line(
            text=_name(request),
            url=url,
            detail=(
                "vous êtes invité(e) à rejoindre l'équipe"
                if request["invited_by_id"]
                else f"{_user_name(request)} ({request['organisation_name']}) demande "
                "à rejoindre l'équipe"
            ),
        )
        for request in rows
    ]
    return BlockResult(_total(rows), lines, url, person_ids=[r["person_id"] for r in rows])


# --- The territories' orientation managers (RSA) ---------------------------------------------


def _is_orientation_manager(day: Day) -> bool:
    """An orientation manager of a territory (RSA beneficiaries to orient)."""
    return any("orientation_manager" in kinds for kinds in day.roles.territory.values())


@block("rsa_to_orient", "Bénéficiaires du RSA à orienter", applies=_is_orientation_manager)
def rsa_to_orient(day: Day) -> BlockResult:
    """The persons subject to rights and duties to orient, the six-week deadline first."""
    count, rows = to_orient_first(day.user, LINES)
    week = day.today + timedelta(days=7)
    lines = []
    for row in rows:
        due = row.orientation_due_on
        badge, badge_class = "", ""
        if due is not None and due < day.today:
            badge, badge_class = "Délai dépassé", "fr-badge--error"
        elif due is not None and due <= week:
            badge, badge_class = "Cette semaine", "fr-badge--warning"
        lines.append(
            Line(
                text=_person_name(row.person),
                url=reverse("rsa:orient", args=[row.pk]),
                detail=f"à orienter avant le {_short_date(due)}" if due else "",
                badge=badge,
                badge_class=badge_class,
            )
        )
    departments = managed_departments(day.user)
    return BlockResult(
        count=count,
        lines=lines,
        more_url=reverse("rsa:to_orient", args=[departments[0]]),
        person_ids=[row.person_id for row in rows if row.person_id],
    )


# --- Territory administrators ----------------------------------------------------------------


def _is_territory_admin(day: Day) -> bool:
    return bool(day.administered_departments)


def _is_childcare_provider(day: Day) -> bool:
    """A member of a childcare organisation (a crèche, a MAM, a labelled childminder…)."""
    membership = day.membership
    return bool(membership and membership.organisation.kind == OrganisationKind.CHILDCARE)


@block("childcare_received", "Demandes de garde d'enfant reçues", applies=_is_childcare_provider)
def childcare_received(day: Day) -> BlockResult:
    """The requests sent to the user's childcare organisation, waiting for its answer, the
    first due first. The provider sees only what the request needs: the parent's first name
    and initial."""
    qs = (
        Solicitation.objects.filter(
            provider__organisation_id=day.membership.organisation_id,
            status=SolicitationStatus.PENDING,
        )
        .select_related("request__person")
        .only(
            "request__urgency",
            "request__due_at",
            "request__person__first_name",
            "request__person__last_name",
        )
        .order_by("request__due_at", "id")
    )
    count, rows = first_lines(qs)
    lines = []
    for row in rows:
        due = timezone.localtime(row.request.due_at)
        emergency = row.request.urgency == ChildcareUrgency.EMERGENCY
        person = row.request.person
        lines.append(
            Line(
                text=f"{person.first_name} {person.last_name[:1]}.",
                url=reverse("childcare:solicitation", args=[row.pk]),
                detail=f"réponse attendue avant le {due:%d/%m à %Hh%M}",
                badge="Urgence" if emergency else "",
                badge_class="fr-badge--error" if emergency else "",
            )
        )
    return BlockResult(
        count,
        lines,
        reverse("childcare:providers_home"),
        "Voir les places et les demandes",
        person_ids=[row.request.person_id for row in rows],
    )


def _is_caf_agent(day: Day) -> bool:
    membership = day.membership
    return bool(
        membership
        and membership.organisation.kind == OrganisationKind.CAF
        and membership.function == MemberFunction.CAF_AGENT
    )


@block("childcare_to_check", "Demandes de garde : critères à vérifier", applies=_is_caf_agent)
def childcare_to_check(day: Day) -> BlockResult:
    """The childcare requests of the CAF's département whose criteria the CAF has not
    checked yet (an emergency may have started before the check)."""
    qs = (
        ChildcareRequest.objects.filter(
            department_id=day.membership.organisation.department_id,
            eligibility="",
        )
        .exclude(status__in=(RequestStatus.WITHDRAWN, RequestStatus.DRAFT))
        .select_related("person")
        .only("urgency", "due_at", "person__first_name", "person__last_name")
        .order_by("due_at", "id")
    )
    count, rows = first_lines(qs)
    lines = [
        Line(
            text=_person_name(row.person),
            url=reverse("childcare:coordination", args=[row.pk]),
            detail=row.get_urgency_display(),
        )
        for row in rows
    ]
    return BlockResult(
        count,
        lines,
        reverse("childcare:coordination_inbox"),
        person_ids=[row.person_id for row in rows],
    )


@block("failed_imports", "Imports de l'annuaire en échec", applies=_is_territory_admin)
def failed_imports(day: Day) -> BlockResult:
    """Failed imports of the last 30 days of the user's territories, unless a later import
    of the same territory succeeded."""
    departments = day.administered_departments
    qs = (
        ImportRun.objects.filter(
            department_id__in=departments,
            status=ImportStatus.FAILED,
            created_at__gte=day.now - FAILED_IMPORT_SHOWN,
        )
        .exclude(
            Exists(
                ImportRun.objects.filter(
                    department_id=OuterRef("department_id"),
                    status=ImportStatus.DONE,
                    created_at__gt=OuterRef("created_at"),
                )
            )
        )
        .only("department_id", "created_at")
        .order_by("-created_at", "-id")
    )
    count, rows = first_lines(qs)
    lines = [
        Line(
            text=f"Import du {timezone.localtime(run.created_at):%d/%m/%Y à %H:%M}",
            url=reverse("directory:import_detail", args=[run.department_id, run.pk]),
            detail=f"territoire {run.department_id}",
            badge="Échec",
            badge_class="fr-badge--error",
        )
        for run in rows
    ]
    return BlockResult(count, lines, reverse("directory:import_list", args=[departments[0]]))


@block("moderation", "Structures à modérer", applies=_is_territory_admin)
def structures_to_moderate(day: Day) -> BlockResult:
    """Structures declared by organisations, waiting for the territory's moderation."""
    departments = day.administered_departments
    qs = (
        Structure.objects.filter(department_id__in=departments, status=PublicationStatus.PENDING)
        .only("name", "department_id")
        .order_by("id")
    )
    count, rows = first_lines(qs)
    lines = [
        Line(
            text=structure.name,
            url=reverse("directory:moderation", args=[structure.department_id]),
            detail=f"territoire {structure.department_id}",
        )
        for structure in rows
    ]
    return BlockResult(count, lines, reverse("directory:moderation", args=[departments[0]]))


def today_for(request: Any) -> Day:
    now = timezone.now()
    return Day(
        user=request.user,
        membership=request.current_membership,
        roles=roles_of(request.user),
        now=now,
        today=timezone.localdate(now),
    )


def steered(day: Day) -> list[str]:
    """The départements the user steers (their home page leads to their figures)."""
    return steering_departments(day.user)
