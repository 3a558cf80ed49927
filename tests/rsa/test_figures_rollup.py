"""The RSA figures' rollup (``rsa.rollup``): the figures of a département summed from it are
the live figures, over many kinds of periods and days of judgement, and the nightly job
keeps it right."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from binome.core.figures import FigureScope
from binome.organisations.models import OrganisationKind
from binome.rsa import rollup, tasks
from binome.rsa.demo import load_demo_rsa
from binome.rsa.figures import RsaFigures, rsa_figures, rsa_section
from binome.rsa.flux import RightState, Role
from binome.rsa.models import (
    Beneficiary,
    Dossier,
    FlowImport,
    MatchStatus,
    Orientation,
    OrientationKind,
)
from binome.rsa.rollup import EntrantsMonth, FiguresCoverage, OrientationsMonth
from tests.factories import make_organisation
from tests.rsa.conftest import RsaTerritory

TODAY = date(2026, 6, 17)  # the job's day: the rollup covers the months before June 2026
PERIODS = (
    (date(2026, 1, 1), date(2026, 3, 31)),  # whole months, all covered
    (date(2025, 1, 1), date(2025, 12, 31)),  # a year (its year's rows)
    (date(2024, 1, 2), date(2024, 12, 31)),  # a year less a day (2025's previous period)
    (date(2024, 3, 1), date(2025, 10, 31)),  # whole years and months around them
    (date(2025, 2, 10), date(2025, 5, 3)),  # days at both ends
    (date(2025, 3, 2), date(2025, 3, 30)),  # most of one month
    (date(2026, 4, 1), date(2026, 6, 30)),  # past the covered months (June: live)
    (date(2026, 5, 15), date(2026, 6, 10)),  # no whole month
    (date(2025, 3, 31), date(2025, 4, 1)),  # two days astride two months
    (date(2023, 1, 1), date(2023, 1, 31)),  # before everything
)
# The days the figures are judged on: the deadlines of the last covered months not over yet,
# then all over.
AS_OF = (TODAY, date(2026, 9, 30))
KINDS = (OrientationKind.EMPLOYMENT, OrientationKind.SOCIO_PROFESSIONAL, OrientationKind.SOCIAL)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


def _territory(rsa_var: RsaTerritory, how_many: int = 150) -> None:
    """Beneficiaries whose right opened anywhere from 2024 to June 2026, most of them bound
    by the rights and duties, in every state; most oriented (some twice), by three referent
    bodies of which two bear the same name; contracts and referents at any delay."""
    chance = random.Random(18)
    flow = FlowImport.objects.first()
    assert flow is not None
    person = rsa_var.people["Hélène"].person
    assert person is not None
    bodies = (
        rsa_var.ccas,
        make_organisation("Mission locale", OrganisationKind.ASSOCIATION),
        make_organisation("Mission locale", OrganisationKind.ASSOCIATION),
    )
    states = [value for value, _ in RightState.choices]
    for index in range(how_many):
        dossier = Dossier.objects.create(
            department_id="83",
            body="CAF",
            number=f"R{index}",
            state=chance.choice(states),
            first_import=flow,
            last_import=flow,
        )
        opened = date(2024, 1, 1) + timedelta(days=chance.randrange(900))
        beneficiary = Beneficiary.objects.create(
            dossier=dossier,
            role=Role.APPLICANT,
            match_status=MatchStatus.MATCHED,
            first_name=f"B{index}",
            last_name="Test",
            birth_date=date(1980, 1, 1),
            subject_to_rights_and_duties=chance.random() < 0.9,
            right_opened_on=opened,
        )
        notified = opened + timedelta(days=chance.randrange(120))
        for orientation_number in range(chance.choice((0, 1, 1, 1, 2))):
            if notified > TODAY:
                break
            kind = chance.choice((*KINDS, ""))
            signed = notified + timedelta(days=chance.randrange(60))
            designated = notified + timedelta(days=chance.randrange(40))
            Orientation.objects.create(
                beneficiary=beneficiary,
                person=person,
                department_id="83",
                kind=kind,
                delegated=not kind,
                referent_body=chance.choice(bodies),
                decided_at=_noon(notified),
                notified_on=notified,
                contract_signed_on=signed if signed <= TODAY and chance.random() < 0.6 else None,
                referent_designated_at=(
                    _noon(designated) if designated <= TODAY and chance.random() < 0.7 else None
                ),
                replaced_at=_noon(notified) if orientation_number == 0 else None,
            )
            notified += timedelta(days=chance.randrange(10, 200))
    # The last orientation of each beneficiary is the current one.
    for beneficiary in Beneficiary.objects.filter(dossier__number__startswith="R"):
        last = beneficiary.orientations.order_by("-notified_on", "-id").first()
        if last is not None:
            Orientation.objects.filter(beneficiary=beneficiary).update(replaced_at=_noon(TODAY))
            Orientation.objects.filter(pk=last.pk).update(replaced_at=None)


def _compared(figures: RsaFigures) -> RsaFigures:
    return replace(figures, refreshed_at=None)


def _live(scope: FigureScope, as_of: date) -> RsaFigures:
    """The figures counted live: the département without its coverage, for the time of the
    call (rolled back with the test)."""
    covered = list(FiguresCoverage.objects.filter(department_id=scope.department).values())
    FiguresCoverage.objects.filter(department_id=scope.department).delete()
    try:
        return rsa_figures(scope, as_of=as_of)
    finally:
        FiguresCoverage.objects.bulk_create(FiguresCoverage(**row) for row in covered)


def _assert_rolled_up_equals_live() -> None:
    for start, end in PERIODS:
        for as_of in AS_OF:
            scope = FigureScope("83", start, end)
            rolled = rsa_figures(scope, as_of=as_of)
            assert rolled.refreshed_at is not None
            assert _compared(rolled) == _live(scope, as_of), (start, end, as_of)
            # The previous period's key figures (no tables).
            alone = replace(scope, figures_only=True)
            rolled = rsa_figures(alone, as_of=as_of)
            assert replace(_compared(rolled), by_month=()) == replace(
                _live(alone, as_of), by_month=()
            ), (start, end, as_of, "figures only")


@pytest.fixture
def territory(rsa_var: RsaTerritory) -> RsaTerritory:
    _territory(rsa_var)
    return rsa_var


def test_the_figures_from_the_rollup_are_the_live_figures(territory: RsaTerritory) -> None:
    live = rsa_figures(FigureScope("83", date(2025, 1, 1), date(2025, 12, 31)), as_of=TODAY)
    assert live.entrants > 30 and live.contracts.orientations > 30  # a data set worth it
    assert live.orientation_median_days is not None and live.contracts.sign_median_days
    assert len(live.by_body) == 2  # the two bodies of one name are one row
    assert rollup.refresh(TODAY) > 0
    assert EntrantsMonth.objects.filter(span=rollup.Span.YEAR, month=date(2025, 1, 1)).exists()
    assert not EntrantsMonth.objects.filter(month__gte=date(2026, 6, 1)).exists()
    _assert_rolled_up_equals_live()
    # Built in February: the months since are counted live.
    rollup.refresh(date(2026, 2, 20))
    _assert_rolled_up_equals_live()


def test_whole_settled_months_read_the_rollup_alone(territory: RsaTerritory) -> None:
    """Over whole months covered and settled, no orientation is read and no entrant's first
    orientation looked up: the rollup's rows only (and the stock's days after the last one)."""
    rollup.refresh(TODAY)
    for start, end in (
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2025, 6, 1), date(2025, 8, 31)),
    ):
        with CaptureQueriesContext(connection) as captured:
            rsa_figures(FigureScope("83", start, end), as_of=TODAY)
            rsa_figures(FigureScope("83", start, end, figures_only=True), as_of=TODAY)
        statements = " ".join(query["sql"] for query in captured.captured_queries)
        assert "rsa_entrantsmonth" in statements and "rsa_orientationsmonth" in statements
        assert "FROM rsa_orientation " not in statements
        assert "min(o.notified_on)" not in statements


def test_the_nightly_job_keeps_the_rollup_right(territory: RsaTerritory) -> None:
    rollup.refresh(TODAY)
    assert rollup.check(TODAY) == []
    scope = FigureScope("83", date(2025, 1, 1), date(2025, 12, 31))
    before = rsa_figures(scope, as_of=TODAY)
    # Changes to covered months: an entrant of 2025 oriented today, a contract signed, a
    # dossier closed.
    waiting = Beneficiary.objects.filter(
        dossier__number__startswith="R",
        subject_to_rights_and_duties=True,
        right_opened_on__year=2025,
        orientations__isnull=True,
    ).first()
    person = territory.people["Hélène"].person
    assert waiting is not None and person is not None
    Orientation.objects.create(
        beneficiary=waiting,
        person=person,
        department_id="83",
        kind=OrientationKind.SOCIAL,
        referent_body=territory.ccas,
        decided_at=_noon(date(2025, 12, 20)),
        notified_on=date(2025, 12, 20),
        contract_signed_on=date(2025, 12, 28),
    )
    Dossier.objects.filter(beneficiaries__right_opened_on__year=2024).update(
        state=RightState.CLOSED
    )
    assert _compared(rsa_figures(scope, as_of=TODAY)) == _compared(before)  # not yet
    assert _compared(rsa_figures(scope, as_of=TODAY)) != _live(scope, TODAY)
    assert rollup.check(TODAY) != []
    assert tasks.refresh_figures is rollup.refresh  # what the nightly task runs
    rollup.refresh(TODAY)
    assert rollup.check(TODAY) == []
    _assert_rolled_up_equals_live()


def test_the_section_says_when_its_past_months_were_computed(territory: RsaTerritory) -> None:
    scope = FigureScope("83", date(2025, 1, 1), date(2025, 12, 31))
    section = rsa_section(scope)
    assert section is not None and not any("calculés le" in note for note in section.notes)
    rollup.refresh(TODAY)
    FiguresCoverage.objects.update(refreshed_at=datetime(2026, 6, 17, 1, 45, tzinfo=UTC))
    section = rsa_section(scope)
    assert section is not None
    assert any("calculés le 17 juin 2026 à 03:45" in note for note in section.notes)
    # One referent body's figures, and the whole country, are counted live.
    body = replace(scope, organisation_id=territory.ccas.pk)
    assert rsa_figures(body).refreshed_at is None
    assert rsa_figures(replace(scope, department=None)).refreshed_at is None


def test_the_command_fills_the_rollup(territory: RsaTerritory, capsys: Any) -> None:
    assert not FiguresCoverage.objects.exists()
    call_command("refresh_rsa_figures")
    assert "Chiffres RSA par mois recalculés" in capsys.readouterr().out
    assert OrientationsMonth.objects.filter(department_id="83").exists()
    assert FiguresCoverage.objects.filter(department_id="83").exists()


def test_the_demo_fills_the_rollup(personas: dict[str, Any], orgs: dict[str, Any]) -> None:
    load_demo_rsa(personas, orgs)
    assert FiguresCoverage.objects.filter(department_id="83").exists()
    assert rollup.check() == []
    today = timezone.localdate()
    figures = rsa_figures(FigureScope("83", today - timedelta(days=365), today))
    assert figures.refreshed_at is not None
