from __future__ import annotations

from copy import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.audit import record_read
from binome.core.documents import document_response, document_type
from binome.core.http import parse_id
from binome.core.pagination import window_page
from binome.core.queries import USER_NAME, select_related_only
from binome.core.typing import AuthenticatedRequest
from binome.directory.models import Structure
from binome.people.changes import StalePersonEdit, person_version
from binome.people.forms import ConsentForm, HouseholdMemberForm, PersonEditForm
from binome.people.matching import matching_candidates
from binome.people.models import Consent, HouseholdMember, Person
from binome.support import access as file_rules
from binome.support import actions
from binome.support.forms import PersonForm, team_role_choices
from binome.support.fse import statuses as fse_statuses
from binome.support.models import (
    Accompaniment,
    Appointment,
    Diagnostic,
    EventKind,
    Note,
    Objective,
    TimelineEvent,
)
from binome.support.plan import file_plan
from binome.support.space_views import pdf_response
from binome.support.views import form_page

TIMELINE_PAGE_SIZE = 20
ITEMS_SHOWN = 20
NOTE_EXCERPT = 300  # characters of each note on the file page


@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: AuthenticatedRequest) -> HttpResponse:
    """A new file; existing persons that may be the same are proposed first."""
    membership = request.current_membership
    if membership is None or not predicates.can_create_person_here(request.user, membership):
        raise Http404
    organisation = membership.organisation
    form = PersonForm(request.POST or None)
    # The roles offered follow the function the organisation declared for the member.
    form.fields["role"].choices = team_role_choices(membership.function)  # type: ignore[attr-defined]
    candidates: list[Person] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            candidates = matching_candidates(
                request, organisation, data, why="à la création d'un dossier"
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        if not form.errors and (not candidates or data.get("confirm_new")):
            person = actions.create_person(
                data=data,
                by=request.user,
                organisation=organisation,
                kind=data["kind"],
                role=data["role"],
                matches_ignored=[c.pk for c in candidates],
                request=request,
            )
            messages.success(request, f"Le dossier de {person.full_name} est créé.")
            return redirect("people:detail", person.pk)
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


FLAGGED_SECTIONS = (
    ("household", HouseholdMember),
    ("consents", Consent),
    ("notes", Note),
    ("appointments", Appointment),
    ("diagnostics", Diagnostic),
    ("objectives", Objective),
)


def section_flags() -> dict[str, RawSQL]:
    """Whether the person has rows in each of the file page's sections that most files
    leave empty, read with her row: an empty section costs no statement of its own (each
    statement is 1 to 3 ms of Python on this page, more than its SQL). The flags ignore
    the visibility of the rows; the section's own statement applies it. Written in SQL:
    six ``Exists`` of the ORM cost 2 ms of Python to build and compile, these nothing."""
    person = Person._meta.db_table
    return {
        f"has_{name}": RawSQL(  # noqa: S611 - no parameter, only our tables' names
            f'EXISTS (SELECT FROM "{model._meta.db_table}" "flag"'
            f' WHERE "flag"."person_id" = "{person}"."id")',
            (),
            output_field=BooleanField(),
        )
        for name, model in FLAGGED_SECTIONS
    }


@login_required
@file_rules.follow_merged_file
@require_GET
def person_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The shared file: what the user's role needs, nothing more; the read is logged."""
    person, access = file_rules.get_file_for_user(
        request,
        pk,
        what="Dossier : page de la personne",
        level="basics",
        annotations=section_flags(),
    )
    has = {name: getattr(person, f"has_{name}") for name, _ in FLAGGED_SECTIONS}
    # Newest first, with the FSE+ answers of a global one (a join, not a query each).
    accompaniments = list(Accompaniment.objects.filter(person=person).select_related("fse"))
    # The current team of each accompaniment: already loaded to compute the access.
    for accompaniment in accompaniments:
        accompaniment.current_team = [  # type: ignore[attr-defined]
            member for member in access.team if member.accompaniment_id == accompaniment.pk
        ]
        accompaniment.fse_stages = fse_statuses(  # type: ignore[attr-defined]
            accompaniment, getattr(accompaniment, "fse", None)
        )
    context = {
        "title": person.full_name,
        "person": person,
        "access": access,
        "accompaniments": accompaniments,
        "is_team": access.is_team,
    }
    if access.is_team:
        kind = request.GET.get("evenements", "")
        events = (
            TimelineEvent.objects.filter(person=person)
            .visible_to(access)
            .select_related("organisation")
            .only("at", "summary", "organisation__name")
            .order_by("-at", "-id")
        )
        if kind in EventKind.values:
            events = events.filter(kind=kind)
        can_view_nir = file_rules.can_view_nir(access)
        context.update(
            {
                "can_view_nir": can_view_nir,
                "nir": person.nir if can_view_nir else "",
                # Each section's statement only when the person's row says it has rows.
                "household": list(person.household.all()) if has["household"] else [],
                "consents": list(
                    select_related_only(
                        Consent.objects.filter(person=person),
                        organisation=["name"],
                        structure=["name"],
                        recorded_by=USER_NAME,
                    )
                )
                if has["consents"]
                else [],
                # The notes' beginning only (the page shows 300 characters of each).
                "notes": list(
                    select_related_only(
                        Note.objects.filter(person=person).visible_to(access),
                        author=USER_NAME,
                        organisation=["name"],
                    )
                    .defer("text")
                    .annotate(excerpt=Left("text", NOTE_EXCERPT + 1))
                    .order_by("-date", "-id")[:ITEMS_SHOWN]
                )
                if has["notes"]
                else [],
                "appointments": list(
                    Appointment.objects.filter(person=person).order_by("-at", "-id")[:ITEMS_SHOWN]
                )
                if has["appointments"]
                else [],
                "events": window_page(events, request.GET.get("page"), TIMELINE_PAGE_SIZE),
                "event_kind": kind,
                "event_kinds": EventKind.choices,
                "my_accompaniments": access.accompaniment_ids,
            }
        )
    if access.is_team:
        # The diagnostic's barriers and the plan: a constant number of queries.
        context["plan"] = file_plan(
            person,
            access,
            accompaniments,
            has_diagnostics=has["diagnostics"],
            has_objectives=has["objectives"],
        )
    return render(request, "people/detail.html", context)


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def household_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="Dossier : ajout au foyer")
    form = HouseholdMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.add_household_member(
            person=person,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
            **form.cleaned_data,
        )
        messages.success(request, "Le membre du foyer est ajouté.")
        return redirect("people:detail", person.pk)
    return form_page(request, person, form, title="Ajouter un membre du foyer")


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def person_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Correct the identity, contact details and identifiers (the team); the NIR only for
    who may see it. A save over someone else's meanwhile is refused, the input kept."""
    person, access = file_rules.get_file_for_user(
        request, pk, what="Dossier : correction de l'identité et des coordonnées"
    )
    with_nir = file_rules.can_view_nir(access)
    initial: dict[str, Any] = {
        "version": person_version(person),
        "commune": person.commune.insee_code if person.commune else "",
    }
    if with_nir:
        initial["nir"] = person.nir
    # The form works on a copy: the file itself changes only through the action.
    form = PersonEditForm(
        request.POST or None, instance=copy(person), initial=initial, with_nir=with_nir
    )
    stale: StalePersonEdit | None = None
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.update_person(
                person=person,
                data=form.cleaned_data,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
                version=form.cleaned_data.get("version") or "",
            )
        except StalePersonEdit as exc:
            stale = exc
            data = request.POST.copy()
            data["version"] = exc.version
            form = PersonEditForm(data, instance=copy(person), with_nir=with_nir)
            form.is_valid()
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if changed:
                messages.success(request, "Le dossier est corrigé.")
            else:
                messages.info(request, "Aucune modification : le dossier est inchangé.")
            return redirect("people:detail", person.pk)
    return render(
        request,
        "people/edit.html",
        {
            "title": "Corriger l'identité ou les coordonnées",
            "person": person,
            "form": form,
            "stale": stale,
        },
    )


