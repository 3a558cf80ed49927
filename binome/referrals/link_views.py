"""Pages of the signed link (no login) and « Renvoyer le lien » for the sender.

The link's page shows what the structure needs to answer, and no more: the person's first
name and the initial of the last name, the commune, the reason, the barriers and the
urgency the sender wrote, and how to reach the sender. The items of the file a sender may
share (diagnostic, notes, plan) stay behind login: a link can be forwarded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from binome.core.typing import AuthenticatedRequest
from binome.referrals import access as rules
from binome.referrals import actions, links
from binome.referrals.forms import DATETIME_WIDGET, AcceptForm, DeclineForm, OutcomeForm
from binome.referrals.models import Referral, ReferralLink, Status, Via


class LinkAcceptForm(AcceptForm):
    """The acceptance through the link: the first appointment (or a first step)."""

    appointment_at = forms.DateTimeField(
        label="Date et heure du premier rendez-vous",
        required=False,
        widget=DATETIME_WIDGET,
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
        error_messages={"invalid": "Date invalide : utilisez le format jj/mm/aaaa hh:mm."},
    )
    place = forms.CharField(label="Lieu du premier rendez-vous", max_length=200, required=False)


def _public(response: HttpResponse) -> HttpResponse:
    """The link is a secret: never indexed, never sent to another site as a referrer
    (« same-origin »: with « no-referrer » browsers send « Origin: null » with the form,
    which the CSRF check refuses)."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return _public(render(request, f"referrals/link/{template}.html", context, status=status))


def _context(referral: Referral, **extra: Any) -> dict[str, Any]:
    from binome.referrals.views import referral_barriers

    return {
        "referral": referral,
        "person_label": links.person_label(referral),
        "commune": referral.person.commune,
        "barrier_labels": referral_barriers(referral),
        "today": timezone.localdate(),
        **extra,
    }


def _closed_page(
    request: HttpRequest, referral: Referral, *, message: str = "", status: int = 200
) -> HttpResponse:
    last = referral.events.exclude(action__in=["reminded", "assigned", "link_sent"]).last()
    return _render(
        request,
        "used",
        _context(
            referral,
            title="Orientation déjà traitée",
            message=message,
            last=last,
        ),
        status=status,
    )


OUTCOME_ACTIONS = {
    Status.STARTED: actions.start,
    Status.COMPLETED: actions.complete,
    Status.ABANDONED: actions.abandon,
}


def _apply(request: HttpRequest, referral: Referral, step: str) -> tuple[bool, dict[str, Any]]:
    """Validate and apply the posted step; returns (done, the forms to show again)."""
    forms: dict[str, Any] = {}
    if step == "answer":
        decision = request.POST.get("decision")
        accept_form = LinkAcceptForm(
            request.POST if decision == "accept" else None, prefix="accept"
        )
        decline_form = DeclineForm(
            request.POST if decision == "decline" else None, prefix="decline"
        )
        forms = {"accept_form": accept_form, "decline_form": decline_form}
        if decision == "accept" and accept_form.is_valid():
            data = accept_form.cleaned_data
            actions.accept(
                referral=referral,
                by=None,
                via=Via.LINK,
                appointment_at=data.get("appointment_at"),
                place=data.get("place") or "",
                first_step=data.get("first_step") or "",
                message=data.get("message") or "",
                request=request,
            )
            return True, forms
        if decision == "decline" and decline_form.is_valid():
            data = decline_form.cleaned_data
            actions.decline(
                referral=referral,
                by=None,
                via=Via.LINK,
                reason=data["reason"],
                message=data.get("message") or "",
                request=request,
            )
            return True, forms
        return False, forms
    form = OutcomeForm(request.POST, referral=referral)
    forms = {"outcome_form": form}
    if not form.is_valid():
        return False, forms
    data = form.cleaned_data
    if data["outcome"] == Status.NO_SHOW:
        actions.no_show(
            referral=referral,
            by=None,
            via=Via.LINK,
            message=data.get("message") or "",
            request=request,
        )
    else:
        OUTCOME_ACTIONS[data["outcome"]](
            referral=referral,
            by=None,
            via=Via.LINK,
            on=data.get("on"),
            message=data.get("message") or "",
            request=request,
        )
    return True, forms


DONE_MESSAGES: dict[str, str] = {
    Status.ACCEPTED: "Merci : votre acceptation est transmise à l'orienteur.",
    Status.DECLINED: "Merci : votre réponse est transmise à l'orienteur.",
    Status.STARTED: "Merci : le début de l'accompagnement est transmis à l'orienteur.",
    Status.NO_SHOW: "Merci : l'absence de la personne est transmise à l'orienteur.",
    Status.COMPLETED: "Merci : la fin de l'accompagnement est transmise à l'orienteur.",
    Status.ABANDONED: "Merci : l'abandon est transmis à l'orienteur.",
}


@never_cache
@require_http_methods(["GET", "POST"])
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    """The structure's page for its referral: the step due now (answer, then start, then
    outcome). A forged, expired, revoked or already used link changes nothing."""
    if links.too_many_refusals(request):
        return _render(request, "too_many", {"title": "Trop de tentatives"}, status=429)
    check = links.check_token(token)
    if check.state != "ok" or check.link is None:
        links.record_refusal(request, check)
        return _render(
            request,
            "invalid",
            {
                "title": "Lien invalide",
                "state": check.state,
                "referral": check.referral,
                "days": links.max_age() // 86400,
            },
            status=410 if check.state in ("expired", "revoked") else 400,
        )
    link: ReferralLink = check.link
    referral = link.referral
    step = links.expected_step(referral)
    forms: dict[str, Any] = {}
    if request.method == "POST":
        if request.POST.get("step") != step or not step:
            return _closed_page(
                request,
                referral,
                message="Cette étape a déjà été enregistrée : votre envoi n'a rien modifié.",
                status=409,
            )
        try:
            done, forms = _apply(request, referral, step)
        except ValidationError as exc:
            referral.refresh_from_db()
            return _closed_page(request, referral, message=" ".join(exc.messages), status=409)
        if done:
            referral.refresh_from_db(fields=["status"])
            messages.success(request, DONE_MESSAGES.get(referral.status, "Merci."))
            return _public(redirect("referral_links:open", token))
    else:
        links.record_opening(request, link, what="Orientation ouverte par son lien sécurisé")
        if referral.status == Status.SENT:
            referral = actions.mark_seen(referral=referral, by=None, via=Via.LINK, request=request)
    if not step:
        return _closed_page(request, referral)
    if step == "answer" and not forms:
        forms = {
            "accept_form": LinkAcceptForm(prefix="accept"),
            "decline_form": DeclineForm(prefix="decline"),
        }
    elif step in ("start", "finish") and not forms:
        forms = {"outcome_form": OutcomeForm(referral=referral)}
    status = 400 if any(form.errors for form in forms.values()) else 200
    return _render(
        request,
        "page",
        _context(
            referral,
            title=f"Orientation de {links.person_label(referral)}",
            step=step,
            valid_until=timezone.localdate(link.sent_at) + timedelta(days=links.max_age() // 86400),
            **forms,
        ),
        status=status,
    )


@login_required
@require_POST
def resend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The sender e-mails a new link to the structure; the earlier one stops working."""
    referral, access = rules.get_referral_for_user(request, pk)
    if not access.sender:
        raise PermissionDenied
    try:
        link = links.send_link(referral=referral, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Un nouveau lien est envoyé à {link.email} ; le précédent ne fonctionne plus.",
        )
    return redirect("referrals:detail", referral.pk)
