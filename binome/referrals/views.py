from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.audit import record_list_read, record_read
from binome.access.predicates import is_territory_admin, works_in_department
from binome.core.documents import document_response
from binome.core.http import parse_id
from binome.core.pagination import window_page
from binome.core.text import normalize
from binome.core.typing import AuthenticatedRequest
from binome.directory.models import PublicationStatus, Service
from binome.organisations.models import Organisation, Partnership
from binome.people.matching import matching_candidates
from binome.people.models import Person
from binome.referrals import access as rules
from binome.referrals import actions
from binome.referrals.forms import (
    AcceptForm,
    AssignForm,
    DeclineForm,
    OutcomeForm,
    PartnerForm,
    ReferralForm,
    ReorientForm,
    SettingsForm,
    WithdrawForm,
    assign_choices,
)
from binome.referrals.inbox import (
    INVALID_CURSOR,
    PreparedList,
    inbox_rows,
    keyset_page,
    options_html,
    rows_html,
)
from binome.referrals.models import (
    AWAITING,
    DEFAULT_EXPIRY_DAYS,
    DEFAULT_REMINDER_DAYS,
    DEFAULT_URGENT_HOURS,
    Attachment,
    DeclineReason,
    Referral,
    ReferralKind,
    ReferralSettings,
    Status,
    Urgency,
    due_time_label,
    received_counts,
)
from binome.referrals.shared import shared_content
from binome.support import access as file_rules
from binome.support import actions as support_actions
from binome.support.forms import PersonForm, team_role_choices
from binome.support.models import OPEN_STATES, TeamMember
from binome.support.referential import theme_label
from binome.territories.models import Department

INBOX_PAGE_SIZE = 50
# The inbox's tabs: which states each shows.
INBOX_STATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "a_traiter": ("À traiter", tuple(AWAITING)),
    "en_cours": ("Acceptées, en cours", (Status.ACCEPTED, Status.STARTED)),
    "closes": (
        "Closes",
        (
            Status.DECLINED,
            Status.WITHDRAWN,
            Status.EXPIRED,
            Status.COMPLETED,
            Status.ABANDONED,
            Status.NO_SHOW,
        ),
    ),
}
LIST_RELATED = ("person", "person__commune", "sender", "sender_organisation", "assigned_to")


def _posted(request: AuthenticatedRequest) -> Any:
    """The posted data (even empty: a form posted blank is bound, and refused), or None."""
    return request.POST if request.method == "POST" else None


def _membership_or_404(request: AuthenticatedRequest) -> Organisation:
    """The current organisation; a steering role of its département sees no named list."""
    membership = request.current_membership
    if membership is None or not predicates.works_with_named_persons(request.user, membership):
        raise Http404
    return membership.organisation


