"""The generator's referrals step: volumes, states coherent with their steps, one open
referral per person and target, deterministic, removed by --reset."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from binome.core.generation import GENERATED_DOMAIN, SCALES
from binome.referrals.models import OPEN, TRANSITIONS, Referral, ReferralEvent, ReferralLink

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate", "--scale", "tiny", "--seed", "7", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[object, ...]]:
    return list(
        Referral.objects.order_by("sent_at", "person__first_name", "kind").values_list(
            "kind", "status", "sent_at", "due_on", "person__first_name", "to_organisation__name"
        )
    )


def test_tiny_scale_generates_referrals_with_their_steps() -> None:
    output = run()
    assert "orientations" in output
    generated = Referral.objects.filter(sender_organisation__email__endswith=GENERATED_DOMAIN)
    assert generated.count() == SCALES["tiny"]["referrals"]
    # A third goes to one organisation (the inbox benchmark's).
    hub = generated.values("to_organisation").annotate(n=Count("id")).order_by("-n").first()
    assert hub is not None and hub["n"] >= SCALES["tiny"]["referrals"] // 3
    assert generated.filter(status__in=OPEN).count() > generated.count() // 2
    # Every referral starts with its « sent » step; each step follows the state machine and
    # the last one leads to the referral's state.
    for referral in generated.prefetch_related("events"):
        steps = sorted(referral.events.all(), key=lambda e: (e.at, e.id))
        assert steps[0].action == "sent"
        state = "sent"
        for event in steps[1:]:
            if event.from_status != event.to_status:
                assert event.from_status == state
                assert event.to_status in TRANSITIONS[state], (referral.status, event.action)
                state = event.to_status
            assert event.at >= referral.sent_at
        assert state == referral.status
        if referral.structure_id is not None:
            assert referral.to_organisation_id is None and referral.contact_email
            assert (
                ReferralLink.objects.filter(referral=referral, revoked_at__isnull=True).count() == 1
            )
    # One open referral per person and target (the database would refuse a second one).
    duplicates = (
        generated.filter(status__in=OPEN)
        .values("person", "kind", "to_organisation", "structure")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert ReferralEvent.objects.filter(~Q(via="app"), actor__isnull=False).count() == 0


def test_the_same_seed_gives_the_same_referrals_and_reset_removes_them() -> None:
    run()
    first = snapshot()
    run("--reset")
    assert snapshot() == first
    call_command("generate", "--scale", "tiny", "--seed", "8", "--reset", stdout=StringIO())
    assert snapshot() != first
    generated = Referral.objects.filter(sender_organisation__email__endswith=GENERATED_DOMAIN)
    assert generated.count() == SCALES["tiny"]["referrals"]
