"""The territory's dashboard (its administrators and steering officers) and an
organisation's (its administrators, and the territory's): figures only, never a named file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.access.predicates import (
    can_view_national_steering,
    is_organisation_admin,
    is_steering,
    is_territory_admin,
    works_in_department,
)
from binome.access.scoping import get_organisation_for_user
from binome.core.replica import on_replica
from binome.core.typing import AuthenticatedRequest
from binome.steering import actions, dashboard, exports, fse, minutes, national
from binome.steering import comite as comite_rules
from binome.steering.forms import (
    CaseForm,
    DecisionForm,
    PeriodForm,
    SessionForm,
    SteeringSettingsForm,
)
from binome.steering.models import ComiteCase, ComiteSession, FseOperation, SteeringSettings
from binome.steering.periods import Period
from binome.support.access import get_file_for_user
from binome.territories.models import Department

FSE_EXPORTED = AuditKind.FSE_EXPORTED


def can_steer_territory(user: Any, department_id: str) -> bool:
    """The territory's administrators and steering officers see its dashboard."""
    return is_territory_admin(user, department_id) or is_steering(user, department_id)


@dataclass(frozen=True)
class Place:
    """Whose dashboard: a territory, or one organisation of it."""

    name: str
    department_id: str
    organisation_id: int | None
    url: str

    def export_url(self, section: str, table: str, extension: str) -> str:
        return f"{self.url}export/{section}/{table}.{extension}"

    def table_url(self, section: str, table: str) -> str:
        return f"{self.url}tableaux/{section}/{table}/"


def _territory(request: AuthenticatedRequest, code: str) -> Place:
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code):
        raise Http404
    if not can_steer_territory(request.user, code):
        raise PermissionDenied
    return Place(department.name, code, None, reverse("steering:territory", args=[code]))


def _organisation(request: AuthenticatedRequest, pk: int) -> Place:
    organisation = get_organisation_for_user(request.user, pk)
    department_id = organisation.department_id
    if not (
        is_organisation_admin(request.user, organisation)
        or can_steer_territory(request.user, department_id)
    ):
        raise PermissionDenied
    return Place(
        organisation.name,
        department_id,
        organisation.pk,
        reverse("steering:organisation", args=[organisation.pk]),
    )


def _fse_operations_of(place: Place) -> list[FseOperation]:
    """On an organisation's dashboard, the FSE+ operations that cover it (each leads to its
    completeness, the organisation's own row for its members)."""
    if place.organisation_id is None:
        return []
    return list(
        FseOperation.objects.filter(organisations=place.organisation_id).order_by(
            "-starts_on", "name"
        )
    )


def _period(request: AuthenticatedRequest) -> tuple[PeriodForm, Period]:
    form = PeriodForm(request.GET or None, today=timezone.localdate())
    return form, form.period()


def _dashboard(request: AuthenticatedRequest, place: Place) -> HttpResponse:
    form, period = _period(request)
    sections = on_replica(
        dashboard.compared_sections, place.department_id, period, place.organisation_id
    )
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render(
        request,
        "steering/dashboard.html",
        {
            "title": f"Tableau de bord — {place.name}",
            "place": place,
            "form": form,
            "period": period,
            "previous": period.previous(),
            "sections": sections,
            "query": query,
            "figures_table": dashboard.FIGURES_TABLE,
            "can_set_target": place.organisation_id is None
            and is_territory_admin(request.user, place.department_id),
            "can_view_national": can_view_national_steering(request.user),
            "fse_operations": _fse_operations_of(place),
        },
    )


