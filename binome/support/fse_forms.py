"""The FSE+ questionnaire's forms: one per stage, DSFR radio buttons, every question asked."""

from __future__ import annotations

from typing import Any

from django import forms

from binome.core.forms import BinomeForm
from binome.support.forms import RadioButtons
from binome.support.fse import STAGE_FIELDS, Stage, question

PROPOSED_HELP = "Proposé d'après le dossier : à confirmer avec la personne."


class FseStageForm(BinomeForm):
    """The questions of one stage, built from the model's fields and choices."""

    def __init__(
        self, *args: Any, stage: str, proposed: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        proposed = proposed or {}
        for name in STAGE_FIELDS[Stage(stage)]:
            model_field = question(name)
            label = str(model_field.verbose_name)
            self.fields[name] = forms.ChoiceField(
                label=label[:1].upper() + label[1:],
                choices=model_field.choices or (),
                widget=RadioButtons,
                help_text=PROPOSED_HELP if name in proposed else "",
                error_messages={
                    "required": f"Répondez à la question « {label} ».",
                    "invalid_choice": "Cette réponse n'existe pas : choisissez-en une de la liste.",
                },
            )
