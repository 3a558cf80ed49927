from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.audit import record_list_read, record_read, record_read_when_shown
from binome.core.pagination import window_page
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Membership
from binome.people.matching import matched_recently
from binome.people.models import Person
from binome.support import access as file_rules
from binome.support import actions
from binome.support.access import FileAccess
from binome.support.forms import (
    NOT_PERTINENT,
    AppointmentForm,
    DecisionForm,
    ExitForm,
    ExtendForm,
    FollowupForm,
    InviteToTeamForm,
    JoinDecisionForm,
    JoinForm,
    NoteForm,
    OpenAccompanimentForm,
    ReferentForm,
    TeamRoleForm,
    TransitionForm,
)
from binome.support.models import (
    END_ALERTS,
    OPEN_STATES,
    Accompaniment,
    Appointment,
    AppointmentStatus,
    ExitOrientation,
    JoinRequest,
    Kind,
    Note,
    State,
    TeamMember,
)
from binome.support.plan import with_plan_alerts
from binome.support.space import is_accompanied_person
from binome.support.worklist import WorklistFilterForm, filter_rows, no_contact_for_long

WORKLIST_PAGE_SIZE = 25
WORKLIST_SORTS = {
    "nom": ("person__last_name", "person__first_name", "id"),
    "fin": ("accompaniment__planned_end_on", "person__last_name", "id"),
    "contact": ("person__last_contact_on", "person__last_name", "id"),
}


def form_page(
    request: AuthenticatedRequest,
    person: Person,
    form: forms.Form,
    *,
    title: str,
    multipart: bool = False,
    intro: str = "",
) -> HttpResponse:
    return render(
        request,
        "support/form.html",
        {"title": title, "person": person, "form": form, "multipart": multipart, "intro": intro},
    )


