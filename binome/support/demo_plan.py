"""Nadia's shared diagnostic and plan in the demo territory. Idempotent.

Inès made the diagnostic with Marc a week after the start (mobility blocking, childcare,
housing, money, training to lift), both validated it and the global accompaniment was
activated that day (the decision after the diagnostic); Marc commented the housing theme
for his organisation only, and a re-evaluation three weeks ago, validated by both, shows the
money barrier lifted. The plan has
objectives and actions, one of them overdue; when the directory has a mobility service
near Toulon, it is added to the plan as a suggested service would be.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from binome.accounts.models import User
from binome.directory.search import search_services
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.support import actions
from binome.support import plan as plans
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import (
    Accompaniment,
    BarrierLevel,
    Diagnostic,
    Objective,
    Visibility,
)

BLOCKING, TO_LIFT, NONE = BarrierLevel.BLOCKING, BarrierLevel.TO_LIFT, BarrierLevel.NONE


def _answers(*, money: str) -> list[ThemeAnswer]:
    return [
        ThemeAnswer(
            theme="logement",
            level=TO_LIFT,
            situations=["Locataire du parc social", "Difficulté à payer le loyer"],
        ),
        ThemeAnswer(
            theme="mobilite",
            level=BLOCKING,
            situations=[
                "Aucun moyen de transport à disposition",
                "Dépendant des transports en commun",
            ],
            comment="Pas de permis ; les offres d'aide-soignante de nuit sont hors des horaires "
            "des bus.",
        ),
        ThemeAnswer(theme="sante", level=NONE),
        ThemeAnswer(
            theme="difficultes_financieres",
            level=money,
            situations=["Difficulté dans la gestion d'un budget"] if money != NONE else [],
        ),
        ThemeAnswer(theme="difficultes_administratives", level=NONE),
        ThemeAnswer(
            theme="contraintes_familiales",
            level=TO_LIFT,
            situations=["Parent isolé", "Enfant(s) de moins de 3 ans sans solution de garde"],
            comment="Yanis (3 ans) : une place en crèche AVIP permettrait la formation.",
        ),
        ThemeAnswer(theme="maitrise_langue", level=NONE),
        ThemeAnswer(theme="numerique", level=NONE, situations=["Dispose d'un smartphone"]),
        ThemeAnswer(
            theme="emploi",
            level=TO_LIFT,
            situations=["Plus d'1 an sans emploi", "Inscrit à France Travail"],
        ),
        ThemeAnswer(
            theme="formation",
            level=TO_LIFT,
            situations=["A déjà identifié une formation"],
        ),
    ]


def load_demo_plan(
    person: Person, users: dict[str, User], organisations: dict[str, Organisation]
) -> None:
    if Diagnostic.objects.filter(person=person).exists():
        return
    ines, marc = users["ines"], users["marc"]
    ft, dep = organisations["ft_toulon"], organisations["dep83"]
    accompaniment = Accompaniment.objects.filter(person=person).order_by("-started_on").first()
    if accompaniment is None:
        return
    today = timezone.localdate()
    common = {
        "person": person,
        "by": ines,
        "organisation": ft,
        "co_author": marc,
        "accompaniment": accompaniment,
        "project": "Aide-soignante en EHPAD, à Toulon ou La Seyne.",
        "qualification": "Baccalauréat ; expérience d'agent de service hospitalier (2 ans)",
        "availability": "within_quarter",
        "mobility_radius_km": 15,
        "recommended_kind": "socio_pro",
        "recommendation_reason": "Projet clair, freins de mobilité et de garde à lever avant "
        "la formation : un accompagnement global avec le Département.",
    }
    decided_on = accompaniment.started_on + timedelta(days=7)
    first = actions.record_diagnostic(
        made_on=decided_on,
        answers=_answers(money=TO_LIFT),
        validate=True,
        **common,  # type: ignore[arg-type]
    )
    actions.validate_diagnostic(diagnostic=first, by=marc)
    actions.decide_after_diagnostic(
        accompaniment=accompaniment,
        pertinent=True,
        reason="Nadia est d'accord pour un accompagnement global avec Inès et Marc.",
        decided_on=decided_on,
        by=ines,
        organisation=ft,
    )
    actions.comment_theme(
        answer=first.answers.get(theme="logement"),
        by=marc,
        organisation=dep,
        text="Dette de loyer de 1 800 € auprès du bailleur ; dossier FSL à monter.",
        visibility=Visibility.ORGANISATION,
    )
    second = actions.record_diagnostic(
        made_on=today - timedelta(days=21),
        answers=_answers(money=NONE),
        validate=True,
        **common,  # type: ignore[arg-type]
    )
    actions.validate_diagnostic(diagnostic=second, by=marc)

    def objective(theme: str, label: str, by: User, org: Organisation) -> Objective:
        return plans.add_objective(
            accompaniment=accompaniment, theme=theme, label=label, by=by, organisation=org
        )

    permit = objective("mobilite", "Obtenir le permis de conduire (code / conduite)", ines, ft)
    plans.add_action(
        objective=permit,
        label="S'inscrire au code de la route",
        status="in_progress",
        due_on=today + timedelta(days=30),
        carried_by_person=True,
        by=ines,
        organisation=ft,
    )
    childcare = objective(
        "contraintes_familiales", "Trouver des solutions de garde d'enfant", ines, ft
    )
    plans.add_action(
        objective=childcare,
        label="Demander une place en crèche AVIP pour Yanis",
        due_on=today - timedelta(days=5),
        carried_by=ines,
        by=ines,
        organisation=ft,
    )
    rent = objective("logement", "Réduire les impayés de loyer", marc, dep)
    plans.add_action(
        objective=rent,
        label="Monter le dossier du Fonds de solidarité logement",
        status="in_progress",
        due_on=today + timedelta(days=15),
        carried_by=marc,
        by=marc,
        organisation=dep,
    )
    training = objective("formation", "Monter son dossier de formation", ines, ft)
    plans.add_action(
        objective=training,
        label="Dossier de financement de la formation d'aide-soignante",
        status="done",
        due_on=today - timedelta(days=20),
        carried_by=ines,
        by=ines,
        organisation=ft,
    )
    if person.commune is not None:
        found = search_services(
            themes=["mobilite"], commune=person.commune, radius_km=15, per_page=1
        ).services
        if found:
            plans.add_suggested_service(
                accompaniment=accompaniment,
                theme="mobilite",
                service=found[0],
                objective=permit,
                by=ines,
                organisation=ft,
            )
