"""The childcare pages: thin — parse, call one action, render."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access.audit import record_list_read, record_read
from binome.access.predicates import active_memberships, is_territory_admin
from binome.childcare import actions
from binome.childcare.access import (
    coordinated_departments,
    get_provider_organisation_for_user,
    get_request_for_coordinator,
    get_solicitation_for_user,
    provider_organisations,
)
from binome.childcare.figures import childcare_section
from binome.childcare.forms import (
    AcceptForm,
    ChildcareSettingsForm,
    DeclineForm,
    EligibilityForm,
    PeriodForm,
    PlacementEndForm,
    PlacementFollowupForm,
    ProviderForm,
    RequestForm,
    SendForm,
    WithdrawForm,
)
from binome.childcare.matching import matching_providers
from binome.childcare.models import (
    ChildcareRequest,
    ChildcareSettings,
    Placement,
    Provider,
    RequestStatus,
    Solicitation,
    SolicitationStatus,
    Urgency,
    can_move,
)
from binome.core.figures import FigureScope
from binome.core.replica import on_replica
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation, OrganisationKind
from binome.people.models import Consent, ConsentScope, HouseholdMember, HouseholdRelation
from binome.support.access import get_file_for_user
from binome.support.models import Diagnostic, DiagnosticStatus

# --- Providers: their places and their inbox ------------------------------------------------


@login_required
@require_GET
def providers_home(request: AuthenticatedRequest) -> HttpResponse:
    """The user's childcare organisations: their places and the requests addressed to them."""
    organisations = provider_organisations(request.user)
    providers = {
        provider.organisation_id: provider
        for provider in Provider.objects.filter(organisation__in=organisations)
    }
    rows = [(organisation, providers.get(organisation.pk)) for organisation in organisations]
    return render(
        request,
        "childcare/providers_home.html",
        {"title": "Garde d'enfants : mes accueils", "rows": rows},
    )


