"""The childcare figures on a small known data set: every number is counted by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from binome.childcare.figures import childcare_section
from binome.childcare.models import ChildcareRequest, Placement, Provider, Solicitation
from binome.core.figures import FigureScope, registered_sections
from binome.people.models import Consent
from tests.childcare.conftest import Essonne, record_childcare_consent

PARIS = ZoneInfo("Europe/Paris")
JANUARY = FigureScope(department="91", start=date(2026, 1, 1), end=date(2026, 1, 31))
NOW = datetime(2026, 3, 1, tzinfo=PARIS)


def moment(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PARIS)


def a_request(essonne: Essonne, urgency: str, created_at: datetime, status: str) -> Any:
    return ChildcareRequest.objects.create(
        person=essonne.parent,
        department_id="91",
        organisation=essonne.charlie.memberships.get().organisation,
        created_by=essonne.charlie,
        reason="entretien",
        needed_on=created_at.date(),
        schedule="9 h - 12 h",
        urgency=urgency,
        consent=Consent.objects.get(person=essonne.parent),
        status=status,
        created_at=created_at,
        due_at=created_at + timedelta(days=1),
    )


def answer(request: Any, provider: Provider, status: str, at: datetime | None) -> Solicitation:
    return Solicitation.objects.create(
        request=request,
        provider=provider,
        status=status,
        sent_at=request.created_at,
        answered_at=at,
    )


def placement(
    solicitation: Solicitation,
    started_on: date,
    ended_on: date | None = None,
    children: int = 1,
    **end: Any,
) -> None:
    Placement.objects.create(
        solicitation=solicitation,
        request=solicitation.request,
        provider=solicitation.provider,
        person=solicitation.request.person,
        children=children,
        started_on=started_on,
        ends_on=started_on + timedelta(days=182),
        status="terminee" if ended_on else "en_cours",
        ended_on=ended_on,
        end_reason="echeance" if ended_on else "",
        **end,
    )


@pytest.fixture
def january(essonne: Essonne) -> Essonne:
    record_childcare_consent(essonne.parent, essonne.charlie)
    creche, home = essonne.creche, essonne.home_care  # 4 AVIP places; none
    # Emergencies: answered in 4 h (accepted), in 36 h (declined), never, withdrawn unanswered.
    r1 = a_request(essonne, "urgence", moment(1, 5, 10), "acceptee")
    p1 = answer(r1, home, "acceptee", moment(1, 5, 14))
    answer(r1, creche, "close", moment(1, 5, 14))
    r2 = a_request(essonne, "urgence", moment(1, 10, 9), "refusee")
    answer(r2, creche, "refusee", moment(1, 11, 21))
    a_request(essonne, "urgence", moment(1, 20, 8), "envoyee")
    a_request(essonne, "urgence", moment(1, 25, 8), "retiree")
    # Places: answered in 6 days (accepted), in 21 days (declined); one filed in December.
    r5 = a_request(essonne, "place", moment(1, 2, 9), "acceptee")
    p5 = answer(r5, creche, "acceptee", moment(1, 8, 9))
    r6 = a_request(essonne, "place", moment(1, 15, 9), "refusee")
    answer(r6, creche, "refusee", moment(2, 5, 9))
    r7 = a_request(essonne, "place", moment(12, 20, year=2025), "acceptee")
    p7 = answer(r7, creche, "acceptee", moment(12, 22, year=2025))
    # Older placements, ended in the summer: their six-month situations count in January.
    r8 = a_request(essonne, "place", moment(6, 1, year=2025), "acceptee")
    p8 = answer(r8, creche, "acceptee", moment(6, 2, year=2025))
    r9 = a_request(essonne, "place", moment(4, 20, year=2025), "acceptee")
    p9 = answer(r9, creche, "acceptee", moment(4, 21, year=2025))
    placement(p1, date(2026, 1, 6), date(2026, 1, 6), end_outcome="recherche_emploi")
    placement(p5, date(2026, 1, 12))
    placement(p7, date(2025, 12, 28), date(2026, 1, 15), children=2, end_outcome="emploi_durable")
    placement(
        p8,
        date(2025, 6, 10),
        date(2025, 7, 10),
        end_outcome="emploi_transition",
        followup_outcome="formation_qualifiante",
        followup_recorded_on=date(2026, 1, 12),
    )
    placement(p9, date(2025, 5, 1), date(2025, 7, 20), end_outcome="recherche_emploi")
    return essonne


def values(section: Any) -> dict[str, Any]:
    return {figure.key: figure.value for figure in section.figures}


def test_the_section_counts_a_known_month(january: Essonne) -> None:
    section = childcare_section(JANUARY, now=NOW)
    assert section is not None
    assert values(section) == {
        "requests": 6,
        "emergencies": 4,
        "emergency_within": 33.3,  # 1 within 24 h of 3 known (the withdrawn one left out)
        "emergency_median": 20.0,  # 4 h and 36 h
        "places": 2,
        "place_within": 50.0,
        "place_median": 13.5,  # 6 and 21 days
        "placements": 3,
        "occupancy": 41.1,  # (1 + 20 + 15 * 2) child-days over 4 places * 31 days
        "families": 1,
        "ended": 2,
        "end_job": 1,
        "end_training": 0,
        "end_search": 1,
        "followup_job": 0,
        "followup_training": 1,
        "followup_recorded": 1,
    }
    by_provider = {t.key: t for t in section.tables}["by_provider"].rows
    assert by_provider == (
        ("Crèche des Tilleuls", 4, 2, 40.3, 1, 1, 0),
        ("Garde à domicile Essonne", 0, 1, None, 1, 0, 0),
    )
    by_organisation = {t.key: t for t in section.tables}["by_organisation"].rows
    assert by_organisation == (("France Travail Évry", 6, 33.3, 50.0, 2, 1, 1, 0),)


def test_the_previous_period_reads_the_figures_not_the_tables(january: Essonne) -> None:
    """The dashboard asks the previous period for its figures only: the same figures, in
    the three statements of the totals, without the five that the tables by provider and by
    organisation add."""
    from dataclasses import replace

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    whole = childcare_section(JANUARY, now=NOW)
    with CaptureQueriesContext(connection) as captured:
        figures_only = childcare_section(replace(JANUARY, figures_only=True), now=NOW)
    assert whole is not None and figures_only is not None
    assert figures_only.figures == whole.figures
    assert figures_only.tables == ()
    assert len(captured.captured_queries) == 3


def test_the_scope_restricts_the_figures(january: Essonne) -> None:
    assert (
        childcare_section(
            FigureScope(department="83", start=date(2026, 1, 1), end=date(2026, 1, 31)), now=NOW
        )
        is None
    )
    creche = FigureScope(
        department="91",
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        organisation_id=january.creche.organisation_id,
    )
    section = childcare_section(creche, now=NOW)
    assert section is not None
    assert values(section)["requests"] == 4  # r1 (closed for it), r2, r5, r6
    assert values(section)["placements"] == 2
    assert ("childcare", childcare_section) in [
        (key, getattr(f, "__wrapped__", f)) for key, f in registered_sections()
    ]


def test_the_coordination_page_shows_the_section(january: Essonne) -> None:
    from tests.childcare.test_deadlines import caf_agent_of_the_essonne

    karima = caf_agent_of_the_essonne()
    url = reverse("childcare:figures")
    response = january.var.client(karima).get(url, {"debut": "2026-01-01", "fin": "2026-01-31"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Garde d&#x27;enfants (AVIP)" in content
    assert "Crèche des Tilleuls" in content
    assert "41,1" in content
    assert january.var.client(january.charlie).get(url).status_code == 404
    bad = january.var.client(karima).get(url, {"debut": "2026-02-01", "fin": "2026-01-01"})
    assert bad.status_code == 400
    assert "La fin de la période précède son début." in bad.content.decode()


def test_the_section_reads_its_figures_and_tables_in_one_statement_each(
    january: Essonne,
) -> None:
    """The requests, the placements and the AVIP places are each read once for the totals
    and the tables by provider and by organisation together (grouping sets), then the
    organisations' names: four statements, where each table used to read its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        section = childcare_section(JANUARY, now=NOW)
    assert section is not None
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 4
    assert sum("GROUPING SETS" in sql for sql in statements) == 3


