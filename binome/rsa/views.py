"""RSA pages: « À orienter » and the orientation decision (the territory's orientation
managers), the orientations a referent body received (its referent, the contract). Thin:
parse, call one action, render."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access.audit import record_list_read, record_read, record_read_when_shown
from binome.access.predicates import active_memberships, is_steering, roles_of
from binome.core.figures import FigureScope
from binome.core.pagination import keyed_page, window_page
from binome.core.replica import on_replica
from binome.core.typing import AuthenticatedRequest
from binome.organisations.models import Organisation
from binome.people.models import Person
from binome.rsa import list_rows, orientations, reconciliation
from binome.rsa.figures import rsa_section
from binome.rsa.forms import (
    ContractForm,
    ListFilterForm,
    OrientationForm,
    ReferentForm,
    ReorientationRequestForm,
)
from binome.rsa.models import (
    WARNING_DAYS,
    Beneficiary,
    BeneficiaryQuerySet,
    DossierState,
    Orientation,
)
from binome.support.access import get_file_for_user
from binome.territories.models import Department

PAGE_SIZE = 50
BULK_MAX = 200
FAMILY_SITUATIONS = {
    "CEL": "Célibataire",
    "MAR": "Marié(e)",
    "PAC": "Pacsé(e)",
    "VIM": "Vie maritale",
    "DIV": "Divorcé(e)",
    "SEP": "Séparé(e)",
    "VEU": "Veuf ou veuve",
    "ISO": "Isolé(e)",
}


def _managed_department(request: AuthenticatedRequest, code: str) -> Department:
    """The département whose orientations the user manages, or 404."""
    if not orientations.is_orientation_manager(request.user, code) or is_steering(
        request.user, code
    ):
        raise Http404
    return get_object_or_404(Department, code=code)


def _acting_organisation(request: AuthenticatedRequest, department_id: str) -> Organisation:
    """The organisation the manager decides for: the current one when of the département,
    else their first of the département, else the current one."""
    current = request.current_membership
    if current is not None and current.organisation.department_id == department_id:
        return current.organisation
    for membership in active_memberships(request.user):
        if membership.organisation.department_id == department_id:
            return membership.organisation
    if current is None:
        raise Http404
    return current.organisation


def to_orient_keys(department_id: str) -> BeneficiaryQuerySet:
    """The persons to orient, by deadline: what the list filters and orders on, answered by
    the partial index ``rsa_beneficiary_to_orient`` alone."""
    return (
        Beneficiary.objects.to_orient()
        .in_department(department_id)
        .order_by("orientation_due_on", "id")
    )


def to_orient_rows(department_id: str) -> QuerySet[Beneficiary]:
    return (
        to_orient_keys(department_id)
        .select_related("dossier", "person")
        .only(
            "role",
            "first_name",
            "last_name",
            "birth_date",
            "france_travail_id",
            "right_opened_on",
            "orientation_due_on",
            "person_id",
            "person__first_name",
            "person__last_name",
            "dossier__number",
            "dossier__state",
            "dossier__family_situation",
            "dossier__children",
            "dossier__no_fixed_address",
        )
    )


@login_required
@require_GET
def to_orient(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Every person subject to rights and duties not yet oriented, by her six-week deadline."""
    department = _managed_department(request, code)
    today = timezone.localdate()
    form = ListFilterForm(request.GET)
    qs = to_orient_keys(code)
    data: dict[str, Any] = (
        form.cleaned_data if form.is_valid() else {"q": "", "due": "", "sdf": False}
    )
    qs = qs.named(data["q"])
    if data["due"] == "overdue":
        qs = qs.filter(orientation_due_on__lt=today)
    elif data["due"] == "week":
        qs = qs.filter(
            orientation_due_on__gte=today,
            orientation_due_on__lte=today + datetime.timedelta(days=WARNING_DAYS),
        )
    if data["sdf"]:
        qs = qs.filter(no_fixed_address=True)  # the dossier's, copied: on the index
    # The page's keys and the total on the index, then the page's 50 rows with their dossier
    # and file: one statement, whatever the number of persons to orient.
    page = keyed_page(qs, to_orient_rows(code), request.GET.get("page"), PAGE_SIZE)
    rows = list(page.object_list)
    asked = list(
        Orientation.objects.reorientation_asked(code)
        .select_related("person", "referent_body")
        .only(
            "beneficiary_id",
            "reorientation_asked_at",
            "reorientation_reason",
            "person__first_name",
            "person__last_name",
            "referent_body__name",
        )[:PAGE_SIZE]
    )
    record_list_read(
        request=request,
        person_ids=[row.person_id for row in rows if row.person_id] + [o.person_id for o in asked],
        what="Nom dans la liste RSA « À orienter »",
    )
    return render(
        request,
        "rsa/orientation/to_orient.html",
        {
            "title": f"À orienter — {department.name}",
            "department": department,
            "page": page,
            "rows": rows,
            "rows_html": list_rows.to_orient_html(
                rows, today=today, family_labels=FAMILY_SITUATIONS
            ),
            "filters": data,
            "due_choices": form.fields["due"].choices,  # type: ignore[attr-defined]
            "reorientations": asked,
            "reorientations_html": list_rows.reorientations_html(asked),
            "today": today,
        },
    )


