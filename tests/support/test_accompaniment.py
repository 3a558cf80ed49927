"""The accompaniment's state machine, horizon, extension, exit and team."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.people.models import ConsentMethod, ConsentScope, Person
from binome.support import actions
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import (
    TRANSITIONS,
    Accompaniment,
    ExitReason,
    State,
    TeamRole,
    add_months,
)
from binome.support.referential import themes


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 15), 12) == date(2027, 5, 15)
    assert add_months(date(2025, 12, 1), 6) == date(2026, 6, 1)


def validate_a_diagnostic(
    accompaniment: Accompaniment, by: Any, organisation: Any, other: Any
) -> None:
    """A complete diagnostic of the accompaniment, validated by both professionals (the
    person agreed to share her file: each institution sees it)."""
    actions.record_consent(
        person=accompaniment.person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=by,
        organisation=organisation,
    )
    diagnostic = actions.record_diagnostic(
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        made_on=timezone.localdate(),
        accompaniment=accompaniment,
        answers=[ThemeAnswer(theme=theme.code, level="none") for theme in themes()],
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=diagnostic, by=other)


def test_the_state_machine_is_declared_once() -> None:
    assert TRANSITIONS[State.PROPOSED] == {State.ACTIVE, State.ENDED}
    assert TRANSITIONS[State.ACTIVE] == {State.SUSPENDED, State.ENDED}
    assert TRANSITIONS[State.SUSPENDED] == {State.ACTIVE, State.ENDED}
    assert TRANSITIONS[State.ENDED] == set()


@pytest.fixture
def new_file(personas: dict[str, Any], orgs: dict[str, Any]) -> Person:
    return actions.create_person(
        data={"first_name": "Samir", "last_name": "Aït-Ali", "birth_date": date(1990, 2, 1)},
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        kind="global",
        role=TeamRole.DEDICATED_COUNSELOR,
        started_on=date(2026, 3, 10),
    )


def test_a_global_accompaniment_lasts_12_months_and_needs_its_binome(
    personas: dict[str, Any], orgs: dict[str, Any], new_file: Person
) -> None:
    accompaniment = new_file.accompaniments.get()
    assert accompaniment.state == State.PROPOSED
    # Its 12 months count from the activation, after the diagnostic, not from the proposal.
    assert accompaniment.planned_end_on is None
    with pytest.raises(ValidationError, match="ne démarre qu'avec son binôme"):
        actions.change_state(
            accompaniment=accompaniment,
            to_state=State.ACTIVE,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )
    actions.join_team(
        accompaniment=accompaniment,
        user=personas["marc"],
        organisation=orgs["dep83"],
        role=TeamRole.SOCIAL_WORKER,
        reason="Binôme",
        by=personas["marc"],
    )
    with pytest.raises(ValidationError, match="s'active après le diagnostic partagé"):
        actions.change_state(
            accompaniment=accompaniment,
            to_state=State.ACTIVE,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )
    validate_a_diagnostic(accompaniment, personas["ines"], orgs["ft_toulon"], personas["marc"])
    actions.change_state(
        accompaniment=accompaniment,
        to_state=State.ACTIVE,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    accompaniment.refresh_from_db()
    assert accompaniment.activated_on == timezone.localdate()
    assert accompaniment.planned_end_on == add_months(timezone.localdate(), 12)
    transitions = list(accompaniment.transitions.values_list("from_state", "to_state", "by"))
    assert transitions == [
        ("", State.PROPOSED, personas["ines"].pk),
        (State.PROPOSED, State.ACTIVE, personas["ines"].pk),
    ]


def test_forbidden_transitions_are_refused_in_french(
    personas: dict[str, Any], orgs: dict[str, Any], new_file: Person
) -> None:
    accompaniment = new_file.accompaniments.get()
    with pytest.raises(ValidationError, match="« proposé » ne peut pas passer à « suspendu »"):
        actions.change_state(
            accompaniment=accompaniment,
            to_state=State.SUSPENDED,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
            reason="x",
        )
    actions.end_accompaniment(
        accompaniment=accompaniment,
        ended_on=date(2026, 4, 1),
        reason=ExitReason.MOVED,
        situation="Partie à Lyon",
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    with pytest.raises(ValidationError, match="« terminé » ne peut pas passer à « en cours »"):
        actions.change_state(
            accompaniment=accompaniment,
            to_state=State.ACTIVE,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )
    with pytest.raises(ValidationError, match="déjà terminé"):
        actions.end_accompaniment(
            accompaniment=accompaniment,
            ended_on=date(2026, 4, 2),
            reason=ExitReason.OTHER,
            situation="",
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )
    assert Accompaniment.objects.get(pk=accompaniment.pk).exit_reason == ExitReason.MOVED


def test_a_stale_transition_page_gets_a_clear_message(client_for: Any, nadia_file: Person) -> None:
    accompaniment = nadia_file.accompaniments.get()  # active
    url = reverse("support:accompaniment_transition", args=[accompaniment.pk])
    response = client_for("ines").post(url, {"to_state": "proposed"})
    assert response.status_code == 200
    assert "la page n&#x27;était peut-être plus à jour" in response.content.decode()
    suspended = client_for("ines").post(url, {"to_state": "suspended"})
    assert "Indiquez le motif de la suspension." in suspended.content.decode()
    ok = client_for("ines").post(url, {"to_state": "suspended", "reason": "Hospitalisation"})
    assert ok.status_code == 302
    assert Accompaniment.objects.get(pk=accompaniment.pk).state == State.SUSPENDED


def test_extension_needs_a_justification_and_a_later_date(
    client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    url = reverse("support:accompaniment_extend", args=[accompaniment.pk])
    end = accompaniment.planned_end_on
    assert end is not None
    marc = client_for("marc")
    missing = marc.post(url, {"new_end_on": (end + timedelta(days=90)).isoformat()})
    assert "La prolongation doit être justifiée." in missing.content.decode()
    earlier = marc.post(
        url, {"new_end_on": (end - timedelta(days=1)).isoformat(), "justification": "Formation"}
    )
    assert "doit être postérieure à la fin actuelle" in earlier.content.decode()
    ok = marc.post(
        url, {"new_end_on": (end + timedelta(days=90)).isoformat(), "justification": "Formation"}
    )
    assert ok.status_code == 302
    accompaniment.refresh_from_db()
    assert accompaniment.planned_end_on == end + timedelta(days=90)
    assert accompaniment.extensions.get().justification == "Formation"


def test_exit_records_the_outcome_and_the_6_month_follow_up(
    client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    url = reverse("support:accompaniment_exit", args=[accompaniment.pk])
    ines = client_for("ines")
    before_start = (accompaniment.started_on - timedelta(days=1)).isoformat()
    early = ines.post(
        url, {"ended_on": before_start, "reason": "emploi_durable", "situation": "CDI"}
    )
    assert "ne peut pas précéder le début" in early.content.decode()
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert (
        "dans le futur"
        in ines.post(
            url, {"ended_on": future, "reason": "emploi_durable", "situation": "CDI"}
        ).content.decode()
    )
    today = timezone.localdate()
    response = ines.post(
        url,
        {"ended_on": today.isoformat(), "reason": "emploi_durable", "situation": "CDI à l'EHPAD"},
    )
    assert response.status_code == 302
    accompaniment.refresh_from_db()
    assert accompaniment.state == State.ENDED
    assert accompaniment.followup_due_on == add_months(today, 6)
    page = ines.get(reverse("people:detail", args=[nadia_file.pk])).content.decode()
    assert "Emploi durable (CDI ou CDD de plus de 6 mois)" in page


def test_steering_cannot_join_a_team(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    with pytest.raises(ValidationError, match="pilotage"):
        actions.join_team(
            accompaniment=nadia_file.accompaniments.get(),
            user=personas["paul"],
            organisation=orgs["dep83"],
            role=TeamRole.MEMBER,
            reason="Curiosité",
            by=personas["paul"],
        )


def test_a_non_member_of_the_team_cannot_change_the_accompaniment(
    client_for: Any, nadia_file: Person
) -> None:
    accompaniment = nadia_file.accompaniments.get()
    url = reverse("support:accompaniment_exit", args=[accompaniment.pk])
    assert client_for("claire").get(url).status_code == 403  # sees the basics only
    assert client_for("karim").get(url).status_code == 404
    assert client_for("charlie").get(url).status_code == 404


def test_marc_joins_the_new_accompaniment_ines_opened(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    """On the team of one accompaniment, Marc joins another one of Nadia (a professional
    one): only the accompaniments he is not on are offered; his arrival is recorded."""
    from binome.support.models import Accompaniment, Kind, TeamRole

    earlier = nadia_file.accompaniments.get()
    new = actions.open_accompaniment(
        person=nadia_file,
        kind=Kind.PROFESSIONAL,
        started_on=timezone.localdate(),
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    marc = client_for("marc")
    join_url = reverse("support:join", args=[nadia_file.pk])
    file_page = marc.get(reverse("people:detail", args=[nadia_file.pk])).content.decode()
    assert f"{join_url}?accompagnement={new.pk}" in file_page
    page = marc.get(f"{join_url}?accompagnement={new.pk}")
    assert page.status_code == 200
    assert [pk for pk, _ in page.context["form"].fields["accompaniment"].choices] == [new.pk]
    response = marc.post(
        join_url,
        {"accompaniment": new.pk, "role": TeamRole.SOCIAL_WORKER, "reason": "Binôme global."},
    )
    assert response.status_code == 302
    assert new.team.current().filter(user=personas["marc"]).exists()
    assert earlier.team.current().filter(user=personas["marc"]).exists()
    # Nothing left to join: the join page leads back to the file.
    assert marc.get(join_url).status_code == 302
    assert Accompaniment.objects.filter(person=nadia_file).count() == 2


def test_a_second_open_accompaniment_of_the_same_kind_is_refused(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    """Nadia has a global accompaniment in progress: opening another one (form or action)
    says so and how to join it; the database refuses it too; once ended, a new one opens."""
    from django.db import IntegrityError, transaction

    from binome.support.models import Kind

    current = nadia_file.accompaniments.get()
    assert (current.kind, current.state) == (Kind.GLOBAL, State.ACTIVE)
    url = reverse("support:accompaniment_open", args=[nadia_file.pk])
    response = client_for("ines").post(
        url,
        {
            "kind": Kind.GLOBAL,
            "started_on": timezone.localdate().isoformat(),
            "role": TeamRole.DEDICATED_COUNSELOR,
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert (
        f"a déjà un accompagnement global ouvert (état : en cours, depuis le "
        f"{current.started_on:%d/%m/%Y}) : rejoignez son équipe" in response.content.decode()
    )
    assert nadia_file.accompaniments.count() == 1
    with transaction.atomic(), pytest.raises(IntegrityError):
        Accompaniment.objects.create(
            person=nadia_file, kind=Kind.GLOBAL, state=State.PROPOSED, started_on=date(2026, 1, 5)
        )
    actions.end_accompaniment(
        accompaniment=current,
        ended_on=timezone.localdate(),
        reason=ExitReason.TRAINING,
        situation="Formation qualifiante",
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    reopened = actions.open_accompaniment(
        person=nadia_file,
        kind=Kind.GLOBAL,
        started_on=timezone.localdate(),
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    assert reopened.state == State.PROPOSED
