"""The matching radius is the person's mobility as her diagnostic measured it."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from binome.support.models import Diagnostic, DiagnosticStatus
from tests.childcare.conftest import Essonne


def diagnostic(essonne: Essonne, radius: int, status: str = DiagnosticStatus.VALIDATED) -> None:
    Diagnostic.objects.create(
        person=essonne.parent,
        accompaniment=essonne.parent.accompaniments.get(),
        made_on=timezone.localdate(),
        recorded_by=essonne.charlie,
        organisation=essonne.charlie.memberships.get().organisation,
        mobility_radius_km=radius,
        status=status,
    )


def radius_field(essonne: Essonne) -> object:
    response = essonne.var.client(essonne.charlie).get(
        reverse("childcare:request_create", args=[essonne.parent.pk])
    )
    return response.context["form"]["radius_km"].value()


def test_without_a_diagnostic_the_radius_is_the_default(essonne: Essonne) -> None:
    assert radius_field(essonne) == 15


def test_the_validated_diagnostic_s_mobility_is_the_radius(essonne: Essonne) -> None:
    diagnostic(essonne, 35)
    diagnostic(essonne, 70, status=DiagnosticStatus.DRAFT)
    assert radius_field(essonne) == 35


def test_no_mobility_at_all_still_searches_the_commune(essonne: Essonne) -> None:
    diagnostic(essonne, 0)
    assert radius_field(essonne) == 1
