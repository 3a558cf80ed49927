"""The shared diagnostic: referential, levels, comments' visibility, re-evaluations and the
barriers lifted over time, the situations a département adds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.directory.search import diagnostic_resources
from binome.people.models import Consent, Person
from binome.support import actions, referential
from binome.support import diagnostic as diagnostics
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import (
    BarrierLevel,
    DepartmentSituation,
    Diagnostic,
    DiagnosticComment,
    EventKind,
    TimelineEvent,
    Visibility,
)

THEMES = [
    "logement",
    "mobilite",
    "sante",
    "difficultes_financieres",
    "difficultes_administratives",
    "contraintes_familiales",
    "maitrise_langue",
    "numerique",
    "emploi",
    "formation",
]


def form_data(**overrides: Any) -> dict[str, Any]:
    """A diagnostic form: no barrier anywhere unless overridden (``<theme>-level`` etc.)."""
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
    for code in THEMES:
        data[f"{code}-level"] = "none"
        data[f"{code}-comment"] = ""
        data[f"{code}-visibility"] = "team"
    data.update(overrides)
    return data


def test_the_referential_is_the_projects_copy_read_once() -> None:
    ref = referential.referential()
    assert [t.code for t in referential.themes()] == THEMES
    assert [t.code for t in referential.themes() if t.sensitive] == ["sante"]
    assert "Permis B" in ref.themes["mobilite"].situations
    assert (
        "Trouver des solutions de garde d'enfant" in ref.themes["contraintes_familiales"].objectives
    )
    assert ref.action_statuses["done"] == "Réalisée"
    assert ref.objective_statuses == {
        "in_progress": "En cours",
        "done": "Atteint",
        "abandoned": "Abandonné",
    }
    assert set(ref.orientation_kinds) == {"pro", "socio_pro", "social"}
    # The directory's search reads the same themes (one load of the file).
    assert {code: t.resources for code, t in ref.themes.items()} == diagnostic_resources()


def test_a_department_adds_situations_after_the_referentials(personas: dict[str, Any]) -> None:
    situation = actions.add_department_situation(
        department_id="83",
        theme="mobilite",
        label="  Zone sans   transport à la demande ",
        by=personas["claire"],
    )
    assert situation.label == "Zone sans transport à la demande"
    var = referential.situations_by_theme("83")["mobilite"]
    assert var[: len(referential.theme("mobilite").situations)] == list(
        referential.theme("mobilite").situations
    )
    assert var[-1] == "Zone sans transport à la demande"
    assert (
        "Zone sans transport à la demande" not in referential.situations_by_theme("29")["mobilite"]
    )
    with pytest.raises(ValidationError, match="déjà ajouté"):
        actions.add_department_situation(
            department_id="83",
            theme="mobilite",
            label="Zone sans transport à la demande",
            by=personas["claire"],
        )
    with pytest.raises(ValidationError, match="figure déjà dans le référentiel"):
        actions.add_department_situation(
            department_id="83", theme="mobilite", label="Permis B", by=personas["claire"]
        )


def test_ines_and_marc_make_the_diagnostic_with_nadia(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    ines = client_for("ines")
    before = Diagnostic.objects.filter(person=nadia_file).count()
    response = ines.post(
        reverse("support:diagnostic_create", args=[nadia_file.pk]),
        form_data(
            **{
                "co_author": str(personas["marc"].pk),
                "mobilite-level": "blocking",
                "mobilite-situations": ["Aucun moyen de transport à disposition"],
                "mobilite-comment": "Pas de permis.",
                "contraintes_familiales-level": "to_lift",
                "contraintes_familiales-situations": ["Parent isolé"],
                "project": "Aide-soignante",
                "mobility_radius_km": "20",
                "availability": "within_month",
                "recommended_kind": "socio_pro",
                "recommendation_reason": "Freins sociaux et projet clair.",
                "action": "validate",
            }
        ),
    )
    assert response.status_code == 302
    assert Diagnostic.objects.filter(person=nadia_file).count() == before + 1
    diagnostic = Diagnostic.objects.filter(person=nadia_file).latest("id")
    # Inès validated it as she recorded it; it counts once Marc validated it too.
    assert response["Location"] == reverse("support:diagnostic_detail", args=[diagnostic.pk])
    assert diagnostic.is_draft
    marc = client_for("marc")
    marc.post(reverse("support:diagnostic_validate", args=[diagnostic.pk]))
    diagnostic.refresh_from_db()
    assert not diagnostic.is_draft
    assert diagnostic.recorded_by == personas["ines"]
    assert diagnostic.co_author == personas["marc"]
    assert diagnostic.co_author_organisation is not None
    assert diagnostic.co_author_organisation.name == orgs["dep83"].name
    assert diagnostic.mobility_radius_km == 20
    assert diagnostic.get_recommended_kind_display().startswith("Socio-professionnelle")
    levels = {a.theme: a.level for a in diagnostic.answers.all()}
    assert len(levels) == len(THEMES)
    assert levels["mobilite"] == BarrierLevel.BLOCKING
    assert levels["contraintes_familiales"] == BarrierLevel.TO_LIFT
    assert levels["logement"] == BarrierLevel.NONE
    mobility = diagnostic.answers.get(theme="mobilite")
    assert mobility.situations == ["Aucun moyen de transport à disposition"]
    comment = DiagnosticComment.objects.get(answer=mobility)
    assert (comment.text, comment.visibility) == ("Pas de permis.", Visibility.TEAM)
    event = TimelineEvent.objects.filter(person=nadia_file, kind=EventKind.DIAGNOSTIC).first()
    assert event is not None
    assert "1 frein bloquant, 1 frein à lever" in event.summary
    assert AuditEvent.objects.filter(
        kind=AuditKind.DIAGNOSTIC_RECORDED, target_id=str(diagnostic.pk)
    ).exists()
    # The file shows the barriers of the latest diagnostic.
    body = ines.get(reverse("people:detail", args=[nadia_file.pk])).content.decode()
    assert "Frein bloquant" in body
    assert "accompagnement préconisé : socio-professionnelle" in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"mobilite-situations": ["Téléporteur"]},
            "Mobilité : « Téléporteur » n&#x27;est pas une situation de ce thème",
        ),
        ({"mobilite-level": "terrible"}, "Sélectionnez un choix valide"),
        ({"mobility_radius_km": "500"}, "Le rayon de mobilité ne dépasse pas 200 km."),
        ({"mobility_radius_km": "loin"}, "Indiquez un nombre entier de kilomètres."),
        (
            {"made_on": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "La date du diagnostic ne peut pas être dans le futur.",
        ),
        ({"co_author": "999999"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_nothing_written(
    client_for: Any, nadia_file: Person, overrides: dict[str, Any], message: str
) -> None:
    before = Diagnostic.objects.count()
    data = form_data(**{"project": "Mon projet tapé", **overrides})
    response = client_for("ines").post(
        reverse("support:diagnostic_create", args=[nadia_file.pk]), data
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "Mon projet tapé" in body  # what was typed is kept
    assert Diagnostic.objects.count() == before


def test_health_comments_default_to_the_authors_organisation(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    diagnostic = actions.record_diagnostic(
        person=nadia_file,
        by=personas["marc"],
        organisation=orgs["dep83"],
        made_on=timezone.localdate(),
        answers=[
            ThemeAnswer(theme="sante", level="to_lift", comment="Suivi en CMP."),
            ThemeAnswer(theme="logement", level="none", comment="Logement stable."),
        ],
    )
    comments = {
        c.answer.theme: c.visibility
        for c in DiagnosticComment.objects.filter(answer__diagnostic=diagnostic)
    }
    assert comments == {"sante": Visibility.ORGANISATION, "logement": Visibility.TEAM}


def test_marcs_comment_for_his_organisation_is_hidden_from_ines(
    client_for: Any, nadia_file: Person
) -> None:
    first = Diagnostic.objects.filter(person=nadia_file).earliest("made_on")
    private = DiagnosticComment.objects.get(answer__diagnostic=first, visibility="organisation")
    assert private.author.first_name == "Marc"
    url = reverse("support:diagnostic_detail", args=[first.pk])
    ines_page = client_for("ines").get(url).content.decode()
    marc_page = client_for("marc").get(url).content.decode()
    assert "Dette de loyer" in marc_page
    assert "Dette de loyer" not in ines_page
    # The levels and situations are shared with the team.
    assert "Difficulté à payer le loyer" in ines_page
    # The timeline line of the comment follows the comment's visibility.
    ines_file = client_for("ines").get(reverse("people:detail", args=[nadia_file.pk]))
    assert "Commentaire de Marc" not in ines_file.content.decode()


def test_marc_comments_a_theme_of_ineses_diagnostic(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    diagnostic = Diagnostic.objects.filter(person=nadia_file).latest("made_on")
    answer = diagnostic.answers.get(theme="mobilite")
    url = reverse("support:diagnostic_detail", args=[diagnostic.pk])
    marc = client_for("marc")
    empty = marc.post(
        url, {"answer": answer.pk, f"c{answer.pk}-text": "", f"c{answer.pk}-visibility": "team"}
    )
    assert empty.status_code == 200
    assert "Le commentaire est vide." in empty.content.decode()
    response = marc.post(
        url,
        {
            "answer": answer.pk,
            f"c{answer.pk}-text": "Auto-école sociale à La Seyne possible.",
            f"c{answer.pk}-visibility": "team",
        },
    )
    assert response.status_code == 302
    comment = DiagnosticComment.objects.get(answer=answer, author=personas["marc"])
    assert comment.organisation.name == orgs["dep83"].name
    assert "Auto-école sociale" in client_for("ines").get(url).content.decode()


def test_a_re_evaluation_keeps_the_history_and_shows_the_barriers_lifted(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    ines = client_for("ines")
    history_url = reverse("support:diagnostic_history", args=[nadia_file.pk])
    body = ines.get(history_url).content.decode()
    # The demo: money difficulties were lifted between the two diagnostics.
    assert body.count("Frein levé") == 1
    assert "Freins levés depuis le premier diagnostic" in body

    # The form of a re-evaluation starts from the latest diagnostic.
    form = ines.get(reverse("support:diagnostic_create", args=[nadia_file.pk])).content.decode()
    assert re.search(
        r'<input type="radio" name="mobilite-level" value="blocking"[^>]*checked', form
    )
    assert re.search(
        r'name="mobilite-situations" value="Aucun moyen de transport à disposition"[^>]*checked',
        form,
    )
    assert not re.search(r'name="mobilite-situations" value="Permis B"[^>]*checked', form)

    latest = Diagnostic.objects.filter(person=nadia_file).latest("made_on")
    answers = [
        ThemeAnswer(theme=a.theme, level=a.level, situations=a.situations)
        for a in latest.answers.all()
    ]
    for answer in answers:
        if answer.theme == "mobilite":
            answer.level = BarrierLevel.NONE
    reevaluation = actions.record_diagnostic(
        person=nadia_file,
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        made_on=timezone.localdate(),
        answers=answers,
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=reevaluation, by=personas["marc"])
    assert Diagnostic.objects.filter(person=nadia_file).count() == 3
    rows = diagnostics.barriers_over_time(
        list(
            Diagnostic.objects.filter(person=nadia_file)
            .prefetch_related("answers")
            .order_by("made_on", "id")
        )
    )
    lifted = {row.theme.code for row in rows if row.lifted}
    assert lifted == {"mobilite", "difficultes_financieres"}
    still = {row.theme.code for row in rows if row.ever_a_barrier and not row.lifted}
    assert still == {"logement", "contraintes_familiales", "emploi", "formation"}
    body = ines.get(history_url).content.decode()
    assert body.count("Frein levé") == 2
    assert "<caption>Niveau de chaque frein" in body


def test_without_the_share_consent_marc_no_longer_sees_ineses_diagnostic(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    diagnostic = Diagnostic.objects.filter(person=nadia_file).latest("made_on")
    url = reverse("support:diagnostic_detail", args=[diagnostic.pk])
    assert client_for("marc").get(url).status_code == 200
    actions.withdraw_consent(
        consent=Consent.objects.get(person=nadia_file),
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    assert client_for("marc").get(url).status_code == 404
    # Inès's organisation holds the file: she still sees it.
    assert client_for("ines").get(url).status_code == 200


def test_claire_manages_the_var_situations_and_the_form_offers_them(
    client_for: Any, nadia_file: Person
) -> None:
    claire = client_for("claire")
    url = reverse("support:department_situations", args=["83"])
    response = claire.post(
        url, {"theme": "numerique", "label": "Usager de l'espace France services"}
    )
    assert response.status_code == 302
    duplicate = claire.post(
        url, {"theme": "numerique", "label": "Usager de l'espace France services"}
    )
    assert "Le département a déjà ajouté cette situation à ce thème." in duplicate.content.decode()
    empty = claire.post(url, {"theme": "numerique", "label": ""})
    assert "Indiquez la situation." in empty.content.decode()
    form_url = reverse("support:diagnostic_create", args=[nadia_file.pk])
    assert (
        "Usager de l&#x27;espace France services"
        in client_for("ines").get(form_url).content.decode()
    )

    situation = DepartmentSituation.objects.get(department_id="83")
    claire.post(reverse("support:department_situation_remove", args=["83", situation.pk]))
    assert not DepartmentSituation.objects.exists()
    assert (
        "Usager de l&#x27;espace France services"
        not in client_for("ines").get(form_url).content.decode()
    )
    assert AuditEvent.objects.filter(kind=AuditKind.SITUATION_CHANGED).count() == 2


def test_every_diagnostic_page_records_the_read(client_for: Any, nadia_file: Person) -> None:
    diagnostic = Diagnostic.objects.filter(person=nadia_file).latest("made_on")
    ines = client_for("ines")
    for url, what in (
        (
            reverse("support:diagnostic_create", args=[nadia_file.pk]),
            "Diagnostic partagé : formulaire",
        ),
        (
            reverse("support:diagnostic_history", args=[nadia_file.pk]),
            "Diagnostic partagé : historique et freins levés",
        ),
        (reverse("support:diagnostic_detail", args=[diagnostic.pk]), str(diagnostic)),
    ):
        before = AuditEvent.objects.reads_of_person(nadia_file.pk).filter(what=what).count()
        assert ines.get(url).status_code == 200
        after = AuditEvent.objects.reads_of_person(nadia_file.pk).filter(what=what).count()
        assert after == before + 1, url


HEALTH_SITUATION = "Couverture sociale / mutuelle à mettre à jour"


def test_health_situations_are_for_the_social_worker_and_the_referent(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    """Inès (dedicated counselor) sees the level of Nadia's health barrier, not its situations;
    her re-evaluation neither shows nor loses them; Marc (social worker) sees them."""
    from binome.support.access import can_view_health_details, file_access

    assert can_view_health_details(file_access(personas["marc"], nadia_file))
    assert not can_view_health_details(file_access(personas["ines"], nadia_file))
    assert not can_view_health_details(file_access(personas["claire"], nadia_file))  # basics
    assert not can_view_health_details(None)
    marcs = actions.record_diagnostic(
        person=nadia_file,
        by=personas["marc"],
        organisation=orgs["dep83"],
        made_on=timezone.localdate(),
        answers=[
            ThemeAnswer(theme=code, level="none")
            if code != "sante"
            else ThemeAnswer(theme="sante", level="to_lift", situations=[HEALTH_SITUATION])
            for code in THEMES
        ],
        validate=True,
    )
    actions.validate_diagnostic(diagnostic=marcs, by=personas["ines"])
    url = reverse("support:diagnostic_detail", args=[marcs.pk])
    assert HEALTH_SITUATION in client_for("marc").get(url).content.decode()
    ines = client_for("ines")
    ines_page = ines.get(url).content.decode()
    assert HEALTH_SITUATION not in ines_page
    assert "Frein à lever" in ines_page
    assert "situations de santé sont réservées au travailleur social" in ines_page
    # Inès re-evaluates: no health situations in her form, Marc's are carried over.
    form_url = reverse("support:diagnostic_create", args=[nadia_file.pk])
    form_page = ines.get(form_url)
    assert "sante-situations" not in form_page.context["form"].fields
    assert HEALTH_SITUATION not in form_page.content.decode()
    response = ines.post(
        form_url,
        form_data(**{"sante-level": "to_lift", "sante-situations": ["Addiction"]}),
    )
    assert response.status_code == 302
    newest = Diagnostic.objects.filter(person=nadia_file).latest("id")
    assert newest.recorded_by == personas["ines"]
    assert newest.answers.get(theme="sante").situations == [HEALTH_SITUATION]
    # Marc still sees them on Inès's re-evaluation.
    marc_page = client_for("marc").get(reverse("support:diagnostic_detail", args=[newest.pk]))
    assert HEALTH_SITUATION in marc_page.content.decode()


def test_health_comment_in_the_form_defaults_to_the_authors_organisation(
    client_for: Any, nadia_file: Person
) -> None:
    form = (
        client_for("marc")
        .get(reverse("support:diagnostic_create", args=[nadia_file.pk]))
        .context["form"]
    )
    assert form.fields["sante-visibility"].initial == Visibility.ORGANISATION
    assert form.fields["logement-visibility"].initial == Visibility.TEAM