def _beneficiary_for_manager(request: AuthenticatedRequest, pk: int) -> Beneficiary:
    beneficiary = get_object_or_404(
        Beneficiary.objects.select_related("dossier", "person"), pk=pk, person__isnull=False
    )
    _managed_department(request, beneficiary.dossier.department_id)
    return beneficiary


@login_required
@require_http_methods(["GET", "POST"])
def orient(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Decide one person's orientation (or reorient her)."""
    beneficiary = _beneficiary_for_manager(request, pk)
    department_id = beneficiary.dossier.department_id
    person = beneficiary.person
    assert person is not None
    record_read_when_shown(
        request=request, obj=beneficiary, person_id=person.pk, what="RSA : orientation"
    )
    current = (
        Orientation.objects.current()
        .filter(beneficiary=beneficiary)
        .select_related("referent_body", "referent")
        .first()
    )
    form = OrientationForm(request.POST or None, department_id=department_id)
    if request.method == "POST" and form.is_valid():
        try:
            orientations.orient(
                beneficiary=beneficiary,
                decision=form.decision(),
                by=request.user,
                organisation=_acting_organisation(request, department_id),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{person.full_name} : orientation notifiée.")
            return redirect("rsa:to_orient", code=department_id)
    return render(
        request,
        "rsa/orientation/orient.html",
        {
            "title": ("Réorienter" if current else "Orienter") + f" {person.full_name}",
            "department_id": department_id,
            "beneficiaries": [beneficiary],
            "current": current,
            "form": form,
            "bulk": False,
        },
        status=400 if request.method == "POST" else 200,
    )


def _chosen_ids(values: list[str]) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit()})[:BULK_MAX]


