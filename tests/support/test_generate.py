"""The generator's person-file steps: volumes, teams drawn from the professionals, reset."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from binome.core.generate import GENERATED_DOMAIN, SCALES
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
    steering = TerritoryRole.objects.filter(role="steering").values("user_id")
    assert not TeamMember.objects.filter(user_id__in=steering).exists()
    # Each note has its timeline event, with the same visibility.
    for note in Note.objects.all()[:20]:
        event = TimelineEvent.objects.get(kind="note", target_id=note.pk)
        assert event.visibility == note.visibility and event.person_id == note.person_id
    assert "personnes" in run("--reset")
    assert Person.objects.count() == SCALES["tiny"]["persons"]
