"""Nadia's shared file in the demo territory: held by Inès (France Travail Toulon) with Marc
(Département du Var), a share consent, an active global accompaniment, notes (one of
Marc's visible to his organisation only) and appointments. In Quimper, Loïc, followed by
the CCAS (Sophie) and registered at France Travail (Yann, a counselor who is not a dedicated
one). Idempotent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.people.models import ConsentMethod, ConsentScope, HouseholdRelation, Person
from binome.support import actions
from binome.support.models import AppointmentStatus, Kind, Medium, State, TeamRole, Visibility
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
    actions.change_state(
        accompaniment=accompaniment, to_state=State.ACTIVE, by=ines, organisation=ft
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
