"""The notification centre: the user's notifications, unread first; opening one marks it read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from binome.core.typing import AuthenticatedRequest
from binome.notifications import actions
from binome.notifications.forms import PreferencesForm
from binome.notifications.models import EmailFrequency, Notification, NotificationPreference

PAGE_SIZE = 20


def _own_notification(request: AuthenticatedRequest, pk: int) -> Notification:
    """A notification of the user; any other one is a 404."""
    return get_object_or_404(Notification.objects.for_user(request.user), pk=pk)


@login_required
@require_GET
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    notifications = Notification.objects.for_user(request.user).unread_first()
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"title": "Notifications", "page": page},
    )


@login_required
@require_GET
def unread_badge(request: AuthenticatedRequest) -> HttpResponse:
    """The header's count of unread notifications, loaded by htmx after the page: no page
    pays a query for it."""
    count = Notification.objects.for_user(request.user).unread().count()
    return render(request, "notifications/_unread_badge.html", {"count": count})


@login_required
@require_GET
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Follow a notification's link (from the list or an e-mail): it is marked read."""
    notification = _own_notification(request, pk)
    actions.mark_read(notification=notification, by=request.user)
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect("notifications:list")
    return redirect(notification.url)


@login_required
@require_POST
def notification_mark_read(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    notification = _own_notification(request, pk)
    actions.mark_read(notification=notification, by=request.user)
    messages.success(request, "La notification est marquée comme lue.")
    return redirect("notifications:list")


@login_required
@require_POST
def notification_mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    count = actions.mark_all_read(user=request.user)
    if count:
        messages.success(
            request,
            f"{count} notification{'s' if count > 1 else ''} "
            f"marquée{'s' if count > 1 else ''} comme lue{'s' if count > 1 else ''}.",
        )
    else:
        messages.info(request, "Aucune notification non lue.")
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    """E-mails at once, a daily digest, or none; the account page shows the same form."""
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            preference = actions.set_email_frequency(
                user=request.user, frequency=form.cleaned_data["email_frequency"]
            )
            messages.success(
                request,
                f"Préférence enregistrée : {preference.get_email_frequency_display().lower()}.",
            )
            return redirect("accounts:security")
    else:
        current = NotificationPreference.objects.filter(user=request.user).first()
        form = PreferencesForm(
            initial={
                "email_frequency": current.email_frequency if current else EmailFrequency.IMMEDIATE
            }
        )
    return render(
        request,
        "notifications/preferences.html",
        {"title": "Mes e-mails de notification", "form": form},
        status=400 if form.is_bound else 200,
    )
