from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.predicates import requires_second_factor
from binome.accounts import actions, lockout
from binome.accounts.forms import (
    LoginForm,
    MagicLinkRequestForm,
    NewPasswordForm,
    ResetRequestForm,
    TokenForm,
)
from binome.accounts.tokens import read_invitation_token, read_magic_link_token
from binome.core.forms import BinomeForm
from binome.core.http import safe_next
from binome.core.typing import AuthenticatedRequest


def _next_url(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


def lockout_response(
    request: HttpRequest, response: Any = None, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Shown instead of the login form once django-axes has locked the e-mail."""
    return _locked_page(request, locked="account")


def _locked_page(request: HttpRequest, *, locked: str) -> HttpResponse:
    return render(
        request,
        "accounts/login.html",
        {
            "form": LoginForm(request),
            "title": "Connexion",
            "locked": locked,
            "next": _next_url(request),
        },
        status=429,
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    if request.method == "POST" and lockout.address_locked(request):
        actions.record_address_lockout(
            email=lockout.normalised_email(request.POST.get("username", "")), request=request
        )
        return _locked_page(request, locked="address")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        login(request, user)
        if user_has_device(user) or requires_second_factor(user):
            # The second factor is checked by SecondFactorMiddleware before anything else.
            target = "accounts:otp_verify" if user_has_device(user) else "accounts:otp_setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': _next_url(request)})}")
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "title": "Connexion", "next": _next_url(request)},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Log out of Binôme, and of ProConnect too when the session came from it."""
    from binome.accounts import proconnect

    return proconnect.logout(request)


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    if not user_has_device(request.user):
        return redirect("accounts:otp_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        devices = list(TOTPDevice.objects.devices_for_user(request.user, confirmed=True))
        wait = [d.verify_is_allowed()[1] for d in devices if not d.verify_is_allowed()[0]]
        device = None if wait else match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        actions.record_otp_failure(user=request.user, request=request)
        if wait:
            form.add_error(
                "token",
                "Trop de codes erronés à la suite : patientez quelques secondes avant de "
                "saisir le code affiché maintenant.",
            )
        else:
            form.add_error(
                "token",
                "Ce code est incorrect ou a expiré. Vérifiez l'heure de votre téléphone et "
                "saisissez le code affiché maintenant ; après plusieurs erreurs, un délai "
                "d'attente s'applique.",
            )
    return render(
        request,
        "accounts/otp_verify.html",
        {"form": form, "title": "Double authentification", "next": _next_url(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user_has_device(user) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("accounts:otp_verify")
    device = actions.pending_totp_device(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            actions.confirm_totp_device(device=device, by=user, request=request)
            otp_login(request, device)
            messages.success(request, "La double authentification est activée.")
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "Ce code ne correspond pas : scannez de nouveau le QR code ou vérifiez "
            "l'heure de votre téléphone, puis saisissez le code affiché maintenant.",
        )
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code à scanner")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "title": "Activer la double authentification",
            "qr_svg": qr_svg,
            "secret": _b32(device.bin_key),
            "next": _next_url(request),
            "required": requires_second_factor(user),
        },
    )


def _b32(key: bytes) -> str:
    import base64

    raw = base64.b32encode(key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
@require_http_methods(["GET"])
def security(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/security.html",
        {
            "title": "Mon compte et sa sécurité",
            "has_device": user_has_device(request.user),
            "required": requires_second_factor(request.user),
        },
    )


@login_required
@require_POST
def otp_disable(request: HttpRequest) -> HttpResponse:
    if requires_second_factor(request.user):
        messages.error(
            request,
            "Votre rôle d'administrateur impose la double authentification : elle ne peut pas "
            "être désactivée.",
        )
        return redirect("accounts:security")
    actions.remove_totp_devices(user=request.user, by=request.user, request=request)
    messages.success(request, "La double authentification est désactivée.")
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedRequest) -> HttpResponse:
    class Form(BinomeForm, PasswordChangeForm):
        pass

    form = Form(request.user, request.POST or None)
    form.fields["old_password"].label = "Mot de passe actuel"
    form.fields["new_password1"].label = "Nouveau mot de passe"
    form.fields["new_password2"].label = "Confirmation du nouveau mot de passe"
    if request.method == "POST" and form.is_valid():
        user = request.user
        actions.change_password(
            user=user, password=form.cleaned_data["new_password1"], request=request
        )
        update_session_auth_hash(request, user)
        messages.success(request, "Votre mot de passe est modifié.")
        return redirect("accounts:security")
    return render(
        request, "accounts/password_change.html", {"form": form, "title": "Changer de mot de passe"}
    )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = {"title": "Mot de passe oublié"}

    def form_valid(self, form: Any) -> HttpResponse:
        # The same answer whether the address has an account or the limit is reached.
        if actions.admit_password_reset(email=form.cleaned_data["email"], request=self.request):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    extra_context = {"title": "Mot de passe oublié"}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    extra_context = {"title": "Choisir un nouveau mot de passe"}

    def form_valid(self, form: Any) -> HttpResponse:
        actions.change_password(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            request=self.request,
            what="Par lien de réinitialisation",
        )
        # What Django's own view does after saving: the link's session token is spent.
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Votre mot de passe est enregistré : connectez-vous.")
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    user = read_invitation_token(token)
    if user is None:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"title": "Lien d'invitation invalide"},
            status=400,
        )
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.change_password(
            user=user,
            password=form.cleaned_data["new_password1"],
            request=request,
            what="Activation du compte",
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Votre compte est activé. Bienvenue dans Binôme.")
        return HttpResponseRedirect(reverse("site:home"))
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "title": "Activer votre compte", "invited": user},
    )


MAGIC_LINK_SENT = (
    "Si cette adresse correspond à l'espace d'une personne accompagnée, un lien de connexion "
    "vient d'y être envoyé. Il est valable 15 minutes et ne sert qu'une fois."
)


@require_http_methods(["GET", "POST"])
def magic_link_request(request: HttpRequest) -> HttpResponse:
    """A person asks for a login link by e-mail; the answer never says if the address exists."""
    form = MagicLinkRequestForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        actions.send_magic_link(email=form.cleaned_data["email"], request=request)
        sent = True
    return render(
        request,
        "accounts/magic_link_request.html",
        {
            "form": form,
            "title": "Recevoir un lien de connexion",
            "sent": sent,
            "sent_message": MAGIC_LINK_SENT,
        },
    )


@require_http_methods(["GET", "POST"])
def magic_link_login(request: HttpRequest, token: str) -> HttpResponse:
    """Open the link: a button logs in (a GET alone does not, so that mail scanners that
    follow links do not use it up)."""
    user = read_magic_link_token(token)
    if user is None:
        actions.record_magic_link_refused(request=request)
        return render(
            request,
            "accounts/magic_link_invalid.html",
            {"title": "Lien de connexion invalide"},
            status=400,
        )
    if request.method == "POST":
        request.login_method = "lien envoyé par e-mail"  # type: ignore[attr-defined]
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("space:home")
    return render(
        request,
        "accounts/magic_link_login.html",
        {"title": "Se connecter à mon espace", "invited": user},
    )
