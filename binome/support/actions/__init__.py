"""State-changing operations of the support app, one module per life cycle:
``timeline`` (the trace every action writes), ``locks``, ``accompaniments``, ``team`` (joining
and leaving, requests and invitations), ``notes`` (notes and appointments), ``diagnostic``
(drafts, validations, comments, the département's situations).

Each is one transaction: the change, its timeline event and its audit line together.
Refusals are ``ValidationError`` with a French message (the view shows it as is). Callers
use ``binome.support.actions.<name>``: the names below are those of the modules.
"""

from binome.support.actions.accompaniments import (
    MAX_EXTENSION_MONTHS,
    SOCIAL_WORKER_KINDS,
    binome_is_complete,
    change_state,
    decide_after_diagnostic,
    end_accompaniment,
    extend_accompaniment,
    open_accompaniment,
    record_followup,
    set_support_settings,
    validated_diagnostic,
)
from binome.support.actions.diagnostic import (
    add_department_situation,
    comment_theme,
    delete_diagnostic,
    record_diagnostic,
    remove_department_situation,
    update_diagnostic,
    validate_diagnostic,
)
from binome.support.actions.locks import check_can_join, lock_accompaniment
from binome.support.actions.notes import record_appointment, set_appointment_status, write_note
from binome.support.actions.team import (
    accept_join_request,
    decline_join_request,
    invite_to_team,
    join_team,
    leave_team,
    request_to_join,
)
from binome.support.actions.timeline import add_event, timeline_row, trace

__all__ = [
    "MAX_EXTENSION_MONTHS",
    "SOCIAL_WORKER_KINDS",
    "accept_join_request",
    "add_department_situation",
    "add_event",
    "binome_is_complete",
    "change_state",
    "check_can_join",
    "comment_theme",
    "decide_after_diagnostic",
    "decline_join_request",
    "delete_diagnostic",
    "end_accompaniment",
    "extend_accompaniment",
    "invite_to_team",
    "join_team",
    "leave_team",
    "lock_accompaniment",
    "open_accompaniment",
    "record_appointment",
    "record_diagnostic",
    "record_followup",
    "remove_department_situation",
    "request_to_join",
    "set_appointment_status",
    "set_support_settings",
    "timeline_row",
    "trace",
    "update_diagnostic",
    "validate_diagnostic",
    "validated_diagnostic",
    "write_note",
]
