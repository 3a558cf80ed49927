"""The inbox at scale: tab counts kept exact by the database, keyset pagination (next,
previous, last; stable under equal due dates; a tampered cursor), queries pinned."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from binome.people.models import Person
from binome.referrals import actions
from binome.referrals.inbox import PAGE_SIZE
from binome.referrals.models import (
    AWAITING,
    Referral,
    ReferralKind,
    Status,
    check_received_counts,
    received_counts,
)
from tests.referrals.conftest import consent_to

ROW = re.compile(r'name="referrals"\s+value="(\d+)"')


def link(body: str, label: str) -> str | None:
    """The URL of the pagination link labelled ``label`` (its href is the query string
    alone), or None (absent or disabled)."""
    found = re.search(rf'href="([^"]*)"\s*>{label}</a>', body)
    return reverse("referrals:inbox") + html.unescape(found.group(1)) if found else None


def pks(body: str) -> list[int]:
    return [int(pk) for pk in ROW.findall(body)]


@pytest.fixture
def crowded(personas: dict[str, Any], orgs: dict[str, Any]) -> list[Referral]:
    """2 pages and a half of referrals to France Travail Quimper, on four due dates only
    (ties everywhere): half awaiting (some overdue), the others accepted or declined."""
    quimper, ccas, sophie = orgs["ft_quimper"], orgs["ccas_quimper"], personas["sophie"]
    today = timezone.localdate()
    statuses = [Status.SENT, Status.SEEN, Status.ACCEPTED, Status.DECLINED]
    persons = Person.objects.bulk_create(
        Person(
            department_id="29",
            organisation=ccas,
            first_name=f"Personne{i:03d}",
            last_name="Test",
            birth_date="1990-01-01",
        )
        for i in range(2 * PAGE_SIZE + 17)
    )
    return Referral.objects.bulk_create(
        Referral(
            person=person,
            kind=ReferralKind.GLOBAL,
            status=statuses[i % 4],
            decline_reason="other" if statuses[i % 4] == Status.DECLINED else "",
            department_id="29",
            sender=sophie,
            sender_organisation=ccas,
            to_organisation=quimper,
            reason="Test",
            due_on=today + timedelta(days=(i * 7) % 4 - 2),
            expires_on=today + timedelta(days=40),
        )
        for i, person in enumerate(persons)
    )


def inbox_order(organisation: Any) -> list[int]:
    """The inbox's order, computed here from its definition: the overdue awaiting
    referrals first, then by due date; the id breaks ties."""
    today = timezone.localdate()
    referrals = Referral.objects.filter(to_organisation=organisation)
    return [
        r.pk
        for r in sorted(
            referrals,
            key=lambda r: (not (r.status in AWAITING and r.due_on < today), r.due_on, r.pk),
        )
    ]


def test_the_counts_follow_every_write_path(
    personas: dict[str, Any], orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    quimper = orgs["ft_quimper"]
    assert check_received_counts() == {}  # bulk insert (the demo's and these)
    before = received_counts(quimper.pk)
    # An action (sent → seen → declined) …
    referral = next(r for r in crowded if r.status == Status.SENT)
    actions.mark_seen(referral=referral, by=personas["gwenael"])
    actions.decline(referral=referral, by=personas["gwenael"], reason="no_place")
    # … a set-based update, a delete, a referral sent through the form.
    Referral.objects.filter(pk__in=[r.pk for r in crowded[:10]], status=Status.SEEN).update(
        status=Status.EXPIRED
    )
    Referral.objects.filter(pk=crowded[-1].pk).delete()
    nadia = Person.objects.get(user=personas["nadia"])
    Referral.objects.filter(person=nadia, to_organisation=orgs["ccas_toulon"]).delete()
    consent_to(nadia, personas["ines"], orgs["ft_toulon"], recipient=orgs["ccas_toulon"])
    actions.send_referral(
        person=nadia,
        kind=ReferralKind.SOCIAL,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        to_organisation=orgs["ccas_toulon"],
        reason="Dette de loyer.",
    )
    assert check_received_counts() == {}
    after = received_counts(quimper.pk)
    assert after[Status.DECLINED] == before[Status.DECLINED] + 1
    assert after[Status.SENT] == before[Status.SENT] - 1 - (crowded[-1].status == Status.SENT)
    # The tabs show them.
    body = html.unescape(client_for("gwenael").get(reverse("referrals:inbox")).content.decode())
    awaiting = after.get(Status.SENT, 0) + after.get(Status.SEEN, 0)
    assert f"À traiter ({awaiting})" in body
    assert f"Orientations ({awaiting})" in body


def test_next_and_previous_walk_the_whole_list_once_in_order(
    orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    client = client_for("gwenael")
    expected = inbox_order(orgs["ft_quimper"])
    assert len(expected) > 2 * PAGE_SIZE
    seen: list[int] = []
    url: str | None = reverse("referrals:inbox") + "?etat=toutes"
    first_body = ""
    pages = 0
    while url:
        body = html.unescape(client.get(url).content.decode())
        first_body = first_body or body
        seen += pks(body)
        pages += 1
        url = link(body, "Page suivante")
    assert seen == expected and pages == 3
    assert link(first_body, "Page précédente") is None  # the first page has no previous
    # Backwards from the last page, the same list.
    url = link(first_body, "Dernière page")
    assert url is not None
    backwards: list[int] = []
    while url:
        body = html.unescape(client.get(url).content.decode())
        backwards = pks(body) + backwards
        url = link(body, "Page précédente")
    assert backwards == expected
    # A page's address is shareable: the same URL, the same rows.
    second = link(first_body, "Page suivante")
    assert second is not None and "apres=" in second
    assert pks(client.get(second).content.decode()) == expected[PAGE_SIZE : 2 * PAGE_SIZE]


def test_the_awaiting_tab_is_one_list_in_due_date_order(
    orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    client = client_for("gwenael")
    today = timezone.localdate()
    expected = [
        pk
        for pk in inbox_order(orgs["ft_quimper"])
        if Referral.objects.get(pk=pk).status in AWAITING
    ]
    body = html.unescape(client.get(reverse("referrals:inbox")).content.decode())
    rows = pks(body)
    following = link(body, "Page suivante")
    if following:
        rows += pks(client.get(following).content.decode())
    assert rows == expected
    overdue = Referral.objects.filter(pk__in=expected, due_on__lt=today).count()
    assert overdue and body.count("En retard") == overdue


@pytest.mark.parametrize(
    "query",
    [
        "apres=n'importe-quoi",
        "apres=7.2026-01-01.12",  # no such segment
        "avant=0.2026-13-45.12",  # no such date
        "apres=0.2026-01-01.-4",
        "apres=0.2026-01-01.999999999999999999999999",  # past bigint
        "avant=1.2026-01-01",
    ],
)
def test_a_tampered_cursor_gives_the_first_page_with_a_message(
    query: str, orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    response = client_for("gwenael").get(reverse("referrals:inbox") + "?etat=toutes&" + query)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "Le lien de cette page n'est pas valide" in body
    assert pks(body) == inbox_order(orgs["ft_quimper"])[:PAGE_SIZE]


def test_a_cursor_past_the_end_gives_the_last_page(
    orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    response = client_for("gwenael").get(
        reverse("referrals:inbox") + "?etat=toutes&apres=1.2099-01-01.1"
    )
    body = html.unescape(response.content.decode())
    expected = inbox_order(orgs["ft_quimper"])
    assert pks(body) == expected[-PAGE_SIZE:]
    assert link(body, "Page suivante") is None and link(body, "Page précédente")


@pytest.mark.parametrize(
    ("query", "most"),
    [
        # Session, user, device, memberships, roles; the tab counts, the page's rows, their
        # persons, users and organisations, the members to assign to; the header.
        ("", 12),
        ("?etat=toutes&apres=0.2000-01-01.1", 13),  # two segments: up to two row reads
        ("?etat=toutes&attribution=moi", 14),  # a filter: the list's total is counted
    ],
)
def test_the_inbox_reads_a_constant_number_of_queries(
    query: str,
    most: int,
    crowded: list[Referral],
    client_for: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client: Client = client_for("gwenael")
    client.get(reverse("referrals:inbox"))  # the session's first touch
    with django_assert_max_num_queries(most):
        response = client.get(reverse("referrals:inbox") + query)
    assert response.status_code == 200


@pytest.fixture
def orm_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements the ORM builds and compiles (not those of a query compiled once per
    process, which a cursor sends as they are): ``kind model`` for each."""
    built: list[str] = []
    for compiler in (SQLCompiler, SQLInsertCompiler):
        execute = compiler.execute_sql

        def counted(self: Any, *args: Any, _execute: Any = execute, **kwargs: Any) -> Any:
            built.append(f"{type(self).__name__} {self.query.model.__name__}")
            return _execute(self, *args, **kwargs)

        monkeypatch.setattr(compiler, "execute_sql", counted)
    return built


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?etat=toutes&attribution=personne",  # the list's total, the two segments
        "?etat=toutes&apres=0.2000-01-01.1",  # a cursor
        "?etat=en_cours&type=global&urgence=normal&avant=fin",  # the last page
    ],
)
def test_the_inbox_builds_only_the_statements_of_its_page(
    query: str,
    crowded: list[Referral],
    client_for: Any,
    orm_statements: list[str],
) -> None:
    # The session, the second factor's check, the memberships and roles, the tab counts,
    # the list's total and rows (one statement per shape of filters, cursor and direction),
    # the rows' persons, users and organisations and the members to assign to: compiled
    # once per process (their compilation by the ORM cost more than their execution). Left
    # to the ORM: the user (Django's) and the read log's row.
    client: Client = client_for("gwenael")
    client.get(reverse("referrals:inbox"))
    orm_statements.clear()

    response = client.get(reverse("referrals:inbox") + query)

    assert response.status_code == 200
    assert pks(response.content.decode())
    assert orm_statements == ["SQLCompiler User", "SQLInsertCompiler AuditEvent"]