@login_required
@require_http_methods(["GET", "POST"])
def orient_bulk(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The same decision for the persons checked in the list."""
    _managed_department(request, code)
    source = request.POST if request.method == "POST" else request.GET
    ids = _chosen_ids(source.getlist("b"))
    beneficiaries = list(
        Beneficiary.objects.to_orient()
        .in_department(code)
        .filter(pk__in=ids)
        .select_related("dossier", "person")
        .order_by("orientation_due_on", "id")
    )
    if not beneficiaries:
        messages.error(request, "Cochez au moins une personne à orienter dans la liste.")
        return redirect("rsa:to_orient", code=code)
    if request.method == "GET":
        record_list_read(
            request=request,
            person_ids=[b.person_id for b in beneficiaries if b.person_id],
            what="RSA : orientation groupée",
        )
    form = OrientationForm(request.POST or None, department_id=code)
    if request.method == "POST" and form.is_valid():
        try:
            done = orientations.orient_many(
                beneficiaries=beneficiaries,
                decision=form.decision(),
                by=request.user,
                organisation=_acting_organisation(request, code),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{len(done)} orientation(s) notifiée(s).")
            return redirect("rsa:to_orient", code=code)
    return render(
        request,
        "rsa/orientation/orient.html",
        {
            "title": f"Orienter {len(beneficiaries)} personne(s)",
            "department_id": code,
            "beneficiaries": beneficiaries,
            "current": None,
            "form": form,
            "bulk": True,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def to_reconcile(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The persons of the flows whose file is in doubt, each beside the files that may be
    hers: a human decides, the import never merges them silently."""
    department = _managed_department(request, code)
    qs = reconciliation.to_reconcile(code).prefetch_related(
        Prefetch(
            "candidates",
            queryset=Person.objects.select_related("organisation", "commune").order_by(
                "last_name", "first_name", "id"
            ),
        )
    )
    page = window_page(qs, request.GET.get("page"), PAGE_SIZE)
    rows = list(page.object_list)
    for row in rows:
        row.family_label = FAMILY_SITUATIONS.get(row.dossier.family_situation, "")
    record_list_read(
        request=request,
        person_ids=sorted({c.pk for row in rows for c in row.candidates.all()}),
        what="Dossier proposé dans la liste RSA « À rapprocher »",
    )
    return render(
        request,
        "rsa/orientation/to_reconcile.html",
        {
            "title": f"À rapprocher — {department.name}",
            "department": department,
            "page": page,
            "rows": rows,
        },
    )


def _beneficiary_to_reconcile(request: AuthenticatedRequest, pk: int) -> Beneficiary:
    beneficiary = get_object_or_404(Beneficiary.objects.select_related("dossier"), pk=pk)
    _managed_department(request, beneficiary.dossier.department_id)
    return beneficiary


@login_required
@require_POST
def reconcile(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """« C'est la même personne » (``person``: the chosen file) or « personne différente »
    (``decision=different``)."""
    beneficiary = _beneficiary_to_reconcile(request, pk)
    code = beneficiary.dossier.department_id
    organisation = _acting_organisation(request, code)
    name = f"{beneficiary.first_name} {beneficiary.last_name}"
    try:
        if request.POST.get("decision") == "different":
            reconciliation.different_person(
                beneficiary=beneficiary, by=request.user, organisation=organisation, request=request
            )
            messages.success(request, f"{name} : nouveau dossier créé, à orienter.")
        else:
            person_id = request.POST.get("person", "")
            person = Person.objects.filter(
                pk=int(person_id) if person_id.isdigit() else 0, department_id=code
            ).first()
            if person is None:
                raise ValidationError("Choisissez le dossier qui est celui de la personne.")
            reconciliation.same_person(
                beneficiary=beneficiary,
                person=person,
                by=request.user,
                organisation=organisation,
                request=request,
            )
            messages.success(request, f"{name} : rapprochée du dossier de {person.full_name}.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("rsa:to_reconcile", code=code)


class PeriodForm(forms.Form):
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}))


