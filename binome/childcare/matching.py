"""The providers that fit a request: a free place (or, for an emergency, a home-care service
that takes emergencies) for every child's age on the date needed, within the radius of the
person's commune, nearest first.

The distance is earthdistance's (the extension the directory's search uses) between the
centres of the communes: one query whatever the number of providers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db.models import F, FloatField, Func, Q, Value

from binome.childcare.models import Provider, ProviderKind, Urgency, age_months
from binome.territories.models import Commune


class _LlToEarth(Func):
    function = "public.ll_to_earth"
    output_field = FloatField()  # a cube, only ever passed to earth_distance


class _EarthDistance(Func):
    function = "public.earth_distance"
    output_field = FloatField()


def distance_km(commune: Commune) -> Any:
    """The distance in km from ``commune``'s centre to the provider's commune's."""
    return (
        _EarthDistance(
            _LlToEarth(F("organisation__commune__latitude"), F("organisation__commune__longitude")),
            _LlToEarth(Value(commune.latitude), Value(commune.longitude)),
        )
        / 1000.0
    )


def matching_providers(
    *,
    commune: Commune,
    birth_dates: Sequence[date],
    needed_on: date,
    urgency: str,
    radius_km: int,
) -> list[Provider]:
    """The providers that fit, nearest first, each with ``distance_km``."""
    qs = Provider.objects.active().filter(organisation__commune__isnull=False)
    for birth_date in birth_dates:
        age = age_months(birth_date, needed_on)
        qs = qs.filter(min_age_months__lte=age, max_age_months__gte=age)
    free_place = Q(free_places__gte=max(1, len(birth_dates)), free_from__lte=needed_on)
    if urgency == Urgency.EMERGENCY:
        free_place |= Q(kind=ProviderKind.HOME_CARE, emergency_capacity__gte=1)
    return list(
        qs.filter(free_place)
        .annotate(distance_km=distance_km(commune))
        .filter(distance_km__lte=radius_km)
        .select_related("organisation", "organisation__commune")
        .order_by("distance_km", "organisation__name")[:50]
    )