def _accompaniment_for(
    request: AuthenticatedRequest, pk: int, *, what: str
) -> tuple[Accompaniment, FileAccess]:
    """The accompaniment, 404 outside the user's reach, 403 if not on its team."""
    accompaniment = get_object_or_404(Accompaniment.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(
        request, accompaniment.person_id, what=what, level="basics"
    )
    if not file_rules.can_act_on_accompaniment(access, accompaniment):
        raise PermissionDenied
    accompaniment = Accompaniment.objects.get(pk=pk)
    accompaniment.person = person
    return accompaniment, access


@login_required
@require_GET
def worklist(request: AuthenticatedRequest) -> HttpResponse:
    """ "Mes personnes": the persons whose team the user is on, with alerts."""
    if not request.current_membership and is_accompanied_person(request.user):
        raise Http404  # a person's account: their space is /mon-espace/
    today = timezone.localdate()
    sort = request.GET.get("tri", "nom")
    if sort not in WORKLIST_SORTS:
        sort = "nom"
    form = WorklistFilterForm(request.GET)
    filters = form.filters()
    rows = with_plan_alerts(
        TeamMember.objects.current()
        .filter(user=request.user, person__archived_until__isnull=True)
        .filter(
            Q(accompaniment__state__in=OPEN_STATES)
            | Q(  # ended, the situation at 6 months is expected
                accompaniment__state=State.ENDED,
                accompaniment__followup_due_on__lte=today,
                accompaniment__followup_recorded_on__isnull=True,
            )
        )
        .select_related("person", "person__commune", "accompaniment", "organisation")
        .order_by(*WORKLIST_SORTS[sort]),
        today,
    )
    rows = filter_rows(rows, filters, today)
    page = window_page(rows, request.GET.get("page"), WORKLIST_PAGE_SIZE)
    items = []
    shown: list[TeamMember] = page.object_list  # type: ignore[assignment]
    for row in shown:
        person, accompaniment = row.person, row.accompaniment
        if accompaniment.followup_expected(today):
            items.append({"row": row, "alerts": ["Situation à 6 mois à renseigner"]})
            continue
        alerts = []
        if no_contact_for_long(person.last_contact_on, accompaniment.created_at, today):
            alerts.append("Aucun contact depuis 30 jours")
        if accompaniment.planned_end_on and accompaniment.planned_end_on - today <= END_ALERTS[0]:
            alerts.append(f"Fin prévue le {accompaniment.planned_end_on:%d/%m/%Y}")
        if not row.has_diagnostic:  # type: ignore[attr-defined]
            alerts.append("Pas encore de diagnostic")
        if row.overdue_actions:  # type: ignore[attr-defined]
            count = row.overdue_actions  # type: ignore[attr-defined]
            alerts.append(f"{count} action{'s' if count > 1 else ''} en retard")
        items.append({"row": row, "alerts": alerts})
    record_list_read(
        request=request,
        person_ids=[row.person_id for row in page.object_list],
        what="Nom dans la liste « Mes personnes »",
    )
    return render(
        request,
        "support/worklist.html",
        {
            "title": "Mes personnes",
            "can_create_person": predicates.can_create_person_here(
                request.user, request.current_membership
            ),
            "works_with_persons": predicates.works_with_named_persons(
                request.user, request.current_membership
            ),
            "page": page,
            "items": items,
            "form": form,
            "filtered": bool(filters or form.errors),
            "sort": sort,
            "sort_options": [("nom", "nom"), ("fin", "fin prévue"), ("contact", "dernier contact")],
        },
    )


def _reached_to_join(request: AuthenticatedRequest, pk: int) -> tuple[Person, bool]:
    """The person whose team the user wants to join, and whether they are on one of its
    teams already. Reached only from one of its teams or from the identity search of the
    last half hour (NIR, or names and birth date): a typed id alone is a 404."""
    person = get_object_or_404(
        file_rules.findable_persons(Person.objects.all(), request.user).select_related("commune"),
        pk=pk,
    )
    membership = request.current_membership
    if not membership or membership.organisation.department_id != person.department_id:
        raise Http404
    on_team = file_rules.is_on_a_team_of(request.user, person)
    if not on_team and not matched_recently(request, person.pk):
        raise Http404
    return person, on_team


@login_required
@require_http_methods(["GET", "POST"])
def join(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Join an accompaniment's team: at once for a member of another of the person's teams,
    else a request that the team grants (referent first, any member after 48 hours)."""
    person, on_team = _reached_to_join(request, pk)
    membership = request.current_membership
    assert membership is not None
    mine = set(
        TeamMember.objects.current()
        .filter(user=request.user, person=person)
        .values_list("accompaniment_id", flat=True)
    )
    accompaniments = [
        a for a in Accompaniment.objects.filter(person=person).open() if a.pk not in mine
    ]
    if mine and not accompaniments:
        return redirect("people:detail", person.pk)
    pending = JoinRequest.objects.pending().filter(user=request.user, person=person)
    if not on_team and pending.exists():
        messages.info(request, "Votre demande pour rejoindre cette équipe attend sa réponse.")
        return redirect("support:join_requests")
    record_read_when_shown(
        request=request,
        obj=person,
        person_id=person.pk,
        what="Identité minimale : pour rejoindre l'équipe",
    )
    form = JoinForm(
        request.POST or None,
        accompaniments=accompaniments,
        initial={"accompaniment": request.GET.get("accompagnement")},
    )
    if request.method == "POST" and form.is_valid():
        accompaniment = next(
            a for a in accompaniments if a.pk == form.cleaned_data["accompaniment"]
        )
        try:
            if on_team:
                actions.join_team(
                    accompaniment=accompaniment,
                    user=request.user,
                    organisation=membership.organisation,
                    role=predicates.default_team_role(membership.function),
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    request=request,
                )
            else:
                actions.request_to_join(
                    accompaniment=accompaniment,
                    user=request.user,
                    organisation=membership.organisation,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if on_team:
                messages.success(request, f"Vous faites partie de l'équipe de {person.full_name}.")
                return redirect("people:detail", person.pk)
            messages.success(
                request,
                "Votre demande est envoyée à l'équipe : le dossier vous sera ouvert quand elle "
                "l'aura acceptée.",
            )
            return redirect("support:join_requests")
    return render(
        request,
        "support/join.html",
        {
            "title": f"Rejoindre l'équipe de {person.full_name}",
            "person": person,
            "form": form,
            "accompaniments": accompaniments,
            "already_on_team": bool(mine),
            "someone_on_team": TeamMember.objects.current().filter(person=person).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, on_team = _reached_to_join(request, pk)
    membership = request.current_membership
    assert membership is not None
    record_read_when_shown(
        request=request, obj=person, person_id=person.pk, what="Ouverture d'un accompagnement"
    )
    form = OpenAccompanimentForm(request.POST or None, function=membership.function)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not on_team and TeamMember.objects.current().filter(person=person).exists():
            # Opening an accompaniment would open the file: its team decides who joins.
            form.add_error(
                None,
                "Cette personne est déjà accompagnée : demandez à rejoindre l'équipe de son "
                "accompagnement, qui vous ouvrira le dossier.",
            )
        elif not on_team and not data["reason"].strip():
            form.add_error(
                "reason", "Indiquez pourquoi vous ouvrez un accompagnement pour cette personne."
            )
        else:
            try:
                actions.open_accompaniment(
                    person=person,
                    kind=data["kind"],
                    started_on=data["started_on"],
                    planned_end_on=data.get("planned_end_on"),
                    by=request.user,
                    organisation=membership.organisation,
                    role=data["role"],
                    join_reason=data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "L'accompagnement est ouvert (proposé).")
                return redirect("people:detail", person.pk)
    return form_page(request, person, form, title="Ouvrir un accompagnement")


@login_required
@require_GET
def join_requests(request: AuthenticatedRequest) -> HttpResponse:
    """Requests to join a team: those the user's teams are asked to answer, the invitations
    the user received, and the user's own requests."""
    if not predicates.works_with_named_persons(request.user, request.current_membership):
        raise Http404
    my_accompaniments = (
        TeamMember.objects.current().filter(user=request.user).values("accompaniment_id")
    )
    related = ("person", "user", "organisation", "accompaniment", "invited_by", "decided_by")
    to_answer = list(
        JoinRequest.objects.pending()
        .filter(accompaniment_id__in=my_accompaniments, invited_by__isnull=True)
        .select_related(*related)
        .order_by("created_at", "id")[:100]
    )
    invitations = list(
        JoinRequest.objects.pending()
        .filter(user=request.user, invited_by__isnull=False)
        .select_related(*related)
        .order_by("created_at", "id")[:100]
    )
    mine = list(
        JoinRequest.objects.filter(user=request.user, invited_by__isnull=True)
        .select_related(*related)
        .order_by("-created_at", "-id")[:20]
    )
    now = timezone.now()
    for join_request in to_answer:
        join_request.can_answer = file_rules.can_decide_join_request(  # type: ignore[attr-defined]
            request.user, join_request, now=now
        )
    # The page names persons: one read line for the page view, like the other lists (the
    # invitee is not on the team yet: the name of the person is a read of her file too).
    record_list_read(
        request=request,
        person_ids=[join_request.person_id for join_request in to_answer + invitations],
        what="Liste : demandes pour rejoindre une équipe",
    )
    return render(
        request,
        "support/join_requests.html",
        {
            "title": "Demandes pour rejoindre une équipe",
            "to_answer": to_answer,
            "invitations": invitations,
            "mine": mine,
            "decline_form": JoinDecisionForm(),
        },
    )


@login_required
@require_POST
def join_request_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Accept or refuse a request (the team), an invitation (the invitee), or withdraw one's
    own request. A request the user has nothing to do with is a 404."""
    join_request = get_object_or_404(
        JoinRequest.objects.filter(
            Q(user=request.user)
            | Q(
                accompaniment_id__in=TeamMember.objects.current()
                .filter(user=request.user)
                .values("accompaniment_id")
            )
        ),
        pk=pk,
    )
    form = JoinDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez d'accepter ou de refuser.")
        return redirect("support:join_requests")
    decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
    try:
        if decision == "accept":
            actions.accept_join_request(join_request=join_request, by=request.user, request=request)
        else:
            actions.decline_join_request(
                join_request=join_request, by=request.user, reason=reason, request=request
            )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            "Le professionnel fait maintenant partie de l'équipe."
            if decision == "accept"
            else "Votre réponse est enregistrée.",
        )
    return redirect("support:join_requests")


@login_required
@require_http_methods(["GET", "POST"])
def team_invite(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A team member invites a professional of the département to join the team."""
    accompaniment, _ = _accompaniment_for(request, pk, what="Invitation dans l'équipe")
    person = accompaniment.person
    form = InviteToTeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        membership = (
            Membership.objects.active()
            .filter(
                user__email__iexact=email,
                organisation__department_id=person.department_id,
                organisation__is_active=True,
            )
            .exclude(organisation__kind__in=predicates.NOT_ACCOMPANYING)
            .select_related("user", "organisation")
            .order_by("id")
            .first()
        )
        if membership is None:
            form.add_error(
                "email",
                "Aucun professionnel d'une organisation du département n'a cette adresse dans "
                "Binôme.",
            )
        else:
            try:
                actions.invite_to_team(
                    accompaniment=accompaniment,
                    invitee=membership.user,
                    organisation=membership.organisation,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"{membership.user.get_full_name()} est invité(e) : le dossier lui sera "
                    "ouvert quand l'invitation sera acceptée.",
                )
                return redirect("people:detail", person.pk)
    return form_page(
        request,
        person,
        form,
        title="Inviter un professionnel dans l'équipe",
        intro="La personne invitée accepte ou refuse l'invitation ; son arrivée et son motif "
        "sont enregistrés, et la personne accompagnée les verra.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_transition(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    accompaniment, access = _accompaniment_for(
        request, pk, what="Accompagnement : changement d'état"
    )
    allowed = frozenset(accompaniment.allowed_transitions() - {"ended"})
    form = TransitionForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_state(
                accompaniment=accompaniment,
                to_state=form.cleaned_data["to_state"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "L'état de l'accompagnement est modifié.")
            return redirect("people:detail", accompaniment.person_id)
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Changer l'état de l'accompagnement",
        intro=f"{accompaniment.get_kind_display()} — {accompaniment.get_state_display().lower()}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The decision taken with the person after the validated shared diagnostic: activate
    the global accompaniment, or close it and orient the person (the diagnostic's
    « accompagnement préconisé » proposes the answer)."""
    accompaniment, access = _accompaniment_for(
        request, pk, what="Accompagnement : décision après le diagnostic"
    )
    if accompaniment.kind != Kind.GLOBAL or accompaniment.state != State.PROPOSED:
        messages.info(request, "Cet accompagnement n'attend pas de décision.")
        return redirect("people:detail", accompaniment.person_id)
    diagnostic = actions.validated_diagnostic(accompaniment)
    if diagnostic is None:
        messages.error(
            request,
            "La décision se prend après le diagnostic partagé : il doit d'abord être validé "
            "par le conseiller France Travail et par le travailleur social du binôme.",
        )
        return redirect("people:detail", accompaniment.person_id)
    form = DecisionForm(request.POST or None, recommended_kind=diagnostic.recommended_kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pertinent = data["decision"] != NOT_PERTINENT
        try:
            decided = actions.decide_after_diagnostic(
                accompaniment=accompaniment,
                pertinent=pertinent,
                orientation="" if pertinent else data["orientation"],
                reason=data["reason"],
                decided_on=data["decided_on"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if pertinent:
                messages.success(
                    request,
                    "L'accompagnement global est activé : fin prévue le "
                    f"{decided.planned_end_on:%d/%m/%Y}.",
                )
                return redirect("people:detail", accompaniment.person_id)
            messages.success(
                request,
                "L'accompagnement global est clos (non pertinent après diagnostic) ; aucune "
                "situation à 6 mois ne sera demandée. Vous pouvez maintenant orienter la "
                "personne.",
            )
            url = reverse("referrals:create", args=[accompaniment.person_id])
            if data["orientation"] == ExitOrientation.SOCIAL:
                url += "?kind=social"
            return redirect(url)
    recommended = diagnostic.get_recommended_kind_display().lower() or "à décider"
    intro = (
        "Décidez avec la personne, après le diagnostic partagé validé du "
        f"{diagnostic.made_on:%d/%m/%Y} (accompagnement préconisé : {recommended}). "
        "Pertinent : l'accompagnement global est activé pour 12 mois à partir de la date de "
        "la décision. Non pertinent : il est clos et la personne est orientée vers "
        "l'accompagnement qui lui convient."
    )
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Décider de l'accompagnement global",
        intro=intro,
    )


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_extend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    accompaniment, access = _accompaniment_for(request, pk, what="Accompagnement : prolongation")
    form = ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.extend_accompaniment(
                accompaniment=accompaniment,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "L'accompagnement est prolongé.")
            return redirect("people:detail", accompaniment.person_id)
    end = accompaniment.planned_end_on
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Prolonger l'accompagnement",
        intro=f"Fin prévue actuelle : {end:%d/%m/%Y}" if end else "",
    )


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_exit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    accompaniment, access = _accompaniment_for(request, pk, what="Accompagnement : sortie")
    form = ExitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.end_accompaniment(
                accompaniment=accompaniment,
                ended_on=data["ended_on"],
                reason=data["reason"],
                situation=data["situation"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La sortie est enregistrée.")
            return redirect("people:detail", accompaniment.person_id)
    return form_page(request, accompaniment.person, form, title="Enregistrer la sortie")


@login_required
@require_http_methods(["GET", "POST"])
def accompaniment_followup(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The situation 6 months after the exit, recorded by the team of the ended accompaniment."""
    accompaniment, access = _accompaniment_for(
        request, pk, what="Accompagnement : situation à 6 mois"
    )
    if accompaniment.state != State.ENDED or accompaniment.followup_recorded_on is not None:
        messages.info(request, "Il n'y a pas de situation à 6 mois à renseigner.")
        return redirect("people:detail", accompaniment.person_id)
    form = FollowupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_followup(
                accompaniment=accompaniment,
                outcome=form.cleaned_data["outcome"],
                situation=form.cleaned_data["situation"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "La situation à 6 mois est enregistrée.")
            return redirect("people:detail", accompaniment.person_id)
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Situation 6 mois après la sortie",
        intro=(
            f"Sortie le {accompaniment.ended_on:%d/%m/%Y} : "
            f"{accompaniment.get_exit_reason_display()}. Le Fonds social européen demande la "
            "situation de la personne six mois après sa sortie."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_referent(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The team designates its referent among its current members, with a reason."""
    accompaniment, _ = _accompaniment_for(request, pk, what="Équipe : référent")
    form = ReferentForm(request.POST or None, accompaniment=accompaniment)
    if request.method == "POST" and form.is_valid():
        try:
            actions.designate_referent(
                accompaniment=accompaniment,
                member=form.cleaned_data["member"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Le ou la référente de l'accompagnement est changé(e).")
            return redirect("people:detail", accompaniment.person_id)
    current = accompaniment.referent
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Changer de référent ou référente",
        intro=(
            f"{accompaniment.get_kind_display()} — référent(e) actuel(le) : "
            + (current.user.get_full_name() if current is not None else "aucun(e)")
            + ". Le nouveau ou la nouvelle référente est prévenu(e)."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_role(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The team changes a member's role, within the member's declared function."""
    accompaniment, _ = _accompaniment_for(request, pk, what="Équipe : rôles")
    form = TeamRoleForm(request.POST or None, accompaniment=accompaniment)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_team_role(
                member=form.cleaned_data["member"],
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Le rôle est changé.")
            return redirect("people:detail", accompaniment.person_id)
    return form_page(
        request,
        accompaniment.person,
        form,
        title="Changer le rôle d'un membre de l'équipe",
        intro=f"{accompaniment.get_kind_display()} : sans quitter ni rejoindre l'équipe.",
    )


@login_required
@require_POST
def team_leave(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    accompaniment, _ = _accompaniment_for(request, pk, what="")
    member = accompaniment.team.current().filter(user=request.user).first()
    if member is None:
        raise PermissionDenied
    try:
        actions.leave_team(
            member=member, by=request.user, reason=request.POST.get("reason", ""), request=request
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("people:detail", accompaniment.person_id)
    messages.success(request, "Vous avez quitté l'équipe de cet accompagnement.")
    return redirect("support:worklist")


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def note_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="Dossier : nouvelle note")
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accompaniment = (
            Accompaniment.objects.filter(pk__in=sorted(access.accompaniment_ids))
            .open()
            .order_by("-started_on")
            .first()
        )
        actions.write_note(
            person=person,
            author=request.user,
            organisation=access.acting_organisation(request.current_membership),
            accompaniment=accompaniment,
            request=request,
            **data,
        )
        messages.success(request, "La note est enregistrée.")
        return redirect("people:detail", person.pk)
    return form_page(request, person, form, title="Nouvelle note d'entretien")


@login_required
@require_GET
def note_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(Note.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(request, note.person_id, what="", record=False)
    note = get_object_or_404(
        Note.objects.filter(person=person)
        .visible_to(access)
        .select_related("author", "organisation"),
        pk=pk,
    )
    record_read(request=request, obj=note, person_id=person.pk, what=str(note))
    return render(
        request,
        "support/note.html",
        {"title": f"{note} — {person.full_name}", "person": person, "note": note},
    )


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def appointment_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="Dossier : nouveau rendez-vous")
    form = AppointmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accompaniment = (
            Accompaniment.objects.filter(pk__in=sorted(access.accompaniment_ids))
            .open()
            .order_by("-started_on")
            .first()
        )
        actions.record_appointment(
            person=person,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            accompaniment=accompaniment,
            request=request,
            **form.cleaned_data,
        )
        messages.success(request, "Le rendez-vous est enregistré.")
        return redirect("people:detail", person.pk)
    return form_page(request, person, form, title="Nouveau rendez-vous")


@login_required
@require_POST
def appointment_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment, pk=pk)
    person, access = file_rules.get_file_for_user(request, appointment.person_id, what="")
    status = request.POST.get("status", "")
    if status not in AppointmentStatus.values:
        messages.error(request, "Choisissez un statut de rendez-vous dans la liste.")
    else:
        actions.set_appointment_status(
            appointment=appointment,
            status=status,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
        )
        messages.success(request, "Le statut du rendez-vous est modifié.")
    return redirect("people:detail", person.pk)
