"""The access matrix: every URL of the project, requested by every persona.

Adding a URL without adding its row here fails ``test_every_url_has_an_entry``.
Outside the user's reach an object is a 404 (never a 403 that confirms it exists);
inside the territory, a role that may not act gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import login_as

PERSONAS = [
    "anonymous",
    "ines",
    "marc",
    "sophie",
    "karim",
    "lea",
    "paul",
    "claire",
    "nadia",
    "charlie",
]
VAR = ["ines", "marc", "karim", "lea", "paul", "claire"]
OUTSIDERS = ["sophie", "nadia", "charlie"]  # nothing of the Var is theirs


def everyone(status: int, anonymous: int | None = None) -> dict[str, int]:
    statuses = dict.fromkeys(PERSONAS, status)
    if anonymous is not None:
        statuses["anonymous"] = anonymous
    return statuses


def var_admin_only(admins: list[str]) -> dict[str, int]:
    """Var administrators 200, other Var professionals 403, outsiders 404, anonymous → login."""
    statuses = {"anonymous": 302}
    statuses.update(dict.fromkeys(VAR, 403))
    statuses.update(dict.fromkeys(admins, 200))
    statuses.update(dict.fromkeys(OUTSIDERS, 404))
    return statuses


def var_members() -> dict[str, int]:
    statuses = {"anonymous": 302}
    statuses.update(dict.fromkeys(VAR, 200))
    statuses.update(dict.fromkeys(OUTSIDERS, 404))
    return statuses


Row = tuple[Callable[[dict[str, Any]], str], dict[str, int]]


def url(name: str, *args: Any, query: str = "") -> Callable[[dict[str, Any]], str]:
    def build(ctx: dict[str, Any]) -> str:
        resolved = [arg(ctx) if callable(arg) else arg for arg in args]
        return reverse(name, args=resolved) + query

    return build


def dep83(ctx: dict[str, Any]) -> int:
    return ctx["orgs"]["dep83"].pk


def dep83_member(ctx: dict[str, Any]) -> int:
    return ctx["personas"]["marc"].memberships.get().pk


def import_run_83(ctx: dict[str, Any]) -> int:
    from binome.directory.models import ImportRun

    run, _created = ImportRun.objects.get_or_create(department_id="83")
    return run.pk


def rsa_import_83(ctx: dict[str, Any]) -> int:
    from binome.rsa.models import FlowImport

    flow, _created = FlowImport.objects.get_or_create(
        department_id="83", file_name="flux.xml", defaults={"status": "refused"}
    )
    return flow.pk


def rsa_draft_83(ctx: dict[str, Any]) -> int:
    """A spreadsheet uploaded in the Var, its mapping chosen, waiting for its preview."""
    from binome.rsa.models import FlowImport, SpreadsheetMapping

    columns = {"number": "Dossier", "last_name": "Nom", "first_name": "Prénom"}
    columns["birth_date"] = "Naissance"
    mapping, _created = SpreadsheetMapping.objects.get_or_create(
        department_id="83", name="Matrice", defaults={"columns": columns}
    )
    draft, _created = FlowImport.objects.get_or_create(
        department_id="83",
        file_name="matrice.csv",
        status="draft",
        defaults={
            "mapping": mapping,
            "content": "Dossier;Nom;Prénom;Naissance\r\n9001;Essai;Léon;01/02/1990\r\n".encode(),
        },
    )
    return draft.pk


def claire_role(ctx: dict[str, Any]) -> int:
    return ctx["personas"]["paul"].territory_roles.get().pk


def var_legal_hold(ctx: dict[str, Any]) -> int:
    from binome.people.models import Person
    from binome.retention.models import LegalHold

    person = Person.objects.filter(department_id="83").order_by("pk").first()
    hold, _created = LegalHold.objects.get_or_create(
        person=person,
        lifted_at=None,
        defaults={"reason": "Contentieux", "set_by": ctx["personas"]["claire"]},
    )
    return hold.pk


def var_archived_file(ctx: dict[str, Any]) -> int:
    """A file of the Var in its intermediate archive (no persona is the Var's archivist)."""
    from datetime import date

    from binome.people.models import Person
    from binome.retention.models import Archive

    person = Person.objects.filter(department_id="83").order_by("pk").first()
    assert person is not None
    if not Archive.objects.current().filter(person=person).exists():
        Person.objects.filter(pk=person.pk).update(archived_until=date(2099, 1, 1))
        Archive.objects.create(
            person=person,
            department_id="83",
            organisation_id=person.organisation_id,
            last_contact_on=date(2020, 1, 1),
            ends_on=date(2099, 1, 1),
        )
    return person.pk


def lea_org(ctx: dict[str, Any]) -> int:
    return ctx["orgs"]["creche_toulon"].pk


def lea_structure(ctx: dict[str, Any]) -> int:
    from binome.directory.models import Structure
    from binome.site.demo import load_demo_directory

    load_demo_directory()
    return Structure.objects.get(source="demo", source_id="petits-pas").pk


def lea_service(ctx: dict[str, Any]) -> int:
    from binome.directory.models import Service
    from binome.site.demo import load_demo_directory

    load_demo_directory()
    return Service.objects.get(source="demo", source_id="petits-pas-avip").pk


def lea_open_report(ctx: dict[str, Any]) -> int:
    from binome.directory.models import Service, ServiceReport

    service = Service.objects.get(pk=lea_service(ctx))
    report, _ = ServiceReport.objects.get_or_create(
        service=service, defaults={"reasons": ["horaires"], "reporter": ctx["personas"]["ines"]}
    )
    return report.pk


def pending_structure(ctx: dict[str, Any]) -> int:
    from django.utils import timezone

    from binome.directory.models import PublicationStatus, Structure

    structure, _ = Structure.objects.get_or_create(
        source="binome",
        source_id="a-moderer",
        defaults={
            "name": "Structure à modérer",
            "owner": ctx["orgs"]["creche_toulon"],
            "department_id": "83",
            "updated_on": timezone.localdate(),
            "status": PublicationStatus.PENDING,
        },
    )
    return structure.pk


def dep83_token(ctx: dict[str, Any]) -> int:
    from binome.api.actions import create_token

    token, _secret = create_token(
        organisation=ctx["orgs"]["dep83"], name="SI du Var", by=ctx["personas"]["claire"]
    )
    return token.pk


def nadia_file(ctx: dict[str, Any]) -> int:
    from binome.people.models import Person

    return Person.objects.get(user=ctx["personas"]["nadia"]).pk


def nadia_accompaniment(ctx: dict[str, Any]) -> int:
    from binome.support.models import Accompaniment

    return Accompaniment.objects.get(person__user=ctx["personas"]["nadia"]).pk


def nadia_consent(ctx: dict[str, Any]) -> int:
    from binome.people.models import Consent

    return Consent.objects.get(person__user=ctx["personas"]["nadia"]).pk


def nadia_team_note(ctx: dict[str, Any]) -> int:
    from binome.support.models import Note

    return Note.objects.filter(person__user=ctx["personas"]["nadia"], visibility="team").first().pk  # type: ignore[union-attr]


def nadia_access_request(ctx: dict[str, Any]) -> int:
    from binome.people.models import Person
    from binome.retention.models import DataAccessRequest

    person = Person.objects.get(user=ctx["personas"]["nadia"])
    access_request, _created = DataAccessRequest.objects.get_or_create(
        person=person,
        requested_on=person.created_at.date(),
        defaults={"recorded_by": ctx["personas"]["ines"]},
    )
    return access_request.pk


def nadia_appointment(ctx: dict[str, Any]) -> int:
    from binome.support.models import Appointment

    return Appointment.objects.filter(person__user=ctx["personas"]["nadia"]).first().pk  # type: ignore[union-attr]


def nadia_team(basics: int = 403) -> dict[str, int]:
    """Nadia's file: her team (Inès, Marc) 200; Claire, administrator of Marc's
    organisation, sees the basics only; everyone else 404, steering (Paul) included."""
    statuses = dict.fromkeys(PERSONAS, 404)
    statuses.update({"anonymous": 302, "ines": 200, "marc": 200, "claire": basics})
    return statuses


def finders() -> dict[str, int]:
    """Nadia's join and open pages: her team only. The Var's other professionals reach them
    only through the identity search (``tests/support/test_join_requests.py``): a typed id
    is a 404."""
    statuses = dict.fromkeys(PERSONAS, 404)
    statuses.update({"anonymous": 302, "ines": 200, "marc": 200})
    return statuses


def karim_join_request(ctx: dict[str, Any]) -> int:
    """Karim's pending request to join Nadia's team."""
    from binome.people.models import Person
    from binome.support.models import JoinRequest

    accompaniment = Person.objects.get(user=ctx["personas"]["nadia"]).accompaniments.get()
    request, _ = JoinRequest.objects.get_or_create(
        accompaniment=accompaniment,
        person=accompaniment.person,
        user=ctx["personas"]["karim"],
        organisation=ctx["orgs"]["caf83"],
        defaults={"reason": "Critères AVIP"},
    )
    return request.pk


MATRIX: dict[str, Row] = {
    # A person (Nadia) lands on her own space.
    "site:home": (url("site:home"), {**everyone(200), "nadia": 302}),
    "core:accessibility": (url("core:accessibility"), everyone(200)),
    "core:legal": (url("core:legal"), everyone(200)),
    "core:privacy": (url("core:privacy"), everyone(200)),
    "accounts:login": (url("accounts:login"), everyone(302, anonymous=200)),
    "accounts:otp_verify": (url("accounts:otp_verify"), everyone(302)),
    "accounts:otp_setup": (url("accounts:otp_setup"), everyone(200, anonymous=302)),
    "accounts:logout": (url("accounts:logout"), everyone(405)),
    "accounts:security": (url("accounts:security"), everyone(200, anonymous=302)),
    "accounts:otp_disable": (url("accounts:otp_disable"), everyone(405, anonymous=302)),
    "accounts:password_change": (url("accounts:password_change"), everyone(200, anonymous=302)),
    "accounts:password_reset": (url("accounts:password_reset"), everyone(200)),
    "accounts:password_reset_done": (url("accounts:password_reset_done"), everyone(200)),
    "accounts:password_reset_confirm": (
        url("accounts:password_reset_confirm", "MQ", "forged-token"),
        everyone(200),
    ),
    "accounts:accept_invitation": (url("accounts:accept_invitation", "forged"), everyone(400)),
    # ProConnect is off in the test settings: its URLs do not exist for anyone.
    "accounts:proconnect_login": (url("accounts:proconnect_login"), everyone(404)),
    "accounts:proconnect_callback": (url("accounts:proconnect_callback"), everyone(404)),
    "accounts:proconnect_logout": (url("accounts:proconnect_logout"), everyone(405)),
    "accounts:proconnect_logout_callback": (
        url("accounts:proconnect_logout_callback"),
        everyone(404),
    ),
    "organisations:list": (url("organisations:list"), everyone(200, anonymous=302)),
    "organisations:create": (
        url("organisations:create", query="?departement=83"),
        var_admin_only(["claire"]),
    ),
    "organisations:switch": (url("organisations:switch"), everyone(405, anonymous=302)),
    "organisations:detail": (url("organisations:detail", dep83), var_members()),
    "organisations:edit": (url("organisations:edit", dep83), var_admin_only(["claire"])),
    "organisations:member_invite": (
        url("organisations:member_invite", dep83),
        var_admin_only(["claire"]),
    ),
    "organisations:member_deactivate": (
        url("organisations:member_deactivate", dep83, dep83_member),
        everyone(405, anonymous=302),
    ),
    "organisations:member_reactivate": (
        url("organisations:member_reactivate", dep83, dep83_member),
        everyone(405, anonymous=302),
    ),
    "organisations:member_role": (
        url("organisations:member_role", dep83, dep83_member),
        everyone(405, anonymous=302),
    ),
    "organisations:member_function": (
        url("organisations:member_function", dep83, dep83_member),
        everyone(405, anonymous=302),
    ),
    "organisations:territory_roles": (
        url("organisations:territory_roles", "83"),
        var_admin_only(["claire"]),
    ),
    "organisations:territory_role_revoke": (
        url("organisations:territory_role_revoke", "83", claire_role),
        everyone(405, anonymous=302),
    ),
    "territories:commune_autocomplete": (
        url("territories:commune_autocomplete", query="?q=toul"),
        everyone(200, anonymous=302),
    ),
    "access:audit_log": (url("access:audit_log", "83"), var_admin_only(["claire"])),
    "directory:search": (
        url("directory:search", query="?categorie=famille&q=cr%C3%A8che"),
        everyone(200, anonymous=302),
    ),
    # No service exists in the demo: an unknown id is a 404 for everyone logged in.
    "directory:service_detail": (
        url("directory:service_detail", 999_999),
        everyone(404, anonymous=302),
    ),
    # Organisations edit their own entries: Léa's crèche (members only, professional or admin).
    "directory:my_services": (url("directory:my_services", lea_org), var_admin_only(["lea"])),
    "directory:structure_create": (
        url("directory:structure_create", lea_org),
        var_admin_only(["lea"]),
    ),
    "directory:structure_edit": (
        url("directory:structure_edit", lea_structure),
        var_admin_only(["lea"]),
    ),
    "directory:service_create": (
        url("directory:service_create", lea_structure),
        var_admin_only(["lea"]),
    ),
    "directory:service_edit": (url("directory:service_edit", lea_service), var_admin_only(["lea"])),
    "directory:service_unpublish": (
        url("directory:service_unpublish", lea_service),
        everyone(405, anonymous=302),
    ),
    "directory:service_confirm": (
        url("directory:service_confirm", lea_service),
        everyone(405, anonymous=302),
    ),
    "directory:service_report": (
        url("directory:service_report", lea_service),
        everyone(405, anonymous=302),
    ),
    "directory:report_resolve": (
        url("directory:report_resolve", lea_open_report),
        everyone(405, anonymous=302),
    ),
    "directory:moderation": (url("directory:moderation", "83"), var_admin_only(["claire"])),
    "directory:structure_approve": (
        url("directory:structure_approve", pending_structure),
        everyone(405, anonymous=302),
    ),
    "directory:structure_reject": (
        url("directory:structure_reject", pending_structure),
        everyone(405, anonymous=302),
    ),
    # The API authenticates by token only: a session is not enough (401 for everyone).
    "api:openapi-json": (url("api:openapi-json"), everyone(200)),
    "api:api-root": (url("api:api-root"), everyone(404)),
    "api:service_list": (url("api:service_list"), everyone(401)),
    "api:service_detail": (url("api:service_detail", 1), everyone(401)),
    "api:structure_list": (url("api:structure_list"), everyone(401)),
    "api:structure_detail": (url("api:structure_detail", 1), everyone(401)),
    "api_pages:documentation": (url("api_pages:documentation"), everyone(200)),
    "api_pages:tokens": (url("api_pages:tokens", dep83), var_admin_only(["claire"])),
    "api_pages:token_revoke": (
        url("api_pages:token_revoke", dep83, dep83_token),
        everyone(405, anonymous=302),
    ),
    "directory:import_list": (url("directory:import_list", "83"), var_admin_only(["claire"])),
    "directory:import_detail": (
        url("directory:import_detail", "83", import_run_83),
        var_admin_only(["claire"]),
    ),
    "directory:import_progress": (
        url("directory:import_progress", "83", import_run_83),
        var_admin_only(["claire"]),
    ),
    "rsa_imports:import_list": (url("rsa_imports:import_list", "83"), var_admin_only(["claire"])),
    "rsa_imports:import_detail": (
        url("rsa_imports:import_detail", "83", rsa_import_83),
        var_admin_only(["claire"]),
    ),
    "rsa_imports:import_progress": (
        url("rsa_imports:import_progress", "83", rsa_import_83),
        var_admin_only(["claire"]),
    ),
    "rsa_imports:import_mapping": (
        url("rsa_imports:import_mapping", "83", rsa_draft_83),
        var_admin_only(["claire"]),
    ),
    "rsa_imports:import_preview": (
        url("rsa_imports:import_preview", "83", rsa_draft_83),
        var_admin_only(["claire"]),
    ),
    "people:create": (
        url("people:create"),
        # Professionals who accompany persons; not the crèche, not steering, not Nadia.
        {**everyone(200, anonymous=302), "lea": 404, "paul": 404, "nadia": 404},
    ),
    "people:detail": (url("people:detail", nadia_file), nadia_team(basics=200)),
    "people:household_add": (url("people:household_add", nadia_file), nadia_team()),
    "people:consent_add": (url("people:consent_add", nadia_file), nadia_team()),
    "people:consent_withdraw": (
        url("people:consent_withdraw", nadia_file, nadia_consent),
        everyone(405, anonymous=302),
    ),
    # No document was uploaded for the demo consent: 404 even for the team.
    "people:consent_document": (
        url("people:consent_document", nadia_file, nadia_consent),
        {**nadia_team(), "ines": 404, "marc": 404},
    ),
    # A person's account (Nadia): the professionals' worklist is not hers.
    "support:worklist": (url("support:worklist"), {**everyone(200, anonymous=302), "nadia": 404}),
    # Already on the team: redirected to the file.
    "support:join": (url("support:join", nadia_file), {**finders(), "ines": 302, "marc": 302}),
    "support:accompaniment_open": (url("support:accompaniment_open", nadia_file), finders()),
    "support:note_add": (url("support:note_add", nadia_file), nadia_team()),
    "support:appointment_add": (url("support:appointment_add", nadia_file), nadia_team()),
    "support:accompaniment_transition": (
        url("support:accompaniment_transition", nadia_accompaniment),
        nadia_team(),
    ),
    "support:accompaniment_extend": (
        url("support:accompaniment_extend", nadia_accompaniment),
        nadia_team(),
    ),
    "support:accompaniment_exit": (
        url("support:accompaniment_exit", nadia_accompaniment),
        nadia_team(),
    ),
    "support:team_leave": (
        url("support:team_leave", nadia_accompaniment),
        everyone(405, anonymous=302),
    ),
    "support:note_detail": (url("support:note_detail", nadia_team_note), nadia_team()),
    # Steering sees figures, not requests about named persons; a person's account has none.
    "support:join_requests": (
        url("support:join_requests"),
        {**everyone(200, anonymous=302), "paul": 404, "nadia": 404},
    ),
    "support:join_request_decide": (
        url("support:join_request_decide", karim_join_request),
        everyone(405, anonymous=302),
    ),
    "support:team_invite": (url("support:team_invite", nadia_accompaniment), nadia_team()),
    "support:team_referent": (url("support:team_referent", nadia_accompaniment), nadia_team()),
    "support:team_role": (url("support:team_role", nadia_accompaniment), nadia_team()),
    "support:appointment_status": (
        url("support:appointment_status", nadia_appointment),
        everyone(405, anonymous=302),
    ),
}

# POST-only actions: what each persona gets when actually posting.
POST_MATRIX: dict[str, Row] = {
    "organisations:member_deactivate": (
        url("organisations:member_deactivate", dep83, dep83_member),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "organisations:member_role": (
        url("organisations:member_role", dep83, dep83_member),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "organisations:member_function": (
        url("organisations:member_function", dep83, dep83_member),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "organisations:territory_role_revoke": (
        url("organisations:territory_role_revoke", "83", claire_role),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "directory:service_unpublish": (
        url("directory:service_unpublish", lea_service),
        {**var_admin_only(["lea"]), "lea": 302},
    ),
    "directory:service_confirm": (
        url("directory:service_confirm", lea_service),
        {**var_admin_only(["lea"]), "lea": 302},
    ),
    "directory:report_resolve": (
        url("directory:report_resolve", lea_open_report),
        {**var_admin_only(["lea"]), "lea": 302},
    ),
    # Any professional may report (the directory is national); the posted data is not a
    # valid report (400); Nadia, a person accompanied, is not a professional (403).
    "directory:service_report": (
        url("directory:service_report", lea_service),
        {**everyone(400, anonymous=302), "nadia": 403},
    ),
    "directory:structure_approve": (
        url("directory:structure_approve", pending_structure),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    # Without a reason the refusal is refused (a message), still a redirect.
    "directory:structure_reject": (
        url("directory:structure_reject", pending_structure),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "api_pages:token_revoke": (
        url("api_pages:token_revoke", dep83, dep83_token),
        {**var_admin_only(["claire"]), "claire": 302},
    ),
    "people:consent_withdraw": (
        url("people:consent_withdraw", nadia_file, nadia_consent),
        {**nadia_team(), "ines": 302, "marc": 302},
    ),
    "support:team_leave": (
        url("support:team_leave", nadia_accompaniment),
        {**nadia_team(), "ines": 302, "marc": 302},
    ),
    "support:appointment_status": (
        url("support:appointment_status", nadia_appointment),
        {**nadia_team(), "ines": 302, "marc": 302},
    ),
    # The request's sides answer (an empty answer is a message); anyone else: 404.
    "support:join_request_decide": (
        url("support:join_request_decide", karim_join_request),
        {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "ines": 302, "marc": 302, "karim": 302},
    ),
}


def _names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            prefix = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            names |= _names(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
    return names


def test_every_url_has_an_entry() -> None:
    names = _names(get_resolver().url_patterns)
    missing = sorted(names - MATRIX.keys())
    stale = sorted(MATRIX.keys() - names)
    assert not missing, f"URL sans ligne dans la matrice d'accès : {missing}"
    assert not stale, f"Lignes de la matrice sans URL : {stale}"


# --- The shared diagnostic and the plan (Nadia's demo diagnostic and plan) ----------


def nadia_diagnostic(ctx: dict[str, Any]) -> int:
    from binome.support.models import Diagnostic

    return Diagnostic.objects.filter(person__user=ctx["personas"]["nadia"]).latest("id").pk


def nadia_objective(ctx: dict[str, Any]) -> int:
    from binome.support.models import Objective

    return Objective.objects.filter(person__user=ctx["personas"]["nadia"]).earliest("id").pk


def nadia_action(ctx: dict[str, Any]) -> int:
    from binome.support.models import Action

    return Action.objects.filter(person__user=ctx["personas"]["nadia"]).earliest("id").pk


def var_situation(ctx: dict[str, Any]) -> int:
    from binome.support.models import DepartmentSituation

    situation, _ = DepartmentSituation.objects.get_or_create(
        department_id="83", theme="mobilite", label="Zone sans transport à la demande"
    )
    return situation.pk


def plan_team() -> dict[str, int]:
    """Nadia's team (Inès, Marc); Claire sees the file's basics only (403); others 404."""
    return {
        **dict.fromkeys(PERSONAS, 404),
        "anonymous": 302,
        "ines": 200,
        "marc": 200,
        "claire": 403,
    }


MATRIX.update(
    {
        "support:diagnostic_create": (url("support:diagnostic_create", nadia_file), plan_team()),
        "support:diagnostic_history": (
            url("support:diagnostic_history", nadia_file),
            plan_team(),
        ),
        "support:diagnostic_detail": (
            url("support:diagnostic_detail", nadia_diagnostic),
            plan_team(),
        ),
        "support:objective_add": (url("support:objective_add", nadia_file), plan_team()),
        "support:plan_suggestions": (
            url("support:plan_suggestions", nadia_file, "mobilite"),
            plan_team(),
        ),
        "support:plan_add_service": (
            url("support:plan_add_service", nadia_file),
            everyone(405, anonymous=302),
        ),
        "support:objective_edit": (url("support:objective_edit", nadia_objective), plan_team()),
        "support:action_add": (url("support:action_add", nadia_objective), plan_team()),
        "support:action_edit": (url("support:action_edit", nadia_action), plan_team()),
        "support:action_status": (
            url("support:action_status", nadia_action),
            everyone(405, anonymous=302),
        ),
        "support:department_situations": (
            url("support:department_situations", "83"),
            var_admin_only(["claire"]),
        ),
        "support:department_situation_remove": (
            url("support:department_situation_remove", "83", var_situation),
            everyone(405, anonymous=302),
        ),
        # Nadia's latest diagnostic is validated: its team is sent to it, not to a form.
        "support:diagnostic_edit": (
            url("support:diagnostic_edit", nadia_diagnostic),
            {**plan_team(), "ines": 302, "marc": 302},
        ),
        "support:diagnostic_validate": (
            url("support:diagnostic_validate", nadia_diagnostic),
            everyone(405, anonymous=302),
        ),
        "support:diagnostic_delete": (
            url("support:diagnostic_delete", nadia_diagnostic),
            everyone(405, anonymous=302),
        ),
        # Nadia's accompaniment is active: no decision awaited, her team goes back to the file.
        "support:accompaniment_decide": (
            url("support:accompaniment_decide", nadia_accompaniment),
            {**nadia_team(), "ines": 302, "marc": 302},
        ),
        "support:settings": (url("support:settings", "83"), var_admin_only(["claire"])),
        "retention:territory": (url("retention:territory", "83"), var_admin_only(["claire"])),
        "retention:hold": (url("retention:hold", "83"), everyone(405, anonymous=302)),
        "retention:erase": (url("retention:erase", "83"), everyone(405, anonymous=302)),
        "retention:lift": (
            url("retention:lift", "83", var_legal_hold),
            everyone(405, anonymous=302),
        ),
        # The archive is its archivist's alone (a role no persona of the matrix holds: the
        # archivist's own pages are tested in tests/retention/test_archive.py).
        "retention:archive_list": (
            url("retention:archive_list", "83"),
            everyone(404, anonymous=302),
        ),
        "retention:archive_read": (
            url("retention:archive_read", "83", var_archived_file),
            everyone(404, anonymous=302),
        ),
        "retention:archive_settings": (
            url("retention:archive_settings", "83"),
            everyone(405, anonymous=302),
        ),
        "retention:archive_restore": (
            url("retention:archive_restore", "83"),
            everyone(405, anonymous=302),
        ),
        "support:territory_exits": (
            url("support:territory_exits", "83"),
            var_admin_only(["claire", "paul"]),
        ),
        "support:organisation_exits": (url("support:organisation_exits", dep83), var_members()),
    }
)
POST_MATRIX.update(
    {
        # Bad input (no file, no reason): the page again with its errors.
        "retention:hold": (
            url("retention:hold", "83"),
            {**var_admin_only(["claire"]), "claire": 400},
        ),
        "retention:lift": (
            url("retention:lift", "83", var_legal_hold),
            {**var_admin_only(["claire"]), "claire": 302},
        ),
        "retention:erase": (
            url("retention:erase", "83"),
            {**var_admin_only(["claire"]), "claire": 400},
        ),
        "retention:archive_read": (
            url("retention:archive_read", "83", var_archived_file),
            everyone(404, anonymous=302),
        ),
        "retention:archive_settings": (
            url("retention:archive_settings", "83"),
            {**var_admin_only(["claire"]), "claire": 400},
        ),
        "retention:archive_restore": (
            url("retention:archive_restore", "83"),
            {**var_admin_only(["claire"]), "claire": 400},
        ),
    }
)
POST_MATRIX.update(
    {
        # Bad input (no service, no status): the team is sent back to the file with a message.
        "support:plan_add_service": (
            url("support:plan_add_service", nadia_file),
            {**plan_team(), "ines": 302, "marc": 302},
        ),
        "support:action_status": (
            url("support:action_status", nadia_action),
            {**plan_team(), "ines": 302, "marc": 302},
        ),
        "support:department_situation_remove": (
            url("support:department_situation_remove", "83", var_situation),
            {**var_admin_only(["claire"]), "claire": 302},
        ),
        # A validated diagnostic is neither validated again nor deleted: a message, back to it.
        "support:diagnostic_validate": (
            url("support:diagnostic_validate", nadia_diagnostic),
            {**plan_team(), "ines": 302, "marc": 302},
        ),
        "support:diagnostic_delete": (
            url("support:diagnostic_delete", nadia_diagnostic),
            {**plan_team(), "ines": 302, "marc": 302},
        ),
    }
)


# --- The person's own space, the engagement PDF, the magic link ------------------------


def nadia_duplicate(ctx: dict[str, Any]) -> int:
    """A second file of Nadia (a duplicate), opened by Inès."""
    from binome.people.models import Person

    nadia = Person.objects.get(user=ctx["personas"]["nadia"])
    duplicate, _ = Person.objects.get_or_create(
        department_id="83",
        first_name="Nadia",
        last_name="Belkacem",
        birth_date=nadia.birth_date,
        user=None,
        defaults={"organisation": nadia.organisation},
    )
    return duplicate.pk


def nadia_only() -> dict[str, int]:
    """Nadia's own space: Nadia 200; every professional 404 (it is not theirs)."""
    return {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "nadia": 200}


MATRIX.update(
    {
        "space:home": (url("space:home"), nadia_only()),
        "space:consent_withdraw": (url("space:consent_withdraw", nadia_consent), nadia_only()),
        "space:engagement_pdf": (url("space:engagement_pdf"), nadia_only()),
        "retention:my_data": (url("retention:my_data"), nadia_only()),
        "retention:my_data_download": (url("retention:my_data_download", "json"), nadia_only()),
        "retention:file_access": (url("retention:file_access", nadia_file), nadia_team()),
        "retention:file_access_download": (
            url("retention:file_access_download", nadia_file, nadia_access_request, "json"),
            nadia_team(),
        ),
        "people:engagement_pdf": (url("people:engagement_pdf", nadia_file), nadia_team()),
        "people:duplicates": (url("people:duplicates", "83"), var_admin_only(["claire"])),
        "people:merge": (
            url("people:merge", "83", nadia_file, nadia_duplicate),
            var_admin_only(["claire"]),
        ),
        "accounts:magic_link_request": (url("accounts:magic_link_request"), everyone(200)),
        "accounts:magic_link_login": (
            url("accounts:magic_link_login", "forged"),
            everyone(400),
        ),
    }
)
POST_MATRIX.update(
    {
        "space:consent_withdraw": (
            url("space:consent_withdraw", nadia_consent),
            {**nadia_only(), "nadia": 302},
        ),
        # No date: the form says so (400) to the team.
        "retention:file_access": (
            url("retention:file_access", nadia_file),
            {**nadia_team(), "ines": 400, "marc": 400},
        ),
        # No kept file chosen: the form says so (400) to Claire.
        "people:merge": (
            url("people:merge", "83", nadia_file, nadia_duplicate),
            {**var_admin_only(["claire"]), "claire": 400},
        ),
    }
)


# --- Corrections of a person's file: her team (Claire, basics only: 403) ----------------


def nadia_household_member(ctx: dict[str, Any]) -> int:
    from binome.people.models import HouseholdMember

    return HouseholdMember.objects.filter(person__user=ctx["personas"]["nadia"]).first().pk  # type: ignore[union-attr]


MATRIX.update(
    {
        "people:edit": (url("people:edit", nadia_file), nadia_team()),
        "people:household_edit": (
            url("people:household_edit", nadia_file, nadia_household_member),
            nadia_team(),
        ),
        "people:household_remove": (
            url("people:household_remove", nadia_file, nadia_household_member),
            everyone(405, anonymous=302),
        ),
    }
)
POST_MATRIX.update(
    {
        "people:household_remove": (
            url("people:household_remove", nadia_file, nadia_household_member),
            {**nadia_team(), "ines": 302, "marc": 302},
        ),
    }
)


# --- The notification centre: everyone's own notifications, another's is a 404 ----------


def ines_notification(ctx: dict[str, Any]) -> int:
    from binome.notifications.models import Notification, NotificationKind

    notification, _ = Notification.objects.get_or_create(
        recipient=ctx["personas"]["ines"],
        dedup_key="matrix",
        defaults={
            "kind": NotificationKind.DIRECTORY,
            "title": "Annuaire mis à jour",
            "body": "Un service de l'annuaire a changé.",
            "url": "/annuaire/",
        },
    )
    return notification.pk


def only_ines(status: int) -> dict[str, int]:
    return {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "ines": status}


MATRIX.update(
    {
        "notifications:list": (url("notifications:list"), everyone(200, anonymous=302)),
        "notifications:unread_badge": (
            url("notifications:unread_badge"),
            everyone(200, anonymous=302),
        ),
        "notifications:open": (url("notifications:open", ines_notification), only_ines(302)),
        "notifications:mark_read": (
            url("notifications:mark_read", ines_notification),
            everyone(405, anonymous=302),
        ),
        "notifications:mark_all_read": (
            url("notifications:mark_all_read"),
            everyone(405, anonymous=302),
        ),
        "notifications:preferences": (
            url("notifications:preferences"),
            everyone(200, anonymous=302),
        ),
    }
)
POST_MATRIX.update(
    {
        "notifications:mark_read": (
            url("notifications:mark_read", ines_notification),
            only_ines(302),
        ),
        "notifications:mark_all_read": (url("notifications:mark_all_read"), everyone(302)),
        # Bad input (no choice): the form again, with its message.
        "notifications:preferences": (
            url("notifications:preferences"),
            everyone(400, anonymous=302),
        ),
    }
)


# --- The situation 6 months after the exit (Nadia's accompaniment is still open: the team
# is sent back to the file) ----------------------------------------------------------------
MATRIX.update(
    {
        "support:accompaniment_followup": (
            url("support:accompaniment_followup", nadia_accompaniment),
            {**nadia_team(), "ines": 302, "marc": 302},
        ),
    }
)


# --- Referrals (orientations) ----------------------------------------------------------


def var_social_referral(ctx: dict[str, Any]) -> int:
    """Nadia oriented by Inès (France Travail Toulon) to the Département du Var's social
    service: Marc and Claire (its members) receive it; Paul, steering, never sees it."""
    from binome.people.models import Person
    from binome.referrals.models import Referral

    nadia = Person.objects.get(user=ctx["personas"]["nadia"])
    referral, _ = Referral.objects.get_or_create(
        person=nadia,
        kind="social",
        to_organisation=ctx["orgs"]["dep83"],
        defaults={
            "department_id": "83",
            "sender": ctx["personas"]["ines"],
            "sender_organisation": ctx["orgs"]["ft_toulon"],
            "reason": "Dette de loyer.",
            "due_on": "2030-01-01",
            "expires_on": "2030-02-01",
        },
    )
    return referral.pk


def var_reorientation(ctx: dict[str, Any]) -> int:
    """Inès asks the Var's orientation manager (Claire) to reorient Nadia."""
    from binome.referrals.models import Referral
    from binome.support.models import Accompaniment

    accompaniment = Accompaniment.objects.get(person__user=ctx["personas"]["nadia"])
    referral, _ = Referral.objects.get_or_create(
        person=accompaniment.person,
        kind="reorientation",
        defaults={
            "department_id": "83",
            "sender": ctx["personas"]["ines"],
            "sender_organisation": ctx["orgs"]["ft_toulon"],
            "accompaniment": accompaniment,
            "requested_kind": "social",
            "reason": "Difficultés sociales bloquantes.",
            "due_on": "2030-01-01",
            "expires_on": "2030-02-01",
        },
    )
    return referral.pk


def var_partnership(ctx: dict[str, Any]) -> int:
    from binome.organisations.models import Partnership

    partnership, _ = Partnership.objects.get_or_create(
        department_id="83", organisation=ctx["orgs"]["ft_quimper"]
    )
    return partnership.pk


def members_not_steering(status: int) -> dict[str, int]:
    """Any professional's own organisation; steering (Paul) and a person (Nadia): 404."""
    return {**everyone(status, anonymous=302), "paul": 404, "nadia": 404}


def referral_sides(sender: int, receiver: int) -> dict[str, int]:
    """The social referral: Inès sends it, Marc and Claire receive it; the others 404."""
    return {
        **dict.fromkeys(PERSONAS, 404),
        "anonymous": 302,
        "ines": sender,
        "marc": receiver,
        "claire": receiver,
    }


def reorientation_sides(sender: int, manager: int) -> dict[str, int]:
    """The reorientation request: Inès's organisation sent it; Claire, orientation manager
    of the Var, decides it; the others 404."""
    return {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, "ines": sender, "claire": manager}


MATRIX.update(
    {
        "referrals:inbox": (url("referrals:inbox"), members_not_steering(200)),
        "referrals:sent": (url("referrals:sent"), members_not_steering(200)),
        "referrals:assign": (url("referrals:assign"), everyone(405, anonymous=302)),
        "referrals:inbox_badge": (url("referrals:inbox_badge"), everyone(200, anonymous=302)),
        "referrals:create_person": (
            url("referrals:create_person"),
            {**everyone(200, anonymous=302), "lea": 404, "paul": 404, "nadia": 404},
        ),
        "referrals:create": (url("referrals:create", nadia_file), nadia_team()),
        # From a service's page: whoever may orient persons picks one of theirs.
        "referrals:create_for_service": (
            url("referrals:create_for_service", lea_service),
            {**everyone(200, anonymous=302), "lea": 404, "paul": 404, "nadia": 404},
        ),
        "referrals:detail": (
            url("referrals:detail", var_social_referral),
            referral_sides(200, 200),
        ),
        "referrals:accept": (
            url("referrals:accept", var_social_referral),
            referral_sides(403, 200),
        ),
        "referrals:decline": (
            url("referrals:decline", var_social_referral),
            referral_sides(403, 200),
        ),
        "referrals:withdraw": (
            url("referrals:withdraw", var_social_referral),
            everyone(405, anonymous=302),
        ),
        "referrals:nudge": (
            url("referrals:nudge", var_social_referral),
            everyone(405, anonymous=302),
        ),
        # A referral to social support has no outcome to report (services only).
        "referrals:outcome": (
            url("referrals:outcome", var_social_referral),
            referral_sides(403, 403),
        ),
        "referrals:reorient": (
            url("referrals:reorient", var_reorientation),
            reorientation_sides(403, 200),
        ),
        # No attachment in the demo: 404 even for the sides of the referral.
        "referrals:attachment": (
            url("referrals:attachment", var_social_referral, 999_999),
            referral_sides(404, 404),
        ),
        "referrals:reorientations": (
            url("referrals:reorientations", "83"),
            {**var_admin_only(["claire"]), "paul": 404},
        ),
        "referrals:settings": (
            url("referrals:settings", "83"),
            {**var_admin_only(["claire"]), "paul": 404},
        ),
        "referrals:partner_remove": (
            url("referrals:partner_remove", "83", var_partnership),
            everyone(405, anonymous=302),
        ),
    }
)
POST_MATRIX.update(
    {
        # Nothing ticked: a message, back to the inbox.
        "referrals:assign": (url("referrals:assign"), members_not_steering(302)),
        "referrals:withdraw": (
            url("referrals:withdraw", var_social_referral),
            referral_sides(302, 403),
        ),
        # « Relancer »: the sender's side only (done, or refused with a message: 302).
        "referrals:nudge": (
            url("referrals:nudge", var_social_referral),
            referral_sides(302, 403),
        ),
        "referrals:partner_remove": (
            url("referrals:partner_remove", "83", var_partnership),
            {**var_admin_only(["claire"]), "claire": 302, "paul": 404},
        ),
    }
)


# --- Signed links of referrals (structures without an account) -----------------------
# The link's page is public: a forged token is a clear 400 page for everyone.
MATRIX.update(
    {
        "referral_links:open": (url("referral_links:open", "faux:jeton:0"), everyone(400)),
        "referral_links:resend": (
            url("referral_links:resend", var_social_referral),
            everyone(405, anonymous=302),
        ),
    }
)
# The territory's figures: its administrators and steering officers.
MATRIX.update(
    {
        "referral_figures:territory": (
            url("referral_figures:territory", "83"),
            var_admin_only(["claire", "paul"]),
        ),
        # An organisation's: whoever sees its page (loaded by the page after it).
        "referral_figures:organisation": (
            url("referral_figures:organisation", dep83),
            var_members(),
        ),
    }
)
# The steering dashboards and their exports: the territory's administrators and steering
# officers; an organisation's administrators for their own (here Claire, also the territory's).
MATRIX.update(
    {
        "steering:territory": (url("steering:territory", "83"), var_admin_only(["claire", "paul"])),
        "steering:settings": (url("steering:settings", "83"), var_admin_only(["claire"])),
        "steering:fse_export": (
            url("steering:fse_export", "83", "csv"),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:territory_export": (
            url("steering:territory_export", "83", "support", "exits_by_reason", "xlsx"),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:organisation": (
            url("steering:organisation", dep83),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:organisation_export": (
            url("steering:organisation_export", dep83, "support", "chiffres", "csv"),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:territory_table": (
            url("steering:territory_table", "83", "support", "by_commune"),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:organisation_table": (
            url("steering:organisation_table", dep83, "support", "exits_by_reason"),
            var_admin_only(["claire", "paul"]),
        ),
        # National steering is a permission no persona of the demo holds.
        "steering:national": (url("steering:national"), everyone(403, anonymous=302)),
        "steering:national_export": (
            url("steering:national_export", "national", "par_departement", "csv"),
            everyone(403, anonymous=302),
        ),
    }
)


def var_comite_case(ctx: dict[str, Any]) -> Any:
    """A session of the Var's comité (Paul a member) with Nadia's situation on its agenda."""
    from datetime import timedelta

    from django.utils import timezone

    from binome.people.models import Person
    from binome.steering.models import ComiteCase, ComiteSession

    session, _ = ComiteSession.objects.get_or_create(
        department_id="83",
        held_on=timezone.localdate() + timedelta(days=7),
        defaults={"created_by": ctx["personas"]["paul"]},
    )
    session.members.add(ctx["personas"]["paul"])
    case, _ = ComiteCase.objects.get_or_create(
        session=session,
        person=Person.objects.get(user=ctx["personas"]["nadia"]),
        defaults={
            "organisation": ctx["orgs"]["dep83"],
            "flagged_by": ctx["personas"]["marc"],
            "age_band": "26_44",
            "household": "single_parent",
            "barriers": "Logement : frein bloquant",
            "tried": "Demandes de logement.",
            "question": "Quelle solution d'hébergement ?",
            "agreement_on": timezone.localdate(),
        },
    )
    return case


def var_comite_session(ctx: dict[str, Any]) -> int:
    return int(var_comite_case(ctx).session_id)


def comite_members() -> dict[str, int]:
    """A session of the comité: its members (Paul) and the territory's planners (Claire,
    Paul); 404 for everyone else, as for a missing one."""
    statuses = dict.fromkeys(PERSONAS, 404)
    statuses.update({"anonymous": 302, "paul": 200, "claire": 200})
    return statuses


# The comité de pilotage: the territory plans its sessions; a team brings a situation from
# the file (Nadia's team); the session's members read the agenda and answer.
MATRIX.update(
    {
        "steering:comite": (url("steering:comite", "83"), var_admin_only(["claire", "paul"])),
        "steering:session": (url("steering:session", var_comite_session), comite_members()),
        "steering:flag": (url("steering:flag", nadia_file), nadia_team()),
        "steering:decide": (
            url("steering:decide", lambda ctx: var_comite_case(ctx).pk),
            everyone(405, anonymous=302),
        ),
    }
)


def var_fse_operation(ctx: dict[str, Any]) -> int:
    """The Var's FSE+ operation of the year, covering France Travail Toulon and the
    Département (Inès's and Marc's organisations)."""
    from datetime import date

    from django.utils import timezone

    from binome.steering.models import FseOperation

    year = timezone.localdate().year
    operation, _ = FseOperation.objects.get_or_create(
        department_id="83",
        name=f"Opération {year}",
        defaults={
            "starts_on": date(year, 1, 1),
            "ends_on": date(year, 12, 31),
            "created_by": ctx["personas"]["paul"],
        },
    )
    operation.organisations.set([ctx["orgs"]["ft_toulon"], ctx["orgs"]["dep83"]])
    return operation.pk


# The comité's minutes: whoever sees the session. FSE+: the questionnaire is the file's
# team's (Claire, with the basics only, may not fill it); the territory's operations are its
# steering's; an operation's page is also its covered organisations' members' (their own
# files to complete), its export the steering's only.
MATRIX.update(
    {
        "steering:session_minutes": (
            url("steering:session_minutes", var_comite_session),
            comite_members(),
        ),
        "support:accompaniment_fse": (
            url("support:accompaniment_fse", nadia_accompaniment, "entree"),
            nadia_team(),
        ),
        "steering:fse_operations": (
            url("steering:fse_operations", "83"),
            var_admin_only(["claire", "paul"]),
        ),
        "steering:fse_operation": (
            url("steering:fse_operation", var_fse_operation),
            var_admin_only(["claire", "paul", "ines", "marc"]),
        ),
        "steering:fse_operation_export": (
            url("steering:fse_operation_export", var_fse_operation, "csv"),
            var_admin_only(["claire", "paul"]),
        ),
    }
)
POST_MATRIX.update(
    {
        # An empty decision: back to the agenda with a message; nothing recorded.
        "steering:decide": (
            url("steering:decide", lambda ctx: var_comite_case(ctx).pk),
            {**comite_members(), "paul": 302, "claire": 302},
        ),
    }
)


# Only the sending organisation re-sends (here the target has an account: a message, back
# to the referral's page); the receiving organisation 403; everyone else 404.
POST_MATRIX.update(
    {
        "referral_links:resend": (
            url("referral_links:resend", var_social_referral),
            referral_sides(302, 403),
        ),
    }
)


# --- Childcare (AVIP): providers' places, requests, answers, the CAF's coordination ------


def _childcare_demo(ctx: dict[str, Any]) -> Any:
    from binome.childcare.demo import load_demo_childcare

    return load_demo_childcare(ctx["personas"], ctx["orgs"])


def sarah_childcare_request(ctx: dict[str, Any]) -> int:
    """Inès's place request for Sarah (Toulon), sent to Léa's crèche."""
    return next(r.pk for r in _childcare_demo(ctx) if r.department_id == "83")


def lea_solicitation(ctx: dict[str, Any]) -> int:
    from binome.childcare.models import Solicitation

    return Solicitation.objects.get(request_id=sarah_childcare_request(ctx)).pk


def inaya_placement(ctx: dict[str, Any]) -> int:
    """Léa's crèche's place for Inaya's daughter (the demo's placement)."""
    from binome.childcare.models import Placement

    _childcare_demo(ctx)
    return Placement.objects.get(person__first_name="Inaya").pk


def only(**statuses: int) -> dict[str, int]:
    return {**dict.fromkeys(PERSONAS, 404), "anonymous": 302, **statuses}


MATRIX.update(
    {
        "childcare:providers_home": (url("childcare:providers_home"), everyone(200, anonymous=302)),
        # A crèche's places: its members only.
        "childcare:provider_places": (url("childcare:provider_places", lea_org), only(lea=200)),
        "childcare:provider_edit": (url("childcare:provider_edit", lea_org), only(lea=200)),
        "childcare:provider_confirm": (
            url("childcare:provider_confirm", lea_org),
            everyone(405, anonymous=302),
        ),
        # A request is filed from the file: its team (Claire sees the basics only).
        "childcare:request_create": (url("childcare:request_create", nadia_file), nadia_team()),
        "childcare:file_section": (url("childcare:file_section", nadia_file), nadia_team()),
        # Sarah's team is Inès alone.
        "childcare:request_detail": (
            url("childcare:request_detail", sarah_childcare_request),
            only(ines=200),
        ),
        # What the crèche sees of it: Léa only.
        "childcare:solicitation": (url("childcare:solicitation", lea_solicitation), only(lea=200)),
        "childcare:solicitation_accept": (
            url("childcare:solicitation_accept", lea_solicitation),
            everyone(405, anonymous=302),
        ),
        "childcare:solicitation_decline": (
            url("childcare:solicitation_decline", lea_solicitation),
            everyone(405, anonymous=302),
        ),
        # The Var's coordination: Karim (CAF agent of the CAF du Var), Claire (its
        # territory administrator).
        "childcare:coordination_inbox": (
            url("childcare:coordination_inbox"),
            only(karim=200, claire=200),
        ),
        "childcare:coordination": (
            url("childcare:coordination", sarah_childcare_request),
            only(karim=200, claire=200),
        ),
        "childcare:request_withdraw": (
            url("childcare:request_withdraw", sarah_childcare_request),
            everyone(405, anonymous=302),
        ),
        "childcare:placement_renew": (
            url("childcare:placement_renew", inaya_placement),
            everyone(405, anonymous=302),
        ),
        "childcare:placement_end": (
            url("childcare:placement_end", inaya_placement),
            everyone(405, anonymous=302),
        ),
        "childcare:placement_followup": (
            url("childcare:placement_followup", inaya_placement),
            everyone(405, anonymous=302),
        ),
        # The figures: the coordination; the weekends' rule: the territory's administrator.
        "childcare:figures": (url("childcare:figures"), only(karim=200, claire=200)),
        "childcare:settings": (url("childcare:settings", "83"), only(claire=200)),
    }
)


# --- RSA: the orientation managers' pages, the referent body's -------------------------------


def _rsa_demo(ctx: dict[str, Any]) -> None:
    from binome.rsa.demo import load_demo_rsa

    load_demo_rsa(ctx["personas"], ctx["orgs"])


def rsa_to_orient(ctx: dict[str, Any]) -> int:
    """The first person the Var has to orient (Sandrine Martin)."""
    from binome.rsa.models import Beneficiary

    _rsa_demo(ctx)
    return Beneficiary.objects.to_orient().in_department("83").order_by("orientation_due_on")[0].pk


def karim_rsa_orientation(ctx: dict[str, Any]) -> int:
    """Karim Rossi's orientation to France Travail Toulon, Inès his referent."""
    from binome.rsa.models import Orientation

    _rsa_demo(ctx)
    return Orientation.objects.get(beneficiary__first_name="Karim").pk


def ft_toulon(ctx: dict[str, Any]) -> int:
    return int(ctx["orgs"]["ft_toulon"].pk)


def nadya_to_reconcile(ctx: dict[str, Any]) -> int:
    """Nadya Belkacem, whom the demo's November flow leaves « à rapprocher »."""
    from binome.rsa.models import Beneficiary

    _rsa_demo(ctx)
    return Beneficiary.objects.get(dossier__number="83000108").pk


MATRIX.update(
    {
        # The Var's orientation manager: Claire; steering (Paul) included, everyone else 404.
        "rsa:to_orient": (url("rsa:to_orient", "83"), only(claire=200)),
        # Nobody checked: back to the list with a message.
        "rsa:orient_bulk": (url("rsa:orient_bulk", "83"), only(claire=302)),
        "rsa:figures": (url("rsa:figures", "83"), only(claire=200)),
        "rsa:orient": (url("rsa:orient", rsa_to_orient), only(claire=200)),
        # The referent body's side: France Travail Toulon's members (Inès).
        "rsa:received": (url("rsa:received", ft_toulon), only(ines=200)),
        "rsa:orientation": (url("rsa:orientation", karim_rsa_orientation), only(ines=200)),
        "rsa:designate": (
            url("rsa:designate", karim_rsa_orientation),
            everyone(405, anonymous=302),
        ),
        "rsa:contract": (url("rsa:contract", karim_rsa_orientation), everyone(405, anonymous=302)),
        "rsa:to_reconcile": (url("rsa:to_reconcile", "83"), only(claire=200)),
        "rsa:reconcile": (
            url("rsa:reconcile", nadya_to_reconcile),
            everyone(405, anonymous=302),
        ),
        "rsa:ask_reorientation": (
            url("rsa:ask_reorientation", karim_rsa_orientation),
            everyone(405, anonymous=302),
        ),
        # The RSA section of a file: its team (the file's rules).
        "rsa:file_section": (url("rsa:file_section", nadia_file), nadia_team()),
    }
)
POST_MATRIX.update(
    {
        # A form without its fields: the referent body's member sees its French message.
        "rsa:designate": (url("rsa:designate", karim_rsa_orientation), only(ines=400)),
        "rsa:contract": (url("rsa:contract", karim_rsa_orientation), only(ines=400)),
        "rsa:ask_reorientation": (
            url("rsa:ask_reorientation", karim_rsa_orientation),
            only(ines=400),
        ),
        # No file chosen: back to the list with its French message, nothing changed.
        "rsa:reconcile": (url("rsa:reconcile", nadya_to_reconcile), only(claire=302)),
    }
)


def _client(persona: str, personas: dict[str, Any]) -> Client:
    client = Client()
    if persona != "anonymous":
        login_as(client, personas[persona])
    return client


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_as_every_persona(name: str, personas: dict[str, Any], orgs: dict[str, Any]) -> None:
    build, expected = MATRIX[name]
    ctx = {"personas": personas, "orgs": orgs}
    path = build(ctx)
    seen = {persona: _client(persona, personas).get(path).status_code for persona in PERSONAS}
    assert seen == {p: expected[p] for p in PERSONAS}, path


@pytest.mark.parametrize("name", sorted(POST_MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
def test_post_as_every_persona(
    name: str, persona: str, personas: dict[str, Any], orgs: dict[str, Any]
) -> None:
    build, expected = POST_MATRIX[name]
    path = build({"personas": personas, "orgs": orgs})
    data = {"role": "admin"}
    assert _client(persona, personas).post(path, data).status_code == expected[persona], path
