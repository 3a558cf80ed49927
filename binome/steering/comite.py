"""Who sees a session of the comité, and what a team's summary starts from."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404

from binome.access.predicates import is_steering, is_territory_admin
from binome.people.models import HouseholdMember, Person
from binome.steering.models import AgeBand, ComiteSession, Household
from binome.support.models import Diagnostic


def can_plan_sessions(user: Any, department_id: str) -> bool:
    """The territory's administrators and steering officers plan the comité's sessions."""
    return is_territory_admin(user, department_id) or is_steering(user, department_id)


def can_see_session(user: Any, session: ComiteSession) -> bool:
    """A session's members, and who plans the sessions, see its agenda and summaries."""
    return (
        can_plan_sessions(user, session.department_id)
        or session.members.filter(pk=user.pk).exists()
    )


def get_session_for_user(user: Any, pk: int) -> ComiteSession:
    """The session, or a 404 for whoever may not see it (the same as a missing one)."""
    session = ComiteSession.objects.select_related("department").filter(pk=pk).first()
    if session is None or not can_see_session(user, session):
        raise Http404
    return session


def age_band(birth_date: date, today: date) -> str:
    age = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    if age < 26:
        return AgeBand.UNDER_26
    if age < 45:
        return AgeBand.FROM_26_TO_44
    return AgeBand.FROM_45_TO_54 if age < 55 else AgeBand.FROM_55


def household(person: Person) -> str:
    relations = set(
        HouseholdMember.objects.filter(person=person).values_list("relation", flat=True)
    )
    if "partner" in relations:
        return Household.COUPLE_CHILDREN if "child" in relations else Household.COUPLE
    return Household.SINGLE_PARENT if "child" in relations else Household.ALONE


def barriers(person: Person) -> str:
    """The barriers of the last validated diagnostic, one a line: « Logement : frein bloquant »."""
    diagnostic = (
        Diagnostic.objects.validated().filter(person=person).order_by("-made_on", "-id").first()
    )
    if diagnostic is None:
        return ""
    return "\n".join(
        f"{answer.get_theme_display()} : {answer.get_level_display().lower()}"
        for answer in diagnostic.answers.all()
        if answer.is_barrier
    )
