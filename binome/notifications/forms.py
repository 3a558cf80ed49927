from __future__ import annotations

from django import forms

from binome.core.forms import BinomeForm
from binome.notifications.models import EmailFrequency


class DsfrRadioSelect(forms.RadioSelect):
    """DSFR radio buttons, one per line."""

    option_template_name = "support/widgets/radio_option.html"


class PreferencesForm(BinomeForm):
    email_frequency = forms.ChoiceField(
        label="E-mails de notification",
        choices=EmailFrequency.choices,
        widget=DsfrRadioSelect,
        help_text="Les notifications restent toujours visibles dans Binôme.",
        error_messages={
            "required": "Choisissez comment recevoir les e-mails de notification.",
            "invalid_choice": "Ce choix d'e-mails de notification n'existe pas.",
        },
    )
