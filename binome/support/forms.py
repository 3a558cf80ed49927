from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from binome.access.predicates import allowed_team_roles, default_team_role
from binome.core.forms import BinomeForm
from binome.people.forms import PersonIdentityForm
from binome.support.models import (
    EXIT_FORM_REASONS,
    EXTENSION_MONTHS_BOUND,
    MAX_EXTENSIONS_BOUND,
    NOTE_MAX_LENGTH,
    Accompaniment,
    AppointmentStatus,
    ExitOrientation,
    FollowupOutcome,
    Kind,
    Medium,
    State,
    TeamMember,
    TeamRole,
    Visibility,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": "Date invalide : utilisez le format jj/mm/aaaa."}


def _not_future(value: Any) -> None:
    if value and value > timezone.localdate():
        raise forms.ValidationError("Cette date ne peut pas être dans le futur.")


class OpenAccompanimentForm(BinomeForm):
    kind = forms.ChoiceField(label="Type d'accompagnement", choices=Kind.choices)
    started_on = forms.DateField(
        label="Début", widget=DATE_WIDGET, error_messages=DATE_ERRORS, initial=timezone.localdate
    )
    planned_end_on = forms.DateField(
        label="Fin prévue",
        required=False,
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        help_text="Un accompagnement global dure 12 mois : sa fin est calculée.",
    )
    role = forms.ChoiceField(
        label="Votre rôle dans l'équipe",
        choices=TeamRole.choices,
        help_text="Les rôles proposés suivent la fonction que votre organisation a déclarée.",
    )
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoire si vous ne faites pas encore partie de l'équipe de la personne.",
    )

    def __init__(self, *args: Any, function: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = team_role_choices(function)


class TransitionForm(BinomeForm):
    to_state = forms.ChoiceField(label="Nouvel état", choices=[])
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoire pour une suspension.",
    )

    def __init__(self, *args: Any, allowed: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [
            (value, label) for value, label in State.choices if value in allowed
        ]
        self.fields["to_state"].error_messages["invalid_choice"] = (
            "Ce changement d'état n'est pas possible depuis l'état actuel (la page n'était "
            "peut-être plus à jour) : choisissez dans la liste."
        )


class ExtendForm(BinomeForm):
    new_end_on = forms.DateField(
        label="Nouvelle fin prévue", widget=DATE_WIDGET, error_messages=DATE_ERRORS
    )
    justification = forms.CharField(
        label="Justification",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "La prolongation doit être justifiée."},
    )


class ExitForm(BinomeForm):
    ended_on = forms.DateField(
        label="Date de sortie",
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        initial=timezone.localdate,
        validators=[_not_future],
    )
    reason = forms.ChoiceField(label="Motif de sortie", choices=EXIT_FORM_REASONS)
    situation = forms.CharField(
        label="Situation à la sortie",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Décrivez la situation de la personne à la sortie."},
    )


class RadioButtons(forms.RadioSelect):
    """DSFR radio buttons, one per line."""

    option_template_name = "support/widgets/radio_option.html"


# What ``Diagnostic.recommended_kind`` (the referential's orientation kinds) proposes.
PERTINENT, NOT_PERTINENT = "pertinent", "non_pertinent"
DECISION_BY_RECOMMENDATION = {
    "socio_pro": (PERTINENT, ""),
    "social": (NOT_PERTINENT, ExitOrientation.SOCIAL),
    "pro": (NOT_PERTINENT, ExitOrientation.FRANCE_TRAVAIL),
}


