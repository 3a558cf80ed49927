"""The inbox's pages: keyset pagination on ``(due_on, id)`` and light rows.

A tab's list is one or two *segments*, each read in ``(due_on, id)`` order straight from
an index of the organisation's referrals (``referral_inbox_awaiting``,
``referral_inbox_order``): « À traiter » is one segment (overdue first is the oldest due
date first); « Toutes » is the overdue awaiting referrals, then all the others. A page is
the 50 rows after (or before) the *cursor* of the previous page's last (or next page's
first) row — ``segment.due_on.id`` in the URL, so a page has a shareable address — not an
``OFFSET``: page 200 costs what page 1 costs. ``id`` breaks the ties between equal due
dates, so that no row is shown twice or skipped.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from django.db.models import Func, IntegerField, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from binome.accounts.models import User
from binome.core.queries import PreparedQuery
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.referrals.models import AWAITING, Referral, ReferralKind, Status, Urgency

PAGE_SIZE = 50
# The cursor's query parameters: the page after this key, the page before it; « fin »
# before: the last page.
AFTER, BEFORE, END = "apres", "avant", "fin"
INVALID_CURSOR = (
    "Le lien de cette page n'est pas valide (il a peut-être été modifié) : voici la première "
    "page de la liste."
)

SUCCESS = {Status.ACCEPTED, Status.STARTED, Status.COMPLETED}
FAILURE = {Status.DECLINED, Status.EXPIRED, Status.NO_SHOW, Status.ABANDONED}
KIND_LABELS = dict(ReferralKind.choices)
STATUS_LABELS = dict(Status.choices)


class BadCursor(ValueError):
    """A cursor that is not one this module wrote."""


@dataclass(frozen=True)
class Cursor:
    segment: int
    due_on: date
    id: int

    def encode(self) -> str:
        return f"{self.segment}.{self.due_on.isoformat()}.{self.id}"

    @classmethod
    def decode(cls, text: str, segments: int) -> Cursor:
        try:
            segment, day, pk = text.split(".")
            cursor = cls(int(segment), date.fromisoformat(day), int(pk))
        except ValueError as exc:  # wrong shape, a date or a number that is none
            raise BadCursor(text) from exc
        if not 0 <= cursor.segment < segments or not 0 < cursor.id < 2**63:
            raise BadCursor(text)
        return cursor


def segments(
    qs: QuerySet[Referral, Any], tab: str, today: date | None, now: datetime | None = None
) -> list[QuerySet[Referral, Any]]:
    """The tab's list as segments, each in ``(due_on, id)`` order: their concatenation is
    the inbox's order (overdue first — an urgent referral as soon as its due time has
    passed —, then by due date)."""
    if tab == "toutes":
        late = Q(due_on__lt=today)
        if now is not None:
            # An urgent referral past its due time is due today at the latest: the bound on
            # ``due_on`` keeps the segment a range of the inbox's index.
            late = Q(due_on__lte=today) & (late | Q(urgency=Urgency.URGENT, due_at__lt=now))
        overdue = Q(status__in=AWAITING) & late
        return [qs.filter(overdue), qs.exclude(overdue)]
    return [qs]


@dataclass
class KeysetPage:
    """One page of rows and the cursors of the links around it (None: no such page)."""

    rows: list[Any]
    previous: str | None  # ``avant=`` of « Page précédente » (« Première page »: no cursor)
    next: str | None  # ``apres=`` of « Page suivante » (« Dernière page »: ``avant=fin``)

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous or self.next)


def _key(referral: Any, segment: int) -> Cursor:
    return Cursor(segment, referral.due_on, referral.id)


# The columns the rows need (not the referral's texts), read as named tuples (no model
# instances): a page's rows.
ROW_FIELDS = (
    "id",
    "kind",
    "status",
    "urgency",
    "due_on",
    "due_at",
    "sent_at",
    "person_id",
    "sender_id",
    "sender_organisation_id",
    "assigned_to_id",
)
InboxReferral = namedtuple("InboxReferral", ROW_FIELDS)  # type: ignore[misc]

# The statements of the lists' pages, one per shape (filters, segment, bound, direction,
# number of rows): compiled once per process. At most a few hundred shapes exist; the
# bound is a safeguard.
_STATEMENTS: dict[tuple[Any, ...], PreparedQuery] = {}
_MOST_STATEMENTS = 2000


class PreparedList:
    """A tab's list, read by segments and cursors through prepared statements.

    ``build`` makes the list's queryset from the prepared query's parameters (``p.<name>``
    for each of ``parameters``, given as ``name=(type, value)``); ``shape`` names what
    ``build`` does apart from them (the tab and which filters apply): one statement is
    compiled per shape and page kind, and run with the values of each request. The rows are
    :class:`InboxReferral` tuples.
    """

    def __init__(
        self,
        shape: tuple[Any, ...],
        build: Callable[[Any], QuerySet[Referral, Any]],
        tab: str,
        today: date,
        now: datetime,
        **parameters: tuple[type, Any],
    ) -> None:
        self._shape = (shape, tab)
        self._build = build
        self._tab = tab
        self._types = {name: kind for name, (kind, _) in parameters.items()}
        self._values = {name: value for name, (_, value) in parameters.items()}
        # The segments' bounds (« Toutes »: overdue first) are parameters of their reads.
        self._segment_types = dict(self._types)
        self._segment_values = dict(self._values)
        if tab == "toutes":
            self._segment_types.update(today=date, now=datetime)
            self._segment_values.update(today=today, now=now)
        self.segments = 2 if tab == "toutes" else 1

    @staticmethod
    def _prepared(
        key: tuple[Any, ...], build: Callable[[Any], QuerySet[Any, Any]], types: dict[str, type]
    ) -> PreparedQuery:
        statement = _STATEMENTS.get(key)
        if statement is None:
            if len(_STATEMENTS) >= _MOST_STATEMENTS:
                _STATEMENTS.clear()
            statement = _STATEMENTS[key] = PreparedQuery(build, **types)
        return statement

    def count(self) -> int:
        """The number of referrals in the list."""
        statement = self._prepared(
            (self._shape, "count"),
            lambda p: (
                self._build(p)
                .order_by()
                .values(n=Func(template="COUNT(*)", output_field=IntegerField()))
            ),
            self._types,
        )
        return int(statement.run(**self._values)[0]["n"])

    def rows(self, segment: int, bound: Cursor | None, forward: bool, limit: int) -> list[Any]:
        """Up to ``limit`` rows of the segment after (``forward``) or before ``bound`` (from
        the segment's start or end when None), in the direction read."""

        def build(p: Any) -> QuerySet[Any, Any]:
            part = segments(
                self._build(p), self._tab, getattr(p, "today", None), getattr(p, "now", None)
            )[segment]
            if bound is not None and forward:
                part = part.filter(
                    Q(due_on__gt=p.due_on) | Q(due_on=p.due_on, id__gt=p.id),
                    # The same rows; PostgreSQL starts the index scan at this bound, where
                    # the OR alone made it read the organisation's rows from its first due
                    # date (page 10 of « acceptées en cours » read 66,000 index entries on
                    # the national data: 40 ms for 51 rows).
                    due_on__gte=p.due_on,
                )
            elif bound is not None:
                part = part.filter(
                    Q(due_on__lt=p.due_on) | Q(due_on=p.due_on, id__lt=p.id),
                    due_on__lte=p.due_on,  # the index's bound
                )
            order = ("due_on", "id") if forward else ("-due_on", "-id")
            return part.values(*ROW_FIELDS).order_by(*order)[:limit]

        key = (self._shape, segment, bound is not None, forward, limit)
        if bound is None:
            statement = self._prepared(key, build, self._segment_types)
            values = self._segment_values
        else:
            types = {**self._segment_types, "due_on": date, "id": int}
            statement = self._prepared(key, build, types)
            values = {**self._segment_values, "due_on": bound.due_on, "id": bound.id}
        return [InboxReferral(**row) for row in statement.run(**values)]


def _forward(parts: PreparedList, start: Cursor | None, limit: int) -> list[Any]:
    """Up to ``limit`` (row, segment) after ``start`` (from the beginning when None)."""
    found: list[Any] = []
    for index in range(parts.segments):
        if start is not None and index < start.segment:
            continue
        bound = start if start is not None and index == start.segment else None
        found += [(r, index) for r in parts.rows(index, bound, True, limit - len(found))]
        if len(found) >= limit:
            break
    return found


def _backward(parts: PreparedList, end: Cursor | None, limit: int) -> list[Any]:
    """Up to ``limit`` (row, segment) before ``end`` (from the very end when None), in the
    list's order."""
    found: list[Any] = []
    for index in reversed(range(parts.segments)):
        if end is not None and index > end.segment:
            continue
        bound = end if end is not None and index == end.segment else None
        found += [(r, index) for r in parts.rows(index, bound, False, limit - len(found))]
        if len(found) >= limit:
            break
    found.reverse()
    return found


def keyset_page(parts: PreparedList, params: Any) -> tuple[KeysetPage, bool]:
    """The page the query parameters ask for, and whether a cursor was refused (then the
    first page is given)."""
    after, before = params.get(AFTER), params.get(BEFORE)
    try:
        if before is not None:
            end = None if before == END else Cursor.decode(before, parts.segments)
            found = _backward(parts, end, PAGE_SIZE + 1)
            if found:  # the list's start may give a short page: no row is shown twice
                more_before = len(found) > PAGE_SIZE
                found = found[-PAGE_SIZE:]
                return _page(found, more_before=more_before, more_after=end is not None), False
            # Nothing before this key any more: the first page.
        elif after is not None:
            start = Cursor.decode(after, parts.segments)
            found = _forward(parts, start, PAGE_SIZE + 1)
            if found:
                return _page(
                    found[:PAGE_SIZE], more_before=True, more_after=len(found) > PAGE_SIZE
                ), False
            # Nothing after this key any more: the last page.
            found = _backward(parts, None, PAGE_SIZE + 1)
            more_before = len(found) > PAGE_SIZE
            return _page(found[-PAGE_SIZE:], more_before=more_before, more_after=False), False
    except BadCursor:
        found = _forward(parts, None, PAGE_SIZE + 1)
        return _page(found[:PAGE_SIZE], more_before=False, more_after=len(found) > PAGE_SIZE), True
    found = _forward(parts, None, PAGE_SIZE + 1)
    return _page(found[:PAGE_SIZE], more_before=False, more_after=len(found) > PAGE_SIZE), False


def _page(found: list[Any], *, more_before: bool, more_after: bool) -> KeysetPage:
    rows = [row for row, _ in found]
    return KeysetPage(
        rows=rows,
        previous=_key(*found[0]).encode() if more_before and found else None,
        next=_key(*found[-1]).encode() if more_after and found else None,
    )


@dataclass(frozen=True)
class InboxRow:
    """What the inbox shows of one referral, computed once (the template only reads)."""

    pk: str  # as written in the page (no number formatting)
    url: str
    person: str
    commune: str
    sender_organisation: str
    sender: str
    sent_on: str
    kind: str
    due_on: str
    overdue: bool
    awaiting: bool
    status: str
    status_class: str
    urgent: bool
    assigned_to: str
    due_time: str = ""  # an urgent referral's: « avant aujourd'hui 16h00 »


def due_time_text(due_at: datetime, today: date) -> str:
    """« avant aujourd'hui 16h00 », « avant demain 09h30 », « avant le 09/12 à 16h00 »."""
    local = timezone.localtime(due_at)
    hour = f"{local:%H}h{local:%M}"
    day = local.date()
    if day == today:
        return f"avant aujourd'hui {hour}"
    if day == today + timedelta(days=1):
        return f"avant demain {hour}"
    return f"avant le {local:%d/%m} à {hour}"


# The persons, users and organisations a page's rows name, read by id: three single-table
# statements (planned in a fraction of a millisecond, where one statement joining the seven
# tables took ~10 ms to plan), compiled once per process (their ORM compilation cost more
# than their execution), as plain rows (no model instances).
_PERSONS = PreparedQuery(
    lambda p: (
        Person.objects.filter(pk__any=p.ids)
        .order_by()
        .values("pk", "first_name", "last_name", "commune__name")
    ),
    ids=list,
)
_USERS = PreparedQuery(
    lambda p: User.objects.filter(pk__any=p.ids).order_by().values("pk", "first_name", "last_name"),
    ids=list,
)
_ORGANISATIONS = PreparedQuery(
    lambda p: Organisation.objects.filter(pk__any=p.ids).order_by().values("pk", "name"),
    ids=list,
)


def inbox_rows(referrals: list[Any], today: date, now: datetime | None = None) -> list[InboxRow]:
    """The rows of a page (named tuples of :data:`ROW_FIELDS`), with the names of their
    persons, senders, assignees and sending organisations."""
    # The names as ``Person.full_name`` and ``User.get_full_name`` write them.
    persons = {
        row["pk"]: (f"{row['first_name']} {row['last_name'].upper()}", row["commune__name"] or "")
        for row in _PERSONS.run(ids=list({r.person_id for r in referrals}))
    }
    users = {
        row["pk"]: f"{row['first_name']} {row['last_name']}".strip()
        for row in _USERS.run(
            ids=list(
                {r.sender_id for r in referrals}
                | {r.assigned_to_id for r in referrals if r.assigned_to_id}
            )
        )
    }
    organisations = {
        row["pk"]: row["name"]
        for row in _ORGANISATIONS.run(ids=list({r.sender_organisation_id for r in referrals}))
    }
    prefix = reverse("referrals:detail", args=[0]).removesuffix("0/")
    now = now or timezone.now()
    zone = timezone.get_current_timezone()  # what ``timezone.localtime`` reads, once
    rows = []
    for referral in referrals:
        person, commune = persons[referral.person_id]
        awaiting = referral.status in AWAITING
        status_class = (
            "fr-badge--success"
            if referral.status in SUCCESS
            else "fr-badge--error"
            if referral.status in FAILURE
            else ""
            if referral.status == Status.WITHDRAWN
            else "fr-badge--info"
        )
        urgent = referral.urgency == Urgency.URGENT
        timed = urgent and referral.due_at is not None
        overdue = awaiting and (
            referral.due_at < now if timed and referral.due_at else referral.due_on < today
        )
        rows.append(
            InboxRow(
                pk=str(referral.id),
                url=f"{prefix}{referral.id}/",
                person=person,
                commune=commune,
                sender_organisation=organisations.get(referral.sender_organisation_id, ""),
                sender=users[referral.sender_id],
                sent_on=f"{referral.sent_at.astimezone(zone):%d/%m/%Y}",
                kind=KIND_LABELS.get(referral.kind, referral.kind),
                due_on=f"{referral.due_on:%d/%m/%Y}",
                overdue=overdue,
                awaiting=awaiting,
                status=STATUS_LABELS.get(referral.status, referral.status),
                status_class=status_class,
                urgent=urgent,
                assigned_to=users.get(referral.assigned_to_id, ""),
                due_time=due_time_text(referral.due_at, today) if timed and referral.due_at else "",
            )
        )
    return rows


# One row of the inbox's table, as the template wrote it: the checkbox (labelled with the
# person's name), the person and her commune, the sender, the kind, the awaited answer, the
# state, the assignee. Its values are escaped before they are put in (``_Escaped``).
_ROW = (
    "<tr>"
    '<td><div class="fr-checkbox-group fr-checkbox-group--sm">'
    '<input type="checkbox" id="choix-{pk}" name="referrals" value="{pk}">'
    '<label class="fr-label" for="choix-{pk}">'
    '<span class="fr-sr-only">Choisir l\'orientation de {person}</span></label></div></td>'
    '<td><a href="{url}">{person}</a>{commune}</td>'
    '<td>{sender_organisation}<br><span class="fr-text--sm">{sender}, le {sent_on}</span></td>'
    "<td>{kind}</td>"
    "<td>{due}</td>"
    '<td><span class="fr-badge fr-badge--sm {status_class}">{status}</span>{urgent}</td>'
    "<td>{assigned_to}</td>"
    "</tr>"
)
_COMMUNE = '<br><span class="fr-text--sm">{}</span>'
_OVERDUE = '<span class="fr-badge fr-badge--sm fr-badge--error">En retard : {}</span>'
_URGENT = '<span class="fr-badge fr-badge--sm fr-badge--warning">Urgente</span>'


class _Escaped(dict[str, str]):
    """Texts escaped for HTML, each distinct text once: a page's rows repeat their kinds,
    states, senders and dates. ``html.escape`` is what ``django.utils.html.escape`` runs,
    without its wrapper's cost on ~500 calls a page (the same characters escaped)."""

    def __missing__(self, text: str) -> str:
        self[text] = escaped = escape(text)
        return escaped


def rows_html(rows: list[InboxRow]) -> SafeString:
    """The table's rows written in one pass, every value escaped (a template spent more
    than half of the page's time on their ~350 variables and tags; ``format_html`` per
    row, a fifth of it on escaping the same labels again)."""
    e = _Escaped()
    return mark_safe(  # noqa: S308 - every value below is escaped
        "".join(
            _ROW.format(
                pk=e[row.pk],
                url=e[row.url],
                person=e[row.person],
                commune=_COMMUNE.format(e[row.commune]) if row.commune else "",
                sender_organisation=e[row.sender_organisation],
                sender=e[row.sender],
                sent_on=e[row.sent_on],
                kind=e[row.kind],
                due=(
                    _OVERDUE.format(e[row.due_time or row.due_on])
                    if row.overdue
                    else e[row.due_time or row.due_on]
                    if row.awaiting
                    else "—"
                ),
                status_class=e[row.status_class],
                status=e[row.status],
                urgent=_URGENT if row.urgent else "",
                assigned_to=e[row.assigned_to or "—"],
            )
            for row in rows
        )
    )


def options_html(choices: list[tuple[str, str]]) -> SafeString:
    """``<option>`` elements for (value, label) pairs, written in one pass, escaped."""
    return mark_safe(  # noqa: S308 - escaped
        "".join(
            f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in choices
        )
    )
