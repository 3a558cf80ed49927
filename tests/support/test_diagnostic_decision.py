"""The diagnostic partagé decides: a draft until both professionals of the binôme validate it,
then the decision taken with the person (activate, or close « non pertinent » and orient);
« un an maximum » (bounded extensions, per territory); the exits counted by outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from binome.people.models import ConsentMethod, ConsentScope
from binome.referrals.forms import shared_item_choices
from binome.support import actions, figures, tasks
from binome.support.access import file_access
from binome.support.diagnostic import ThemeAnswer, latest_diagnostic
from binome.support.models import (
    Accompaniment,
    BarrierLevel,
    Diagnostic,
    DiagnosticStatus,
    EventKind,
    ExitOrientation,
    ExitReason,
    State,
    SupportSettings,
    TimelineEvent,
    add_months,
)
from binome.support.referential import themes
from tests.conftest import login_as
from tests.factories import SmallTerritory

THEME_CODES = [theme.code for theme in themes()]


@pytest.fixture(autouse=True)
def shared_file(small_var: SmallTerritory) -> None:
    """Zoé agreed to share her file: the binôme's two institutions see the diagnostic."""
    actions.record_consent(
        person=small_var.person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=small_var.alice,
        organisation=small_var.france_travail,
    )


def untouched_form(**overrides: Any) -> dict[str, Any]:
    """The diagnostic form as it comes: nothing chosen for any theme."""
    data: dict[str, Any] = {
        "made_on": timezone.localdate().isoformat(),
        "co_author": "",
        "project": "",
        "qualification": "",
        "availability": "",
        "mobility_radius_km": "",
        "recommended_kind": "",
        "recommendation_reason": "",
    }
    for code in THEME_CODES:
        data[f"{code}-comment"] = ""
        data[f"{code}-visibility"] = "team"
    data.update(overrides)
    return data


def all_assessed(**levels: str) -> list[ThemeAnswer]:
    return [
        ThemeAnswer(theme=code, level=levels.get(code, BarrierLevel.NONE)) for code in THEME_CODES
    ]


def draft_by_alice(world: SmallTerritory, **kwargs: Any) -> Diagnostic:
    return actions.record_diagnostic(
        person=world.person,
        by=world.alice,
        organisation=world.france_travail,
        made_on=timezone.localdate(),
        accompaniment=world.accompaniment,
        **{"answers": all_assessed(mobilite=BarrierLevel.BLOCKING), **kwargs},
    )


def validated(world: SmallTerritory, **kwargs: Any) -> Diagnostic:
    diagnostic = draft_by_alice(world, validate=True, **kwargs)
    return actions.validate_diagnostic(diagnostic=diagnostic, by=world.bob)


# --- A blank diagnostic is not a diagnostic --------------------------------------------


