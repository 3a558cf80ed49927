"""The file page is navigable: a summary of its sections, each an anchor of the page; the
timeline dated by when things happened; the next step once the binôme accepted a person."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from binome.referrals import actions as referral_actions
from binome.referrals.models import ReferralKind
from binome.support import actions as support_actions
from binome.support.models import Kind, Medium, TeamRole, TimelineEvent
from tests.factories import SmallTerritory

SECTIONS = {
    "Synthèse": "synthese",
    "Diagnostic": "diagnostic",
    "Plan d'action": "plan-action",
    "Orientations": "orientations",
    "Notes d'entretien": "notes",
    "Rendez-vous": "rendez-vous",
    "Historique": "chronologie",
}


def _file(small_var: SmallTerritory, user: object, person_pk: int) -> str:
    client = small_var.client(user)  # type: ignore[arg-type]
    response = client.get(reverse("people:detail", args=[person_pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_summary_leads_to_each_section(small_var: SmallTerritory) -> None:
    body = _file(small_var, small_var.alice, small_var.person.pk)

    summary = body[body.index('class="fr-summary') : body.index("</nav>", body.index("fr-summary"))]
    links = dict(re.findall(r'href="#([\w-]+)">([^<]+)</a>', summary))
    assert {label: anchor for anchor, label in links.items()} == SECTIONS
    for anchor in SECTIONS.values():
        assert f'id="{anchor}"' in body, anchor


def test_a_note_written_later_is_dated_by_its_interview(small_var: SmallTerritory) -> None:
    interview = timezone.localdate() - timedelta(days=5)
    support_actions.write_note(
        person=small_var.person,
        author=small_var.alice,
        organisation=small_var.france_travail,
        date=interview,
        medium=Medium.PHONE,
        text="Entretien téléphonique.",
    )

    event = TimelineEvent.objects.get(person=small_var.person, kind="note")
    assert timezone.localdate(event.at) == interview
    body = _file(small_var, small_var.alice, small_var.person.pk)
    assert f"<strong>{interview:%d/%m/%Y}</strong> — Note d" in body


def test_after_the_binome_accepts_the_next_step_is_the_shared_diagnostic(
    small_var: SmallTerritory,
) -> None:
    person = support_actions.create_person(
        data={"first_name": "Yanis", "last_name": "Orienté", "birth_date": date(1990, 1, 1)},
        by=small_var.bob,
        organisation=small_var.departement,
        kind=Kind.SOCIAL,
        role=TeamRole.SOCIAL_WORKER,
    )
    referral = referral_actions.send_referral(
        person=person,
        kind=ReferralKind.GLOBAL,
        by=small_var.bob,
        organisation=small_var.departement,
        to_organisation=small_var.france_travail,
        reason="Un accompagnement global serait utile.",
        consent_method="oral",
    )
    assert "Planifier le diagnostic partagé" not in _file(small_var, small_var.bob, person.pk)

    referral_actions.accept(referral=referral, by=small_var.alice, first_step="Appel à la personne")

    body = _file(small_var, small_var.bob, person.pk)
    assert "Prochaine étape : le diagnostic partagé" in body
    assert reverse("support:appointment_add", args=[person.pk]) in body
    assert "Planifier le diagnostic partagé" in body