# --- Sending -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Orient a person of the user's file: to the binôme, social support, a service, or ask
    the territory's orientation manager for a reorientation."""
    person, access = file_rules.get_file_for_user(request, pk, what="Dossier : orientation")
    if not rules.can_send_referral(access):
        raise PermissionDenied
    organisation = access.acting_organisation(request.current_membership)
    accompaniment = access.current_accompaniment()
    initial: dict[str, Any] = {}
    if request.GET.get("kind"):
        initial["kind"] = request.GET["kind"]
    for name in ("service", "to_organisation"):
        if (chosen := parse_id(request.GET.get(name))) is not None:
            initial[name] = chosen
    form = ReferralForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        person=person,
        access=access,
        organisation=organisation,
        accompaniment=accompaniment,
        initial=initial,
        service_query=request.GET.get("q", ""),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = actions.send_referral(
                person=person,
                kind=data["kind"],
                by=request.user,
                organisation=organisation,
                reason=data["reason"],
                to_organisation=data.get("to_organisation"),
                service=data.get("service"),
                barriers=data.get("barriers") or [],
                urgency=data.get("urgency") or Urgency.NORMAL,
                shared_items=form.shared_items(),
                attachments=data.get("attachments") or [],
                accompaniment=accompaniment,
                requested_kind=data.get("requested_kind") or "",
                consent_method=data.get("consent_now") or "",
                idempotency_key=data["idempotency_key"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"L'orientation vers {referral.target_label} est envoyée.")
            return redirect("referrals:detail", referral.pk)
    return render(
        request,
        "referrals/create.html",
        {
            "title": "Orienter la personne",
            "person": person,
            "form": form,
            "organisation": organisation,
            "accompaniment": accompaniment,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def create_person(request: AuthenticatedRequest) -> HttpResponse:
    """Orient someone new: their file is created first (existing files that may be the
    same person are proposed), then the referral form opens."""
    membership = request.current_membership
    if membership is None or not predicates.can_create_person_here(request.user, membership):
        raise Http404
    organisation = membership.organisation
    form = PersonForm(_posted(request))
    # The roles offered follow the function the organisation declared for the member.
    form.fields["role"].choices = team_role_choices(membership.function)  # type: ignore[attr-defined]
    candidates: list[Person] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidates = matching_candidates(
                request, organisation, data, why="avant une orientation"
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        if not form.errors and (not candidates or data.get("confirm_new")):
            person = support_actions.create_person(
                data=data,
                by=request.user,
                organisation=organisation,
                kind=data["kind"],
                role=data["role"],
                matches_ignored=[c.pk for c in candidates],
                request=request,
            )
            messages.success(
                request, f"Le dossier de {person.full_name} est créé : orientez maintenant."
            )
            service = parse_id(request.GET.get("service"))
            query = (
                # From a service of the directory (« Orienter une personne vers ce service »).
                {"kind": ReferralKind.SERVICE, "service": service}
                if service is not None
                else {
                    "kind": ReferralKind.SOCIAL if data["kind"] == "social" else ReferralKind.GLOBAL
                }
            )
            return redirect(reverse("referrals:create", args=[person.pk]) + "?" + urlencode(query))
    return render(
        request,
        "people/create.html",
        {
            "title": "Nouvelle personne",
            "form": form,
            "candidates": candidates,
            "organisation": organisation,
        },
    )


PERSONS_PAGE_SIZE = 20


@login_required
@require_GET
def create_for_service(request: AuthenticatedRequest, service_pk: int) -> HttpResponse:
    """Orient a person to a service of the directory (from its page): the user picks the
    person among those whose team they are on — or orients someone new —, then the
    referral form opens with the service chosen. The referral's own rules apply there."""
    if not predicates.can_create_person_here(request.user, request.current_membership):
        raise Http404
    service = get_object_or_404(
        Service.objects.select_related("structure"),
        pk=service_pk,
        status=PublicationStatus.PUBLISHED,
    )
    query = request.GET.get("q", "").strip()[:100]
    persons = Person.objects.filter(
        pk__in=TeamMember.objects.current()
        .filter(user=request.user, accompaniment__state__in=OPEN_STATES)
        .values("person_id"),
        merged_into__isnull=True,
    )
    words = normalize(query).split()
    for word in words:
        persons = persons.filter(search_name__contains=word)
    page = window_page(
        persons.select_related("commune")
        .only("first_name", "last_name", "birth_date", "commune__name")
        .order_by("last_name", "first_name", "id"),
        request.GET.get("page"),
        PERSONS_PAGE_SIZE,
    )
    return render(
        request,
        "referrals/create_for_service.html",
        {
            "title": f"Orienter une personne vers « {service.name} »",
            "service": service,
            "page": page,
            "query": query,
            "form_query": urlencode({"kind": ReferralKind.SERVICE, "service": service.pk}),
        },
    )


# --- One referral ------------------------------------------------------------------------


def _detail_context(
    request: AuthenticatedRequest, referral: Referral, access: rules.ReferralAccess
) -> dict[str, Any]:
    return {
        "title": f"Orientation — {referral.person.full_name}",
        "referral": referral,
        "person": referral.person,
        "access": access,
        "events": list(referral.events.all()),
        "attachments": list(referral.attachments.all()),
        "shared": shared_content(referral),
        "barrier_labels": referral_barriers(referral),
        "can_answer": rules.can_answer_referral(access, referral),
        "can_withdraw": rules.can_withdraw_referral(access, referral),
        "can_nudge": rules.can_nudge_referral(access, referral) and actions.can_nudge_now(referral),
        "due_label": due_label(referral),
        "can_report_outcome": rules.can_report_outcome(access, referral),
        "is_reorientation": referral.kind == ReferralKind.REORIENTATION,
        "withdraw_form": WithdrawForm(),
        "today": timezone.localdate(),
    }


def due_label(referral: Referral) -> str:
    """« 07/12 à 16h00 » for an urgent referral, empty for another."""
    if referral.is_urgent and referral.due_at is not None:
        return due_time_label(referral.due_at)
    return ""


def referral_barriers(referral: Referral) -> list[str]:
    return [theme_label(code) for code in referral.barriers]


@login_required
@require_GET
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral, access = rules.get_referral_for_user(request, pk, what="Orientation : page")
    if (access.receiver or access.manager) and referral.status == Status.SENT:
        referral = actions.mark_seen(referral=referral, by=request.user, request=request)
    return render(request, "referrals/detail.html", _detail_context(request, referral, access))


def _answer_page(
    request: AuthenticatedRequest,
    referral: Referral,
    form: Any,
    *,
    title: str,
    submit: str,
    intro: str = "",
) -> HttpResponse:
    return render(
        request,
        "referrals/form.html",
        {
            "title": title,
            "referral": referral,
            "person": referral.person,
            "form": form,
            "submit": submit,
            "intro": intro,
        },
        status=400 if form.errors else 200,
    )


def _refused(request: AuthenticatedRequest, exc: ValidationError, referral: Referral) -> Any:
    messages.error(request, " ".join(exc.messages))
    return redirect("referrals:detail", referral.pk)


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral, access = rules.get_referral_for_user(request, pk, what="Orientation : réponse")
    if referral.kind == ReferralKind.REORIENTATION:
        return redirect("referrals:reorient", referral.pk)
    if not rules.can_answer_referral(access, referral):
        raise PermissionDenied
    form = AcceptForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = actions.accept(
                referral=referral,
                by=request.user,
                appointment_at=data.get("appointment_at"),
                place=data.get("place") or "",
                first_step=data.get("first_step") or "",
                message=data.get("message") or "",
                request=request,
            )
        except ValidationError as exc:
            return _refused(request, exc, referral)
        messages.success(request, "L'orientation est acceptée : l'orienteur en est informé.")
        return redirect("referrals:detail", referral.pk)
    intro = (
        "En acceptant, vous rejoignez l'équipe de la personne ; le rendez-vous est celui du "
        "diagnostic partagé."
        if referral.kind == ReferralKind.GLOBAL
        else ""
    )
    return _answer_page(
        request, referral, form, title="Accepter l'orientation", submit="Accepter", intro=intro
    )


@login_required
@require_http_methods(["GET", "POST"])
def decline(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral, access = rules.get_referral_for_user(request, pk, what="Orientation : réponse")
    if referral.kind == ReferralKind.REORIENTATION:
        return redirect("referrals:reorient", referral.pk)
    if not rules.can_answer_referral(access, referral):
        raise PermissionDenied
    form = DeclineForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.decline(
                referral=referral,
                by=request.user,
                reason=form.cleaned_data["reason"],
                message=form.cleaned_data.get("message") or "",
                request=request,
            )
        except ValidationError as exc:
            return _refused(request, exc, referral)
        messages.success(request, "L'orientation est refusée : l'orienteur en est informé.")
        return redirect("referrals:detail", referral.pk)
    return _answer_page(request, referral, form, title="Refuser l'orientation", submit="Refuser")


@login_required
@require_POST
def withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    referral, access = rules.get_referral_for_user(request, pk)
    if not access.sender:
        raise PermissionDenied
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        actions.withdraw(
            referral=referral,
            by=request.user,
            message=form.cleaned_data.get("message") or "",
            request=request,
        )
    except ValidationError as exc:
        return _refused(request, exc, referral)
    messages.success(request, "L'orientation est retirée.")
    return redirect("referrals:detail", referral.pk)


@login_required
@require_POST
def nudge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """« Relancer »: the sender's side reminds the receiver, once a day at most."""
    referral, access = rules.get_referral_for_user(request, pk)
    if not access.sender or access.receiver:
        raise PermissionDenied
    try:
        actions.nudge(referral=referral, by=request.user, request=request)
    except ValidationError as exc:
        return _refused(request, exc, referral)
    messages.success(request, "L'orientation est relancée : le destinataire en est informé.")
    return redirect("referrals:detail", referral.pk)


OUTCOME_ACTIONS = {
    Status.STARTED: actions.start,
    Status.COMPLETED: actions.complete,
    Status.ABANDONED: actions.abandon,
}


@login_required
@require_http_methods(["GET", "POST"])
def outcome(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The receiving side tells what became of an accepted referral to a service."""
    referral, access = rules.get_referral_for_user(request, pk, what="Orientation : suite")
    if not rules.can_report_outcome(access, referral):
        raise PermissionDenied
    form = OutcomeForm(_posted(request), referral=referral)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["outcome"] == Status.NO_SHOW:
                actions.no_show(
                    referral=referral,
                    by=request.user,
                    message=data.get("message") or "",
                    request=request,
                )
            else:
                OUTCOME_ACTIONS[data["outcome"]](
                    referral=referral,
                    by=request.user,
                    on=data.get("on"),
                    message=data.get("message") or "",
                    request=request,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La suite de l'orientation est enregistrée.")
            return redirect("referrals:detail", referral.pk)
    return _answer_page(
        request, referral, form, title="Suite de l'orientation", submit="Enregistrer"
    )


@login_required
@require_http_methods(["GET", "POST"])
def reorient(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The orientation manager decides a reorientation request: reorient or maintain."""
    referral, access = rules.get_referral_for_user(
        request, pk, what="Orientation : décision de réorientation"
    )
    if referral.kind != ReferralKind.REORIENTATION:
        raise Http404
    if not (access.manager and referral.is_awaiting):
        raise PermissionDenied
    form = ReorientForm(_posted(request), department_id=referral.department_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = (
            request.current_membership.organisation
            if request.current_membership
            else data["new_organisation"]
        )
        try:
            if data["decision"] == "reorient":
                actions.reorient(
                    referral=referral,
                    by=request.user,
                    organisation=organisation,
                    new_organisation=data["new_organisation"],
                    referent=data["referent"],
                    message=data["message"],
                    request=request,
                )
            else:
                actions.decline(
                    referral=referral,
                    by=request.user,
                    reason=DeclineReason.MAINTAINED,
                    message=data["message"],
                    request=request,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La décision est enregistrée ; la référente en est informée.")
            return redirect("referrals:detail", referral.pk)
    return _answer_page(
        request, referral, form, title="Décider la réorientation", submit="Enregistrer"
    )


@login_required
@require_GET
def attachment(request: AuthenticatedRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    referral, _ = rules.get_referral_for_user(request, pk, record=False)
    document = get_object_or_404(Attachment, pk=attachment_pk, referral=referral)
    record_read(
        request=request,
        obj=document,
        person_id=referral.person_id,
        what=f"Orientation : pièce jointe « {document.name} »",
    )
    stem = document.name.rsplit(".", 1)[0] if "." in document.name else document.name
    return document_response(document.file.open("rb"), kind=document.file_type, filename=stem)


# --- Lists ---------------------------------------------------------------------------------


def _list_filters(request: AuthenticatedRequest) -> dict[str, str]:
    """The list's tab and filters from the query string, each one we know or its default."""
    filters = {
        "etat": request.GET.get("etat", "a_traiter"),
        "type": request.GET.get("type", ""),
        "urgence": request.GET.get("urgence", ""),
        "attribution": request.GET.get("attribution", ""),
    }
    if filters["etat"] not in INBOX_STATES and filters["etat"] != "toutes":
        filters["etat"] = "a_traiter"
    if filters["type"] not in ReferralKind.values:
        filters["type"] = ""
    if filters["urgence"] not in Urgency.values:
        filters["urgence"] = ""
    if filters["attribution"] not in {"moi", "personne"}:
        filters["attribution"] = ""
    return filters


def _apply_filters(qs: Any, filters: dict[str, str], *, kind: Any, urgency: Any, user: Any) -> Any:
    """``qs`` restricted to the tab and the filters; ``kind``, ``urgency`` and ``user`` are
    the values compared (the filters' own, or a prepared query's parameters)."""
    if filters["etat"] in INBOX_STATES:
        qs = qs.filter(status__in=INBOX_STATES[filters["etat"]][1])
    if filters["type"]:
        qs = qs.filter(kind=kind)
    if filters["urgence"]:
        qs = qs.filter(urgency=urgency)
    if filters["attribution"] == "moi":
        qs = qs.filter(assigned_to_id=user)
    elif filters["attribution"] == "personne":
        qs = qs.filter(assigned_to__isnull=True)
    return qs


def _filtered(request: AuthenticatedRequest, qs: Any) -> tuple[Any, dict[str, str]]:
    filters = _list_filters(request)
    qs = _apply_filters(
        qs, filters, kind=filters["type"], urgency=filters["urgence"], user=request.user.pk
    )
    return qs, filters


def _tabs(qs: Any) -> list[tuple[str, str, int]]:
    """The tabs with their counts (one query; the inbox reads its counters instead)."""
    aggregates = {
        key: Count("pk", filter=Q(status__in=states)) for key, (_, states) in INBOX_STATES.items()
    }
    counts = qs.aggregate(**aggregates)
    return [(key, label, counts[key]) for key, (label, _) in INBOX_STATES.items()]


def _counted_tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [
        (key, label, sum(counts.get(state, 0) for state in states))
        for key, (label, states) in INBOX_STATES.items()
    ]


@login_required
@require_GET
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    """The referrals received by the current organisation: overdue first, then by due
    date; filters; bulk assignment to a member. Its cost does not grow with the number of
    referrals: the tab counts come from the organisation's counters, the page is read from
    an index after the previous page's key (:mod:`binome.referrals.inbox`)."""
    organisation = _membership_or_404(request)
    filters = _list_filters(request)
    counts = received_counts(organisation.pk)
    tabs = _counted_tabs(counts)
    now = timezone.now()
    today = timezone.localdate(now)
    # The list, read by statements compiled once per process for each shape of filters
    # (:class:`binome.referrals.inbox.PreparedList`): their values are parameters.
    parameters: dict[str, tuple[type, Any]] = {"organisation": (int, organisation.pk)}
    if filters["type"]:
        parameters["kind"] = (str, filters["type"])
    if filters["urgence"]:
        parameters["urgency"] = (str, filters["urgence"])
    if filters["attribution"] == "moi":
        parameters["user"] = (int, request.user.pk)
    listed = PreparedList(
        (filters["etat"], bool(filters["type"]), bool(filters["urgence"]), filters["attribution"]),
        lambda p: _apply_filters(
            Referral.objects.received_by(p.organisation),
            filters,
            kind=getattr(p, "kind", None),
            urgency=getattr(p, "urgency", None),
            user=getattr(p, "user", None),
        ),
        filters["etat"],
        today,
        now,
        **parameters,
    )
    if filters["type"] or filters["urgence"] or filters["attribution"]:
        total = listed.count()
    elif filters["etat"] == "toutes":
        total = sum(counts.values())
    else:
        total = next(count for key, _, count in tabs if key == filters["etat"])
    page, refused = keyset_page(listed, request.GET)
    record_list_read(
        request=request,
        person_ids=[referral.person_id for referral in page.rows],
        what="Nom dans la liste des orientations reçues",
    )
    rows = inbox_rows(page.rows, today, now)
    return render(
        request,
        "referrals/inbox.html",
        {
            "title": "Orientations reçues",
            "can_create_person": predicates.can_create_person_here(
                request.user, request.current_membership
            ),
            "organisation": organisation,
            "page": page,
            "rows": rows,
            "rows_html": rows_html(rows),
            "total": total,
            "cursor_refused": INVALID_CURSOR if refused else "",
            "filters": filters,
            "tabs": tabs,
            "kinds": ReferralKind.choices,
            "urgencies": Urgency.choices,
            "member_options": options_html(assign_choices(organisation)),
        },
    )


@login_required
@require_POST
def assign(request: AuthenticatedRequest) -> HttpResponse:
    organisation = _membership_or_404(request)
    if not rules.can_assign_referrals(request.user, organisation.pk):
        raise PermissionDenied
    form = AssignForm(request.POST, organisation=organisation)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("referrals:inbox")
    try:
        changed = actions.assign(
            referrals=list(form.cleaned_data["referrals"]),
            to_user=form.cleaned_data.get("to_user"),
            organisation=organisation,
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{changed} orientation(s) attribuée(s).")
    return redirect(reverse("referrals:inbox") + "?" + request.GET.urlencode())


@login_required
@require_GET
def sent(request: AuthenticatedRequest) -> HttpResponse:
    """The referrals the current organisation sent, and what became of them."""
    organisation = _membership_or_404(request)
    qs = Referral.objects.filter(sender_organisation=organisation)
    filtered, filters = _filtered(request, qs)
    page = Paginator(
        filtered.select_related(*LIST_RELATED, "to_organisation", "structure", "service").order_by(
            "-sent_at", "-id"
        ),
        INBOX_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    record_list_read(
        request=request,
        person_ids=[referral.person_id for referral in page.object_list],
        what="Nom dans la liste des orientations envoyées",
    )
    return render(
        request,
        "referrals/sent.html",
        {
            "title": "Orientations envoyées",
            "can_create_person": predicates.can_create_person_here(
                request.user, request.current_membership
            ),
            "organisation": organisation,
            "page": page,
            "filters": filters,
            "tabs": _tabs(qs),
            "kinds": ReferralKind.choices,
            "urgencies": Urgency.choices,
            "today": timezone.localdate(),
        },
    )


def _department_for(request: AuthenticatedRequest, code: str) -> Department:
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code) or predicates.is_steering(request.user, code):
        raise Http404
    return department


@login_required
@require_GET
def reorientations(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The reorientation requests of the territory, for its orientation managers."""
    department = _department_for(request, code)
    if not rules.is_orientation_manager(request.user, code):
        raise PermissionDenied
    today = timezone.localdate()
    qs = Referral.objects.filter(department_id=code, kind=ReferralKind.REORIENTATION)
    filtered, filters = _filtered(request, qs)
    page = Paginator(
        filtered.inbox_order(today).select_related(*LIST_RELATED, "accompaniment"),
        INBOX_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    record_list_read(
        request=request,
        person_ids=[referral.person_id for referral in page.object_list],
        what="Nom dans la liste des demandes de réorientation",
    )
    return render(
        request,
        "referrals/reorientations.html",
        {
            "title": f"Demandes de réorientation — {department.name}",
            "department": department,
            "page": page,
            "filters": filters,
            "tabs": _tabs(qs),
            "kinds": None,
            "urgencies": Urgency.choices,
            "today": today,
        },
    )


@login_required
@require_GET
def inbox_badge(request: AuthenticatedRequest) -> HttpResponse:
    """The header's count of referrals awaiting an answer (loaded by htmx after the page,
    so that no page pays for it)."""
    membership = request.current_membership
    count = 0
    if membership and predicates.works_with_named_persons(request.user, membership):
        count = Referral.objects.received_by(membership.organisation_id).awaiting().count()
    return render(request, "referrals/_inbox_badge.html", {"count": count})


# --- The territory's settings -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def territory_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's delays and its partner organisations of other départements."""
    department = _department_for(request, code)
    if not is_territory_admin(request.user, code):
        raise PermissionDenied
    current = ReferralSettings.objects.filter(department=department).first() or ReferralSettings(
        department=department,
        reminder_days=DEFAULT_REMINDER_DAYS,
        expiry_days=DEFAULT_EXPIRY_DAYS,
        urgent_hours=DEFAULT_URGENT_HOURS,
    )
    delays_form = SettingsForm(
        request.POST if request.POST.get("form") == "delays" else None, instance=current
    )
    partner_form = PartnerForm(
        request.POST if request.POST.get("form") == "partner" else None, department_id=code
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "delays" and delays_form.is_valid():
                actions.set_delays(
                    department_id=code,
                    reminder_days=delays_form.cleaned_data["reminder_days"],
                    expiry_days=delays_form.cleaned_data["expiry_days"],
                    urgent_hours=delays_form.cleaned_data["urgent_hours"],
                    by=request.user,
                    request=request,
                )
                messages.success(request, "Les délais sont enregistrés.")
                return redirect("referrals:settings", code)
            if request.POST.get("form") == "partner" and partner_form.is_valid():
                partner = partner_form.cleaned_data["organisation"]
                actions.declare_partner(
                    department_id=code, organisation=partner, by=request.user, request=request
                )
                messages.success(request, f"{partner.name} est partenaire du territoire.")
                return redirect("referrals:settings", code)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    partners = list(
        Partnership.objects.filter(department=department)
        .select_related("organisation")
        .order_by("organisation__name")
    )
    return render(
        request,
        "referrals/settings.html",
        {
            "title": f"Orientations — {department.name}",
            "department": department,
            "delays_form": delays_form,
            "partner_form": partner_form,
            "partners": partners,
        },
        status=400 if (delays_form.errors or partner_form.errors) else 200,
    )


@login_required
@require_POST
def partner_remove(request: AuthenticatedRequest, code: str, partner_pk: int) -> HttpResponse:
    _department_for(request, code)
    if not is_territory_admin(request.user, code):
        raise PermissionDenied
    partnership = get_object_or_404(
        Partnership.objects.select_related("organisation"), pk=partner_pk, department_id=code
    )
    actions.remove_partner(partnership=partnership, by=request.user, request=request)
    messages.success(request, f"{partnership.organisation.name} n'est plus partenaire.")
    return redirect("referrals:settings", code)