def test_an_untouched_form_saves_no_barrier_and_cannot_be_validated(
    small_var: SmallTerritory,
) -> None:
    alice = small_var.client(small_var.alice)
    url = reverse("support:diagnostic_create", args=[small_var.person.pk])
    form = alice.get(url)
    assert not any(
        form.context["form"].fields[f"{code}-level"].initial for code in THEME_CODES
    )  # « pas de frein » is not chosen for the user
    refused = alice.post(url, untouched_form(action="validate"))
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "Le diagnostic ne peut pas être validé" in body
    assert "Logement, Mobilité" in body
    assert not Diagnostic.objects.filter(person=small_var.person).exists()  # nothing half-written

    saved = alice.post(url, untouched_form(action="draft", **{"logement-level": "to_lift"}))
    draft = Diagnostic.objects.get(person=small_var.person)
    assert saved["Location"] == reverse("support:diagnostic_detail", args=[draft.pk])
    assert draft.is_draft
    levels = dict(draft.answers.values_list("theme", "level"))
    assert levels["logement"] == BarrierLevel.TO_LIFT
    assert levels["mobilite"] == ""  # not assessed, not « pas de frein »
    page = alice.get(saved["Location"]).content.decode()
    assert "Thèmes à renseigner avant la validation" in page
    alice.post(reverse("support:diagnostic_validate", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.is_draft
    assert not draft.validations.exists()
    message = [str(m) for m in alice.get(reverse("support:worklist")).context["messages"]]
    assert any("Mobilité, Santé" in m and "non abordé" in m for m in message)


def test_non_aborde_is_an_assessment_and_counts_as_no_barrier(small_var: SmallTerritory) -> None:
    diagnostic = validated(
        small_var,
        answers=[ThemeAnswer(theme=code, level=BarrierLevel.NOT_ADDRESSED) for code in THEME_CODES],
    )
    assert diagnostic.status == DiagnosticStatus.VALIDATED
    assert not any(answer.is_barrier for answer in diagnostic.answers.all())


def test_both_sides_of_the_binome_validate(small_var: SmallTerritory) -> None:
    draft = draft_by_alice(small_var, validate=True)
    assert draft.is_draft
    with pytest.raises(ValidationError, match="Vous avez déjà validé ce diagnostic"):
        actions.validate_diagnostic(diagnostic=draft, by=small_var.alice)
    with pytest.raises(ValidationError, match="les deux professionnels du binôme"):
        actions.validate_diagnostic(diagnostic=draft, by=small_var.carol)  # not on the team
    done = actions.validate_diagnostic(diagnostic=draft, by=small_var.bob)
    assert done.status == DiagnosticStatus.VALIDATED
    assert done.validated_at is not None
    assert sorted(done.validations.values_list("side", flat=True)) == ["france_travail", "social"]
    event = TimelineEvent.objects.filter(person=small_var.person, kind=EventKind.DIAGNOSTIC)[0]
    assert "validé par Alice Test et Bob Test" in event.summary
    assert (
        AuditEvent.objects.filter(
            kind=AuditKind.DIAGNOSTIC_VALIDATED, target_id=str(draft.pk)
        ).count()
        == 2
    )
    with pytest.raises(ValidationError, match="déjà validé"):
        actions.validate_diagnostic(diagnostic=done, by=small_var.bob)
    with pytest.raises(ValidationError, match="ne se modifie plus"):
        actions.update_diagnostic(
            diagnostic=done,
            by=small_var.bob,
            organisation=small_var.departement,
            made_on=done.made_on,
            answers=all_assessed(),
        )


def test_a_change_after_a_first_validation_resets_it(small_var: SmallTerritory) -> None:
    draft = draft_by_alice(small_var, validate=True)
    bob = small_var.client(small_var.bob)
    url = reverse("support:diagnostic_edit", args=[draft.pk])
    form = bob.get(url)
    assert form.context["form"].fields["mobilite-level"].initial == BarrierLevel.BLOCKING
    levels = {f"{code}-level": "none" for code in THEME_CODES}
    levels.update({"logement-level": "blocking", "mobilite-level": "blocking"})
    data = untouched_form(made_on=draft.made_on.isoformat(), action="validate", **levels)
    response = bob.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    # Alice's validation was of another diagnostic: only Bob's stands, Alice validates again.
    assert draft.is_draft
    assert list(draft.validations.values_list("user", flat=True)) == [small_var.bob.pk]
    assert draft.answers.get(theme="logement").level == BarrierLevel.BLOCKING
    assert TimelineEvent.objects.filter(
        person=small_var.person, summary__contains="la validation déjà donnée est à redonner"
    ).exists()
    actions.validate_diagnostic(diagnostic=draft, by=small_var.alice)
    draft.refresh_from_db()
    assert not draft.is_draft


def test_drafts_count_nowhere(small_var: SmallTerritory) -> None:
    first = validated(small_var)
    draft = actions.record_diagnostic(
        person=small_var.person,
        by=small_var.bob,
        organisation=small_var.departement,
        made_on=timezone.localdate(),
        answers=all_assessed(mobilite=BarrierLevel.NONE, logement=BarrierLevel.BLOCKING),
    )
    access = file_access(small_var.alice, small_var.person)
    latest = latest_diagnostic(small_var.person, access)
    assert latest is not None
    assert latest.pk == first.pk
    alice = small_var.client(small_var.alice)
    history = alice.get(reverse("support:diagnostic_history", args=[small_var.person.pk]))
    assert [d.pk for d in history.context["diagnostics"]] == [first.pk]
    assert "Frein levé" not in history.content.decode()  # the draft lifts nothing
    page = alice.get(reverse("people:detail", args=[small_var.person.pk])).content.decode()
    assert "attend sa validation par les deux" in page
    assert reverse("support:diagnostic_detail", args=[draft.pk]) in page
    # A new diagnostic while a draft waits: the form completes the draft.
    create = alice.get(reverse("support:diagnostic_create", args=[small_var.person.pk]))
    assert create["Location"] == reverse("support:diagnostic_edit", args=[draft.pk])
    with pytest.raises(ValidationError, match="attend déjà sa validation"):
        draft_by_alice(small_var)


def test_only_a_validated_diagnostic_is_offered_to_share_with_a_referral(
    small_var: SmallTerritory,
) -> None:
    draft = draft_by_alice(small_var, validate=True)
    access = file_access(small_var.alice, small_var.person)
    assert f"diagnostic:{draft.pk}" not in dict(shared_item_choices(small_var.person, access))
    actions.validate_diagnostic(diagnostic=draft, by=small_var.bob)
    assert f"diagnostic:{draft.pk}" in dict(shared_item_choices(small_var.person, access))


def test_a_draft_alone_leaves_the_worklist_alert(small_var: SmallTerritory) -> None:
    draft_by_alice(small_var, validate=True)
    body = small_var.client(small_var.alice).get(reverse("support:worklist")).content.decode()
    assert "Pas encore de diagnostic" in body


def test_the_team_deletes_a_draft_not_a_validated_diagnostic(small_var: SmallTerritory) -> None:
    draft = draft_by_alice(small_var)
    charlie = small_var.client(small_var.charlie)
    assert charlie.post(reverse("support:diagnostic_delete", args=[draft.pk])).status_code == 404
    response = small_var.client(small_var.bob).post(
        reverse("support:diagnostic_delete", args=[draft.pk])
    )
    assert response.status_code == 302
    assert not Diagnostic.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(
        kind=AuditKind.DIAGNOSTIC_DELETED, target_id=str(draft.pk), actor=small_var.bob
    ).exists()
    assert TimelineEvent.objects.filter(
        person=small_var.person, summary__startswith="Brouillon du diagnostic du"
    ).exists()
    kept = validated(small_var)
    with pytest.raises(ValidationError, match="ne se supprime pas"):
        actions.delete_diagnostic(
            diagnostic=kept, by=small_var.bob, organisation=small_var.departement
        )


# --- The diagnostic partagé decides -----------------------------------------------------


def test_activation_needs_a_validated_diagnostic_and_counts_12_months_from_it(
    small_var: SmallTerritory,
) -> None:
    accompaniment = small_var.accompaniment
    assert accompaniment.planned_end_on is None  # no end before the activation
    draft_by_alice(small_var, validate=True)
    for attempt in (
        lambda: actions.change_state(
            accompaniment=accompaniment,
            to_state=State.ACTIVE,
            by=small_var.alice,
            organisation=small_var.france_travail,
        ),
        lambda: actions.decide_after_diagnostic(
            accompaniment=accompaniment,
            pertinent=True,
            by=small_var.alice,
            organisation=small_var.france_travail,
        ),
    ):
        with pytest.raises(ValidationError, match="validé par le conseiller France Travail"):
            attempt()
    page = small_var.client(small_var.alice).get(
        reverse("support:accompaniment_decide", args=[accompaniment.pk]), follow=True
    )
    assert "il doit d&#x27;abord être validé" in page.content.decode()
    assert page.redirect_chain[-1][0] == reverse("people:detail", args=[small_var.person.pk])
    diagnostic = Diagnostic.objects.get(person=small_var.person)
    actions.validate_diagnostic(diagnostic=diagnostic, by=small_var.bob)
    started = timezone.localdate() - timedelta(days=3)
    Accompaniment.objects.filter(pk=accompaniment.pk).update(
        started_on=started - timedelta(days=40)
    )
    response = small_var.client(small_var.bob).post(
        reverse("support:accompaniment_decide", args=[accompaniment.pk]),
        {"decision": "pertinent", "decided_on": started.isoformat(), "reason": "D'accord"},
    )
    assert response.status_code == 302
    accompaniment.refresh_from_db()
    assert accompaniment.state == State.ACTIVE
    assert accompaniment.activated_on == started
    assert accompaniment.planned_end_on == add_months(started, 12)
    assert AuditEvent.objects.filter(
        kind=AuditKind.ACCOMPANIMENT_DECIDED, target_id=str(accompaniment.pk)
    ).exists()


def test_not_pertinent_closes_orients_and_asks_no_six_month_situation(
    small_var: SmallTerritory,
) -> None:
    validated(small_var, recommended_kind="social")
    accompaniment = small_var.accompaniment
    url = reverse("support:accompaniment_decide", args=[accompaniment.pk])
    alice = small_var.client(small_var.alice)
    form = alice.get(url).context["form"]
    # The diagnostic's « accompagnement préconisé » proposes the answer.
    assert (form["decision"].initial, form["orientation"].initial) == (
        "non_pertinent",
        ExitOrientation.SOCIAL,
    )
    missing = alice.post(url, {"decision": "non_pertinent", "decided_on": form["decided_on"]})
    assert "Choisissez vers quel accompagnement" in missing.content.decode()
    response = alice.post(
        url,
        {
            "decision": "non_pertinent",
            "orientation": "social",
            "decided_on": timezone.localdate().isoformat(),
            "reason": "Le logement d'abord.",
        },
    )
    assert response["Location"] == (
        reverse("referrals:create", args=[small_var.person.pk]) + "?kind=social"
    )
    accompaniment.refresh_from_db()
    assert accompaniment.state == State.ENDED
    assert accompaniment.exit_reason == ExitReason.NOT_PERTINENT
    assert accompaniment.exit_orientation == ExitOrientation.SOCIAL
    assert accompaniment.followup_due_on is None
    assert not accompaniment.followup_expected(timezone.localdate() + timedelta(days=400))
    six_months = add_months(timezone.localdate(), 6)
    assert not tasks.followup_notices(six_months)
    with pytest.raises(ValidationError, match="se renseigne après la sortie"):
        actions.record_followup(
            accompaniment=accompaniment,
            outcome="autre",
            situation="x",
            by=small_var.alice,
            organisation=small_var.france_travail,
        )


def test_the_exit_form_does_not_offer_non_pertinent(small_var: SmallTerritory) -> None:
    with pytest.raises(ValidationError, match="Décider de l'accompagnement global"):
        actions.end_accompaniment(
            accompaniment=small_var.accompaniment,
            ended_on=timezone.localdate(),
            reason=ExitReason.NOT_PERTINENT,
            situation="",
            by=small_var.alice,
            organisation=small_var.france_travail,
        )
    page = small_var.client(small_var.alice).get(
        reverse("support:accompaniment_exit", args=[small_var.accompaniment.pk])
    )
    assert "non_pertinent" not in page.content.decode()


# --- Un an maximum --------------------------------------------------------------------


def activate(world: SmallTerritory) -> Accompaniment:
    validated(world)
    return actions.decide_after_diagnostic(
        accompaniment=world.accompaniment,
        pertinent=True,
        by=world.alice,
        organisation=world.france_travail,
    )


def extend(world: SmallTerritory, months: int, days: int = 0) -> Accompaniment:
    accompaniment = Accompaniment.objects.get(pk=world.accompaniment.pk)
    assert accompaniment.planned_end_on is not None
    return actions.extend_accompaniment(
        accompaniment=accompaniment,
        new_end_on=add_months(accompaniment.planned_end_on, months) + timedelta(days=days),
        justification="Formation qualifiante en cours",
        by=world.alice,
        organisation=world.france_travail,
    )


def test_one_extension_of_six_months_by_default(small_var: SmallTerritory) -> None:
    with pytest.raises(ValidationError, match="se prolonge une fois activé"):
        actions.extend_accompaniment(
            accompaniment=small_var.accompaniment,
            new_end_on=timezone.localdate() + timedelta(days=400),
            justification="x",
            by=small_var.alice,
            organisation=small_var.france_travail,
        )
    end = activate(small_var).planned_end_on
    assert end is not None
    with pytest.raises(ValidationError, match="ne dépasse pas 6 mois"):
        extend(small_var, 6, days=1)
    extended = extend(small_var, 6)
    assert extended.planned_end_on == add_months(end, 6)
    with pytest.raises(ValidationError, match="déjà été prolongé 1 fois"):
        extend(small_var, 1)
    # The end-of-accompaniment alerts follow the new end date.
    new_end = add_months(end, 6)
    notices = tasks.end_approaching_notices(new_end - timedelta(days=14))
    assert [n.dedup_key for n in notices] == [
        f"accompaniment-{small_var.accompaniment.pk}-end-{new_end.isoformat()}-2w"
    ]
    assert not tasks.end_approaching_notices(end - timedelta(days=14))


def test_the_territory_sets_the_extension_bounds(small_var: SmallTerritory) -> None:
    claire = small_var.bob  # the Var's administrator in this test
    TerritoryRole.objects.create(
        user=claire, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=claire, name="Application", confirmed=True)
    url = reverse("support:settings", args=["83"])
    admin = login_as(Client(), claire)
    assert admin.get(url).context["form"]["extension_months"].initial == 6
    bad = admin.post(url, {"max_extensions": "5", "extension_months": "0"})
    body = bad.content.decode()
    assert "Le nombre de prolongations ne dépasse pas 3." in body
    assert "Une prolongation dure au moins 1 mois." in body
    assert not SupportSettings.objects.exists()
    assert admin.post(url, {"max_extensions": "2", "extension_months": "3"}).status_code == 302
    bounds = SupportSettings.for_department("83")
    assert (bounds.max_extensions, bounds.extension_months) == (2, 3)
    assert AuditEvent.objects.filter(
        kind=AuditKind.SUPPORT_SETTINGS_CHANGED, department_id="83"
    ).exists()
    assert small_var.client(small_var.alice).post(url, {}).status_code == 403
    assert small_var.client(small_var.charlie).get(url).status_code == 404
    activate(small_var)
    with pytest.raises(ValidationError, match="ne dépasse pas 3 mois"):
        extend(small_var, 4)
    extend(small_var, 3)
    extend(small_var, 2)
    with pytest.raises(ValidationError, match="en permet 2 au plus"):
        extend(small_var, 1)


# --- Exits counted by outcome ---------------------------------------------------------


def test_exits_are_counted_by_outcome_per_territory_and_organisation(
    small_var: SmallTerritory,
) -> None:
    activate(small_var)
    actions.end_accompaniment(
        accompaniment=small_var.accompaniment,
        ended_on=timezone.localdate(),
        reason=ExitReason.DURABLE_JOB,
        situation="CDI",
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    other = actions.create_person(
        data={"first_name": "Yves", "last_name": "Autre", "birth_date": timezone.localdate()},
        by=small_var.alice,
        organisation=small_var.france_travail,
        kind="global",
        role="dedicated_counselor",
    )
    actions.record_consent(
        person=other,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    second = other.accompaniments.get()
    actions.join_team(
        accompaniment=second,
        user=small_var.bob,
        organisation=small_var.departement,
        role="social_worker",
        reason="Binôme",
        by=small_var.bob,
    )
    diagnostic = actions.record_diagnostic(
        person=other,
        by=small_var.alice,
        organisation=small_var.france_travail,
        made_on=timezone.localdate(),
        accompaniment=second,
        answers=all_assessed(),
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=diagnostic, by=small_var.bob)
    actions.decide_after_diagnostic(
        accompaniment=second,
        pertinent=False,
        orientation=ExitOrientation.FRANCE_TRAVAIL,
        by=small_var.alice,
        organisation=small_var.france_travail,
    )
    territory = figures.territory_exits("83")
    assert (territory.job, territory.training, territory.other, territory.not_pertinent) == (
        1,
        0,
        0,
        1,
    )
    assert territory.job_or_training_percent == "100 %"  # of those who entered
    assert figures.organisation_exits(small_var.caf.pk).total == 0
    assert figures.organisation_exits(small_var.departement.pk).total == 2
    page = small_var.client(small_var.dan).get(reverse("support:territory_exits", args=["83"]))
    assert page.status_code == 200
    assert "Non pertinent après diagnostic" in page.content.decode()
    assert [org.name for org, _ in page.context["rows"]] == [
        "Département du Var",
        "France Travail Toulon",
    ]
    assert (
        small_var.client(small_var.alice)
        .get(reverse("support:territory_exits", args=["83"]))
        .status_code
        == 403
    )
    assert (
        small_var.client(small_var.charlie)
        .get(reverse("support:territory_exits", args=["83"]))
        .status_code
        == 404
    )
    assert (
        small_var.client(small_var.charlie)
        .get(reverse("support:organisation_exits", args=[small_var.france_travail.pk]))
        .status_code
        == 404
    )
