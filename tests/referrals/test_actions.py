"""The referral's state machine and actions: consent, partnership, idempotency, answers,
outcomes, reminders and expiry — each step recorded with who, how and when."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.directory.models import Service
from binome.organisations.models import Partnership
from binome.people.models import Person
from binome.referrals import actions
from binome.referrals.models import (
    TRANSITIONS,
    EventAction,
    Referral,
    ReferralKind,
    ReferralSettings,
    SharedItemType,
    Status,
    Via,
)
from binome.support.models import (
    Accompaniment,
    Appointment,
    EventKind,
    Note,
    TeamMember,
    TimelineEvent,
)
from tests.referrals.conftest import PDF, consent_to


def send_to_garage(
    personas: dict[str, Any], orgs: dict[str, Any], person: Person, garage: Service, **kw: Any
) -> Referral:
    return actions.send_referral(
        person=person,
        kind=ReferralKind.SERVICE,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        service=garage,
        reason="Pas de véhicule pour se rendre à la formation.",
        barriers=["mobilite"],
        **kw,
    )


@pytest.fixture
def garage_referral(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, garage: Service
) -> Referral:
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    return send_to_garage(personas, orgs, nadia_file, garage)


def test_the_state_machine_ends_in_closed_states() -> None:
    closed = {s for s, targets in TRANSITIONS.items() if not targets}
    assert closed == {
        Status.DECLINED,
        Status.WITHDRAWN,
        Status.EXPIRED,
        Status.COMPLETED,
        Status.ABANDONED,
        Status.NO_SHOW,
    }
    # Withdrawing is possible only before an answer.
    assert {s for s, targets in TRANSITIONS.items() if Status.WITHDRAWN in targets} == {
        Status.SENT,
        Status.SEEN,
    }


def test_a_referral_without_consent_is_refused_with_a_clear_message(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, garage: Service
) -> None:
    with pytest.raises(ValidationError) as refused:
        send_to_garage(personas, orgs, nadia_file, garage)
    assert "n'a pas donné (ou a retiré) son consentement" in refused.value.messages[0]
    assert "Garage solidaire Var Mobilité" in refused.value.messages[0]
    assert not Referral.objects.filter(service=garage).exists()
    # A consent to another recipient does not count; a withdrawn one neither.
    consent = consent_to(
        nadia_file, personas["ines"], orgs["ft_toulon"], recipient=orgs["ccas_toulon"]
    )
    with pytest.raises(ValidationError):
        send_to_garage(personas, orgs, nadia_file, garage)
    consent = consent_to(
        nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure
    )
    from binome.support.actions import withdraw_consent

    withdraw_consent(consent=consent, by=personas["ines"], organisation=orgs["ft_toulon"])
    with pytest.raises(ValidationError):
        send_to_garage(personas, orgs, nadia_file, garage)
    assert not Referral.objects.filter(service=garage).exists()


def test_sending_records_the_step_the_timeline_and_the_audit(
    garage_referral: Referral, nadia_file: Person
) -> None:
    referral = garage_referral
    assert referral.status == Status.SENT
    assert referral.to_organisation is None
    assert referral.contact_email == "orientation@garage-solidaire-var.test"
    assert referral.due_on == timezone.localdate() + timedelta(days=10)
    assert referral.expires_on == referral.due_on + timedelta(days=30)
    event = referral.events.get()
    assert (event.action, event.from_status, event.to_status, event.via) == (
        EventAction.SENT,
        "",
        Status.SENT,
        Via.APP,
    )
    line = TimelineEvent.objects.get(
        person=nadia_file, kind=EventKind.REFERRAL, target_id=referral.pk
    )
    assert "Orientation envoyée vers Location de véhicules" in line.summary
    assert AuditEvent.objects.filter(kind="referral_sent", person_id=nadia_file.pk).exists()


def test_a_double_submission_creates_one_referral(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, garage: Service
) -> None:
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    key = uuid.uuid4()
    first = send_to_garage(personas, orgs, nadia_file, garage, idempotency_key=key)
    second = send_to_garage(personas, orgs, nadia_file, garage, idempotency_key=key)
    assert first.pk == second.pk
    assert Referral.objects.filter(service=garage).count() == 1
    # Another form for the same open referral is refused with a message.
    with pytest.raises(ValidationError) as refused:
        send_to_garage(personas, orgs, nadia_file, garage, idempotency_key=uuid.uuid4())
    assert "est déjà en cours" in refused.value.messages[0]


def test_an_organisation_of_another_departement_needs_a_partnership(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    quimper = orgs["ft_quimper"]
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], recipient=quimper)

    def send() -> Referral:
        return actions.send_referral(
            person=nadia_file,
            kind=ReferralKind.GLOBAL,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
            to_organisation=quimper,
            reason="Déménagement prévu à Quimper.",
        )

    with pytest.raises(ValidationError) as refused:
        send()
    assert "n'est pas déclarée partenaire de votre territoire" in refused.value.messages[0]
    Partnership.objects.create(department_id="83", organisation=quimper)
    assert send().to_organisation == quimper


def test_social_support_goes_to_the_departement_or_a_ccas(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], recipient=orgs["caf83"])
    with pytest.raises(ValidationError) as refused:
        actions.send_referral(
            person=nadia_file,
            kind=ReferralKind.SOCIAL,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
            to_organisation=orgs["caf83"],
            reason="Dette de loyer.",
        )
    assert "n'en est pas un" in refused.value.messages[0]


def test_attachments_are_checked_by_their_content(
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    garage: Service,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    fake = SimpleUploadedFile("fiche.pdf", b"MZ\x90\x00 an executable", "application/pdf")
    with pytest.raises(ValidationError) as refused:
        send_to_garage(personas, orgs, nadia_file, garage, attachments=[fake])
    assert "« fiche.pdf » n'est ni un PDF ni une image" in refused.value.messages[0]
    assert not Referral.objects.filter(service=garage).exists()
    settings.REFERRAL_ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("gros.pdf", PDF + b"0" * 200, "application/pdf")
    with pytest.raises(ValidationError) as refused:
        send_to_garage(personas, orgs, nadia_file, garage, attachments=[big])
    assert "pèse" in refused.value.messages[0]
    settings.REFERRAL_ATTACHMENT_MAX_BYTES = 5_000_000
    good = SimpleUploadedFile("fiche.pdf", PDF, "application/pdf")
    referral = send_to_garage(personas, orgs, nadia_file, garage, attachments=[good])
    attachment = referral.attachments.get()
    assert (attachment.file_type, attachment.size) == ("pdf", len(PDF))
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF


def test_only_the_chosen_items_travel(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, garage: Service
) -> None:
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    note = Note.objects.filter(person=nadia_file, author=personas["ines"]).first()
    assert note is not None
    referral = send_to_garage(
        personas, orgs, nadia_file, garage, shared_items=[(SharedItemType.NOTE, note.pk)]
    )
    assert list(referral.shared_items.values_list("item_type", "item_id")) == [("note", note.pk)]
    other = Person.objects.create(
        department_id="83",
        organisation=orgs["ft_toulon"],
        first_name="Autre",
        last_name="Personne",
        birth_date="1990-01-01",
    )
    foreign = Note.objects.create(
        person=other,
        author=personas["ines"],
        organisation=orgs["ft_toulon"],
        date=timezone.localdate(),
        medium="phone",
        text="Note d'un autre dossier",
        visibility="team",
    )
    referral.status = Status.WITHDRAWN
    referral.save(update_fields=["status"])
    with pytest.raises(ValidationError):
        send_to_garage(
            personas, orgs, nadia_file, garage, shared_items=[(SharedItemType.NOTE, foreign.pk)]
        )


def test_the_structure_answers_through_its_link_then_reports_start_and_completion(
    garage_referral: Referral, nadia_file: Person
) -> None:
    referral = actions.mark_seen(referral=garage_referral, by=None, via=Via.LINK)
    referral = actions.accept(
        referral=referral, by=None, via=Via.LINK, first_step="Rendez-vous d'accueil lundi"
    )
    referral = actions.start(referral=referral, by=None, via=Via.LINK)
    referral = actions.complete(referral=referral, by=None, via=Via.LINK, message="Permis B")
    assert referral.status == Status.COMPLETED
    steps = list(referral.events.values_list("action", "from_status", "to_status", "actor", "via"))
    assert steps == [
        ("sent", "", "sent", referral.sender_id, "app"),
        ("seen", "sent", "seen", None, "link"),
        ("accepted", "seen", "accepted", None, "link"),
        ("started", "accepted", "started", None, "link"),
        ("completed", "started", "completed", None, "link"),
    ]
    assert referral.answered_at is not None and referral.started_at is not None
    summaries = list(
        TimelineEvent.objects.filter(
            person=nadia_file, kind=EventKind.REFERRAL, target_id=referral.pk
        )
        .order_by("at", "id")
        .values_list("summary", flat=True)
    )
    assert len(summaries) == 5
    assert (
        "acceptée par Garage solidaire" in summaries[2] or "acceptée par Location" in summaries[2]
    )
    assert "terminée" in summaries[4]
    audit = AuditEvent.objects.filter(kind="referral_changed", person_id=nadia_file.pk).first()
    assert audit is not None and audit.actor_id is None and audit.actor_label == "Lien sécurisé"


def test_outcomes_follow_only_a_service_and_no_show_closes(
    garage_referral: Referral, personas: dict[str, Any]
) -> None:
    referral = actions.accept(referral=garage_referral, by=None, via=Via.LINK, first_step="Appel")
    with pytest.raises(ValidationError):
        actions.complete(referral=referral, by=None, via=Via.LINK)  # not started yet
    referral = actions.no_show(referral=referral, by=None, via=Via.LINK)
    assert referral.status == Status.NO_SHOW and referral.closed_at is not None
    with pytest.raises(ValidationError) as refused:
        actions.start(referral=referral, by=None, via=Via.LINK)
    assert "déjà « personne non venue »" in refused.value.messages[0]


def test_a_decline_needs_a_reason_from_the_list(garage_referral: Referral) -> None:
    with pytest.raises(ValidationError) as refused:
        actions.decline(referral=garage_referral, by=None, via=Via.LINK, reason="")
    assert "motif du refus" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        actions.decline(referral=garage_referral, by=None, via=Via.LINK, reason="other")
    assert "Précisez" in refused.value.messages[0]
    referral = actions.decline(
        referral=garage_referral, by=None, via=Via.LINK, reason="no_place", message="Complet"
    )
    assert (referral.status, referral.decline_reason) == (Status.DECLINED, "no_place")


def test_the_second_answer_gets_a_clear_message_and_changes_nothing(
    garage_referral: Referral, personas: dict[str, Any]
) -> None:
    actions.accept(referral=garage_referral, by=None, via=Via.LINK, first_step="Appel")
    with pytest.raises(ValidationError) as refused:
        actions.decline(referral=garage_referral, by=None, via=Via.LINK, reason="no_place")
    assert "déjà « acceptée »" in refused.value.messages[0]
    assert "votre action n'a pas été enregistrée" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        actions.withdraw(referral=garage_referral, by=personas["ines"])
    garage_referral.refresh_from_db()
    assert garage_referral.status == Status.ACCEPTED
    assert garage_referral.events.count() == 2


def test_the_sender_withdraws_before_an_answer(
    garage_referral: Referral, personas: dict[str, Any]
) -> None:
    referral = actions.withdraw(referral=garage_referral, by=personas["ines"], message="Erreur")
    assert referral.status == Status.WITHDRAWN
    assert referral.events.last().actor == personas["ines"]  # type: ignore[union-attr]


def test_accepting_an_orientation_to_the_binome_plans_the_shared_diagnostic(
    personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    from binome.support.actions import create_person
    from binome.support.models import Kind, TeamRole

    sophie, ccas = personas["sophie"], orgs["ccas_quimper"]
    person = create_person(
        data={"first_name": "Maël", "last_name": "Guivarch", "birth_date": "1985-03-02"},
        by=sophie,
        organisation=ccas,
        kind=Kind.GLOBAL,
        role=TeamRole.SOCIAL_WORKER,
    )
    consent_to(person, sophie, ccas, recipient=orgs["ft_quimper"])
    referral = actions.send_referral(
        person=person,
        kind=ReferralKind.GLOBAL,
        by=sophie,
        organisation=ccas,
        to_organisation=orgs["ft_quimper"],
        reason="Recherche d'emploi freinée par la garde des enfants.",
    )
    when = timezone.now() + timedelta(days=3)
    gwenael = personas["gwenael"]
    referral = actions.accept(referral=referral, by=gwenael, appointment_at=when)
    appointment = Appointment.objects.get(person=person)
    assert referral.appointment == appointment
    assert appointment.at == when and "diagnostic partagé" in appointment.with_whom
    accompaniment = Accompaniment.objects.get(person=person)
    roles = set(
        TeamMember.objects.current()
        .filter(accompaniment=accompaniment)
        .values_list("user__email", "role")
    )
    assert (gwenael.email, TeamRole.DEDICATED_COUNSELOR) in roles
    assert (sophie.email, TeamRole.SOCIAL_WORKER) in roles
    with pytest.raises(ValidationError):
        actions.start(referral=referral, by=gwenael)  # outcomes follow services only


def test_an_accept_needs_an_appointment_or_a_first_step(garage_referral: Referral) -> None:
    with pytest.raises(ValidationError) as refused:
        actions.accept(referral=garage_referral, by=None, via=Via.LINK)
    assert "date du rendez-vous ou la première étape" in refused.value.messages[0]


def test_the_job_reminds_then_expires_once_even_run_twice(
    garage_referral: Referral, nadia_file: Person
) -> None:
    referral = garage_referral
    Referral.objects.exclude(pk=referral.pk).delete()  # the demo's referrals
    today = timezone.localdate()
    assert actions.run_deadlines(today + timedelta(days=9)) == (0, 0)
    assert actions.run_deadlines(today + timedelta(days=10)) == (1, 0)
    assert actions.run_deadlines(today + timedelta(days=10)) == (0, 0)
    referral.refresh_from_db()
    assert referral.reminded_at is not None and referral.status == Status.SENT
    assert actions.run_deadlines(today + timedelta(days=39)) == (0, 0)
    assert actions.run_deadlines(today + timedelta(days=40)) == (0, 1)
    assert actions.run_deadlines(today + timedelta(days=40)) == (0, 0)
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED
    steps = list(referral.events.values_list("action", "via", "actor"))
    assert steps[1:] == [("reminded", "job", None), ("expired", "job", None)]
    summaries = TimelineEvent.objects.filter(
        person=nadia_file, kind=EventKind.REFERRAL, target_id=referral.pk
    )
    assert summaries.filter(summary__contains="relancée").count() == 1
    assert summaries.filter(summary__contains="expirée sans réponse").count() == 1


def test_an_answered_referral_is_neither_reminded_nor_expired(garage_referral: Referral) -> None:
    Referral.objects.exclude(pk=garage_referral.pk).delete()  # the demo's referrals
    actions.accept(referral=garage_referral, by=None, via=Via.LINK, first_step="Appel")
    assert actions.run_deadlines(timezone.localdate() + timedelta(days=60)) == (0, 0)


def test_the_territory_sets_its_delays(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person, garage: Service
) -> None:
    ReferralSettings.objects.create(department_id="83", reminder_days=5, expiry_days=7)
    consent_to(nadia_file, personas["ines"], orgs["ft_toulon"], structure=garage.structure)
    referral = send_to_garage(personas, orgs, nadia_file, garage)
    assert referral.due_on == timezone.localdate() + timedelta(days=5)
    assert referral.expires_on == timezone.localdate() + timedelta(days=12)


def test_reorientation_moves_the_file_to_the_new_team_and_keeps_history(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    accompaniment = Accompaniment.objects.get(person=nadia_file)
    referral = actions.send_referral(
        person=nadia_file,
        kind=ReferralKind.REORIENTATION,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        accompaniment=accompaniment,
        requested_kind="social",
        reason="Les difficultés sociales bloquent la recherche d'emploi.",
    )
    assert referral.to_organisation is None
    claire, marc = personas["claire"], personas["marc"]
    with pytest.raises(ValidationError):
        actions.reorient(
            referral=referral,
            by=claire,
            organisation=orgs["dep83"],
            new_organisation=orgs["dep83"],
            referent=marc,
            message="",
        )
    referral = actions.reorient(
        referral=referral,
        by=claire,
        organisation=orgs["dep83"],
        new_organisation=orgs["dep83"],
        referent=marc,
        message="Accompagnement social d'abord.",
    )
    accompaniment.refresh_from_db()
    assert accompaniment.state == "ended"
    new = referral.new_accompaniment
    assert new is not None and new.kind == "social"
    assert list(new.team.current().values_list("user", flat=True)) == [marc.pk]
    assert (
        not TeamMember.objects.current().filter(person=nadia_file, user=personas["ines"]).exists()
    )
    assert TeamMember.objects.filter(person=nadia_file, user=personas["ines"]).exists()  # history
    nadia_file.refresh_from_db()
    assert nadia_file.organisation == orgs["dep83"]


def test_maintaining_an_accompaniment_is_a_decline_with_its_reason(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    referral = actions.send_referral(
        person=nadia_file,
        kind=ReferralKind.REORIENTATION,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        accompaniment=Accompaniment.objects.get(person=nadia_file),
        requested_kind="professional",
        reason="Freins levés.",
    )
    referral = actions.decline(
        referral=referral, by=personas["claire"], reason="maintained", message="Encore 3 mois."
    )
    assert referral.status == Status.DECLINED
    assert Accompaniment.objects.get(person=nadia_file).state == "active"


def test_assignment_to_a_member_of_the_receiving_organisation(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    from binome.accounts.models import User
    from binome.notifications.models import Notification
    from binome.organisations.models import Membership

    ccas = orgs["ccas_toulon"]
    referral = Referral.objects.get(person=nadia_file, to_organisation=ccas)  # the demo's
    agent = User.objects.create_user(
        email="agent@ccas-toulon.test", password="x", first_name="Lina", last_name="Roche"
    )
    Membership.objects.create(user=agent, organisation=ccas)
    with pytest.raises(ValidationError) as refused:
        actions.assign(referrals=[referral], to_user=personas["marc"], organisation=ccas, by=agent)
    assert "n'est pas membre de CCAS de Toulon" in refused.value.messages[0]
    assert actions.assign(referrals=[referral], to_user=agent, organisation=ccas, by=agent) == 1
    assert actions.assign(referrals=[referral], to_user=agent, organisation=ccas, by=agent) == 0
    referral.refresh_from_db()
    assert referral.assigned_to == agent
    assert referral.events.filter(action=EventAction.ASSIGNED).count() == 1
    # The assignee is not told of their own assignment; another member is.
    assert not Notification.objects.filter(recipient=agent, kind="referral_assigned").exists()
    other = User.objects.create_user(
        email="autre@ccas-toulon.test", password="x", first_name="Yves", last_name="Paoli"
    )
    Membership.objects.create(user=other, organisation=ccas)
    actions.assign(referrals=[referral], to_user=other, organisation=ccas, by=agent)
    notification = Notification.objects.get(recipient=other, kind="referral_assigned")
    assert "Nadia" not in notification.title + notification.body
    assert notification.url == f"/orientations/{referral.pk}/"


def test_the_demo_referrals_load_once(personas: dict[str, Any]) -> None:
    from binome.referrals.demo import load_demo_referrals
    from binome.site.demo import demo_organisations

    before = list(Referral.objects.values_list("pk", "status"))
    load_demo_referrals(personas, demo_organisations())
    assert list(Referral.objects.values_list("pk", "status")) == before
    statuses = sorted(Referral.objects.values_list("kind", "status"))
    assert statuses == [("global", "sent"), ("service", "started"), ("social", "sent")]


def test_a_reminder_reaches_the_organisations_administrators_not_every_member(
    orgs: dict[str, Any], nadia_file: Person
) -> None:
    from binome.accounts.models import User
    from binome.notifications.models import Notification
    from binome.organisations.models import Membership, Role

    ccas = orgs["ccas_toulon"]
    referral = Referral.objects.get(person=nadia_file, to_organisation=ccas)  # the demo's
    Referral.objects.exclude(pk=referral.pk).delete()
    Membership.objects.filter(organisation=ccas).delete()
    members = [
        User.objects.create_user(
            email=f"agent{i}@ccas-toulon.test", password="x", first_name="Agent", last_name=str(i)
        )
        for i in range(3)
    ]
    Membership.objects.create(user=members[0], organisation=ccas, role=Role.ADMIN)
    for member in members[1:]:
        Membership.objects.create(user=member, organisation=ccas)
    assert actions.run_deadlines(referral.due_on) == (1, 0)
    reminded = Notification.objects.filter(kind="referral_reminder")
    assert list(reminded.values_list("recipient", flat=True)) == [members[0].pk]
    # Once assigned, the assignee is the one reminded of the expiry (with the sender).
    Referral.objects.filter(pk=referral.pk).update(assigned_to=members[2])
    assert actions.run_deadlines(referral.expires_on) == (0, 1)
    expired = Notification.objects.filter(kind="referral_expired")
    assert set(expired.values_list("recipient", flat=True)) == {
        members[2].pk,
        referral.sender_id,
    }
