"""The plan: objectives → actions, concurrent edits, due dates, suggested services, the
worklist's alerts and the file page's query count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.people.models import Consent, Person
from binome.support import actions
from binome.support import plan as plans
from binome.support.models import (
    Accompaniment,
    Action,
    EventKind,
    Objective,
    TeamRole,
    TimelineEvent,
)
from tests.directory.test_search import DRAGUIGNAN, TOULON, make_service

MOBILITY = ["mobilite--preparer-un-permis"]
# The file page of Nadia's demo file (identity, accompaniments, consents, notes,
# appointments, timeline, diagnostic and plan), whatever the size of the plan; 1 of them:
# the referrals section (the header's counts come after the page).
FILE_PAGE_QUERIES = 19


@pytest.fixture
def accompaniment(nadia_file: Person) -> Accompaniment:
    return Accompaniment.objects.get(person=nadia_file)


def objective_named(person: Person, label: str) -> Objective:
    return Objective.objects.get(person=person, label=label)


def action_named(person: Person, start: str) -> Action:
    return Action.objects.get(person=person, label__startswith=start)


def test_objectives_come_from_the_referential_or_free_text(
    client_for: Any, nadia_file: Person
) -> None:
    ines = client_for("ines")
    url = reverse("support:objective_add", args=[nadia_file.pk])
    form = ines.get(url + "?theme=numerique").content.decode()
    assert '<option value="numerique" selected>' in form
    assert "Maîtriser les fondamentaux du numérique" in form

    ok = ines.post(
        url,
        {"theme": "numerique", "referential_label": "numerique|Accéder à une connexion internet"},
    )
    assert ok.status_code == 302
    assert ok["Location"].endswith("#theme-numerique")
    assert objective_named(nadia_file, "Accéder à une connexion internet").theme == "numerique"
    free = ines.post(
        url, {"theme": "emploi", "free_label": "Préparer le concours d'aide-soignante"}
    )
    assert free.status_code == 302
    assert (
        objective_named(nadia_file, "Préparer le concours d'aide-soignante").status == "in_progress"
    )

    before = Objective.objects.count()
    for data, message in (
        ({"theme": "emploi"}, "Choisissez un objectif du référentiel ou écrivez-en un"),
        (
            {
                "theme": "emploi",
                "referential_label": "numerique|Accéder à une connexion internet",
                "free_label": "Autre",
            },
            "pas les deux",
        ),
        (
            {"theme": "emploi", "referential_label": "numerique|Accéder à une connexion internet"},
            "Cet objectif appartient au thème « Numérique », pas au thème « Emploi ».",
        ),
        (
            {"theme": "emploi", "referential_label": "emploi|Inventé"},
            "Choisissez un objectif dans la liste du référentiel.",
        ),
    ):
        body = ines.post(url, data).content.decode().replace("&#x27;", "'")
        assert message in body
    assert Objective.objects.count() == before


def test_an_action_due_before_the_accompaniment_started_is_refused_and_kept(
    client_for: Any, nadia_file: Person, accompaniment: Accompaniment
) -> None:
    permit = objective_named(nadia_file, "Obtenir le permis de conduire (code / conduite)")
    before = Action.objects.count()
    too_early = accompaniment.started_on - timedelta(days=1)
    response = client_for("ines").post(
        reverse("support:action_add", args=[permit.pk]),
        {
            "label": "Inscription à l'auto-école sociale",
            "status": "planned",
            "due_on": too_early.isoformat(),
            "carrier": "person",
        },
    )
    body = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert (
        f"L'échéance ({too_early:%d/%m/%Y}) précède le début de l'accompagnement "
        f"({accompaniment.started_on:%d/%m/%Y})" in body
    )
    assert 'value="Inscription à l\'auto-école sociale"' in body
    assert Action.objects.count() == before
    response = client_for("ines").post(
        reverse("support:action_add", args=[permit.pk]),
        {
            "label": "Inscription à l'auto-école sociale",
            "status": "planned",
            "due_on": accompaniment.started_on.isoformat(),
            "carrier": "person",
        },
    )
    assert response.status_code == 302
    action = action_named(nadia_file, "Inscription à l'auto-école")
    assert action.carried_by_person and action.carried_by is None
    assert TimelineEvent.objects.filter(
        kind=EventKind.PLAN, target_id=action.pk, summary__contains="Action ajoutée"
    ).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.PLAN_CHANGED, target_id=str(action.pk)).exists()


def test_a_save_on_a_stale_version_is_refused_with_the_input_kept(
    client_for: Any, personas: dict[str, Any], nadia_file: Person
) -> None:
    action = action_named(nadia_file, "Demander une place en crèche")
    url = reverse("support:action_edit", args=[action.pk])
    ines, marc = client_for("ines"), client_for("marc")
    # Both open the form on the same version.
    assert f'name="version" value="{action.version}"' in ines.get(url).content.decode()
    assert marc.get(url).status_code == 200
    marcs = {
        "version": action.version,
        "label": "Demander une place en crèche AVIP (dossier CAF envoyé)",
        "status": "in_progress",
        "due_on": action.due_on.isoformat(),  # type: ignore[union-attr]
        "carrier": str(personas["marc"].pk),
    }
    assert marc.post(url, marcs).status_code == 302
    ineses = {
        "version": action.version,
        "label": "Appeler la crèche Les Petits Pas",
        "status": "planned",
        "due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "carrier": str(personas["ines"].pk),
    }
    response = ines.post(url, ineses)
    body = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert "Marc Lefèvre a modifié cet élément le" in body
    assert "votre enregistrement n'a pas été fait" in body
    assert 'value="Appeler la crèche Les Petits Pas"' in body  # nothing typed is lost
    assert "<td>Demander une place en crèche AVIP (dossier CAF envoyé)</td>" in body
    assert "<td>Appeler la crèche Les Petits Pas</td>" in body
    action.refresh_from_db()
    assert action.label == marcs["label"]  # Marc's work is not overwritten
    assert action.version == 2
    assert 'name="version" value="2"' in body
    # Saving again, knowingly, applies Inès's version.
    assert ines.post(url, {**ineses, "version": 2}).status_code == 302
    action.refresh_from_db()
    assert (action.label, action.carried_by, action.version) == (
        ineses["label"],
        personas["ines"],
        3,
    )


def test_an_objective_edited_concurrently_is_not_overwritten(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    objective = objective_named(nadia_file, "Réduire les impayés de loyer")
    plans.update_objective(
        objective=objective,
        version=objective.version,
        label=objective.label,
        status="done",
        by=personas["marc"],
        organisation=orgs["dep83"],
    )
    response = client_for("ines").post(
        reverse("support:objective_edit", args=[objective.pk]),
        {
            "version": objective.version,
            "label": "Apurer la dette de loyer",
            "status": "in_progress",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<td>Atteint</td>" in body and "<td>En cours</td>" in body
    assert 'value="Apurer la dette de loyer"' in body
    objective.refresh_from_db()
    assert (objective.label, objective.status) == ("Réduire les impayés de loyer", "done")


def test_one_click_marks_an_action_done_unless_it_changed_meanwhile(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    overdue = action_named(nadia_file, "Demander une place en crèche")
    ines = client_for("ines")
    worklist = ines.get(reverse("support:worklist")).content.decode()
    assert "1 action en retard" in worklist
    url = reverse("support:action_status", args=[overdue.pk])
    stale_version = overdue.version
    assert ines.post(url, {"status": "done", "version": overdue.version}).status_code == 302
    overdue.refresh_from_db()
    assert (overdue.status, overdue.done_on) == ("done", timezone.localdate())
    assert "en retard" not in ines.get(reverse("support:worklist")).content.decode()
    # A click on a page shown before the change: warned, nothing overwritten.
    response = ines.post(url, {"status": "abandoned", "version": stale_version}, follow=True)
    assert "a été modifiée pendant que vous la consultiez" in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.status == "done"


def test_a_suggested_service_is_added_to_the_plan_in_one_click(
    client_for: Any, personas: dict[str, Any], nadia_file: Person
) -> None:
    near = make_service(
        "Auto-école sociale de Toulon",
        at=TOULON,
        thematiques=MOBILITY,
        publics=["demandeurs-emploi"],
    )
    make_service("Permis pour les jeunes", at=TOULON, thematiques=MOBILITY, publics=["jeunes"])
    make_service(
        "Auto-école de Draguignan", at=DRAGUIGNAN, thematiques=MOBILITY, publics=["tous-publics"]
    )
    make_service(
        "Crèche du port",
        at=TOULON,
        thematiques=["famille--garde-denfants"],
        publics=["tous-publics"],
    )
    garage = make_service(
        "Garage solidaire",
        at=TOULON,
        thematiques=["mobilite--entretenir-reparer-son-vehicule"],
        publics=["femmes"],
    )
    ines = client_for("ines")
    url = reverse("support:plan_suggestions", args=[nadia_file.pk, "mobilite"])
    fragment = ines.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    # Nadia's publics (a job seeker, a woman, a family), within her 15 km mobility radius.
    assert "Auto-école sociale de Toulon" in fragment
    assert "Garage solidaire" in fragment
    assert "à moins de 15 km de Toulon" in fragment
    for absent in ("Permis pour les jeunes", "Draguignan", "Crèche du port"):
        assert absent not in fragment
    permit = objective_named(nadia_file, "Obtenir le permis de conduire (code / conduite)")
    assert f'value="objective:{permit.pk}"' in fragment
    assert 'value="new:Accéder à un véhicule"' in fragment

    response = ines.post(
        reverse("support:plan_add_service", args=[nadia_file.pk]),
        {"theme": "mobilite", "objective": f"objective:{permit.pk}", "service": near.pk},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert '<section id="plan"' in body
    assert "Ajouté au plan : Mobiliser le service « Auto-école sociale de Toulon »" in body
    action = Action.objects.get(service=near)
    assert (action.objective, action.carried_by, action.status) == (
        permit,
        personas["ines"],
        "planned",
    )
    assert "Déjà dans le plan" in ines.get(url, HTTP_HX_REQUEST="true").content.decode()

    # Without script: a new objective of the referential, back to the file.
    response = ines.post(
        reverse("support:plan_add_service", args=[nadia_file.pk]),
        {
            "theme": "mobilite",
            "objective": "new:Entretenir ou réparer son véhicule",
            "service": garage.pk,
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#theme-mobilite")
    assert (
        Action.objects.get(service=garage).objective.label == "Entretenir ou réparer son véhicule"
    )

    # Bad input: nothing written, a French message.
    before = (Objective.objects.count(), Action.objects.count())
    for data in (
        {"theme": "mobilite", "objective": "new:Devenir astronaute", "service": near.pk},
        {"theme": "mobilite", "objective": f"objective:{permit.pk}", "service": 999_999},
        {"theme": "inconnu", "objective": f"objective:{permit.pk}", "service": near.pk},
    ):
        body = ines.post(
            reverse("support:plan_add_service", args=[nadia_file.pk]), data, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "fr-alert--error" in body
    assert (Objective.objects.count(), Action.objects.count()) == before


def test_suggestions_without_script_are_a_page(client_for: Any, nadia_file: Person) -> None:
    body = (
        client_for("marc")
        .get(reverse("support:plan_suggestions", args=[nadia_file.pk, "contraintes_familiales"]))
        .content.decode()
    )
    assert "<h1>Services suggérés — Contraintes familiales</h1>" in body
    assert "<h2 " in body and "<h4 " not in body  # headings in order on a page of its own
    assert "Aucun service de l'annuaire ne répond à ce frein dans ce rayon." in body


def _file_queries(client: Any, person: Person) -> tuple[int, str]:
    url = reverse("people:detail", args=[person.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_file_page_costs_the_same_queries_with_3_or_60_actions(
    client_for: Any,
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    django_assert_max_num_queries: Any,
) -> None:
    accompaniment = Accompaniment.objects.get(person=nadia_file)
    Action.objects.filter(person=nadia_file).delete()
    services = [make_service(f"Service {n}", thematiques=MOBILITY) for n in range(3)]
    objective = plans.add_objective(
        accompaniment=accompaniment,
        theme="emploi",
        label="Organiser ses démarches de recherche d'emploi",
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            plans.add_action(
                objective=objective,
                label=f"Démarche n° {n}",
                due_on=timezone.localdate() + timedelta(days=n - 30),
                carried_by=personas["marc"] if n % 2 else None,
                carried_by_person=not n % 2,
                service=services[n % 3] if n % 5 == 0 else None,
                by=personas["ines"],
                organisation=orgs["ft_toulon"],
            )

    ines = client_for("ines")
    add(3, 0)
    small, _ = _file_queries(ines, nadia_file)
    add(57, 3)
    big, body = _file_queries(ines, nadia_file)
    assert big == small
    assert body.count("Démarche n° ") >= 60
    assert "actions en retard" in body
    with django_assert_max_num_queries(FILE_PAGE_QUERIES):
        ines.get(reverse("people:detail", args=[nadia_file.pk]))


def test_the_worklist_says_when_there_is_no_diagnostic_yet(
    client_for: Any,
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    django_assert_max_num_queries: Any,
) -> None:
    actions.create_person(
        data={
            "first_name": "Samir",
            "last_name": "Aït-Ali",
            "birth_date": timezone.localdate().replace(year=1990),
        },
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        kind="global",
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    ines = client_for("ines")
    ines.get(reverse("support:worklist"))
    with django_assert_max_num_queries(12):
        body = ines.get(reverse("support:worklist")).content.decode()
    assert "Samir AÏT-ALI" in body
    assert body.count("Pas encore de diagnostic") == 1
    assert body.count("1 action en retard") == 1


def test_an_ended_accompaniments_plan_is_read_only(
    client_for: Any,
    personas: dict[str, Any],
    orgs: dict[str, Any],
    nadia_file: Person,
    accompaniment: Accompaniment,
) -> None:
    actions.end_accompaniment(
        accompaniment=accompaniment,
        ended_on=timezone.localdate(),
        reason="formation_qualifiante",
        situation="Entrée en formation d'aide-soignante.",
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    ines = client_for("ines")
    assert ines.get(reverse("support:objective_add", args=[nadia_file.pk])).status_code == 403
    body = ines.get(reverse("people:detail", args=[nadia_file.pk])).content.decode()
    assert "lecture seule" in body
    assert "Obtenir le permis de conduire" in body
    with pytest.raises(ValidationError, match="terminé"):
        plans.add_action(
            objective=objective_named(
                nadia_file, "Obtenir le permis de conduire (code / conduite)"
            ),
            label="Trop tard",
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )


def test_an_action_is_carried_by_the_team_or_the_person(
    personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    permit = objective_named(nadia_file, "Obtenir le permis de conduire (code / conduite)")
    with pytest.raises(ValidationError, match="Karim Haddad ne fait pas partie de l'équipe"):
        plans.add_action(
            objective=permit,
            label="Vérifier les droits CAF",
            carried_by=personas["karim"],
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )
    with pytest.raises(ValidationError, match="une seule partie"):
        plans.add_action(
            objective=permit,
            label="Deux porteurs",
            carried_by=personas["ines"],
            carried_by_person=True,
            by=personas["ines"],
            organisation=orgs["ft_toulon"],
        )


def test_without_the_share_consent_marc_sees_only_his_organisations_plan_items(
    client_for: Any, personas: dict[str, Any], orgs: dict[str, Any], nadia_file: Person
) -> None:
    actions.withdraw_consent(
        consent=Consent.objects.get(person=nadia_file),
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
    )
    body = client_for("marc").get(reverse("people:detail", args=[nadia_file.pk])).content.decode()
    assert "Réduire les impayés de loyer" in body
    assert "Obtenir le permis de conduire" not in body
    permit = objective_named(nadia_file, "Obtenir le permis de conduire (code / conduite)")
    assert (
        client_for("marc").get(reverse("support:objective_edit", args=[permit.pk])).status_code
        == 404
    )


def test_every_plan_page_records_the_read(client_for: Any, nadia_file: Person) -> None:
    permit = objective_named(nadia_file, "Obtenir le permis de conduire (code / conduite)")
    action = action_named(nadia_file, "S'inscrire au code")
    ines = client_for("ines")
    for url, what in (
        (reverse("support:objective_add", args=[nadia_file.pk]), "Plan : nouvel objectif"),
        (reverse("support:objective_edit", args=[permit.pk]), "Plan : objectif"),
        (reverse("support:action_add", args=[permit.pk]), "Plan : nouvelle action"),
        (reverse("support:action_edit", args=[action.pk]), "Plan : action"),
        (
            reverse("support:plan_suggestions", args=[nadia_file.pk, "mobilite"]),
            "Plan : services suggérés (Mobilité)",
        ),
    ):
        reads = AuditEvent.objects.reads_of_person(nadia_file.pk).filter(what=what)
        before = reads.count()
        assert ines.get(url).status_code == 200
        assert reads.count() == before + 1, url


def test_an_actions_refusal_lands_on_the_forms_field() -> None:
    from binome.support.plan_forms import ActionForm
    from binome.support.plan_views import add_errors

    form = ActionForm(
        {"label": "Appeler", "status": "planned", "carrier": "person"}, team=[], creating=True
    )
    assert form.is_valid()
    add_errors(
        form,
        ValidationError(
            {"carried_by": "Marc ne fait plus partie de l'équipe.", "elsewhere": "Autre refus."}
        ),
    )
    assert form.errors["carrier"] == ["Marc ne fait plus partie de l'équipe."]
    assert form.non_field_errors() == ["Autre refus."]