@login_required
@require_GET
def territory(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _dashboard(request, _territory(request, code))


@login_required
@require_GET
def organisation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _dashboard(request, _organisation(request, pk))


def _export(
    request: AuthenticatedRequest, place: Place, section: str, table: str, extension: str
) -> HttpResponse:
    if extension not in exports.FORMATS:
        raise Http404
    _, period = _period(request)
    found = on_replica(
        dashboard.find_table, place.department_id, period, place.organisation_id, section, table
    )
    if found is None:
        raise Http404
    write = exports.as_csv if extension == "csv" else exports.as_xlsx
    return write(found, place=place.name, period=period)


def _full_table(
    request: AuthenticatedRequest, place: Place, section: str, table: str
) -> HttpResponse:
    """One table of the dashboard with all its rows (the dashboard shows the first ones of a
    long table), computed by the same function as the page and its exports."""
    form, period = _period(request)
    found = on_replica(
        dashboard.find_table, place.department_id, period, place.organisation_id, section, table
    )
    if found is None:
        raise Http404
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render(
        request,
        "steering/table.html",
        {
            "title": f"{found.title} — {place.name}",
            "place": place,
            "period": period,
            "table": found,
            "section": {"key": section},
            "query": query,
            "back": f"{place.url}?{query}#section-{section}"
            if query
            else f"{place.url}#section-{section}",
        },
    )


@login_required
@require_GET
def territory_table(
    request: AuthenticatedRequest, code: str, section: str, table: str
) -> HttpResponse:
    return _full_table(request, _territory(request, code), section, table)


@login_required
@require_GET
def organisation_table(
    request: AuthenticatedRequest, pk: int, section: str, table: str
) -> HttpResponse:
    return _full_table(request, _organisation(request, pk), section, table)


@login_required
@require_GET
def territory_export(
    request: AuthenticatedRequest, code: str, section: str, table: str, extension: str
) -> HttpResponse:
    return _export(request, _territory(request, code), section, table, extension)


@login_required
@require_GET
def organisation_export(
    request: AuthenticatedRequest, pk: int, section: str, table: str, extension: str
) -> HttpResponse:
    return _export(request, _organisation(request, pk), section, table, extension)


# --- The national dashboard ------------------------------------------------------------


@dataclass(frozen=True)
class NationalPlace:
    """The whole country: its one table's exports at their own address."""

    name: str = "France entière"

    def export_url(self, section: str, table: str, extension: str) -> str:
        return reverse("steering:national_export", args=[section, table, extension])


def _national(request: AuthenticatedRequest) -> NationalPlace:
    if not can_view_national_steering(request.user):
        raise PermissionDenied
    return NationalPlace()


@login_required
@require_GET
def national_dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """National steering: the départements as rows, figures only."""
    place = _national(request)
    form, period = _period(request)
    section = on_replica(national.national_section, period)
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render(
        request,
        "steering/national.html",
        {
            "title": "Tableau de bord national",
            "place": place,
            "form": form,
            "period": period,
            "previous": period.previous(),
            "section": section,
            "query": query,
        },
    )


@login_required
@require_GET
def national_export(
    request: AuthenticatedRequest, section: str, table: str, extension: str
) -> HttpResponse:
    place = _national(request)
    if extension not in exports.FORMATS:
        raise Http404
    _, period = _period(request)
    found = on_replica(national.find_table, period, section, table)
    if found is None:
        raise Http404
    write = exports.as_csv if extension == "csv" else exports.as_xlsx
    return write(found, place=place.name, period=period)


@login_required
@require_http_methods(["GET", "POST"])
def settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's administrators set the target delay of the binôme's first steps."""
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code):
        raise Http404
    if not is_territory_admin(request.user, code):
        raise PermissionDenied
    form = SteeringSettingsForm(
        request.POST or None, initial={"target_days": SteeringSettings.target_days_for(code)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_steering_settings(
                department_id=code,
                target_days=form.cleaned_data["target_days"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                form.add_error(name, errors)
        else:
            messages.success(request, "L'objectif de délai est enregistré.")
            return redirect("steering:settings", code)
    return render(
        request,
        "steering/settings.html",
        {"title": f"Pilotage : objectif de délai — {department.name}", "form": form},
    )


# --- The comité de pilotage ----------------------------------------------------------


def _form_errors(form: Any, exc: ValidationError) -> None:
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def comite(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The territory's sessions, and the planning of a new one."""
    department = get_object_or_404(Department, code=code)
    if not works_in_department(request.user, code):
        raise Http404
    if not comite_rules.can_plan_sessions(request.user, code):
        raise PermissionDenied
    form = SessionForm(request.POST or None, department_id=code)
    if request.method == "POST" and form.is_valid():
        try:
            session = actions.plan_session(
                department_id=code,
                held_on=form.cleaned_data["held_on"],
                place=form.cleaned_data["place"],
                members=list(form.cleaned_data["members"]),
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"La séance du {session.held_on:%d/%m/%Y} est planifiée.")
            return redirect("steering:session", session.pk)
    sessions = (
        ComiteSession.objects.filter(department_id=code)
        .annotate(case_count=Count("cases"))
        .order_by("-held_on", "-id")
    )
    return render(
        request,
        "steering/comite.html",
        {
            "title": f"Comité de pilotage — {department.name}",
            "sessions": sessions,
            "form": form,
        },
    )


@login_required
@require_GET
def session(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The agenda: the pseudonymised summaries, never the files."""
    found = comite_rules.get_session_for_user(request.user, pk)
    cases = found.cases.select_related("organisation").order_by("flagged_at", "id")
    return render(
        request,
        "steering/session.html",
        {
            "title": str(found),
            "session": found,
            "members": found.members.order_by("last_name", "first_name"),
            "cases": [(case, DecisionForm(prefix=f"c{case.pk}")) for case in cases],
        },
    )


@login_required
@require_GET
def session_minutes(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The session's minutes as a PDF: the figures of the period and the recommendations."""
    found = comite_rules.get_session_for_user(request.user, pk)
    response = HttpResponse(minutes.render_minutes_pdf(found), content_type="application/pdf")
    filename = f"compte-rendu-comite-{found.department_id}-{found.held_on:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["POST"])
def decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(ComiteCase.objects.select_related("session"), pk=pk)
    if not comite_rules.can_see_session(request.user, case.session):
        raise Http404
    form = DecisionForm(request.POST, prefix=f"c{case.pk}")
    if form.is_valid():
        try:
            actions.record_decision(
                case=case, decision=form.cleaned_data["decision"], by=request.user, request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, "La recommandation est enregistrée : l'équipe la voit dans le dossier."
            )
    else:
        messages.error(request, "Écrivez la décision ou la recommandation du comité.")
    return redirect("steering:session", case.session_id)


@login_required
@require_http_methods(["GET", "POST"])
def flag(request: AuthenticatedRequest, person_pk: int) -> HttpResponse:
    """The team brings the person's situation to the comité, with a pseudonymised summary."""
    person, access = get_file_for_user(
        request, person_pk, what="Présentation de la situation au comité de pilotage"
    )
    today = timezone.localdate()
    sessions = ComiteSession.objects.filter(
        department_id=person.department_id, held_on__gte=today
    ).order_by("held_on")
    form = CaseForm(
        request.POST or None,
        sessions=sessions,
        initial={
            "age_band": comite_rules.age_band(person.birth_date, today),
            "household": comite_rules.household(person),
            "barriers": comite_rules.barriers(person),
            "agreement_on": today,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.flag_case(
                session=data["session"],
                person=person,
                organisation=access.acting_organisation(request.current_membership),
                age_band=data["age_band"],
                household=data["household"],
                barriers=data["barriers"],
                tried=data["tried"],
                question=data["question"],
                agreement_on=data["agreement_on"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "La situation est inscrite à l'ordre du jour du comité.")
            return redirect("people:detail", person.pk)
    return render(
        request,
        "steering/flag.html",
        {
            "title": "Présenter la situation au comité de pilotage",
            "person": person,
            "form": form,
            "has_sessions": sessions.exists(),
        },
    )


@login_required
@require_GET
def fse_export(request: AuthenticatedRequest, code: str, extension: str) -> HttpResponse:
    """The FSE+ participant data of the territory over the period, pseudonymised."""
    place = _territory(request, code)
    if extension not in exports.FORMATS:
        raise Http404
    _, period = _period(request)
    table = fse.participants(dashboard.scope_of(code, period))
    record(
        FSE_EXPORTED,
        actor=request.user,
        department_id=code,
        what=f"Export FSE+ {period.label} ({len(table.rows)} participants, pseudonymisés)",
        request=request,
    )
    write = exports.as_csv if extension == "csv" else exports.as_xlsx
    return write(table, place=place.name, period=period)
