from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.access import predicates
from binome.access.scoping import get_organisation_for_user, visible_organisations
from binome.accounts.models import User
from binome.core.http import safe_next
from binome.core.text import normalize
from binome.core.typing import AuthenticatedRequest
from binome.organisations import actions
from binome.organisations.forms import (
    ChangeRoleForm,
    InviteMemberForm,
    MemberFunctionForm,
    OrganisationForm,
    TerritoryRoleForm,
)
from binome.organisations.middleware import SESSION_KEY
from binome.organisations.models import (
    Membership,
    OrganisationKind,
    TerritoryRole,
    function_choices,
)
from binome.territories.models import Department


@login_required
@require_GET
def organisation_list(request: AuthenticatedRequest) -> HttpResponse:
    qs = visible_organisations(request.user).active().select_related("commune", "department")
    query = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("type", "")
    if query:
        qs = qs.filter(
            Q(name__unaccent__icontains=query)
            | Q(commune__search_name__startswith=normalize(query))
        )
    if kind in OrganisationKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("department_id", "name"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/list.html",
        {
            "title": "Organisations du territoire",
            "page": page,
            "query": query,
            "kind": kind,
            "kinds": OrganisationKind.choices,
        },
    )


@login_required
@require_GET
def organisation_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, pk)
    can_manage = predicates.can_manage_members(request.user, organisation)
    members = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name")
    )
    if not can_manage:
        members = members.filter(is_active=True)
    return render(
        request,
        "organisations/detail.html",
        {
            "title": organisation.name,
            "organisation": organisation,
            "members": members,
            "can_manage": can_manage,
            "function_choices": function_choices(organisation.kind),
            "can_edit_directory": predicates.can_edit_directory_of(request.user, organisation),
            "can_manage_api": predicates.can_manage_api_tokens(request.user, organisation),
            "can_view_dashboard": predicates.can_view_organisation_dashboard(
                request.user, organisation
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request: AuthenticatedRequest) -> HttpResponse:
    code = request.GET.get("departement") or request.POST.get("departement") or ""
    department = Department.objects.filter(code=code).first()
    if department is None or not predicates.works_in_department(request.user, department.code):
        raise Http404
    if not predicates.can_create_organisation(request.user, department.code):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None)
    form.department_id = department.code
    if request.method == "POST" and form.is_valid():
        organisation = actions.create_organisation(
            department=department, data=form.cleaned_data, by=request.user, request=request
        )
        messages.success(request, f"L'organisation « {organisation.name} » est créée.")
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/form.html",
        {
            "title": f"Ajouter une organisation — {department}",
            "form": form,
            "department": department,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, pk)
    if not predicates.can_manage_organisation(request.user, organisation):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None, instance=organisation)
    if request.method == "POST" and form.is_valid():
        actions.update_organisation(
            organisation=form.instance, changed=form.changed_data, by=request.user, request=request
        )
        messages.success(request, "Les informations de l'organisation sont enregistrées.")
        return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/form.html",
        {"title": f"Modifier {organisation.name}", "form": form, "organisation": organisation},
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_invite(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_organisation_for_user(request.user, pk)
    if not predicates.can_manage_members(request.user, organisation):
        raise PermissionDenied
    form = InviteMemberForm(request.POST or None, kind=organisation.kind)
    if request.method == "POST" and form.is_valid():
        try:
            membership = actions.invite_member(
                organisation=organisation, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            messages.success(request, f"Invitation envoyée à {membership.user.email}.")
            return redirect("organisations:detail", organisation.pk)
    return render(
        request,
        "organisations/invite.html",
        {
            "title": f"Inviter un membre — {organisation.name}",
            "form": form,
            "organisation": organisation,
        },
    )


def _managed_membership(request: AuthenticatedRequest, pk: int, membership_pk: int) -> Membership:
    organisation = get_organisation_for_user(request.user, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation"),
        pk=membership_pk,
        organisation=organisation,
    )
    if not predicates.can_manage_members(request.user, organisation):
        raise PermissionDenied
    return membership


@login_required
@require_POST
def member_deactivate(request: AuthenticatedRequest, pk: int, membership_pk: int) -> HttpResponse:
    membership = _managed_membership(request, pk, membership_pk)
    try:
        actions.deactivate_member(membership=membership, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request, f"{membership.user.get_full_name()} n'a plus accès à l'organisation."
        )
    return redirect("organisations:detail", pk)


@login_required
@require_POST
def member_reactivate(request: AuthenticatedRequest, pk: int, membership_pk: int) -> HttpResponse:
    membership = _managed_membership(request, pk, membership_pk)
    actions.reactivate_member(membership=membership, by=request.user, request=request)
    messages.success(
        request, f"{membership.user.get_full_name()} a de nouveau accès à l'organisation."
    )
    return redirect("organisations:detail", pk)


@login_required
@require_POST
def member_role(request: AuthenticatedRequest, pk: int, membership_pk: int) -> HttpResponse:
    membership = _managed_membership(request, pk, membership_pk)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez un rôle dans la liste.")
    else:
        try:
            actions.change_member_role(
                membership=membership,
                role=form.cleaned_data["role"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"Rôle de {membership.user.get_full_name()} modifié.")
    return redirect("organisations:detail", pk)


@login_required
@require_POST
def member_function(request: AuthenticatedRequest, pk: int, membership_pk: int) -> HttpResponse:
    """The administrator declares what the member does (it bounds their role in files)."""
    membership = _managed_membership(request, pk, membership_pk)
    form = MemberFunctionForm(request.POST, kind=membership.organisation.kind)
    if not form.is_valid():
        messages.error(request, "Choisissez une fonction dans la liste.")
    else:
        actions.change_member_function(
            membership=membership,
            function=form.cleaned_data["function"],
            by=request.user,
            request=request,
        )
        messages.success(
            request, f"Fonction déclarée de {membership.user.get_full_name()} enregistrée."
        )
    return redirect("organisations:detail", pk)


@login_required
@require_POST
def switch_organisation(request: AuthenticatedRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        organisation_id = 0
    membership = (
        Membership.objects.active()
        .filter(user=request.user, organisation_id=organisation_id, organisation__is_active=True)
        .select_related("organisation")
        .first()
    )
    if membership is None:
        messages.error(request, "Vous n'êtes pas membre de cette organisation.")
    else:
        request.session[SESSION_KEY] = membership.organisation_id
        messages.success(
            request, f"Vous travaillez maintenant pour {membership.organisation.name}."
        )
    return redirect(safe_next(request, request.POST.get("next")))


@login_required
@require_http_methods(["GET", "POST"])
def territory_roles(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = get_object_or_404(Department, code=code)
    if not predicates.works_in_department(request.user, code):
        raise Http404
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    form = TerritoryRoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(email__iexact=form.cleaned_data["email"], is_active=True).first()
        if user is None or not predicates.works_in_department(user, code):
            form.add_error(
                "email",
                "Aucun utilisateur actif de ce territoire n'a cette adresse : invitez-le d'abord "
                "dans son organisation.",
            )
        else:
            try:
                actions.grant_territory_role(
                    user=user,
                    department=department,
                    role=form.cleaned_data["role"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("role", exc)
            else:
                messages.success(request, f"Rôle attribué à {user.get_full_name()}.")
                return redirect("organisations:territory_roles", code)
    roles = (
        TerritoryRole.objects.filter(department=department)
        .select_related("user")
        .order_by("role", "user__last_name")
    )
    return render(
        request,
        "organisations/territory_roles.html",
        {
            "title": f"Rôles du territoire — {department}",
            "department": department,
            "roles": roles,
            "form": form,
        },
    )


@login_required
@require_POST
def territory_role_revoke(request: AuthenticatedRequest, code: str, role_pk: int) -> HttpResponse:
    if not predicates.works_in_department(request.user, code):
        raise Http404
    territory_role = get_object_or_404(
        TerritoryRole.objects.select_related("user"), pk=role_pk, department_id=code
    )
    if not predicates.is_territory_admin(request.user, code):
        raise PermissionDenied
    try:
        actions.revoke_territory_role(
            territory_role=territory_role, by=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Rôle retiré.")
    return redirect("organisations:territory_roles", code)
