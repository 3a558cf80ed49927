"""The FSE+ questionnaire in the file: entry, exit and six months, prefilled, by the team."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent
from binome.people.models import Person
from binome.support import actions
from binome.support.fse import FseAnswers, Stage, proposals
from binome.support.models import (
    Accompaniment,
    Diagnostic,
    DiagnosticTheme,
    State,
    TimelineEvent,
)
from tests.factories import SmallTerritory

ENTRY = {
    "gender": "femme",
    "labour_status": "chomeur_longue_duree",
    "education": "cite_3_4",
    "disability": "non",
    "third_country": "refus",
    "foreign_background": "refus",
    "minority": "refus",
    "homeless": "oui",
    "rural": "non",
}


def _activate(var: SmallTerritory, activated_on: date | None = None) -> Accompaniment:
    activated_on = activated_on or date(2026, 1, 5)
    Accompaniment.objects.filter(pk=var.accompaniment.pk).update(
        state=State.ACTIVE, started_on=activated_on, activated_on=activated_on
    )
    return Accompaniment.objects.select_related("person").get(pk=var.accompaniment.pk)


def _housing_diagnostic(var: SmallTerritory, level: str) -> None:
    diagnostic = Diagnostic.objects.create(
        person=var.person,
        accompaniment=var.accompaniment,
        made_on=date(2026, 1, 3),
        recorded_by=var.alice,
        organisation=var.france_travail,
        status="validated",
        validated_at=timezone.now(),
    )
    DiagnosticTheme.objects.create(diagnostic=diagnostic, theme="logement", level=level)


def _url(var: SmallTerritory, stage: str) -> str:
    return reverse("support:accompaniment_fse", args=[var.accompaniment.pk, stage])


def test_the_entry_is_asked_once_activated_and_prefilled(small_var: SmallTerritory) -> None:
    var = small_var
    Person.objects.filter(pk=var.person.pk).update(sex="F")
    client = var.client(var.alice)
    # Proposed, not activated yet: nothing to answer.
    response = client.get(_url(var, "entree"))
    assert response.status_code == 302
    _housing_diagnostic(var, "blocking")
    _activate(var)
    page = client.get(_url(var, "entree")).content.decode()
    assert "Questionnaire FSE+ : entrée" in page
    # The sex of the file and the diagnostic's housing barrier are proposed, checked.
    assert 'value="femme" dsfr="dsfr" required id="id_gender_0" checked' in page
    assert 'name="homeless" value="oui" dsfr="dsfr" required id="id_homeless_0" checked' in page
    assert "Proposé d'après le dossier" in page
    # « Refuse de répondre » only for the situations the person may decline.
    assert 'name="disability" value="refus"' in page
    assert 'name="education" value="refus"' not in page
    detail = client.get(reverse("people:detail", args=[var.person.pk])).content.decode()
    assert "Données FSE+ du participant" in detail and "À compléter" in detail


def test_the_team_records_the_entry_with_its_trace(small_var: SmallTerritory) -> None:
    var = small_var
    _activate(var)
    response = var.client(var.bob).post(_url(var, "entree"), ENTRY)
    assert response.status_code == 302
    answers = FseAnswers.objects.get(accompaniment=var.accompaniment)
    assert answers.entry_recorded_at is not None and answers.exit_recorded_at is None
    assert (answers.labour_status, answers.third_country) == ("chomeur_longue_duree", "refus")
    event = TimelineEvent.objects.get(person=var.person, summary__startswith="Questionnaire FSE+")
    assert event.summary == "Questionnaire FSE+ (entrée) renseigné"
    audit = AuditEvent.objects.get(kind="fse_answers_recorded")
    assert audit.person_id == var.person.pk and audit.details == {
        "stage": "entree",
        "corrected": False,
    }
    detail = var.client(var.bob).get(reverse("people:detail", args=[var.person.pk]))
    assert "Complet" in detail.content.decode()


def test_bad_answers_are_refused_whole(small_var: SmallTerritory) -> None:
    var = small_var
    _activate(var)
    client = var.client(var.alice)
    missing = {**ENTRY, "education": ""}
    response = client.post(_url(var, "entree"), missing)
    assert response.status_code == 200
    assert "Répondez à la question « niveau d&#x27;études »." in response.content.decode()
    refused = {**ENTRY, "labour_status": "refus"}
    response = client.post(_url(var, "entree"), refused)
    assert response.status_code == 200
    assert not FseAnswers.objects.exists()
    # The action itself refuses a declined answer where the regulation asks one.
    with pytest.raises(ValidationError, match="refuse de répondre"):
        actions.record_fse_answers(
            accompaniment=var.accompaniment,
            stage="entree",
            answers={**ENTRY, "gender": "refus"},
            by=var.alice,
            organisation=var.france_travail,
        )
    assert not FseAnswers.objects.exists()


def test_outsiders_and_other_roles(small_var: SmallTerritory) -> None:
    var = small_var
    _activate(var)
    assert var.client(var.charlie).get(_url(var, "entree")).status_code == 404
    assert var.client(var.carol).post(_url(var, "entree"), ENTRY).status_code in (403, 404)
    assert var.client(var.alice).get(_url(var, "inconnue")).status_code == 404
    assert not FseAnswers.objects.exists()


def test_the_exit_and_six_months_are_proposed_from_the_exit_and_followup(
    small_var: SmallTerritory,
) -> None:
    var = small_var
    accompaniment = _activate(var, date(2025, 1, 6))
    with pytest.raises(ValidationError, match="après la sortie"):
        actions.record_fse_answers(
            accompaniment=accompaniment,
            stage="sortie",
            answers={},
            by=var.alice,
            organisation=var.france_travail,
        )
    ended_on = timezone.localdate() - timedelta(days=200)
    actions.end_accompaniment(
        accompaniment=accompaniment,
        ended_on=ended_on,
        reason="formation_qualifiante",
        situation="Entre en formation d'aide-soignante.",
        by=var.alice,
        organisation=var.france_travail,
    )
    accompaniment.refresh_from_db()
    assert proposals(accompaniment, Stage.EXIT) == {
        "exit_employed": "non",
        "exit_in_training": "oui",
    }
    actions.record_followup(
        accompaniment=accompaniment,
        outcome="emploi_durable",
        situation="",
        by=var.alice,
        organisation=var.france_travail,
    )
    accompaniment.refresh_from_db()
    assert proposals(accompaniment, Stage.FOLLOWUP) == {
        "followup_employed": "oui",
        "followup_improved": "oui",
    }
    client = var.client(var.alice)
    response = client.post(
        _url(var, "sortie"),
        {
            "exit_job_searching": "non",
            "exit_in_training": "oui",
            "exit_qualification": "non",
            "exit_employed": "non",
        },
    )
    assert response.status_code == 302
    response = client.post(
        _url(var, "six_mois"), {"followup_employed": "oui", "followup_improved": "oui"}
    )
    assert response.status_code == 302
    answers = FseAnswers.objects.get()
    assert answers.exit_in_training == "oui" and answers.followup_employed == "oui"
    assert answers.entry_recorded_at is None
    # A correction replaces the answers and says so.
    client.post(_url(var, "six_mois"), {"followup_employed": "non", "followup_improved": "oui"})
    answers.refresh_from_db()
    assert answers.followup_employed == "non"
    assert AuditEvent.objects.filter(kind="fse_answers_recorded").count() == 3
    corrected = "Questionnaire FSE+ (six mois après la sortie) corrigé"
    assert TimelineEvent.objects.filter(summary=corrected).exists()
