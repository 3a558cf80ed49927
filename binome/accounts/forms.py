from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from binome.core.forms import BinomeForm


class LoginForm(BinomeForm, AuthenticationForm):
    username = forms.EmailField(
        label="Adresse e-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": (
            "Adresse e-mail ou mot de passe incorrect. Après plusieurs échecs, la connexion "
            "est bloquée pendant 15 minutes."
        ),
        "inactive": (
            "Ce compte est désactivé. Adressez-vous à l'administrateur de votre organisation."
        ),
    }


class TokenForm(BinomeForm):
    token = forms.CharField(
        label="Code à 6 chiffres",
        help_text="Le code affiché par votre application d'authentification.",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
        error_messages={
            "required": "Saisissez le code à 6 chiffres.",
            "min_length": "Le code compte 6 chiffres.",
            "max_length": "Le code compte 6 chiffres.",
        },
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("Le code ne contient que des chiffres.")
        return token


class ResetRequestForm(BinomeForm, PasswordResetForm):
    email = forms.EmailField(
        label="Adresse e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class NewPasswordForm(BinomeForm, SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields[
            "new_password1"
        ].help_text = (
            "12 caractères au moins, pas uniquement des chiffres, ni trop proche de votre nom."
        )
        self.fields["new_password2"].label = "Confirmation du mot de passe"


class MagicLinkRequestForm(BinomeForm):
    email = forms.EmailField(
        label="Adresse e-mail",
        help_text="L'adresse que vous avez donnée à votre conseillère ou conseiller.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
