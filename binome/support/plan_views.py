"""Pages of the shared diagnostic and of the plan. Thin: parse, call one action, render.

Every page that shows something of a person's file writes its read to the audit log
(``get_file_for_user``, or ``record_read_when_shown`` once the item is known), on a GET and
when a POST shows the page again (a form with its errors).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.audit import record_read_when_shown
from binome.accounts.models import User
from binome.core.typing import AuthenticatedRequest
from binome.directory.models import PublicationStatus, Service
from binome.people.models import Person
from binome.support import access as file_rules
from binome.support import actions, referential
from binome.support import diagnostic as diagnostics
from binome.support import plan as plans
from binome.support.access import FileAccess
from binome.support.actions.diagnostic import missing_themes
from binome.support.models import (
    Accompaniment,
    Action,
    DepartmentSituation,
    Diagnostic,
    DiagnosticComment,
    DiagnosticTheme,
    DiagnosticValidation,
    Objective,
    TeamMember,
)
from binome.support.plan_forms import (
    ActionForm,
    CommentForm,
    DepartmentSituationForm,
    DiagnosticForm,
    ObjectiveEditForm,
    ObjectiveForm,
)
from binome.territories.models import Department


def add_errors(form: Any, exc: ValidationError) -> None:
    """An action's refusal on the form: on the field it names when the form has it
    (``carried_by`` is the form's ``carrier``), else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = FIELD_ALIASES.get(name, name)
        form.add_error(name if name in form.fields else None, errors)


FIELD_ALIASES = {"carried_by": "carrier"}
HEALTH_HIDDEN_MESSAGE = (
    "Les situations de santé sont réservées au travailleur social et au référent de "
    "l'équipe ; le niveau du frein reste visible pour construire le plan."
)


def _is_htmx(request: AuthenticatedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _file_url(person_id: int, anchor: str = "plan") -> str:
    return reverse("people:detail", args=[person_id]) + f"#{anchor}"


def _accompaniments(person: Person) -> list[Accompaniment]:
    return list(Accompaniment.objects.filter(person=person).order_by("-started_on", "-id"))


def _team_choices(
    person: Person, *, accompaniment: Accompaniment | None = None
) -> list[tuple[int, str]]:
    """The current team's professionals (of one accompaniment, or of the whole file)."""
    members = TeamMember.objects.current().filter(person=person).select_related("user")
    if accompaniment is not None:
        members = members.filter(accompaniment=accompaniment)
    seen: dict[int, str] = {}
    for member in members.order_by("user__last_name", "user__first_name"):
        seen.setdefault(member.user_id, member.user.get_full_name())
    return list(seen.items())


def _editable_plan(
    request: AuthenticatedRequest, person: Person, access: FileAccess
) -> Accompaniment:
    """The accompaniment whose plan the user may change, or 403."""
    accompaniment = plans.plan_accompaniment(_accompaniments(person), access)
    if (
        accompaniment is None
        or not accompaniment.is_open
        or not file_rules.can_act_on_accompaniment(access, accompaniment)
    ):
        raise PermissionDenied
    accompaniment.person = person
    return accompaniment


def plan_page(
    request: AuthenticatedRequest,
    person: Person,
    form: Any,
    *,
    title: str,
    intro: str = "",
    stale: plans.StaleEdit | None = None,
    anchor: str = "plan",
) -> HttpResponse:
    return render(
        request,
        "support/plan_form.html",
        {
            "title": title,
            "person": person,
            "form": form,
            "intro": intro,
            "stale": stale,
            "cancel_url": _file_url(person.pk, anchor),
        },
    )


# --- The diagnostic ----------------------------------------------------------------


def _diagnostic_form_page(
    request: AuthenticatedRequest,
    person: Person,
    access: FileAccess,
    *,
    draft: Diagnostic | None,
) -> HttpResponse:
    """The diagnostic's form: a new draft (a re-evaluation starts from the latest validated
    diagnostic), or the ``draft`` completed. « Enregistrer et valider » records it and gives
    the author's validation at once (refused while a theme is left)."""
    previous = draft if draft is not None else diagnostics.latest_diagnostic(person, access)
    co_authors = [(uid, name) for uid, name in _team_choices(person) if uid != request.user.pk]
    form = DiagnosticForm(
        request.POST or None,
        department_id=person.department_id,
        co_authors=co_authors,
        previous=previous,
        draft=draft is not None,
        health_details_hidden=not file_rules.can_view_health_details(access),
    )
    validate = request.POST.get("action") == "validate"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        content: dict[str, Any] = {
            name: data[name]
            for name in (
                "made_on",
                "project",
                "qualification",
                "availability",
                "mobility_radius_km",
                "recommended_kind",
                "recommendation_reason",
            )
        }
        content["co_author"] = User.objects.get(pk=data["co_author"]) if data["co_author"] else None
        organisation = access.acting_organisation(request.current_membership)
        try:
            if draft is None:
                saved = actions.record_diagnostic(
                    person=person,
                    by=request.user,
                    organisation=organisation,
                    answers=form.answers(),
                    accompaniment=plans.plan_accompaniment(_accompaniments(person), access),
                    validate=validate,
                    request=request,
                    **content,
                )
            else:
                saved = actions.update_diagnostic(
                    diagnostic=draft,
                    by=request.user,
                    organisation=organisation,
                    answers=form.answers(),
                    validate=validate,
                    request=request,
                    **content,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if saved.is_draft and validate:
                messages.success(
                    request,
                    "Votre validation est enregistrée : le diagnostic attend celle de l'autre "
                    "professionnel du binôme.",
                )
            elif saved.is_draft:
                messages.success(
                    request,
                    "Le brouillon est enregistré : il compte quand les deux professionnels du "
                    "binôme l'ont validé.",
                )
            else:
                messages.success(request, "Le diagnostic partagé est validé.")
            return redirect("support:diagnostic_detail", saved.pk)
    if draft is not None:
        title = f"Compléter le brouillon du {draft.made_on:%d/%m/%Y}"
    else:
        title = "Réévaluer le diagnostic partagé" if previous else "Diagnostic partagé"
    return render(
        request,
        "support/diagnostic_form.html",
        {
            "title": title,
            "person": person,
            "form": form,
            "previous": previous,
            "draft": draft,
            "health_hidden_message": HEALTH_HIDDEN_MESSAGE,
        },
    )


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def diagnostic_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A new draft diagnostic (or a re-evaluation, pre-filled from the latest validated
    one); while a draft waits for its validations, the form completes that one."""
    person, access = file_rules.get_file_for_user(
        request, pk, what="Diagnostic partagé : formulaire"
    )
    _check_on_team(access)
    draft = Diagnostic.objects.drafts().filter(person=person).visible_to(access).first()
    if draft is not None:
        return redirect("support:diagnostic_edit", draft.pk)
    return _diagnostic_form_page(request, person, access, draft=None)


def _check_on_team(access: FileAccess) -> None:
    """Only the person's team writes the diagnostic (403 for another reader of the file)."""
    if not access.accompaniment_ids:
        raise PermissionDenied


def _draft_for(
    request: AuthenticatedRequest, pk: int, *, what: str
) -> tuple[Diagnostic, FileAccess]:
    """A draft diagnostic the user sees (404 otherwise), the user on the person's team."""
    found = get_object_or_404(Diagnostic.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(request, found.person_id, what=what)
    diagnostic = get_object_or_404(
        Diagnostic.objects.filter(person=person).visible_to(access), pk=pk
    )
    _check_on_team(access)
    diagnostic.person = person
    return diagnostic, access


@login_required
@require_http_methods(["GET", "POST"])
def diagnostic_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Complete or correct a draft (a validated diagnostic is shown, not changed)."""
    diagnostic, access = _draft_for(request, pk, what="Diagnostic partagé : brouillon")
    if not diagnostic.is_draft:
        messages.info(request, "Ce diagnostic est validé : faites une réévaluation.")
        return redirect("support:diagnostic_detail", diagnostic.pk)
    diagnostic = (
        Diagnostic.objects.prefetch_related("answers").select_related("co_author").get(pk=pk)
    )
    return _diagnostic_form_page(request, diagnostic.person, access, draft=diagnostic)


@login_required
@require_POST
def diagnostic_validate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One professional of the binôme validates the draft."""
    diagnostic, _ = _draft_for(request, pk, what="")
    try:
        validated = actions.validate_diagnostic(
            diagnostic=diagnostic, by=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Le diagnostic partagé est validé par les deux professionnels du binôme."
            if not validated.is_draft
            else "Votre validation est enregistrée : le diagnostic attend celle de l'autre "
            "professionnel du binôme.",
        )
    return redirect("support:diagnostic_detail", diagnostic.pk)


@login_required
@require_POST
def diagnostic_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The team deletes a draft."""
    diagnostic, access = _draft_for(request, pk, what="")
    try:
        actions.delete_diagnostic(
            diagnostic=diagnostic,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("support:diagnostic_detail", diagnostic.pk)
    messages.success(request, "Le brouillon du diagnostic est supprimé.")
    return redirect(_file_url(diagnostic.person_id, "diagnostic"))


@login_required
@require_http_methods(["GET", "POST"])
def diagnostic_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One diagnostic, with the comments the user may read; a team member adds one."""
    found = get_object_or_404(Diagnostic.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(request, found.person_id, what="", record=False)
    diagnostic = get_object_or_404(
        Diagnostic.objects.filter(person=person)
        .visible_to(access)
        .select_related("recorded_by", "organisation", "co_author", "co_author_organisation")
        .prefetch_related(
            Prefetch(
                "validations",
                queryset=DiagnosticValidation.objects.select_related("user", "organisation"),
            ),
            Prefetch(
                "answers",
                queryset=DiagnosticTheme.objects.order_by("id").prefetch_related(
                    Prefetch(
                        "comments",
                        queryset=DiagnosticComment.objects.visible_to(access)
                        .select_related("author", "organisation")
                        .order_by("created_at", "id"),
                    )
                ),
            ),
        ),
        pk=pk,
    )
    record_read_when_shown(
        request=request, obj=diagnostic, person_id=person.pk, what=str(diagnostic)
    )
    answers = list(diagnostic.answers.all())
    health_details = file_rules.can_view_health_details(access)
    posted_to = request.POST.get("answer") if request.method == "POST" else None
    rows = []
    for answer in answers:
        bound = posted_to == str(answer.pk)
        form = CommentForm(
            request.POST if bound else None, theme_code=answer.theme, prefix=f"c{answer.pk}"
        )
        if bound and form.is_valid():
            try:
                actions.comment_theme(
                    answer=answer,
                    by=request.user,
                    organisation=access.acting_organisation(request.current_membership),
                    text=form.cleaned_data["text"],
                    visibility=form.cleaned_data["visibility"],
                    request=request,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Le commentaire est enregistré.")
                return redirect(
                    reverse("support:diagnostic_detail", args=[diagnostic.pk])
                    + f"#theme-{answer.theme}"
                )
        theme = referential.theme(answer.theme)
        rows.append(
            {
                "answer": answer,
                "theme": theme,
                "form": form,
                "situations_hidden": theme.sensitive and not health_details,
            }
        )
    if request.method == "POST" and posted_to not in {str(a.pk) for a in answers}:
        messages.error(request, "Ce thème n'appartient pas à ce diagnostic.")
        return redirect("support:diagnostic_detail", diagnostic.pk)
    return render(
        request,
        "support/diagnostic_detail.html",
        {
            "title": f"{diagnostic} — {person.full_name}",
            "person": person,
            "diagnostic": diagnostic,
            "rows": rows,
            "health_hidden_message": HEALTH_HIDDEN_MESSAGE,
            "on_team": bool(access.accompaniment_ids),
            "missing": missing_themes({a.theme: a.level for a in answers})
            if diagnostic.is_draft
            else [],
        },
    )


@login_required
@file_rules.follow_merged_file
@require_GET
def diagnostic_history(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The diagnostics over time, and per theme the level at each: the barriers lifted."""
    person, access = file_rules.get_file_for_user(
        request, pk, what="Diagnostic partagé : historique et freins levés"
    )
    diagnostics_list = list(
        Diagnostic.objects.validated()
        .filter(person=person)
        .visible_to(access)
        .select_related("recorded_by", "co_author")
        .prefetch_related("answers")
        .order_by("made_on", "id")
    )
    rows = diagnostics.barriers_over_time(diagnostics_list)
    return render(
        request,
        "support/diagnostic_history.html",
        {
            "title": f"Diagnostics et freins levés — {person.full_name}",
            "person": person,
            "diagnostics": diagnostics_list,
            "rows": rows,
            "lifted": [row for row in rows if row.lifted],
        },
    )


# --- Objectives and actions --------------------------------------------------------


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def objective_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="Plan : nouvel objectif")
    accompaniment = _editable_plan(request, person, access)
    theme = request.GET.get("theme", "")
    initial = {"theme": theme} if theme in referential.referential().themes else {}
    form = ObjectiveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            objective = plans.add_objective(
                accompaniment=accompaniment,
                theme=form.cleaned_data["theme"],
                label=form.cleaned_data["label"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"L'objectif « {objective.label} » est ajouté au plan.")
            return redirect(_file_url(person.pk, f"theme-{objective.theme}"))
    return plan_page(request, person, form, title="Ajouter un objectif au plan")


def _objective_for(
    request: AuthenticatedRequest, pk: int, *, what: str
) -> tuple[Objective, Person, FileAccess]:
    """The objective, 404 outside the user's view of the file, 403 if not on its team."""
    found = get_object_or_404(Objective.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(request, found.person_id, what="", record=False)
    objective = get_object_or_404(
        Objective.objects.filter(person=person).visible_to(access).select_related("accompaniment"),
        pk=pk,
    )
    if not file_rules.can_act_on_accompaniment(access, objective.accompaniment):
        raise PermissionDenied
    objective.accompaniment.person = person
    record_read_when_shown(request=request, obj=objective, person_id=person.pk, what=what)
    return objective, person, access


def _rebind_on_stale(
    form_class: Any, request: AuthenticatedRequest, version: int, **kw: Any
) -> Any:
    """The user's input again, on the current version: a second save applies it."""
    data = request.POST.copy()
    data["version"] = str(version)
    form = form_class(data, **kw)
    form.is_valid()
    return form


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    objective, person, access = _objective_for(request, pk, what="Plan : objectif")
    form = ObjectiveEditForm(
        request.POST or None,
        initial={
            "label": objective.label,
            "status": objective.status,
            "version": objective.version,
        },
    )
    stale = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plans.update_objective(
                objective=objective,
                version=data["version"],
                label=data["label"],
                status=data["status"],
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except plans.StaleEdit as exc:
            stale = exc
            form = _rebind_on_stale(ObjectiveEditForm, request, exc.current.version)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "L'objectif est modifié.")
            return redirect(_file_url(person.pk, f"theme-{objective.theme}"))
    return plan_page(
        request,
        person,
        form,
        title="Modifier l'objectif",
        intro=f"Thème : {objective.get_theme_display()}",
        stale=stale,
        anchor=f"theme-{objective.theme}",
    )


def _carrier(form: ActionForm) -> tuple[User | None, bool]:
    user_id, by_person = form.carrier_value()
    return (User.objects.get(pk=user_id) if user_id is not None else None), by_person


@login_required
@require_http_methods(["GET", "POST"])
def action_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    objective, person, access = _objective_for(request, pk, what="Plan : nouvelle action")
    team = _team_choices(person, accompaniment=objective.accompaniment)
    form = ActionForm(
        request.POST or None,
        team=team,
        creating=True,
        initial={"carrier": str(request.user.pk), "status": "planned"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        carried_by, by_person = _carrier(form)
        try:
            plans.add_action(
                objective=objective,
                label=data["label"],
                status=data["status"],
                due_on=data["due_on"],
                carried_by=carried_by,
                carried_by_person=by_person,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "L'action est ajoutée au plan.")
            return redirect(_file_url(person.pk, f"theme-{objective.theme}"))
    return plan_page(
        request,
        person,
        form,
        title="Ajouter une action",
        intro=f"Objectif : {objective.label}",
        anchor=f"theme-{objective.theme}",
    )


def _action_for(
    request: AuthenticatedRequest, pk: int, *, what: str
) -> tuple[Action, Person, FileAccess]:
    found = get_object_or_404(Action.objects.only("id", "person_id"), pk=pk)
    person, access = file_rules.get_file_for_user(request, found.person_id, what="", record=False)
    action = get_object_or_404(
        Action.objects.filter(person=person)
        .visible_to(access)
        .select_related("objective__accompaniment", "carried_by", "service"),
        pk=pk,
    )
    if not file_rules.can_act_on_accompaniment(access, action.objective.accompaniment):
        raise PermissionDenied
    action.objective.accompaniment.person = person
    if what:
        record_read_when_shown(request=request, obj=action, person_id=person.pk, what=what)
    return action, person, access


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action, person, access = _action_for(request, pk, what="Plan : action")
    team = _team_choices(person, accompaniment=action.objective.accompaniment)
    carrier = "person" if action.carried_by_person else str(action.carried_by_id or "")
    if action.carried_by_id and action.carried_by_id not in dict(team):
        team.append((action.carried_by_id, action.carried_by.get_full_name()))  # type: ignore[union-attr]
    form = ActionForm(
        request.POST or None,
        team=team,
        initial={
            "label": action.label,
            "status": action.status,
            "due_on": action.due_on,
            "carrier": carrier,
            "version": action.version,
        },
    )
    stale = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        carried_by, by_person = _carrier(form)
        try:
            plans.update_action(
                action=action,
                version=data["version"],
                label=data["label"],
                status=data["status"],
                due_on=data["due_on"],
                carried_by=carried_by,
                carried_by_person=by_person,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except plans.StaleEdit as exc:
            stale = exc
            form = _rebind_on_stale(ActionForm, request, exc.current.version, team=team)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "L'action est modifiée.")
            return redirect(_file_url(person.pk, f"theme-{action.objective.theme}"))
    intro = f"Objectif : {action.objective.label}"
    if action.service is not None:
        intro += f" — service de l'annuaire : {action.service.name}"
    return plan_page(
        request,
        person,
        form,
        title="Modifier l'action",
        intro=intro,
        stale=stale,
        anchor=f"theme-{action.objective.theme}",
    )


@login_required
@require_POST
def action_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One click on the file page: "Réalisée" (with the version the page showed)."""
    action, person, access = _action_for(request, pk, what="")
    status = request.POST.get("status", "")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        plans.set_action_status(
            action=action,
            version=version,
            status=status,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
        )
    except plans.StaleEdit as exc:
        changed = "; ".join(f"{name} : {saved}" for name, saved, _typed in exc.changes)
        messages.warning(
            request,
            f"L'action « {action.label} » a été modifiée pendant que vous la consultiez "
            f"({changed or 'sans changement visible'}) : rien n'a été écrasé. Vérifiez-la "
            "ci-dessous puis recommencez.",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"L'action « {action.label} » est mise à jour.")
    return redirect(_file_url(person.pk, f"theme-{action.objective.theme}"))


# --- Suggestions ---------------------------------------------------------------------


@login_required
@require_GET
def suggestions(request: AuthenticatedRequest, pk: int, theme: str) -> HttpResponse:
    """The services suggested for a barrier (an htmx fragment, or a page without script)."""
    if theme not in referential.referential().themes:
        raise Http404
    person, access = file_rules.get_file_for_user(
        request,
        pk,
        what=f"Plan : services suggérés ({referential.theme_label(theme)})",
    )
    accompaniment = _editable_plan(request, person, access)
    previous = diagnostics.latest_diagnostic(person, access)
    found = plans.suggest_services(
        person, theme, radius_km=previous.mobility_radius_km if previous else None
    )
    objectives = list(
        Objective.objects.filter(accompaniment=accompaniment, theme=theme)
        .visible_to(access)
        .order_by("created_at", "id")
    )
    in_plan = set(
        Action.objects.filter(
            objective__accompaniment=accompaniment, service__isnull=False
        ).values_list("service_id", flat=True)
    )
    used = {o.label for o in objectives}
    context = {
        "title": f"Services suggérés — {found.theme.label}",
        "person": person,
        "suggestions": found,
        "objectives": objectives,
        "new_objectives": [label for label in found.theme.objectives if label not in used],
        "in_plan": in_plan,
    }
    context["standalone"] = not _is_htmx(request)
    template = "support/suggestions.html" if context["standalone"] else "support/_suggestions.html"
    return render(request, template, context)


@login_required
@require_POST
def plan_add_service(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """ "Ajouter au plan" on a suggestion: the service becomes an action (htmx: the plan
    section comes back; without script: back to the file)."""
    person, access = file_rules.get_file_for_user(request, pk, what="")
    accompaniment = _editable_plan(request, person, access)
    theme = request.POST.get("theme", "")
    target = request.POST.get("objective", "")
    service_id = request.POST.get("service", "")
    service = (
        Service.objects.filter(pk=int(service_id), status=PublicationStatus.PUBLISHED)
        .select_related("structure")
        .first()
        if service_id.isdigit()
        else None
    )
    message, level = "", "success"
    objective = None
    if theme not in referential.referential().themes or service is None:
        message, level = (
            "Ce service ou ce thème n'existe pas (la page n'était plus à jour).",
            "error",
        )
    elif target.startswith("objective:") and target[10:].isdigit():
        objective = (
            Objective.objects.filter(accompaniment=accompaniment)
            .visible_to(access)
            .filter(pk=int(target[10:]))
            .first()
        )
        if objective is None:
            message, level = "Cet objectif n'existe plus dans le plan.", "error"
    elif not target.startswith("new:") or target[4:] not in referential.theme(theme).objectives:
        message, level = "Choisissez l'objectif auquel rattacher le service.", "error"
    if not message:
        assert service is not None
        try:
            action = plans.add_suggested_service(
                accompaniment=accompaniment,
                theme=theme,
                service=service,
                objective=objective,
                objective_label=target[4:] if objective is None else "",
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            message, level = " ".join(exc.messages), "error"
        else:
            message = f"Ajouté au plan : {action.label}."
    if not _is_htmx(request):
        getattr(messages, level)(request, message)
        return redirect(_file_url(person.pk, f"theme-{theme}" if theme else "plan"))
    plan = plans.file_plan(person, access, _accompaniments(person))
    return render(
        request,
        "support/_plan.html",
        {"person": person, "plan": plan, "plan_message": message, "plan_message_level": level},
    )


# --- The situations a département adds ----------------------------------------------


def _department_for_admin(request: AuthenticatedRequest, code: str) -> Department:
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    return department


@login_required
@require_http_methods(["GET", "POST"])
def department_situations(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's administrators add situations of their own to the themes."""
    department = _department_for_admin(request, code)
    form = DepartmentSituationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            situation = actions.add_department_situation(
                department_id=department.code,
                theme=form.cleaned_data["theme"],
                label=form.cleaned_data["label"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                f"La situation « {situation.label} » est ajoutée au thème "
                f"« {situation.get_theme_display()} ».",
            )
            return redirect("support:department_situations", department.code)
    added = list(
        DepartmentSituation.objects.filter(department=department).order_by("theme", "label")
    )
    themes = [
        {"theme": theme, "added": [s for s in added if s.theme == theme.code]}
        for theme in referential.themes()
    ]
    return render(
        request,
        "support/department_situations.html",
        {
            "title": f"Situations du diagnostic — {department}",
            "department": department,
            "themes": themes,
            "form": form,
        },
    )


@login_required
@require_POST
def department_situation_remove(
    request: AuthenticatedRequest, code: str, situation_pk: int
) -> HttpResponse:
    department = _department_for_admin(request, code)
    situation = get_object_or_404(DepartmentSituation, pk=situation_pk, department=department)
    actions.remove_department_situation(situation=situation, by=request.user, request=request)
    messages.success(
        request,
        f"La situation « {situation.label} » n'est plus proposée (les diagnostics qui l'ont "
        "relevée la gardent).",
    )
    return redirect("support:department_situations", department.code)
