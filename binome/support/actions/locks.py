"""What every change of an accompaniment's team or state starts with: the row lock, and
the check that a professional may join a team for an organisation."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from binome.access.predicates import is_steering
from binome.accounts.models import User
from binome.organisations.models import Membership, Organisation
from binome.people.models import Person
from binome.support.models import (
    Accompaniment,
)


def check_can_join(user: User, organisation: Organisation, person: Person) -> Membership:
    """The membership through which ``user`` joins a team for ``organisation``."""
    if is_steering(user, person.department_id):
        raise ValidationError(
            "Un rôle de pilotage ne peut pas rejoindre l'équipe d'un dossier nominatif."
        )
    membership = user.memberships.filter(organisation=organisation, is_active=True).first()
    if membership is None:
        raise ValidationError(f"{user.get_full_name()} n'est pas membre de {organisation}.")
    return membership


def lock_accompaniment(accompaniment: Accompaniment) -> Accompaniment:
    """Re-read the accompaniment under a row lock: two concurrent changes are serialised."""
    return (
        Accompaniment.objects.select_for_update().select_related("person").get(pk=accompaniment.pk)
    )
