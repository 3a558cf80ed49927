"""Fetch directory entries for editing: outside the user's territory a 404, inside it a 403
when the user's organisation does not own the entry."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from binome.access import predicates
from binome.access.scoping import get_organisation_for_user
from binome.directory.models import Service, ServiceReport, Structure
from binome.organisations.models import Organisation


def get_organisation_for_editor(user: Any, pk: int) -> Organisation:
    organisation = get_organisation_for_user(user, pk)
    if not predicates.can_edit_directory_of(user, organisation):
        raise PermissionDenied
    return organisation


def _check_entry(user: Any, entry: Structure | Service) -> None:
    if predicates.can_edit_directory_entry(user, entry):
        return
    department_id = entry.department_id or (entry.owner.department_id if entry.owner else None)
    if department_id and predicates.works_in_department(user, department_id):
        raise PermissionDenied
    raise Http404


def get_structure_for_editor(user: Any, pk: int) -> Structure:
    structure = get_object_or_404(Structure.objects.select_related("owner", "commune"), pk=pk)
    _check_entry(user, structure)
    return structure


def get_service_for_editor(user: Any, pk: int) -> Service:
    service = get_object_or_404(
        Service.objects.select_related("owner", "commune", "structure"), pk=pk
    )
    _check_entry(user, service)
    return service


def get_report_for_resolver(user: Any, pk: int) -> ServiceReport:
    report = get_object_or_404(
        ServiceReport.objects.select_related("service", "service__owner"), pk=pk
    )
    service = report.service
    if predicates.can_resolve_reports_of(user, service):
        return report
    if service.department_id and predicates.works_in_department(user, service.department_id):
        raise PermissionDenied
    raise Http404


def get_structure_for_moderator(user: Any, pk: int) -> Structure:
    structure = get_object_or_404(Structure.objects.select_related("owner"), pk=pk)
    department_id = structure.department_id
    if not department_id or not predicates.works_in_department(user, department_id):
        raise Http404
    if not predicates.can_moderate_structures(user, department_id):
        raise PermissionDenied
    return structure