def test_the_tables_still_list_an_organisation_whose_placements_count_nothing(
    january: Essonne,
) -> None:
    """A placement over long before the period (not even in the six-month follow-up's
    window) counts in no figure: the totals do not read it, but its provider and the
    organisation that asked for it keep their row of zeros in the tables, as before."""
    from tests.factories import make_organisation

    mairie = make_organisation("CCAS d'Évry", "ccas", department="91")
    old = a_request(january, "place", moment(1, 6, year=2025), "acceptee")
    ChildcareRequest.objects.filter(pk=old.pk).update(organisation=mairie)
    placement(
        answer(old, january.home_care, "acceptee", moment(1, 7, year=2025)),
        date(2025, 1, 13),
        date(2025, 3, 1),
        end_outcome="emploi_durable",
    )
    section = childcare_section(JANUARY, now=NOW)
    assert section is not None
    assert values(section)["placements"] == 3 and values(section)["end_job"] == 1
    tables = {t.key: t.rows for t in section.tables}
    assert tables["by_provider"] == (
        ("Crèche des Tilleuls", 4, 2, 40.3, 1, 1, 0),
        ("Garde à domicile Essonne", 0, 1, None, 1, 0, 0),
    )
    assert tables["by_organisation"] == (
        ("CCAS d'Évry", 0, None, None, 0, 0, 0, 0),
        ("France Travail Évry", 6, 33.3, 50.0, 2, 1, 1, 0),
    )


