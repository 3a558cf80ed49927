"""Referrals of the demo territory, loaded by ``binome demo`` (not by the test suite's
personas). Idempotent: what exists is left as is.

- Nadia, oriented by Inès to the CCAS de Toulon for her rent debt, unanswered and overdue;
- Erwan, a new person oriented by Sophie (CCAS de Quimper) to the dedicated counselor of
  France Travail Quimper (Gwenaël), urgently (no childcare for an interview), awaiting his
  answer past its due time;
- with the directory: Nadia oriented to the social driving school, which has no account,
  accepted through its link and started.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from binome.accounts.models import User
from binome.directory.models import Service
from binome.organisations.models import Organisation
from binome.people.models import ConsentMethod, Person
from binome.referrals import actions
from binome.referrals.models import Referral, ReferralEvent, ReferralKind, Urgency, Via
from binome.support import actions as support_actions
from binome.support.models import Kind, TeamRole


def _age(referral: Referral, days: int) -> None:
    """Move a demo referral ``days`` back in time (its dates and its steps)."""
    delta = timedelta(days=days)
    Referral.objects.filter(pk=referral.pk).update(
        sent_at=referral.sent_at - delta,
        due_at=referral.due_at - delta if referral.due_at else None,
        due_on=referral.due_on - delta,
        expires_on=referral.expires_on - delta,
    )
    for event in ReferralEvent.objects.filter(referral=referral):
        ReferralEvent.objects.filter(pk=event.pk).update(at=event.at - delta)


def load_demo_referrals(users: dict[str, User], organisations: dict[str, Organisation]) -> None:
    """The demo's referrals (after ``load_demo`` and ``load_demo_directory``), between the
    demo organisations given by key (``binome.site.demo.demo_organisations``)."""
    nadia = Person.objects.get(user=users["nadia"])
    _load_referrals(users, organisations, nadia)
    load_demo_service_referrals()


@transaction.atomic
def _load_referrals(
    users: dict[str, User], organisations: dict[str, Organisation], nadia: Person
) -> None:
    if not Referral.objects.filter(person=nadia, kind=ReferralKind.SOCIAL).exists():
        referral = actions.send_referral(
            person=nadia,
            kind=ReferralKind.SOCIAL,
            by=users["ines"],
            organisation=organisations["ft_toulon"],
            to_organisation=organisations["ccas_toulon"],
            reason="Dette de loyer de 1 800 € : aide pour monter le dossier FSL et "
            "accompagnement budgétaire.",
            barriers=["logement", "difficultes_financieres"],
            consent_method=ConsentMethod.ORAL,
        )
        _age(referral, 12)
    erwan = Person.objects.filter(
        department_id="29", first_name="Erwan", last_name="Le Floch"
    ).first()
    if erwan is None:
        erwan = support_actions.create_person(
            data={
                "first_name": "Erwan",
                "last_name": "Le Floch",
                "birth_date": date(1979, 9, 23),
                "phone": "06 98 76 54 32",
            },
            by=users["sophie"],
            organisation=organisations["ccas_quimper"],
            kind=Kind.GLOBAL,
            role=TeamRole.SOCIAL_WORKER,
        )
        referral = actions.send_referral(
            person=erwan,
            kind=ReferralKind.GLOBAL,
            by=users["sophie"],
            organisation=organisations["ccas_quimper"],
            to_organisation=organisations["ft_quimper"],
            reason="Demandeur d'emploi depuis deux ans, isolé, sans solution de garde pour "
            "ses deux enfants : proposition d'accompagnement global.",
            barriers=["contraintes_familiales", "emploi"],
            urgency=Urgency.URGENT,
            consent_method=ConsentMethod.WRITTEN,
        )
        _age(referral, 3)


def load_demo_service_referrals() -> None:
    """Nadia oriented to the social driving school (no account), accepted and started."""
    nadia = Person.objects.filter(user__email="nadia.belkacem@exemple.test").first()
    service = Service.objects.filter(source="demo", source_id="aide-permis").first()
    if nadia is None or service is None:
        return
    if Referral.objects.filter(person=nadia, service=service).exists():
        return
    ines = User.objects.get(email="ines.benali@francetravail.test")
    with transaction.atomic():
        referral = actions.send_referral(
            person=nadia,
            kind=ReferralKind.SERVICE,
            by=ines,
            organisation=Organisation.objects.get(name="France Travail Toulon"),
            service=service,
            reason="Pas de permis : frein à la reprise d'un emploi d'aide-soignante.",
            barriers=["mobilite"],
            consent_method=ConsentMethod.ORAL,
        )
        referral = actions.accept(
            referral=referral,
            by=None,
            via=Via.LINK,
            first_step="Évaluation de départ le mardi suivant",
        )
        actions.start(referral=referral, by=None, via=Via.LINK, on=timezone.localdate())
