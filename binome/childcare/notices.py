"""Who is told of each step of a childcare request, in-app and by e-mail (``notify``).

Titles and bodies name the kind of event, the organisations and the due time, never the
person nor the children: those stay behind login, on the request's pages."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from binome.accounts.models import User
from binome.childcare.models import ChildcareRequest, Solicitation
from binome.notifications.actions import notify
from binome.notifications.models import NotificationKind
from binome.organisations.models import Membership
from binome.support.models import TeamMember


def provider_members(organisation_id: int) -> list[User]:
    """The active members of a provider's organisation."""
    return list(
        User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(organisation_id=organisation_id)
            .values("user_id"),
            is_active=True,
        )
    )


def team_of(childcare_request: ChildcareRequest) -> list[User]:
    """The person's current team, and whoever filed the request."""
    return list(
        User.objects.filter(
            pk__in=[
                childcare_request.created_by_id,
                *TeamMember.objects.current()
                .filter(person_id=childcare_request.person_id)
                .values_list("user_id", flat=True),
            ],
            is_active=True,
        )
    )


def due_line(childcare_request: ChildcareRequest) -> str:
    due = timezone.localtime(childcare_request.due_at)
    return f"réponse attendue avant le {due:%d/%m à %Hh%M}"


def solicitation_received(solicitation: Solicitation, *, actor: Any) -> None:
    childcare_request = solicitation.request
    kind = "urgente" if childcare_request.is_emergency else "de place"
    notify(
        recipients=provider_members(solicitation.provider.organisation_id),
        kind=NotificationKind.CHILDCARE,
        title=f"Demande de garde d'enfant {kind} : {due_line(childcare_request)}",
        body=f"{childcare_request.organisation.name} vous adresse une demande d'accueil "
        f"d'enfant à partir du {childcare_request.needed_on:%d/%m/%Y}.",
        url=reverse("childcare:solicitation", args=[solicitation.pk]),
        actor=actor,
    )


def request_answered(
    childcare_request: ChildcareRequest, solicitation: Solicitation, *, actor: Any
) -> None:
    name = solicitation.provider.organisation.name
    verb = "accepte" if solicitation.status == "acceptee" else "refuse"
    notify(
        recipients=team_of(childcare_request),
        kind=NotificationKind.CHILDCARE,
        title=f"Garde d'enfant : {name} {verb} la demande",
        body=f"{name} a répondu à la demande de garde d'enfant envoyée par "
        f"{childcare_request.organisation.name}.",
        url=reverse("childcare:request_detail", args=[childcare_request.pk]),
        actor=actor,
    )


def solicitation_closed(solicitation: Solicitation, *, actor: Any) -> None:
    notify(
        recipients=provider_members(solicitation.provider.organisation_id),
        kind=NotificationKind.CHILDCARE,
        title="Demande de garde d'enfant close : un autre accueil a accepté",
        body="Un autre accueil a accepté la demande qui vous était adressée ; elle n'attend "
        "plus de réponse de votre part.",
        url=reverse("childcare:solicitation", args=[solicitation.pk]),
        actor=actor,
    )


def solicitation_withdrawn(solicitation: Solicitation, *, actor: Any) -> None:
    notify(
        recipients=provider_members(solicitation.provider.organisation_id),
        kind=NotificationKind.CHILDCARE,
        title="Demande de garde d'enfant retirée par l'équipe",
        body="L'équipe qui vous avait adressé cette demande de garde d'enfant l'a retirée ; "
        "elle n'attend plus de réponse de votre part.",
        url=reverse("childcare:solicitation", args=[solicitation.pk]),
        actor=actor,
    )


def eligibility_checked(
    childcare_request: ChildcareRequest, *, organisation_name: str, actor: Any
) -> None:
    notify(
        recipients=team_of(childcare_request),
        kind=NotificationKind.CHILDCARE,
        title=f"Garde d'enfant : critères AVIP vérifiés par {organisation_name}",
        body=f"{organisation_name} a vérifié les critères d'une demande de garde d'enfant : "
        f"{childcare_request.get_eligibility_display().lower()}.",
        url=reverse("childcare:request_detail", args=[childcare_request.pk]),
        actor=actor,
    )