class DecisionForm(BinomeForm):
    """The decision taken with the person after the validated shared diagnostic."""

    decision = forms.ChoiceField(
        label="Décision prise avec la personne",
        choices=[
            (PERTINENT, "L'accompagnement global est pertinent : l'activer"),
            (NOT_PERTINENT, "L'accompagnement global n'est pas pertinent : le clore et orienter"),
        ],
        widget=RadioButtons,
        error_messages={"required": "Choisissez la décision prise avec la personne."},
    )
    orientation = forms.ChoiceField(
        label="Orientation vers",
        choices=ExitOrientation.choices,
        widget=RadioButtons,
        required=False,
        help_text="Quand l'accompagnement global n'est pas pertinent.",
    )
    decided_on = forms.DateField(
        label="Date de la décision",
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        initial=timezone.localdate,
        validators=[_not_future],
        help_text="Les 12 mois de l'accompagnement global comptent à partir de cette date.",
    )
    reason = forms.CharField(
        label="Ce qui a été décidé avec la personne",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, recommended_kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        decision, orientation = DECISION_BY_RECOMMENDATION.get(recommended_kind, ("", ""))
        self.fields["decision"].initial = decision
        self.fields["orientation"].initial = orientation

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == NOT_PERTINENT and not data.get("orientation"):
            self.add_error(
                "orientation", "Choisissez vers quel accompagnement la personne est orientée."
            )
        return data


class SupportSettingsForm(BinomeForm):
    """A territory's bounds on the extension of a global accompaniment."""

    max_extensions = forms.IntegerField(
        label="Nombre de prolongations permises",
        min_value=0,
        max_value=MAX_EXTENSIONS_BOUND,
        help_text=f"De 0 à {MAX_EXTENSIONS_BOUND} ; 1 par défaut.",
        error_messages={
            "required": "Indiquez le nombre de prolongations permises.",
            "invalid": "Indiquez un nombre entier.",
            "min_value": "Le nombre de prolongations ne peut pas être négatif.",
            "max_value": f"Le nombre de prolongations ne dépasse pas {MAX_EXTENSIONS_BOUND}.",
        },
    )
    extension_months = forms.IntegerField(
        label="Durée maximale d'une prolongation (mois)",
        min_value=1,
        max_value=EXTENSION_MONTHS_BOUND,
        help_text=f"De 1 à {EXTENSION_MONTHS_BOUND} mois ; 6 par défaut.",
        error_messages={
            "required": "Indiquez la durée maximale d'une prolongation.",
            "invalid": "Indiquez un nombre entier de mois.",
            "min_value": "Une prolongation dure au moins 1 mois.",
            "max_value": f"Une prolongation ne dépasse pas {EXTENSION_MONTHS_BOUND} mois.",
        },
    )


class FollowupForm(BinomeForm):
    """The situation six months after the exit (the same words as the exit reasons)."""

    outcome = forms.ChoiceField(
        label="Situation de la personne 6 mois après la sortie",
        choices=FollowupOutcome.choices,
        widget=RadioButtons,
        error_messages={
            "required": "Choisissez la situation de la personne.",
            "invalid_choice": "Cette situation n'existe pas : choisissez-en une dans la liste.",
        },
    )
    situation = forms.CharField(
        label="Précisions",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoires si vous choisissez « Autre ».",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == FollowupOutcome.OTHER and not data.get("situation", "").strip():
            self.add_error("situation", "Précisez la situation quand vous choisissez « Autre ».")
        return data


def team_role_choices(function: str | None) -> list[tuple[str, str]]:
    """The team roles a member may choose: those their declared function allows, the
    function's own role first (what a select shows when nothing is chosen: a social worker
    who keeps it takes the binôme's social-worker part)."""
    allowed = allowed_team_roles(function)
    default = default_team_role(function)
    choices = [(value, label) for value, label in TeamRole.choices if value in allowed]
    return sorted(choices, key=lambda choice: choice[0] != default)


class JoinForm(BinomeForm):
    accompaniment = forms.TypedChoiceField(label="Accompagnement", coerce=int, choices=[])
    reason = forms.CharField(
        label="Pourquoi rejoignez-vous ce dossier ?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce motif est enregistré et visible de la personne.",
        error_messages={"required": "Indiquez pourquoi vous rejoignez ce dossier."},
    )

    def __init__(self, *args: Any, accompaniments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accompaniment"].choices = [
            (
                a.pk,
                f"{a.get_kind_display()} — {a.get_state_display().lower()}, depuis le "
                f"{a.started_on:%d/%m/%Y}",
            )
            for a in accompaniments
        ]


class JoinDecisionForm(BinomeForm):
    decision = forms.ChoiceField(
        label="Réponse", choices=[("accept", "Accepter"), ("decline", "Refuser")]
    )
    reason = forms.CharField(
        label="Motif du refus",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Obligatoire pour refuser une demande ; il est transmis au demandeur.",
    )


class InviteToTeamForm(BinomeForm):
    email = forms.EmailField(
        label="Adresse e-mail du professionnel",
        help_text="Un membre d'une organisation du département, inscrit dans Binôme.",
        error_messages={
            "required": "Indiquez l'adresse e-mail du professionnel à inviter.",
            "invalid": "Cette adresse e-mail n'est pas valide (exemple : prenom.nom@caf.fr).",
        },
    )
    reason = forms.CharField(
        label="Pourquoi l'invitez-vous ?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce motif est enregistré et visible de la personne accompagnée.",
        error_messages={"required": "Indiquez pourquoi vous invitez ce professionnel."},
    )


class NoteForm(BinomeForm):
    date = forms.DateField(
        label="Date de l'entretien",
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        initial=timezone.localdate,
        validators=[_not_future],
    )
    medium = forms.ChoiceField(label="Modalité", choices=Medium.choices)
    text = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={
            "required": "La note est vide.",
            "max_length": (
                "La note compte %(show_value)s caractères : le maximum est %(limit_value)s. "
                "Résumez-la ou découpez-la en plusieurs notes (votre texte est conservé "
                "ci-dessous)."
            ),
        },
    )
    is_health = forms.BooleanField(
        label="Contient des informations de santé",
        required=False,
        help_text="Une note de santé est visible de votre organisation seulement, sauf choix "
        "contraire.",
    )
    visibility = forms.ChoiceField(
        label="Visible par",
        choices=[
            ("", "Par défaut (l'équipe, ou votre organisation pour la santé)"),
            *Visibility.choices,
        ],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser must not cut a long paste silently: the server says what is too long.
        self.fields["text"].widget.attrs.pop("maxlength", None)


class AppointmentForm(BinomeForm):
    at = forms.DateTimeField(
        label="Date et heure",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Date et heure invalides.", "required": "Indiquez la date."},
    )
    place = forms.CharField(label="Lieu", max_length=200)
    with_whom = forms.CharField(label="Avec", max_length=200)
    status = forms.ChoiceField(
        label="Statut", choices=AppointmentStatus.choices, initial=AppointmentStatus.PLANNED
    )


class PersonForm(PersonIdentityForm):
    """A new file: identity, contact, identifiers, and the first accompaniment."""

    kind = forms.ChoiceField(
        label="Accompagnement proposé", choices=Kind.choices, initial=Kind.GLOBAL
    )
    role = forms.ChoiceField(
        label="Votre rôle dans l'équipe", choices=TeamRole.choices, initial=TeamRole.REFERENT
    )
    confirm_new = forms.BooleanField(
        label="J'ai vérifié : il ne s'agit d'aucune des personnes proposées, je crée un "
        "nouveau dossier.",
        required=False,
    )


class _TeamChangeForm(BinomeForm):
    """A change of the team (its referent, a member's role): who, and why."""

    member = forms.ModelChoiceField(
        label="Membre de l'équipe",
        queryset=TeamMember.objects.none(),
        error_messages={
            "required": "Choisissez un membre de l'équipe.",
            "invalid_choice": "Ce professionnel ne fait plus partie de l'équipe : rechargez.",
        },
    )
    reason = forms.CharField(
        label="Motif du changement",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Indiquez le motif du changement."},
        help_text="Il figure dans l'historique du dossier.",
    )

    def __init__(self, *args: Any, accompaniment: Accompaniment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        field.queryset = (
            accompaniment.team.current().select_related("user", "organisation").order_by("id")
        )
        field.label_from_instance = lambda m: (
            f"{m.user.get_full_name()} — {m.get_role_display()} ({m.organisation.name})"
        )


class ReferentForm(_TeamChangeForm):
    """Designate the accompaniment's referent."""

    field_order = ["member", "reason"]


class TeamRoleForm(_TeamChangeForm):
    """Change a member's role on the team."""

    role = forms.ChoiceField(
        label="Nouveau rôle",
        choices=TeamRole.choices,
        help_text="Les rôles possibles suivent la fonction déclarée par l'organisation du membre.",
    )
    field_order = ["member", "role", "reason"]
