"""Nadia's shared file in the demo territory: held by Inès (France Travail Toulon) with Marc
(Département du Var), a share consent, a global accompaniment (activated after the
diagnostic, by ``demo_plan``), notes (one of Marc's visible to his organisation only) and
appointments. In Quimper, Loïc, followed by the CCAS (Sophie) and registered at France
Travail (Yann, a counselor who is not a dedicated one), and the decisions after the
diagnostic. Idempotent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import ConsentMethod, ConsentScope, HouseholdRelation, Person
from binome.support import actions
from binome.support.diagnostic import ThemeAnswer
from binome.support.models import (
    AppointmentStatus,
    BarrierLevel,
    ExitOrientation,
    Kind,
    Medium,
    TeamRole,
    Visibility,
)
from binome.support.referential import themes
from binome.territories.models import Commune

NIR_BODY = "2880483137123"
NADIA_NIR = NIR_BODY + stdnum_nir.calc_check_digits(NIR_BODY)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def load_demo_file(users: dict[str, User], organisations: dict[str, Organisation]) -> Person:
    existing = Person.objects.filter(user=users["nadia"]).first()
    if existing is not None:
        return existing
    ines, marc = users["ines"], users["marc"]
    ft, dep = organisations["ft_toulon"], organisations["dep83"]
    today = timezone.localdate()
    start = today - timedelta(days=90)
    person = actions.create_person(
        data={
            "first_name": "Nadia",
            "last_name": "Belkacem",
            "birth_date": date(1988, 4, 12),
            "sex": "F",
            "phone": "06 12 34 56 78",
            "email": users["nadia"].email,
            "address": "12 rue Victor Clappier",
            "commune": Commune.objects.get(insee_code="83137"),
            "france_travail_id": "3456789B",
            "caf_number": "7654321",
            "nir": NADIA_NIR,
        },
        by=ines,
        organisation=ft,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
        started_on=start,
    )
    person.user = users["nadia"]
    person.save(update_fields=["user"])
    actions.add_household_member(
        person=person,
        relation=HouseholdRelation.CHILD,
        first_name="Yanis",
        birth_date=date(2021, 6, 3),
        by=ines,
        organisation=ft,
    )
    actions.record_consent(
        person=person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=start,
        by=ines,
        organisation=ft,
    )
    accompaniment = person.accompaniments.get()
    actions.join_team(
        accompaniment=accompaniment,
        user=marc,
        organisation=dep,
        role=TeamRole.SOCIAL_WORKER,
        reason="Binôme de l'accompagnement global : diagnostic partagé avec Inès.",
        by=marc,
    )
    actions.write_note(
        person=person,
        author=ines,
        organisation=ft,
        accompaniment=accompaniment,
        date=start + timedelta(days=7),
        medium=Medium.IN_PERSON,
        text="Diagnostic partagé avec Marc. Projet : reprendre un emploi d'aide-soignante ; "
        "freins : garde de Yanis, mobilité (pas de permis).",
        visibility=Visibility.TEAM,
    )
    actions.write_note(
        person=person,
        author=marc,
        organisation=dep,
        accompaniment=accompaniment,
        date=start + timedelta(days=20),
        medium=Medium.HOME_VISIT,
        text="Visite à domicile : dette de loyer de 1 800 €, dossier FSL à monter. "
        "Situation familiale difficile, à ne pas partager hors du service.",
        visibility=Visibility.ORGANISATION,
    )
    actions.write_note(
        person=person,
        author=ines,
        organisation=ft,
        accompaniment=accompaniment,
        date=today - timedelta(days=10),
        medium=Medium.PHONE,
        text="Point téléphonique : inscription à la formation d'aide-soignante en cours.",
        visibility=Visibility.TEAM_AND_PERSON,
    )
    actions.record_appointment(
        person=person,
        by=ines,
        organisation=ft,
        accompaniment=accompaniment,
        at=_at(today - timedelta(days=30), 10),
        place="France Travail Toulon",
        with_whom="Inès Benali et Marc Lefèvre",
        status=AppointmentStatus.HELD,
    )
    actions.record_appointment(
        person=person,
        by=marc,
        organisation=dep,
        accompaniment=accompaniment,
        at=_at(today + timedelta(days=14), 14),
        place="Maison départementale des solidarités, Toulon",
        with_whom="Marc Lefèvre",
    )
    return person


def load_demo_ccas_file(sophie: User, yann: User, organisations: dict[str, Organisation]) -> Person:
    """Loïc Tanguy, followed by the CCAS de Quimper (Sophie, social support) and by France
    Travail Quimper (Yann, professional support): Yann may submit his situation to the
    agency's dedicated counselor (the Quimper convention)."""
    ccas, ft = organisations["ccas_quimper"], organisations["ft_quimper"]
    existing = Person.objects.filter(
        department_id="29", first_name="Loïc", last_name="Tanguy", merged_into__isnull=True
    ).first()
    if existing is not None:
        return existing
    start = timezone.localdate() - timedelta(days=45)
    person = actions.create_person(
        data={
            "first_name": "Loïc",
            "last_name": "Tanguy",
            "birth_date": date(1982, 11, 5),
            "phone": "06 45 67 89 12",
            "commune": Commune.objects.get(insee_code="29232"),
        },
        by=sophie,
        organisation=ccas,
        kind=Kind.SOCIAL,
        role=TeamRole.SOCIAL_WORKER,
        started_on=start,
    )
    actions.open_accompaniment(
        person=person,
        kind=Kind.PROFESSIONAL,
        started_on=start + timedelta(days=10),
        by=yann,
        organisation=ft,
        role=TeamRole.MEMBER,
        join_reason="Inscrit à France Travail Quimper : suivi de la recherche d'emploi.",
    )
    actions.write_note(
        person=person,
        author=sophie,
        organisation=ccas,
        accompaniment=person.accompaniments.get(kind=Kind.SOCIAL),
        date=start + timedelta(days=5),
        medium=Medium.IN_PERSON,
        text="Premier entretien au CCAS : logement précaire, pas de véhicule, recherche "
        "d'emploi découragée.",
        visibility=Visibility.TEAM,
    )
    return person


