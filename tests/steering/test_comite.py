"""The comité de pilotage: the territory plans a session, a team brings a situation with a
pseudonymised summary and the person's agreement, the members read the agenda (never the
file) and record a recommendation, which goes back to the team's file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.steering.models import ComiteCase, ComiteSession
from binome.support.models import TimelineEvent
from tests.factories import SmallTerritory


def _tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


def _plan(var: SmallTerritory, **data: object) -> object:
    values = {
        "held_on": _tomorrow().isoformat(),
        "place": "Hôtel du Département",
        "members": [var.carol.pk, var.dan.pk],
        **data,
    }
    return var.client(var.dan).post(reverse("steering:comite", args=["83"]), values)


SUMMARY = {
    "age_band": "26_44",
    "household": "alone",
    "barriers": "Logement : frein bloquant",
    "tried": "Demande de logement social, FSL.",
    "question": "Une solution d'hébergement temporaire est-elle possible ?",
    "agreement": "on",
}


def _flag(var: SmallTerritory, session: ComiteSession, **data: object) -> object:
    values = {
        **SUMMARY,
        "session": session.pk,
        "agreement_on": timezone.localdate().isoformat(),
        **data,
    }
    return var.client(var.alice).post(reverse("steering:flag", args=[var.person.pk]), values)


@pytest.fixture
def session(small_var: SmallTerritory) -> ComiteSession:
    response = _plan(small_var)
    assert response.status_code == 302
    return ComiteSession.objects.get()


def test_the_steering_officer_plans_a_session(
    small_var: SmallTerritory, session: ComiteSession
) -> None:
    assert session.held_on == _tomorrow()
    assert set(session.members.all()) == {small_var.carol, small_var.dan}
    assert AuditEvent.objects.filter(kind="comite_session_planned", target_id=session.pk).exists()
    page = small_var.client(small_var.dan).get(reverse("steering:comite", args=["83"]))
    assert f"{_tomorrow():%d/%m/%Y}" in page.content.decode()


def test_a_session_in_the_past_or_without_members_is_refused(small_var: SmallTerritory) -> None:
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = _plan(small_var, held_on=yesterday)
    assert "La date de la séance est passée" in response.content.decode()
    response = _plan(small_var, members=[])
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not ComiteSession.objects.exists()
    assert (
        small_var.client(small_var.alice).get(reverse("steering:comite", args=["83"])).status_code
        == 403
    )
    assert (
        small_var.client(small_var.charlie).get(reverse("steering:comite", args=["83"])).status_code
        == 404
    )


def test_the_team_flags_a_situation_and_the_comite_answers(
    small_var: SmallTerritory, session: ComiteSession
) -> None:
    var = small_var
    form = var.client(var.alice).get(reverse("steering:flag", args=[var.person.pk]))
    assert form.status_code == 200
    assert 'value="26_44" selected' in form.content.decode()  # Zoé, born in 1990
    assert _flag(var, session).status_code == 302
    case = ComiteCase.objects.get()
    assert case.organisation == var.france_travail and case.agreement_on == timezone.localdate()
    assert TimelineEvent.objects.filter(
        person=var.person, summary__startswith="Situation présentée au Comité de pilotage"
    ).exists()

    agenda = var.client(var.carol).get(reverse("steering:session", args=[session.pk]))
    body = agenda.content.decode()
    assert "Une solution d&#x27;hébergement temporaire est-elle possible ?" in body
    assert "Zoé" not in body and "Exemple" not in body
    assert reverse("people:detail", args=[var.person.pk]) not in body

    decide = reverse("steering:decide", args=[case.pk])
    response = var.client(var.carol).post(decide, {f"c{case.pk}-decision": "Saisir le SIAO."})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.decision == "Saisir le SIAO." and case.decided_by == var.carol
    line = TimelineEvent.objects.get(person=var.person, summary__startswith="Recommandation")
    assert line.summary == f"Recommandation du {session} : Saisir le SIAO."
    assert line.visibility == "team"
    assert AuditEvent.objects.filter(kind="comite_case_decided", person_id=var.person.pk).exists()
    # The team that brought it reads it in the file (another institution of the team too,
    # once the person consented to share her file: the file's own rule).
    file = (
        var.client(var.alice).get(reverse("people:detail", args=[var.person.pk])).content.decode()
    )
    assert "Saisir le SIAO." in file


def test_a_summary_that_names_the_person_is_refused(
    small_var: SmallTerritory, session: ComiteSession
) -> None:
    response = _flag(small_var, session, tried="Zoé a demandé un logement social.")
    assert "Le résumé ne doit pas nommer la personne" in response.content.decode()
    response = _flag(small_var, session, question="NIR 2 90 05 83 137 001 42 ?")
    assert "numéro d&#x27;identification" in response.content.decode()
    response = _flag(small_var, session, agreement="")
    assert response.status_code == 200
    assert not ComiteCase.objects.exists()


def test_who_sees_the_agenda_and_records_the_decision(
    small_var: SmallTerritory, session: ComiteSession
) -> None:
    var = small_var
    assert _flag(var, session).status_code == 302
    case = ComiteCase.objects.get()
    agenda = reverse("steering:session", args=[session.pk])
    assert var.client(var.dan).get(agenda).status_code == 200
    assert var.client(var.alice).get(agenda).status_code == 404  # not a member
    assert var.client(var.charlie).get(agenda).status_code == 404
    decide = reverse("steering:decide", args=[case.pk])
    assert var.client(var.alice).post(decide, {f"c{case.pk}-decision": "Non."}).status_code == 404
    response = var.client(var.carol).post(decide, {f"c{case.pk}-decision": "  "})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.decision == ""
    flag = reverse("steering:flag", args=[var.person.pk])
    assert var.client(var.carol).get(flag).status_code in (403, 404)  # not on the team
    assert var.client(var.charlie).get(flag).status_code == 404
