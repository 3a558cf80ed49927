"""Childcare of the demo territory, loaded by ``binome demo`` (and by the tests that need
it). Idempotent: what exists is left as is.

- The Var's AVIP crèches declare their places: Léa's (Les Petits Pas, Toulon) has two free
  places from next week.
- The Essonne gets an emergency home-care service (its coordinator Yasmina answers
  emergencies from 7 h to 20 h) and two labelled childminders (Sylvie at Évry, and one at
  Corbeil-Essonnes).
- Two requests in flight: in the Var, Inès asks a place at Léa's crèche for Sarah's son;
  in the Essonne, Charlie sends an emergency for Awa's interview tomorrow to the home-care
  service and to Sylvie.
- A place found: Léa accepted Inès's request for Inaya's daughter, from eleven days on — a
  placement of six months, with its review, on the figures' page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.childcare import actions
from binome.childcare.models import (
    ChildcareRequest,
    Placement,
    Provider,
    ProviderKind,
    Solicitation,
    Urgency,
)
from binome.organisations.models import MemberFunction, Membership, Organisation, Role
from binome.organisations.models import OrganisationKind as K
from binome.people.models import ConsentMethod, ConsentScope, HouseholdRelation, Person
from binome.support import actions as support_actions
from binome.support.models import Kind, TeamRole
from binome.territories.models import Commune

HOME_CARE_NAME = "Garde d'enfants à domicile d'urgence — Essonne"

# (organisation key, what it declares)
PLACES: list[tuple[str, dict[str, Any]]] = [
    (
        "creche_toulon",
        {
            "kind": ProviderKind.CRECHE,
            "capacity": 40,
            "avip_places": 8,
            "free_places": 2,
            "free_days": 7,
            "min_age_months": 3,
            "max_age_months": 36,
            "opening_hours": "Du lundi au vendredi, de 7h30 à 18h30",
        },
    ),
    (
        "creche_sanary",
        {
            "kind": ProviderKind.CRECHE,
            "capacity": 30,
            "avip_places": 6,
            "free_places": 1,
            "free_days": 3,
            "min_age_months": 10,
            "max_age_months": 36,
            "opening_hours": "Du lundi au vendredi, de 7h45 à 18h15",
        },
    ),
    (
        "creche_la_seyne",
        {
            "kind": ProviderKind.CRECHE,
            "capacity": 45,
            "avip_places": 9,
            "free_places": 0,
            "free_days": 0,
            "min_age_months": 3,
            "max_age_months": 36,
            "opening_hours": "Du lundi au vendredi, de 7h à 19h",
        },
    ),
    (
        "creche_draguignan",
        {
            "kind": ProviderKind.MICRO_CRECHE,
            "capacity": 12,
            "avip_places": 3,
            "free_places": 1,
            "free_days": 14,
            "min_age_months": 3,
            "max_age_months": 48,
            "opening_hours": "Du lundi au samedi, de 7h30 à 19h",
        },
    ),
    (
        "am_evry",
        {
            "kind": ProviderKind.CHILDMINDER,
            "capacity": 4,
            "avip_places": 2,
            "free_places": 1,
            "free_days": 0,
            "min_age_months": 3,
            "max_age_months": 120,
            "opening_hours": "Du lundi au vendredi, de 7h à 19h",
        },
    ),
    (
        "am_corbeil",
        {
            "kind": ProviderKind.CHILDMINDER,
            "capacity": 3,
            "avip_places": 1,
            "free_places": 1,
            "free_days": 0,
            "min_age_months": 0,
            "max_age_months": 72,
            "opening_hours": "Du lundi au vendredi, de 8h à 18h",
        },
    ),
]

# (email, first name, last name, organisation key or None for the home-care service)
MEMBERS = [
    ("yasmina.benhamou@garde-essonne.test", "Yasmina", "Benhamou", None),
    ("sylvie.moreau@am-evry.test", "Sylvie", "Moreau", "am_evry"),
]


def _user(email: str, first_name: str, last_name: str) -> User:
    return User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=settings.DEMO_PASSWORD, first_name=first_name, last_name=last_name
    )


def _home_care_service(organisations: dict[str, Organisation]) -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        name=HOME_CARE_NAME,
        department_id="91",
        defaults={
            "kind": K.CHILDCARE,
            "commune": Commune.objects.get(insee_code="91228"),
            "email": "contact@garde-essonne.test",
        },
    )
    return organisation


def _parent(
    *, first_name: str, last_name: str, insee: str, child: str, months: int, by: User, at: Any
) -> Person:
    person = Person.objects.filter(
        first_name=first_name, last_name=last_name, organisation=at
    ).first()
    if person is not None:
        return person
    today = timezone.localdate()
    person = support_actions.create_person(
        data={
            "first_name": first_name,
            "last_name": last_name,
            "birth_date": date(today.year - 27, 3, 14),
            "commune": Commune.objects.get(insee_code=insee),
        },
        by=by,
        organisation=at,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    support_actions.add_household_member(
        person=person,
        relation=HouseholdRelation.CHILD,
        first_name=child,
        birth_date=today - timedelta(days=round(months * 30.44)),
        by=by,
        organisation=at,
    )
    support_actions.record_consent(
        person=person,
        scope=ConsentScope.CHILDCARE_CAF,
        method=ConsentMethod.ORAL,
        given_on=today,
        by=by,
        organisation=at,
    )
    return person


@transaction.atomic
def load_demo_providers(
    users: dict[str, User], organisations: dict[str, Organisation]
) -> dict[str, Provider]:
    """The providers' places (and the Essonne's home-care service and its members)."""
    home_care = _home_care_service(organisations)
    by_key = {**organisations, "garde_essonne": home_care}
    for email, first_name, last_name, key in MEMBERS:
        Membership.objects.get_or_create(
            user=_user(email, first_name, last_name),
            organisation=by_key[key or "garde_essonne"],
            defaults={
                # A professional: an administrator would have to set up a second factor.
                "role": Role.PROFESSIONAL,
                "job_title": "Responsable",
                "function": MemberFunction.CHILDCARE,
            },
        )
    today = timezone.localdate()
    providers: dict[str, Provider] = {}
    caf = {"83": organisations["caf83"], "91": organisations["caf91"]}
    for key, declared in [
        *PLACES,
        (
            "garde_essonne",
            {
                "kind": ProviderKind.HOME_CARE,
                "capacity": 0,
                "avip_places": 0,
                "free_places": 0,
                "free_days": 0,
                "min_age_months": 0,
                "max_age_months": 120,
                "emergency_capacity": 4,
                "answering_hours": "Tous les jours, de 7h à 20h",
                "opening_hours": "Garde au domicile des parents, de 6h à 22h",
            },
        ),
    ]:
        organisation = by_key[key]
        existing = Provider.objects.filter(organisation=organisation).first()
        if existing is not None:
            providers[key] = existing
            continue
        values = {name: value for name, value in declared.items() if name != "free_days"}
        values["free_from"] = today + timedelta(days=declared["free_days"])
        values["label_on"] = date(2024, 9, 1)
        values["label_caf"] = caf[organisation.department_id]
        member = (
            Membership.objects.active()
            .filter(organisation=organisation)
            .order_by("pk")
            .values_list("user_id", flat=True)
            .first()
        )
        by = User.objects.get(pk=member) if member else users["claire"]
        providers[key] = actions.save_provider(organisation=organisation, values=values, by=by)
    return providers


@transaction.atomic
def load_demo_childcare(
    users: dict[str, User], organisations: dict[str, Organisation]
) -> list[ChildcareRequest]:
    """The providers, then two requests in flight (once)."""
    providers = load_demo_providers(users, organisations)
    requests = list(
        ChildcareRequest.objects.filter(created_by__in=[users["ines"], users["charlie"]])
    )
    if requests:
        if not Placement.objects.exists():
            _placement(users, organisations, providers)
        return requests
    today = timezone.localdate()
    ines, charlie = users["ines"], users["charlie"]
    sarah = _parent(
        first_name="Sarah",
        last_name="Lambert",
        insee="83137",
        child="Noé",
        months=14,
        by=ines,
        at=organisations["ft_toulon"],
    )
    place = actions.create_request(
        person=sarah,
        organisation=organisations["ft_toulon"],
        accompaniment=sarah.accompaniments.get(),
        children=[("Noé", sarah.household.get().birth_date)],  # type: ignore[list-item]
        reason="formation",
        reason_on=today + timedelta(days=10),
        needed_on=today + timedelta(days=10),
        schedule="Du lundi au vendredi, de 8h30 à 17h",
        urgency=Urgency.PLACE,
        single_parent=True,
        qpv=True,
        rsa=True,
        radius_km=15,
        by=ines,
    )
    actions.send(
        childcare_request=place,
        providers=[providers["creche_toulon"]],
        by=ines,
        organisation=organisations["ft_toulon"],
    )
    awa = _parent(
        first_name="Awa",
        last_name="Diallo",
        insee="91228",
        child="Léo",
        months=26,
        by=charlie,
        at=organisations["ft_evry"],
    )
    emergency = actions.create_request(
        person=awa,
        organisation=organisations["ft_evry"],
        accompaniment=awa.accompaniments.get(),
        children=[("Léo", awa.household.get().birth_date)],  # type: ignore[list-item]
        reason="entretien",
        reason_on=today + timedelta(days=1),
        needed_on=today + timedelta(days=1),
        schedule="De 8h30 à 12h",
        urgency=Urgency.EMERGENCY,
        single_parent=True,
        qpv=False,
        rsa=False,
        radius_km=15,
        by=charlie,
    )
    actions.send(
        childcare_request=emergency,
        providers=[providers["garde_essonne"], providers["am_evry"]],
        by=charlie,
        organisation=organisations["ft_evry"],
    )
    _placement(users, organisations, providers)
    return [place, emergency]


def _placement(
    users: dict[str, User], organisations: dict[str, Organisation], providers: dict[str, Provider]
) -> None:
    """Inès's request for Inaya's daughter, accepted by Léa from eleven days on."""
    today = timezone.localdate()
    ines = users["ines"]
    inaya = _parent(
        first_name="Inaya",
        last_name="Mercier",
        insee="83137",
        child="Lina",
        months=20,
        by=ines,
        at=organisations["ft_toulon"],
    )
    found = actions.create_request(
        person=inaya,
        organisation=organisations["ft_toulon"],
        accompaniment=inaya.accompaniments.get(),
        children=[("Lina", inaya.household.get().birth_date)],  # type: ignore[list-item]
        reason="emploi",
        reason_on=today + timedelta(days=11),
        needed_on=today + timedelta(days=11),
        schedule="Du lundi au vendredi, de 8h à 17h30",
        urgency=Urgency.PLACE,
        single_parent=False,
        qpv=False,
        rsa=True,
        radius_km=15,
        by=ines,
    )
    [solicitation] = actions.send(
        childcare_request=found,
        providers=[providers["creche_toulon"]],
        by=ines,
        organisation=organisations["ft_toulon"],
    )
    actions.accept(
        solicitation=Solicitation.objects.get(pk=solicitation.pk),
        start_on=today + timedelta(days=11),
        place_details="Section des moyens, du lundi au vendredi de 8h à 17h30",
        by=users["lea"],
    )