def quimper_file(
    first_name: str,
    last_name: str,
    birth_date: date,
    users: dict[str, User],
    organisations: dict[str, Organisation],
) -> Person | None:
    """A global accompaniment proposed by Gwenaël (France Travail Quimper) with Sophie (CCAS
    de Quimper) on its team, the person's consent to share her file recorded; None when the
    demo already has it (also the journeys' start)."""
    if Person.objects.filter(
        department_id="29", first_name=first_name, last_name=last_name
    ).exists():
        return None
    person = actions.create_person(
        data={"first_name": first_name, "last_name": last_name, "birth_date": birth_date},
        by=users["gwenael"],
        organisation=organisations["ft_quimper"],
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    actions.record_consent(
        person=person,
        scope=ConsentScope.SHARE_FILE,
        method=ConsentMethod.WRITTEN,
        given_on=timezone.localdate(),
        by=users["gwenael"],
        organisation=organisations["ft_quimper"],
    )
    actions.join_team(
        accompaniment=person.accompaniments.get(),
        user=users["sophie"],
        organisation=organisations["ccas_quimper"],
        role=TeamRole.SOCIAL_WORKER,
        reason="Binôme du diagnostic partagé",
        by=users["sophie"],
    )
    return person


def _assessed(levels: dict[str, str]) -> list[ThemeAnswer]:
    """Every theme assessed: the given levels, « non abordé » for the others."""
    return [
        ThemeAnswer(theme=theme.code, level=levels.get(theme.code, BarrierLevel.NOT_ADDRESSED))
        for theme in themes()
    ]


def load_demo_decisions(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    """Quimper: Maëlle's diagnostic validated by Gwenaël, waiting for Sophie's validation;
    Erwan's concluded « non pertinent » and his accompaniment closed, oriented to the CCAS's
    social support (no six-month situation asked)."""
    gwenael, sophie = users["gwenael"], users["sophie"]
    ft = organisations["ft_quimper"]
    today = timezone.localdate()
    maelle = quimper_file("Maëlle", "Kerjean", date(1993, 2, 17), users, organisations)
    if maelle is not None:
        actions.record_diagnostic(
            person=maelle,
            by=gwenael,
            organisation=ft,
            made_on=today,
            co_author=sophie,
            accompaniment=maelle.accompaniments.get(),
            answers=_assessed(
                {
                    "mobilite": BarrierLevel.TO_LIFT,
                    "emploi": BarrierLevel.TO_LIFT,
                    "numerique": BarrierLevel.NONE,
                    "logement": BarrierLevel.NONE,
                }
            ),
            project="Vendeuse en boulangerie, à Quimper.",
            recommended_kind="socio_pro",
            validate=True,
        )
    erwan = quimper_file("Erwan", "Caradec", date(1971, 11, 5), users, organisations)
    if erwan is not None:
        accompaniment = erwan.accompaniments.get()
        diagnostic = actions.record_diagnostic(
            person=erwan,
            by=gwenael,
            organisation=ft,
            made_on=today,
            co_author=sophie,
            accompaniment=accompaniment,
            answers=_assessed(
                {
                    "sante": BarrierLevel.BLOCKING,
                    "logement": BarrierLevel.BLOCKING,
                    "emploi": BarrierLevel.NONE,
                }
            ),
            recommended_kind="social",
            recommendation_reason="La santé et le logement passent avant la recherche "
            "d'emploi : un accompagnement social par le CCAS.",
            validate=True,
        )
        actions.validate_diagnostic(diagnostic=diagnostic, by=sophie)
        actions.decide_after_diagnostic(
            accompaniment=accompaniment,
            pertinent=False,
            orientation=ExitOrientation.SOCIAL,
            reason="Erwan préfère d'abord stabiliser sa santé et son logement avec le CCAS.",
            by=gwenael,
            organisation=ft,
        )
