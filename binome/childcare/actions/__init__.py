"""The childcare state changes: each one transaction with its audit row (and, about a
person, its timeline line); notifications leave when it commits (``notify``).

Split by life cycle: ``requests`` (the providers' places, the requests, their answers, the
CAF's check) and ``placements`` (the place's life after an acceptance)."""

from binome.childcare.actions.placements import (
    end_placement,
    open_placement,
    record_placement_followup,
    renew_placement,
)
from binome.childcare.actions.requests import (
    PROVIDER_FIELDS,
    accept,
    confirm_places,
    create_request,
    decline,
    due_time,
    record_eligibility,
    save_provider,
    send,
    set_childcare_settings,
    withdraw,
)

__all__ = [
    "PROVIDER_FIELDS",
    "accept",
    "confirm_places",
    "create_request",
    "decline",
    "due_time",
    "end_placement",
    "open_placement",
    "record_eligibility",
    "record_placement_followup",
    "renew_placement",
    "save_provider",
    "send",
    "set_childcare_settings",
    "withdraw",
]
