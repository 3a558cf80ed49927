"""The minutes of a session of the comité de pilotage, as a PDF: the figures of the period
(every registered figure section, as the dashboard shows them) and the session's cases with
their pseudonymised summaries and the comité's recommendations. No person is named."""

from __future__ import annotations

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from binome.organisations.models import Organisation
from binome.steering import dashboard
from binome.steering.models import ComiteSession
from binome.steering.periods import Period, last_three_months


def period_of(session: ComiteSession) -> Period:
    """The figures the comité reviews: since the territory's previous session (the day
    after it), or the three months before the session when it is the first one."""
    previous = (
        ComiteSession.objects.filter(
            department_id=session.department_id, held_on__lt=session.held_on
        )
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )
    if previous is None:
        return last_three_months(session.held_on)
    return Period(previous + timedelta(days=1), session.held_on)


def render_minutes_pdf(session: ComiteSession) -> bytes:
    """The PDF bytes of the session's minutes."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s at start-up

    period = period_of(session)
    sections = dashboard.sections(dashboard.scope_of(session.department_id, period))
    organisations = (
        Organisation.objects.filter(
            memberships__user__in=session.members.all(), memberships__is_active=True
        )
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )
    html = render_to_string(
        "steering/minutes_pdf.html",
        {
            "session": session,
            "period": period,
            "sections": sections,
            "organisations": list(organisations),
            "member_count": session.members.count(),
            "cases": session.cases.select_related("organisation").order_by("flagged_at", "id"),
            "today": timezone.localdate(),
        },
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