def test_a_page_after_a_cursor_starts_the_index_scan_at_the_cursor(
    orgs: dict[str, Any], crowded: list[Referral], client_for: Any
) -> None:
    # Without a bound on the index's column, PostgreSQL read the organisation's referrals
    # from its first due date and filtered out every one before the cursor (66,000 index
    # entries for page 10 of « acceptées en cours » on the national data).
    client = client_for("gwenael")
    first = html.unescape(client.get(reverse("referrals:inbox") + "?etat=toutes").content.decode())
    second = link(first, "Page suivante")
    assert second is not None
    with CaptureQueriesContext(connection) as queries:
        client.get(second)
    [page_query] = [
        q["sql"] for q in queries if "referrals_referral" in q["sql"] and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_referral")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # as on the national data: in order
        cursor.execute(f"EXPLAIN {page_query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referral_inbox_order" in plan, plan
    assert re.search(r"Index Cond: .*due_on >= ", plan), plan


def test_the_rows_and_the_members_are_escaped(
    personas: dict[str, Any], orgs: dict[str, Any], client_for: Any
) -> None:
    """The rows and the members' options are written in Python: a name with markup or an
    ampersand is shown as text, never as markup."""
    quimper, ccas, sophie = orgs["ft_quimper"], orgs["ccas_quimper"], personas["sophie"]
    ccas.name = "CCAS <b>Quimper</b> & Cie"
    ccas.save(update_fields=["name"])
    gwenael = personas["gwenael"]
    gwenael.last_name = "O'Brien <i>&</i>"
    gwenael.save(update_fields=["last_name"])
    person = Person.objects.create(
        department_id="29",
        organisation=ccas,
        first_name='<script>alert("x")</script>',
        last_name="Martin & Fils",
        birth_date="1990-01-01",
    )
    referral = Referral.objects.create(
        person=person,
        kind=ReferralKind.GLOBAL,
        department_id="29",
        sender=sophie,
        sender_organisation=ccas,
        to_organisation=quimper,
        reason="Test",
        due_on=timezone.localdate() - timedelta(days=1),
        expires_on=timezone.localdate() + timedelta(days=40),
        assigned_to=gwenael,
    )
    body = client_for("gwenael").get(reverse("referrals:inbox")).content.decode()
    assert "<script>alert" not in body and "<b>Quimper" not in body and "<i>&" not in body
    name = escape(person.full_name)
    assert name == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; MARTIN &amp; FILS"
    detail = reverse("referrals:detail", args=[referral.pk])
    assert f'<a href="{detail}">{name}</a>' in body
    assert f"Choisir l'orientation de {name}</span>" in body
    assert "CCAS &lt;b&gt;Quimper&lt;/b&gt; &amp; Cie<br>" in body
    assert f"<td>{escape(gwenael.get_full_name())}</td>" in body  # assigned to
    assert f'<option value="{gwenael.pk}">{escape(gwenael.get_full_name())}</option>' in body
    assert "O&#x27;Brien &lt;i&gt;&amp;&lt;/i&gt;" in body