def _add_errors(form: Any, exc: ValidationError) -> None:
    """An action's refusal on the field it names when the form has it, else above."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _household_member(person: Person, member_pk: int) -> HouseholdMember:
    return get_object_or_404(HouseholdMember, pk=member_pk, person=person)


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def household_edit(request: AuthenticatedRequest, pk: int, member_pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(
        request, pk, what="Dossier : correction d'un membre du foyer"
    )
    member = _household_member(person, member_pk)
    form = HouseholdMemberForm(
        request.POST or None,
        initial={
            "relation": member.relation,
            "first_name": member.first_name,
            "birth_date": member.birth_date,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = actions.update_household_member(
                member=member,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if changed:
                messages.success(request, "Le membre du foyer est corrigé.")
            else:
                messages.info(request, "Aucune modification : le membre du foyer est inchangé.")
            return redirect("people:detail", person.pk)
    return form_page(request, person, form, title="Corriger un membre du foyer")


@login_required
@require_POST
def household_remove(request: AuthenticatedRequest, pk: int, member_pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="")
    member = _household_member(person, member_pk)
    try:
        actions.remove_household_member(
            member=member,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"{member.first_name} est retiré(e) du foyer.")
    return redirect("people:detail", person.pk)


@login_required
@file_rules.follow_merged_file
@require_http_methods(["GET", "POST"])
def consent_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(
        request, pk, what="Dossier : recueil d'un consentement"
    )
    form = ConsentForm(
        request.POST or None,
        request.FILES or None,
        department_id=person.department_id,
        initial=_consent_initial(request),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_consent(
                person=person,
                scope=data["scope"],
                method=data["method"],
                given_on=data["given_on"],
                recipient=data.get("recipient"),
                structure=data.get("structure"),
                document=data.get("document"),
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Le consentement est enregistré.")
            return redirect("people:detail", person.pk)
    structure = parse_id(form.initial.get("structure") or form.data.get("structure"))
    intro = ""
    if structure is not None:
        named = Structure.objects.filter(pk=structure).values_list("name", flat=True).first()
        if named:
            intro = f"Consentement à l'orientation vers la structure « {named} » de l'annuaire."
    return form_page(
        request,
        person,
        form,
        title="Enregistrer un consentement",
        multipart=True,
        intro=intro,
    )


def _consent_initial(request: AuthenticatedRequest) -> dict[str, Any]:
    """The referral page links here with the recipient it needs a consent for."""
    initial: dict[str, Any] = {}
    for name in ("organisation", "structure"):
        value = parse_id(request.GET.get(name))
        if value is not None:
            initial["scope"] = "refer_to_organisation"
            initial["recipient" if name == "organisation" else name] = value
    return initial


@login_required
@require_POST
def consent_withdraw(request: AuthenticatedRequest, pk: int, consent_pk: int) -> HttpResponse:
    person, access = file_rules.get_file_for_user(request, pk, what="")
    consent = get_object_or_404(Consent, pk=consent_pk, person=person)
    try:
        actions.withdraw_consent(
            consent=consent,
            by=request.user,
            organisation=access.acting_organisation(request.current_membership),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, "Le consentement est retiré : les accès qui en dépendaient sont fermés."
        )
    return redirect("people:detail", person.pk)


@login_required
@file_rules.follow_merged_file
@require_GET
def consent_document(request: AuthenticatedRequest, pk: int, consent_pk: int) -> HttpResponseBase:
    person, _ = file_rules.get_file_for_user(request, pk, what="", record=False)
    consent = get_object_or_404(Consent, pk=consent_pk, person=person)
    if not consent.document:
        raise Http404
    record_read(
        request=request, obj=consent, person_id=person.pk, what="Document de consentement signé"
    )
    file = consent.document.open("rb")
    # Older documents were stored before their type was: read it from their content.
    kind = consent.document_type or document_type(file) or ""
    return document_response(file, kind=kind, filename=f"consentement-{consent.pk}")


@login_required
@file_rules.follow_merged_file
@require_GET
def engagement_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The plan's engagement document (PDF), for the team to print and sign with the person."""
    person, _ = file_rules.get_file_for_user(request, pk, what="PDF : contrat d'engagement")
    return pdf_response(person)
