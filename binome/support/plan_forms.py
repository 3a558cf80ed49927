"""Forms of the shared diagnostic and of the plan (DSFR rendering, French messages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from binome.core.forms import BinomeForm
from binome.support import referential
from binome.support.diagnostic import ThemeAnswer, default_comment_visibility
from binome.support.models import (
    COMMENT_MAX_LENGTH,
    MAX_MOBILITY_RADIUS_KM,
    Availability,
    BarrierLevel,
    Diagnostic,
    Visibility,
)
from binome.support.plan import LABEL_MAX_LENGTH

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "Date invalide : utilisez le format jj/mm/aaaa."}
PERSON_CARRIES = "person"
VISIBILITY_CHOICES = list(Visibility.choices)


class InlineRadioSelect(forms.RadioSelect):
    """DSFR radio buttons side by side."""

    inline = True
    option_template_name = "support/widgets/radio_option.html"


class Checkboxes(forms.CheckboxSelectMultiple):
    """DSFR checkboxes (the field names the DSFR fieldset snippet, see ``DiagnosticForm``)."""

    option_template_name = "support/widgets/checkbox_option.html"


CHECKBOXES_SNIPPET = "dsfr/form_field_snippets/checkboxselectmultiple_snippet.html"


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class DiagnosticForm(BinomeForm):
    """Per theme: situations, level, a comment and its visibility; then the professional
    part and the conclusion. Fields of a theme are named ``<code>-situations`` etc."""

    made_on = forms.DateField(
        label="Date du diagnostic",
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        initial=timezone.localdate,
    )
    co_author = forms.TypedChoiceField(
        label="Fait avec",
        coerce=int,
        required=False,
        choices=[],
        help_text="L'autre professionnel du binôme présent au diagnostic.",
    )
    project = forms.CharField(
        label="Projet professionnel",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=_textarea(3),
    )
    qualification = forms.CharField(label="Qualification", required=False, max_length=200)
    availability = forms.ChoiceField(
        label="Disponibilité",
        required=False,
        choices=[("", "Non renseignée"), *Availability.choices],
    )
    mobility_radius_km = forms.IntegerField(
        label="Rayon de mobilité (km)",
        required=False,
        min_value=0,
        max_value=MAX_MOBILITY_RADIUS_KM,
        help_text="Distance que la personne peut parcourir pour un emploi ou une démarche ; "
        "les services suggérés sont cherchés dans ce rayon.",
        error_messages={
            "invalid": "Indiquez un nombre entier de kilomètres.",
            "min_value": "Le rayon de mobilité ne peut pas être négatif.",
            "max_value": f"Le rayon de mobilité ne dépasse pas {MAX_MOBILITY_RADIUS_KM} km.",
        },
    )
    recommended_kind = forms.ChoiceField(
        label="Accompagnement préconisé", required=False, choices=[]
    )
    recommendation_reason = forms.CharField(
        label="Pourquoi",
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=_textarea(3),
    )

    def __init__(
        self,
        *args: Any,
        department_id: str,
        co_authors: list[tuple[int, str]],
        previous: Diagnostic | None = None,
        health_details_hidden: bool = False,
        draft: bool = False,
        **kwargs: Any,
    ) -> None:
        """``previous``: the diagnostic the form starts from (the latest validated one for a
        re-evaluation, or the ``draft`` being completed)."""
        super().__init__(*args, **kwargs)
        # The user may not see the health situations (``can_view_health_details``): they are
        # not shown, and those of the previous diagnostic are carried over (nothing lost).
        self.carried_situations: dict[str, list[str]] = {}
        self.fields["co_author"].choices = [("", "Personne d'autre"), *co_authors]
        self.fields["recommended_kind"].choices = [
            ("", "À décider"),
            *referential.orientation_choices(),
        ]
        situations = referential.situations_by_theme(department_id)
        previous_answers = (
            {a.theme: a for a in previous.answers.all()} if previous is not None else {}
        )
        self.themes: list[dict[str, Any]] = []
        for theme in referential.themes():
            code = theme.code
            before = previous_answers.get(code)
            hidden = theme.sensitive and health_details_hidden
            if hidden:
                self.carried_situations[code] = list(before.situations) if before else []
            self.fields[f"{code}-situations"] = forms.MultipleChoiceField(
                label="Situations",
                required=False,
                choices=[(label, label) for label in situations[code]],
                widget=Checkboxes,
                template_name=CHECKBOXES_SNIPPET,  # type: ignore[call-arg]
                initial=list(before.situations) if before else [],
                error_messages={
                    "invalid_choice": f"{theme.label} : « %(value)s » n'est pas une situation "
                    "de ce thème ; cochez-les dans la liste."
                },
            )
            # Nothing chosen in advance: « pas de frein » is an assessment, not a default. A
            # draft may leave a theme empty; its validation may not.
            self.fields[f"{code}-level"] = forms.ChoiceField(
                label="Niveau du frein",
                choices=BarrierLevel.choices,
                widget=InlineRadioSelect,
                required=False,
                initial=before.level if before else None,
            )
            self.fields[f"{code}-comment"] = forms.CharField(
                label="Commentaire",
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                widget=_textarea(2),
            )
            self.fields[f"{code}-comment"].widget.attrs.pop("maxlength", None)
            self.fields[f"{code}-visibility"] = forms.ChoiceField(
                label="Commentaire visible par",
                choices=VISIBILITY_CHOICES,
                initial=default_comment_visibility(code),
                help_text="Santé : par défaut, votre organisation seulement."
                if theme.sensitive
                else "",
            )
            if hidden:
                del self.fields[f"{code}-situations"]
            self.themes.append(
                {
                    "theme": theme,
                    "situations_hidden": hidden,
                    "fields": [
                        self[f"{code}-{name}"]
                        for name in ("situations", "level")
                        if f"{code}-{name}" in self.fields
                    ],
                    "comment": [self[f"{code}-{name}"] for name in ("comment", "visibility")],
                }
            )
        if draft:
            self.fields["made_on"].initial = previous.made_on if previous else None
            self.fields["co_author"].initial = previous.co_author_id if previous else None
        if previous is not None:
            for name in (
                "project",
                "qualification",
                "availability",
                "mobility_radius_km",
                "recommended_kind",
                "recommendation_reason",
            ):
                self.fields[name].initial = getattr(previous, name)

    def answers(self) -> list[ThemeAnswer]:
        data = self.cleaned_data
        return [
            ThemeAnswer(
                theme=t.code,
                level=data.get(f"{t.code}-level") or "",
                situations=self.carried_situations[t.code]
                if t.code in self.carried_situations
                else list(data.get(f"{t.code}-situations") or []),
                comment=data.get(f"{t.code}-comment", ""),
                visibility=data.get(f"{t.code}-visibility", ""),
            )
            for t in referential.themes()
        ]


class CommentForm(BinomeForm):
    text = forms.CharField(
        label="Commentaire",
        max_length=COMMENT_MAX_LENGTH,
        widget=_textarea(3),
        error_messages={"required": "Le commentaire est vide."},
    )
    visibility = forms.ChoiceField(label="Visible par", choices=VISIBILITY_CHOICES)

    def __init__(self, *args: Any, theme_code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visibility"].initial = default_comment_visibility(theme_code)


class ObjectiveForm(BinomeForm):
    """A new objective: a theme, and the referential's objective or a free text."""

    theme = forms.ChoiceField(label="Thème", choices=[])
    referential_label = forms.ChoiceField(
        label="Objectif du référentiel", required=False, choices=[]
    )
    free_label = forms.CharField(
        label="Ou un objectif en texte libre",
        required=False,
        max_length=LABEL_MAX_LENGTH,
        help_text="Si aucun objectif du référentiel ne convient.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = referential.theme_choices()
        grouped: list[Any] = [("", "Choisir un objectif")]
        grouped += [
            (t.label, [(f"{t.code}|{label}", label) for label in t.objectives])
            for t in referential.themes()
        ]
        self.fields["referential_label"].choices = grouped
        self.fields["referential_label"].error_messages["invalid_choice"] = (
            "Choisissez un objectif dans la liste du référentiel."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        theme, chosen = data.get("theme"), data.get("referential_label") or ""
        free = " ".join((data.get("free_label") or "").split())
        if chosen and free:
            raise forms.ValidationError(
                "Choisissez un objectif du référentiel ou écrivez-en un, pas les deux."
            )
        if not chosen and not free:
            raise forms.ValidationError(
                "Choisissez un objectif du référentiel ou écrivez-en un en texte libre."
            )
        if chosen and theme:
            code, label = chosen.split("|", 1)
            if code != theme:
                self.add_error(
                    "referential_label",
                    f"Cet objectif appartient au thème « {referential.theme_label(code)} », "
                    f"pas au thème « {referential.theme_label(theme)} ».",
                )
            data["label"] = label
        else:
            data["label"] = free
        return data


class VersionedForm(BinomeForm):
    """Carries the version of the item the form was opened on (see ``plan.StaleEdit``)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ObjectiveEditForm(VersionedForm):
    label = forms.CharField(label="Objectif", max_length=LABEL_MAX_LENGTH)
    status = forms.ChoiceField(label="Statut", choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = referential.objective_status_choices()


class ActionForm(VersionedForm):
    label = forms.CharField(
        label="Action",
        max_length=LABEL_MAX_LENGTH,
        error_messages={"required": "Indiquez l'action."},
    )
    status = forms.ChoiceField(label="Statut", choices=[])
    due_on = forms.DateField(
        label="Échéance", required=False, widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )
    carrier = forms.ChoiceField(label="Portée par", choices=[])

    def __init__(
        self, *args: Any, team: list[tuple[int, str]], creating: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = referential.action_status_choices()
        self.fields["carrier"].choices = [
            (PERSON_CARRIES, "La personne"),
            *((str(pk), name) for pk, name in team),
        ]
        if creating:
            del self.fields["version"]

    def carrier_value(self) -> tuple[int | None, bool]:
        """(user id carrying the action, or None; carried by the person)."""
        value = self.cleaned_data["carrier"]
        if value == PERSON_CARRIES:
            return None, True
        return int(value), False


class DepartmentSituationForm(BinomeForm):
    theme = forms.ChoiceField(label="Thème", choices=[])
    label = forms.CharField(
        label="Situation",
        max_length=200,
        error_messages={"required": "Indiquez la situation."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = referential.theme_choices()
