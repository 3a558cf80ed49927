"""State-changing operations of the support app, one module per life cycle:
``timeline`` (the trace every action writes), ``locks``, ``accompaniments``, ``team`` (joining
and leaving, requests and invitations), ``referent`` (the designated referent and the
members' roles), ``notes`` (notes and appointments), ``diagnostic`` (drafts, validations,
comments, the département's situations), ``persons`` (the file created with its first
accompaniment, identity and household corrected, files merged) and ``consents``. The
person's models are ``binome.people``'s, the floor below; their changes are here because each
writes a line in the person's timeline, which is support's.

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
from binome.support.actions.consents import (
    record_consent,
    withdraw_consent,
    withdraw_own_consent,
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
from binome.support.actions.fse import record_fse_answers
from binome.support.actions.locks import check_can_join, lock_accompaniment
from binome.support.actions.notes import record_appointment, set_appointment_status, write_note
from binome.support.actions.persons import (
    add_household_member,
    create_person,
    merge_persons,
    remove_household_member,
    update_household_member,
    update_person,
)
from binome.support.actions.referent import change_team_role, designate_referent
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
    "add_household_member",
    "binome_is_complete",
    "change_state",
    "change_team_role",
    "check_can_join",
    "comment_theme",
    "create_person",
    "decide_after_diagnostic",
    "decline_join_request",
    "delete_diagnostic",
    "designate_referent",
    "end_accompaniment",
    "extend_accompaniment",
    "invite_to_team",
    "join_team",
    "leave_team",
    "lock_accompaniment",
    "merge_persons",
    "open_accompaniment",
    "record_appointment",
    "record_consent",
    "record_diagnostic",
    "record_followup",
    "record_fse_answers",
    "remove_department_situation",
    "remove_household_member",
    "request_to_join",
    "set_appointment_status",
    "set_support_settings",
    "timeline_row",
    "trace",
    "update_diagnostic",
    "update_household_member",
    "update_person",
    "validate_diagnostic",
    "validated_diagnostic",
    "withdraw_consent",
    "withdraw_own_consent",
    "write_note",
]
