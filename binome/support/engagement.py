"""The plan's "Contrat d'engagement": a PDF the person and their team sign.

It shows what the person sees of the plan (the objectives and actions shared with them),
so the team's PDF and the person's are the same document.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from binome.people.models import Person
from binome.support import space


def engagement_filename(person: Person) -> str:
    return f"contrat-engagement-{person.pk}-{timezone.localdate():%Y%m%d}.pdf"


def render_engagement_pdf(person: Person) -> bytes:
    """The PDF bytes of the person's engagement document."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s at start-up

    accompaniments = space.accompaniments_of(person)
    accompaniment = space.plan_accompaniment(accompaniments)
    html = render_to_string(
        "people/engagement_pdf.html",
        {
            "person": person,
            "accompaniment": accompaniment,
            "team": getattr(accompaniment, "current_team", []),
            "objectives": space.person_objectives(accompaniment),
            "today": timezone.localdate(),
        },
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return pdf
