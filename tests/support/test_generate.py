"""The generator's person-file steps: volumes, teams drawn from the professionals, reset."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import call_command

from binome.core.generation import GENERATED_DOMAIN, SCALES
from binome.organisations.models import OrganisationKind, TerritoryRole
from binome.people.models import Person
from binome.support.models import Accompaniment, Kind, Note, TeamMember, TeamRole, TimelineEvent

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def test_tiny_scale_generates_persons_files_and_their_teams() -> None:
    run()
    generated = Person.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    assert generated.count() == SCALES["tiny"]["persons"]
    assert (
        Accompaniment.objects.filter(person__in=generated).count()
        == SCALES["tiny"]["accompaniments"]
    )
    # Every accompaniment has its team; a global one has its binôme.
    assert not Accompaniment.objects.filter(team__isnull=True).exists()
    for accompaniment in Accompaniment.objects.filter(kind=Kind.GLOBAL).prefetch_related(
        "team__organisation"
    ):
        kinds = {(m.role, m.organisation.kind) for m in accompaniment.team.all()}
        assert (TeamRole.DEDICATED_COUNSELOR, OrganisationKind.FRANCE_TRAVAIL) in kinds
        assert any(role == TeamRole.SOCIAL_WORKER for role, _ in kinds)
    # Every accompaniment with a current team has its designated referent on it.
    for accompaniment in Accompaniment.objects.filter(team__left_at__isnull=True).distinct():
        assert accompaniment.referent is not None
        assert accompaniment.referent.accompaniment_id == accompaniment.pk
        assert accompaniment.referent.left_at is None
    steering = TerritoryRole.objects.filter(role="steering").values("user_id")
    assert not TeamMember.objects.filter(user_id__in=steering).exists()
    # Each note has its timeline event, with the same visibility.
    for note in Note.objects.all()[:20]:
        event = TimelineEvent.objects.get(kind="note", target_id=note.pk)
        assert event.visibility == note.visibility and event.person_id == note.person_id
    assert "personnes" in run("--reset")
    assert Person.objects.count() == SCALES["tiny"]["persons"]


def test_generated_files_carry_nirs_and_the_transitions_of_their_state() -> None:
    from stdnum.fr import nir as stdnum_nir

    from binome.people.generate import NIR_SHARE
    from binome.support.models import TRANSITIONS, State, Transition

    run()
    generated = Person.objects.filter(organisation__email__endswith=GENERATED_DOMAIN)
    with_nir = [p for p in generated if p.has_nir]
    # About NIR_SHARE of them (60 persons: a wide margin), each valid, hashed as the app does.
    assert 0.15 * len(generated) < len(with_nir) < (NIR_SHARE + 0.3) * len(generated)
    for person in with_nir:
        stdnum_nir.validate(person.nir)
        assert person.nir[0] == ("2" if person.sex == "F" else "1")
        assert person.nir[1:5] == f"{person.birth_date:%y%m}"
        assert (
            Person.objects.matching(
                department_id=person.department_id,
                first_name="x",
                last_name="y",
                birth_name="",
                birth_date=person.birth_date,
                nir=person.nir,
            )
            .filter(pk=person.pk)
            .exists()
        )
    # Every accompaniment's transitions follow the state machine to its current state.
    for accompaniment in Accompaniment.objects.filter(person__in=generated).prefetch_related(
        "transitions"
    ):
        steps = [(t.from_state, t.to_state) for t in accompaniment.transitions.all()]
        assert steps[0] == ("", State.PROPOSED), accompaniment.pk
        for (_, reached), (start, end) in itertools.pairwise(steps):
            assert start == reached and end in TRANSITIONS[start], steps
        assert steps[-1][1] == accompaniment.state, steps
    assert Transition.objects.filter(to_state=State.ACTIVE).exists()