def test_each_requests_first_answer_is_read_from_the_answered_solicitations_index(
    january: Essonne,
) -> None:
    """The requests of the period are read from their département's index by filing time,
    and each one's first answer from the partial index of the answered solicitations,
    without visiting either table (no hash of the country's solicitations)."""
    from dataclasses import replace

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        childcare_section(replace(JANUARY, figures_only=True), now=NOW)
    (sql,) = [q["sql"] for q in captured.captured_queries if "childcare_solicitation" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = set()
    nodes = [plan]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if "Relation Name" in node:
            scans.add((node["Node Type"], node["Relation Name"], node.get("Index Name")))
    assert scans == {
        ("Index Only Scan", "childcare_childcarerequest", "childcare_request_figures"),
        ("Index Only Scan", "childcare_solicitation", "childcare_solicitation_answer"),
    }


def test_each_placement_carries_the_organisation_that_asked_for_it(january: Essonne) -> None:
    """The figures group the placements by the organisation that filed their request, a
    copy the database keeps on each placement: whoever writes it (the ORM, raw SQL, a
    placement written before its request in the same transaction), and when the request
    changes hands, the table by organisation follows."""
    from django.db import connection, transaction

    from tests.factories import make_organisation

    def copied() -> set[tuple[int | None, int]]:
        return {
            (p.request_organisation_id, p.request.organisation_id)
            for p in Placement.objects.select_related("request")
        }

    evry = january.charlie.memberships.get().organisation
    assert copied() == {(evry.pk, evry.pk)}
    # A stray write of the copy, a full save: the request's organisation again.
    Placement.objects.update(request_organisation=january.creche.organisation)
    assert copied() == {(evry.pk, evry.pk)}
    some = Placement.objects.first()
    assert some is not None
    some.request_organisation_id = None
    some.save()
    assert copied() == {(evry.pk, evry.pk)}
    # The request changes hands: its placements follow, and so does the table.
    ccas = make_organisation("CCAS d'Évry", "ccas", department="91")
    late = ChildcareRequest.objects.get(created_at=moment(12, 20, year=2025))  # r7
    late.organisation = ccas
    late.save()
    assert Placement.objects.get(request=late).request_organisation_id == ccas.pk
    section = childcare_section(JANUARY, now=NOW)
    assert section is not None
    by_organisation = {t.key: t for t in section.tables}["by_organisation"].rows
    assert by_organisation == (
        ("CCAS d'Évry", 0, None, None, 0, 0, 1, 0),  # r7's placement ended in a job
        ("France Travail Évry", 6, 33.3, 50.0, 2, 1, 0, 0),
    )
    # Raw SQL, the placement first and its request after (deferred foreign keys).
    request_id = ChildcareRequest.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    solicitation_id = Solicitation.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO childcare_placement (solicitation_id, request_id, provider_id,
                   person_id, children, status, started_on, ends_on, renewals, end_reason,
                   end_outcome, end_details, followup_outcome, followup_situation, created_at)
               VALUES (%s, %s, %s, %s, 1, 'en_cours', '2026-01-20', '2026-07-20', 0, '', '',
                       '', '', '', now())""",
            [solicitation_id, request_id, january.creche.pk, january.parent.pk],
        )
        ChildcareRequest.objects.create(
            id=request_id,
            person=january.parent,
            department_id="91",
            organisation=evry,
            created_by=january.charlie,
            reason="entretien",
            needed_on=date(2026, 1, 20),
            schedule="9 h - 12 h",
            urgency="place",
            consent=Consent.objects.get(person=january.parent),
            status="acceptee",
            created_at=moment(1, 18),
            due_at=moment(1, 18) + timedelta(days=15),
        )
        Solicitation.objects.create(
            id=solicitation_id,
            request_id=request_id,
            provider=january.creche,
            status="acceptee",
            sent_at=moment(1, 18),
            answered_at=moment(1, 19),
        )
    assert Placement.objects.get(solicitation_id=solicitation_id).request_organisation_id == (
        evry.pk
    )