@login_required
@require_GET
def figures(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The orientation and contract delays of the territory, over a chosen period (the last
    twelve months by default)."""
    department = _managed_department(request, code)
    today = timezone.localdate()
    end, start = today, today - datetime.timedelta(days=364)
    period = PeriodForm(request.GET)
    if period.is_valid():
        end = period.cleaned_data["au"] or end
        start = period.cleaned_data["du"] or end - datetime.timedelta(days=364)
    if start > end:
        start, end = end, start
    section = on_replica(rsa_section, FigureScope(department=code, start=start, end=end))
    return render(
        request,
        "rsa/orientation/figures.html",
        {
            "title": f"Délais d'orientation et de contrat — {department.name}",
            "department": department,
            "section": section,
            "start": start,
            "end": end,
        },
    )


# --- The referent body's side ---------------------------------------------------------------


def _received_organisation(request: AuthenticatedRequest, organisation_id: int) -> Organisation:
    if organisation_id not in roles_of(request.user).member_of:
        raise Http404
    return get_object_or_404(Organisation, pk=organisation_id)


@login_required
@require_GET
def received(request: AuthenticatedRequest, organisation_id: int) -> HttpResponse:
    """The RSA orientations the organisation received: their referent and contract."""
    organisation = _received_organisation(request, organisation_id)
    today = timezone.localdate()
    qs = (
        Orientation.objects.received_by([organisation.pk])
        .select_related("person", "referent")
        .only(
            "kind",
            "delegated",
            "notified_on",
            "contract_due_on",
            "contract_signed_on",
            "referent_body_id",
            "person__first_name",
            "person__last_name",
            "referent__first_name",
            "referent__last_name",
        )
        .order_by("contract_signed_on", "contract_due_on", "id")
    )
    page = window_page(qs, request.GET.get("page"), PAGE_SIZE)
    record_list_read(
        request=request,
        person_ids=[o.person_id for o in page.object_list],
        what="Nom dans la liste des orientations RSA reçues",
    )
    return render(
        request,
        "rsa/orientation/received.html",
        {
            "title": f"Orientations RSA reçues — {organisation.name}",
            "organisation": organisation,
            "page": page,
            "today": today,
        },
    )


def _orientation_for_member(request: AuthenticatedRequest, pk: int) -> Orientation:
    orientation = get_object_or_404(
        Orientation.objects.select_related(
            "person", "referent_body", "referent", "decided_by", "reorientation_asked_by"
        ),
        pk=pk,
    )
    if not orientations.is_referent_body_member(request.user, orientation):
        raise Http404
    return orientation


def _detail(
    request: AuthenticatedRequest,
    orientation: Orientation,
    *,
    referent_form: ReferentForm | None = None,
    contract_form: ContractForm | None = None,
    reorientation_form: ReorientationRequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "rsa/orientation/detail.html",
        {
            "title": f"Orientation RSA — {orientation.person.full_name}",
            "orientation": orientation,
            "referent_form": referent_form
            or ReferentForm(
                organisation_id=orientation.referent_body_id,
                initial={"referent": orientation.referent_id},
            ),
            "contract_form": contract_form
            or ContractForm(initial={"signed_on": orientation.contract_signed_on}),
            "reorientation_form": reorientation_form or ReorientationRequestForm(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_GET
def orientation_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    orientation = _orientation_for_member(request, pk)
    record_read(
        request=request,
        obj=orientation,
        person_id=orientation.person_id,
        what="RSA : orientation reçue",
    )
    return _detail(request, orientation)


@login_required
@require_POST
def designate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    orientation = _orientation_for_member(request, pk)
    form = ReferentForm(request.POST, organisation_id=orientation.referent_body_id)
    if form.is_valid():
        try:
            orientations.designate_referent(
                orientation=orientation,
                referent=form.cleaned_data["referent"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Référent de parcours désigné.")
            return redirect("rsa:orientation", pk=pk)
    return _detail(request, orientation, referent_form=form, status=400)


@login_required
@require_POST
def contract(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    orientation = _orientation_for_member(request, pk)
    form = ContractForm(request.POST)
    if form.is_valid():
        try:
            orientations.record_contract_signature(
                orientation=orientation,
                signed_on=form.cleaned_data["signed_on"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Signature du contrat d'engagement enregistrée.")
            return redirect("rsa:orientation", pk=pk)
    return _detail(request, orientation, contract_form=form, status=400)


@login_required
@require_POST
def ask_reorientation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The referent body asks the département for a reorientation, with its reason."""
    orientation = _orientation_for_member(request, pk)
    form = ReorientationRequestForm(request.POST)
    if form.is_valid():
        try:
            orientations.ask_reorientation(
                orientation=orientation,
                reason=form.cleaned_data["reason"],
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Réorientation demandée au département.")
            return redirect("rsa:orientation", pk=pk)
    return _detail(request, orientation, reorientation_form=form, status=400)


# --- The person's file ----------------------------------------------------------------------


@login_required
@require_GET
def file_section(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The RSA section of the person's file, for her team (the file's rules), loaded by the
    file page (htmx) so that the page's own queries do not change: each dossier with its
    states and the flow each came from, her role, the rights and duties, her activity; the
    current orientation, its referent and contract. Nothing when the flows never named her."""
    person, _access = get_file_for_user(request, pk, what="RSA : dossier et orientation")
    beneficiaries = list(
        Beneficiary.objects.filter(person=person)
        .select_related("dossier")
        .prefetch_related(
            Prefetch(
                "dossier__states",
                queryset=DossierState.objects.select_related("flow").only(
                    "state", "known_on", "dossier_id", "flow__file_name", "flow__flow_created_on"
                ),
            ),
            Prefetch(
                "orientations",
                queryset=Orientation.objects.current().select_related("referent_body", "referent"),
                to_attr="current",
            ),
        )
        .order_by("-dossier__requested_on", "-id")
    )
    for beneficiary in beneficiaries:
        beneficiary.family_label = FAMILY_SITUATIONS.get(beneficiary.dossier.family_situation, "")  # type: ignore[attr-defined]
    return render(
        request,
        "rsa/_file_section.html",
        {
            "person": person,
            "beneficiaries": beneficiaries,
            "today": timezone.localdate(),
        },
    )
