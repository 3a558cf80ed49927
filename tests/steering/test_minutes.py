"""The comité's minutes as a PDF: the period's figures and the recommendations, no name."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from binome.steering.minutes import period_of
from binome.steering.models import ComiteCase, ComiteSession
from binome.steering.periods import Period
from tests.factories import SmallTerritory


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _session(var: SmallTerritory, held_on: date) -> ComiteSession:
    session = ComiteSession.objects.create(
        department_id="83", held_on=held_on, place="Toulon", created_by=var.dan
    )
    session.members.set([var.carol, var.dan])
    return session


def test_the_minutes_hold_the_figures_and_the_recommendations_without_names(
    small_var: SmallTerritory,
) -> None:
    var = small_var
    session = _session(var, timezone.localdate() + timedelta(days=1))
    ComiteCase.objects.create(
        session=session,
        person=var.person,
        organisation=var.france_travail,
        flagged_by=var.alice,
        age_band="26_44",
        household="single_parent",
        barriers="Logement : frein bloquant",
        tried="Demande de logement social.",
        question="Un hébergement temporaire est-il possible ?",
        agreement_on=timezone.localdate(),
        decision="Saisir le SIAO en priorité.",
        decided_by=var.carol,
        decided_at=timezone.now(),
    )
    response = var.client(var.carol).get(reverse("steering:session_minutes", args=[session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert f"Compte rendu du {session}" in text
    assert "Les chiffres de la période" in text
    assert "Accompagnement global" in text  # a registered figure section
    assert "Parent isolé" in text and "Saisir le SIAO en priorité." in text
    assert "Un hébergement temporaire est-il possible ?" in text
    assert "France Travail Toulon" in text
    for name in ("Zoé", "Exemple", "EXEMPLE", "Carol", "Alice"):
        assert name not in text


def test_who_gets_the_minutes(small_var: SmallTerritory) -> None:
    var = small_var
    session = _session(var, timezone.localdate() + timedelta(days=1))
    url = reverse("steering:session_minutes", args=[session.pk])
    assert var.client(var.alice).get(url).status_code == 404  # not a member
    assert var.client(var.charlie).get(url).status_code == 404
    assert var.client(var.dan).get(url).status_code == 200


def test_the_period_runs_from_the_previous_session(small_var: SmallTerritory) -> None:
    first = _session(small_var, date(2026, 3, 10))
    second = _session(small_var, date(2026, 6, 2))
    assert period_of(second) == Period(date(2026, 3, 11), date(2026, 6, 2))
    assert period_of(first) == Period(date(2025, 12, 11), date(2026, 3, 10))