@login_required
@require_GET
def provider_places(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    """The provider's page: its places in short (their form is one click away, on
    ``provider_edit``) and the 50 requests addressed to it, those awaiting an answer first."""
    organisation = get_provider_organisation_for_user(request.user, organisation_id)
    provider = (
        Provider.objects.filter(organisation=organisation).select_related("label_caf").first()
    )
    rows: list[str] = []
    if provider is not None:
        solicitations = (
            Solicitation.objects.filter(provider=provider)
            .select_related("request")
            .only("status", "request__urgency", "request__due_at")
            # Those awaiting an answer first, the most urgent first.
            .order_by(
                Case(When(status=SolicitationStatus.PENDING, then=0), default=1),
                "request__due_at",
            )[:50]
        )
        rows = solicitation_rows(solicitations)
    return render(
        request,
        "childcare/provider_places.html",
        {
            "title": f"Places d'accueil — {organisation.name}",
            "organisation": organisation,
            "provider": provider,
            "solicitation_rows": rows,
        },
    )


def solicitation_rows(solicitations: Iterable[Solicitation]) -> list[str]:
    """The inbox's lines, written once in Python (escaped by ``format_html``) rather than
    through the template's nodes for each of the 50: the urgency as the link to the request,
    its status, and the answer's deadline while it awaits one."""
    link = reverse("childcare:solicitation", args=[0]).removesuffix("0/")
    urgencies = dict(Urgency.choices)
    statuses = dict(SolicitationStatus.choices)
    rows: list[str] = []
    for solicitation in solicitations:
        due = ""
        if solicitation.status == SolicitationStatus.PENDING:
            due_at = timezone.localtime(solicitation.request.due_at)
            due = format_html(" (réponse attendue avant le {})", f"{due_at:%d/%m à %Hh%M}")
        rows.append(
            format_html(
                '<li><a href="{}{}/">{}</a> — {}{}</li>',
                link,
                solicitation.pk,
                urgencies.get(solicitation.request.urgency, solicitation.request.urgency),
                statuses.get(solicitation.status, solicitation.status),
                due,
            )
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    """One short form: the label, the places, the free places from a date, the ages, the
    hours (and, for a home-care service, its emergencies). Saving confirms the places."""
    organisation = get_provider_organisation_for_user(request.user, organisation_id)
    provider = Provider.objects.filter(organisation=organisation).first()
    form = ProviderForm(
        request.POST or None, instance=provider or Provider(), organisation=organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_provider(
                organisation=organisation,
                values=form.cleaned_data,
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Les places sont enregistrées et confirmées à ce jour.")
            return redirect("childcare:provider_places", organisation.pk)
    return render(
        request,
        "childcare/provider_edit.html",
        {
            "title": f"Modifier les places — {organisation.name}",
            "organisation": organisation,
            "provider": provider,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def provider_confirm(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    """« Les places sont à jour »: the confirmation date moves to today."""
    organisation = get_provider_organisation_for_user(request.user, organisation_id)
    provider = Provider.objects.filter(organisation=organisation).first()
    if provider is None:
        messages.error(request, "Déclarez d'abord vos places avant de les confirmer.")
    else:
        actions.confirm_places(provider=provider, by=request.user, request=request)
        messages.success(request, "Les places sont confirmées à ce jour.")
    return redirect("childcare:provider_places", organisation.pk)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Requests, from the person's file -----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """File a childcare request for the person: her team's members."""
    person, access = get_file_for_user(request, pk, what="Demande de garde d'enfant")
    organisation = access.acting_organisation(request.current_membership)
    household = list(
        person.household.filter(relation=HouseholdRelation.CHILD, birth_date__isnull=False)
    )
    has_consent = (
        Consent.objects.active().of_scope(ConsentScope.CHILDCARE_CAF).filter(person=person).exists()
    )
    mobility_km = (
        Diagnostic.objects.filter(
            person=person,
            status=DiagnosticStatus.VALIDATED,
            mobility_radius_km__isnull=False,
        )
        .visible_to(access)
        .order_by("-made_on", "-id")
        .values_list("mobility_radius_km", flat=True)
        .first()
    )
    form = RequestForm(
        request.POST or None,
        household=household,
        has_consent=has_consent,
        mobility_km=mobility_km,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            childcare_request = actions.create_request(
                person=person,
                organisation=organisation,
                accompaniment=access.current_accompaniment(),
                children=data["child_list"],
                reason=data["reason"],
                reason_on=data["reason_on"],
                needed_on=data["needed_on"],
                schedule=data["schedule"],
                urgency=data["urgency"],
                single_parent=data["single_parent"],
                qpv=data["qpv"],
                rsa=data["rsa"],
                radius_km=data["radius_km"],
                consent_now=bool(data.get("consent_now")),
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "La demande est enregistrée : choisissez les accueils.")
            return redirect("childcare:request_detail", childcare_request.pk)
    return render(
        request,
        "childcare/request_create.html",
        {
            "title": "Demande de garde d'enfant",
            "person": person,
            "organisation": organisation,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def file_section(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The childcare section of the person's file, loaded by the file page (htmx) so that
    the page's own queries do not change: the requests, newest first, and « Demander »."""
    person, _access = get_file_for_user(request, pk, what="Demandes de garde d'enfant")
    requests = list(
        ChildcareRequest.objects.filter(person=person)
        .select_related("organisation")
        .only("urgency", "status", "needed_on", "created_at", "organisation__name")
        .order_by("-created_at", "-id")[:20]
    )
    return render(request, "childcare/_file_section.html", {"person": person, "requests": requests})


def _get_request_for_team(request: AuthenticatedRequest, pk: int) -> tuple[ChildcareRequest, Any]:
    """The request and the user's access to its person's file (her team), or 404."""
    childcare_request = (
        ChildcareRequest.objects.select_related("organisation", "created_by", "consent")
        .filter(pk=pk)
        .first()
    )
    if childcare_request is None:
        raise Http404
    person, access = get_file_for_user(
        request,
        childcare_request.person_id,
        what="Demande de garde d'enfant",
        item=childcare_request,
    )
    childcare_request.person = person
    return childcare_request, access


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(
    request: AuthenticatedRequest, pk: int, withdraw_form: WithdrawForm | None = None
) -> HttpResponse:
    """The request, its answers, and — to send or resend it — the providers that fit."""
    childcare_request, access = _get_request_for_team(request, pk)
    person = childcare_request.person
    sendable = can_move(childcare_request.status, RequestStatus.SENT)
    # Each read once: the children and the providers already asked serve the matching and
    # the page.
    children = list(childcare_request.children.all())
    solicitations = list(childcare_request.solicitations.select_related("provider__organisation"))
    matches = []
    if sendable and person.commune is not None:
        already = {solicitation.provider_id for solicitation in solicitations}
        matches = [
            provider
            for provider in matching_providers(
                commune=person.commune,
                birth_dates=[child.birth_date for child in children],
                needed_on=childcare_request.needed_on,
                urgency=childcare_request.urgency,
                radius_km=childcare_request.radius_km,
            )
            if provider.pk not in already
        ]
    choices = [
        (
            str(provider.pk),
            f"{provider.organisation.name} — {provider.get_kind_display()}, "
            f"{provider.distance_km:.1f} km",  # type: ignore[attr-defined]
        )
        for provider in matches
    ]
    posted = request.method == "POST" and withdraw_form is None
    form = SendForm(request.POST if posted else None, choices=choices)
    if posted:
        if not sendable:
            messages.error(request, "Cette demande a déjà été envoyée : attendez les réponses.")
            return redirect("childcare:request_detail", childcare_request.pk)
        if form.is_valid():
            chosen = set(form.cleaned_data["providers"])
            try:
                actions.send(
                    childcare_request=childcare_request,
                    providers=[p for p in matches if str(p.pk) in chosen],
                    by=request.user,
                    organisation=access.acting_organisation(request.current_membership),
                    request=request,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "La demande est envoyée aux accueils choisis.")
                return redirect("childcare:request_detail", childcare_request.pk)
    return render(
        request,
        "childcare/request_detail.html",
        {
            "title": "Demande de garde d'enfant",
            "childcare_request": childcare_request,
            "person": person,
            "children": children,
            "solicitations": solicitations,
            "sendable": sendable and bool(matches),
            "form": form,
            "is_emergency": childcare_request.urgency == Urgency.EMERGENCY,
            "withdrawable": can_move(childcare_request.status, RequestStatus.WITHDRAWN),
            # Only an accepted request has a placement (and it stays accepted).
            **_placement_context(
                Placement.objects.filter(request=childcare_request).first()
                if childcare_request.status == RequestStatus.ACCEPTED
                else None,
                team=True,
            ),
            "withdraw_form": withdraw_form or WithdrawForm(),
        },
        status=400 if form.errors or (withdraw_form and withdraw_form.errors) else 200,
    )


@login_required
@require_POST
def request_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The team withdraws the request: the providers still to answer are told."""
    childcare_request, access = _get_request_for_team(request, pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            actions.withdraw(
                childcare_request=childcare_request,
                reason=form.cleaned_data["withdrawn_reason"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, "La demande est retirée : les accueils sollicités sont prévenus."
            )
        return redirect("childcare:request_detail", childcare_request.pk)
    return request_detail(request, pk, withdraw_form=form)


# --- The provider's side ----------------------------------------------------------------


def _solicitation_page(
    request: AuthenticatedRequest,
    solicitation: Solicitation,
    *,
    accept_form: AcceptForm | None = None,
    decline_form: DeclineForm | None = None,
) -> HttpResponse:
    """What the provider sees: only what the request needs — the children's first names and
    ages, the dates, the hours, the reason, the parent's first name and initial, her
    commune, the team's contact; never the diagnostic or the notes."""
    childcare_request = (
        ChildcareRequest.objects.select_related(
            "person", "person__commune", "organisation", "created_by"
        )
        .only(
            "reason",
            "reason_on",
            "needed_on",
            "schedule",
            "urgency",
            "status",
            "due_at",
            "single_parent",
            "qpv",
            "rsa",
            "under_25",
            "person__first_name",
            "person__last_name",
            "person__commune__name",
            "organisation__name",
            "created_by__first_name",
            "created_by__last_name",
            "created_by__email",
        )
        .get(pk=solicitation.request_id)
    )
    record_read(
        request=request,
        obj=solicitation,
        person_id=childcare_request.person_id,
        what="Demande de garde d'enfant (accueil sollicité)",
    )
    children = [
        (child.first_name, child.age_months(childcare_request.needed_on))
        for child in childcare_request.children.all()
    ]
    pending = solicitation.status == SolicitationStatus.PENDING
    invalid = bool((accept_form and accept_form.errors) or (decline_form and decline_form.errors))
    return render(
        request,
        "childcare/solicitation.html",
        {
            "title": "Demande de garde d'enfant",
            "solicitation": solicitation,
            "childcare_request": childcare_request,
            "parent_name": f"{childcare_request.person.first_name} "
            f"{childcare_request.person.last_name[:1].upper()}.",
            "children": children,
            "pending": pending and childcare_request.status == RequestStatus.SENT,
            "accept_form": accept_form or AcceptForm(),
            "decline_form": decline_form or DeclineForm(),
            **_placement_context(
                Placement.objects.filter(solicitation=solicitation).first(), team=False
            ),
        },
        status=400 if invalid else 200,
    )


@login_required
@require_GET
def solicitation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _solicitation_page(request, get_solicitation_for_user(request.user, pk))


@login_required
@require_POST
def solicitation_accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    found = get_solicitation_for_user(request.user, pk)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            actions.accept(
                solicitation=found,
                start_on=form.cleaned_data["start_on"],
                place_details=form.cleaned_data["place_details"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("childcare:solicitation", found.pk)
        messages.success(request, "Vous avez accepté la demande : l'équipe est prévenue.")
        return redirect("childcare:solicitation", found.pk)
    return _solicitation_page(request, found, accept_form=form)


@login_required
@require_POST
def solicitation_decline(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    found = get_solicitation_for_user(request.user, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            actions.decline(
                solicitation=found,
                reason=form.cleaned_data["decline_reason"],
                details=form.cleaned_data["decline_details"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("childcare:solicitation", found.pk)
        messages.success(request, "Vous avez refusé la demande : l'équipe est prévenue.")
        return redirect("childcare:solicitation", found.pk)
    return _solicitation_page(request, found, decline_form=form)


# --- The place's life: the provider and the team ------------------------------------------


def _placement_context(placement: Placement | None, *, team: bool) -> dict[str, Any]:
    """The placement's part of a page: its dates, its end, and the forms that apply."""
    if placement is None:
        return {"placement": None}
    return {
        "placement": placement,
        "end_form": PlacementEndForm(initial={"ended_on": timezone.localdate()}),
        "followup_form": PlacementFollowupForm()
        if team and placement.followup_expected(timezone.localdate())
        else None,
    }


def _placement_for(
    request: AuthenticatedRequest, pk: int, *, team_only: bool = False
) -> tuple[Placement, Organisation, str]:
    """The placement, the organisation the user acts for, and the page to go back to: a
    member of its provider, or a member of the parent's team; 404 for anyone else."""
    placement = Placement.objects.select_related("provider__organisation").filter(pk=pk).first()
    if placement is None:
        raise Http404
    if not team_only:
        for organisation in provider_organisations(request.user):
            if organisation.pk == placement.provider.organisation_id:
                back = reverse("childcare:solicitation", args=[placement.solicitation_id])
                return placement, organisation, back
    _person, access = get_file_for_user(
        request, placement.person_id, what="Accueil d'enfant", item=placement
    )
    back = reverse("childcare:request_detail", args=[placement.request_id])
    return placement, access.acting_organisation(request.current_membership), back


@login_required
@require_POST
def placement_renew(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """After the review, six more months."""
    placement, organisation, back = _placement_for(request, pk)
    try:
        renewed = actions.renew_placement(
            placement=placement, by=request.user, organisation=organisation, request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"L'accueil est renouvelé jusqu'au {renewed.ends_on:%d/%m/%Y}.")
    return redirect(back)


@login_required
@require_POST
def placement_end(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The place ends, with its reason and the parent's situation."""
    placement, organisation, back = _placement_for(request, pk)
    form = PlacementEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_messages(form))
        return redirect(back)
    try:
        actions.end_placement(
            placement=placement,
            ended_on=form.cleaned_data["ended_on"],
            reason=form.cleaned_data["end_reason"],
            outcome=form.cleaned_data["end_outcome"],
            details=form.cleaned_data["end_details"],
            by=request.user,
            organisation=organisation,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "L'accueil est terminé ; la place AVIP est de nouveau libre.")
    return redirect(back)


@login_required
@require_POST
def placement_followup(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The parent's situation six months after the end: her team's."""
    placement, organisation, back = _placement_for(request, pk, team_only=True)
    form = PlacementFollowupForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_messages(form))
        return redirect(back)
    try:
        actions.record_placement_followup(
            placement=placement,
            outcome=form.cleaned_data["followup_outcome"],
            situation=form.cleaned_data["followup_situation"],
            by=request.user,
            organisation=organisation,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "La situation à 6 mois est enregistrée.")
    return redirect(back)


def _form_messages(form: forms.Form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''} : {error}".lstrip(" :")
        for name, errors in form.errors.items()
        for error in errors
    )


# --- The territory's coordination (the CAF): criteria only --------------------------------


@login_required
@require_GET
def coordination_inbox(request: AuthenticatedRequest) -> HttpResponse:
    """The requests of the départements the user coordinates: to check first, then those
    left unanswered past their due time, then by due time. Criteria only, no file."""
    departments = coordinated_departments(request.user)
    if not departments:
        raise Http404
    rows = list(
        ChildcareRequest.objects.filter(department_id__in=sorted(departments))
        .select_related("organisation", "person")
        .only(
            "urgency",
            "status",
            "due_at",
            "needed_on",
            "eligibility",
            "escalated_at",
            "person__first_name",
            "person__last_name",
            "organisation__name",
        )
        .order_by("due_at")[:100]
    )
    rows.sort(key=lambda r: (bool(r.eligibility), r.escalated_at is None, r.due_at))
    record_list_read(
        request=request,
        person_ids=[row.person_id for row in rows],
        what="Garde d'enfants : demandes à vérifier (critères)",
    )
    return render(
        request,
        "childcare/coordination_inbox.html",
        {
            "title": "Garde d'enfants : demandes du territoire",
            "rows": rows,
            "settings_departments": sorted(
                code for code in departments if is_territory_admin(request.user, code)
            ),
        },
    )


@login_required
@require_GET
def figures_page(request: AuthenticatedRequest) -> HttpResponse:
    """The childcare figures of the départements the user coordinates (the CAF, the
    territory's administrators): counts, shares and medians, never a named person."""
    departments = sorted(coordinated_departments(request.user))
    if not departments:
        raise Http404
    today = timezone.localdate()
    form = PeriodForm(
        request.GET or None,
        initial={"debut": today - timedelta(days=364), "fin": today},
    )
    start, end = today - timedelta(days=364), today
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["debut"], form.cleaned_data["fin"]
    sections = []
    if not form.errors:
        for code in departments:
            section = on_replica(
                childcare_section, FigureScope(department=code, start=start, end=end)
            )
            sections.append((code, section))
    return render(
        request,
        "childcare/figures.html",
        {
            "title": "Garde d'enfants : les chiffres du territoire",
            "form": form,
            "start": start,
            "end": end,
            "sections": sections,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def childcare_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's administrators say whether weekends count in an emergency's clock."""
    if not is_territory_admin(request.user, code):
        raise Http404
    current = ChildcareSettings.for_department(code)
    form = ChildcareSettingsForm(
        # An unticked box posts nothing: the form is bound whenever it is posted.
        request.POST if request.method == "POST" else None,
        initial={"emergency_weekends_count": current.emergency_weekends_count},
    )
    if request.method == "POST" and form.is_valid():
        actions.set_childcare_settings(
            department_id=code,
            emergency_weekends_count=form.cleaned_data["emergency_weekends_count"],
            by=request.user,
            request=request,
        )
        messages.success(request, "Les réglages de la garde d'enfants sont enregistrés.")
        return redirect("childcare:settings", code)
    return render(
        request,
        "childcare/settings.html",
        {"title": f"Garde d'enfants : réglages du territoire ({code})", "form": form},
    )


def _coordinator_organisation(request: AuthenticatedRequest, department_id: str) -> Organisation:
    """The organisation the coordinator acts for: their CAF of the département, else their
    current organisation."""
    memberships = active_memberships(request.user)
    for membership in memberships:
        organisation = membership.organisation
        if (
            organisation.kind == OrganisationKind.CAF
            and organisation.department_id == department_id
        ):
            return organisation
    if request.current_membership is not None:
        return request.current_membership.organisation
    if memberships:
        return memberships[0].organisation
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def coordination(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One request as the coordination sees it — household composition, children's ages, CAF
    number, the reason and the priority criteria, the answers — and the CAF's check."""
    childcare_request = get_request_for_coordinator(request.user, pk)
    form = EligibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_eligibility(
                childcare_request=childcare_request,
                eligibility=form.cleaned_data["eligibility"],
                reason=form.cleaned_data["eligibility_reason"],
                by=request.user,
                organisation=_coordinator_organisation(request, childcare_request.department_id),
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "La vérification est enregistrée : l'équipe est prévenue.")
            return redirect("childcare:coordination", childcare_request.pk)
    if request.method == "GET" or form.errors:
        record_read(
            request=request,
            obj=childcare_request,
            person_id=childcare_request.person_id,
            what="Garde d'enfants : critères de la demande",
        )
    person = childcare_request.person
    household = list(
        HouseholdMember.objects.filter(person=person).only("relation", "birth_date", "person_id")
    )
    composition = {
        "children": sum(1 for m in household if m.relation == HouseholdRelation.CHILD),
        "partner": any(m.relation == HouseholdRelation.PARTNER for m in household),
        "others": sum(1 for m in household if m.relation == HouseholdRelation.OTHER),
    }
    return render(
        request,
        "childcare/coordination.html",
        {
            "title": "Garde d'enfants : critères de la demande",
            "childcare_request": childcare_request,
            "parent_name": f"{person.first_name} {person.last_name[:1].upper()}.",
            "caf_number": person.caf_number,
            "composition": composition,
            "children": [
                (child.first_name, child.age_months(childcare_request.needed_on))
                for child in childcare_request.children.all()
            ],
            "solicitations": list(
                childcare_request.solicitations.select_related("provider__organisation")
            ),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
