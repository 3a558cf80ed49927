from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cached_property
from typing import Any, NamedTuple

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils import timezone

from binome.accounts.models import User
from binome.core.documents import check_document
from binome.core.forms import BinomeForm
from binome.core.http import parse_id
from binome.core.queries import PreparedQuery
from binome.core.widgets import UploadInput
from binome.directory.models import PublicationStatus, Service
from binome.directory.search import search_services
from binome.organisations.models import Membership, Organisation, OrganisationKind
from binome.people.forms import DATE_WIDGET
from binome.people.models import ConsentMethod, Person
from binome.referrals.actions import MAX_ATTACHMENTS
from binome.referrals.models import (
    DEFAULT_URGENT_HOURS,
    URGENT_HOURS_MAX,
    URGENT_HOURS_MIN,
    DeclineReason,
    Referral,
    ReferralKind,
    ReferralSettings,
    SharedItemType,
    Status,
    Urgency,
)
from binome.support.access import FileAccess
from binome.support.forms import RadioButtons
from binome.support.models import Accompaniment, Diagnostic, Kind, Note, Objective
from binome.support.plan_forms import CHECKBOXES_SNIPPET, Checkboxes, InlineRadioSelect
from binome.support.referential import theme_choices, theme_label

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MultipleFileInput(UploadInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked (size, type by its content)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(accept=".pdf,.png,.jpg,.jpeg"))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Joignez {MAX_ATTACHMENTS} documents au plus.")
        cleaned = [super(MultipleFileField, self).clean(one, initial) for one in files]
        errors = []
        for upload in cleaned:
            try:
                check_document(
                    upload,
                    limit=settings.REFERRAL_ATTACHMENT_MAX_BYTES,
                    label=f"Le document « {upload.name} »",
                )
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


def recipient_organisations(department_id: str, exclude: Organisation | None) -> Any:
    """The territory's organisations and its declared partners (not the crèches)."""
    qs = (
        Organisation.objects.filter(
            Q(department_id=department_id) | Q(partnerships__department_id=department_id),
            is_active=True,
        )
        .exclude(kind=OrganisationKind.CHILDCARE)
        .distinct()
        .order_by("name")
    )
    return qs.exclude(pk=exclude.pk) if exclude is not None else qs


def shared_item_choices(person: Person, access: FileAccess) -> list[tuple[str, str]]:
    """The items of the file the sender sees and may choose to share (latest first)."""
    choices: list[tuple[str, str]] = []
    for diagnostic in (  # a draft is not shared: only a validated diagnostic counts
        Diagnostic.objects.validated()
        .filter(person=person)
        .visible_to(access)
        .order_by("-made_on", "-id")[:5]
    ):
        choices.append(
            (
                f"{SharedItemType.DIAGNOSTIC}:{diagnostic.pk}",
                f"Diagnostic partagé du {diagnostic.made_on:%d/%m/%Y} (freins et projet)",
            )
        )
    for objective in (
        Objective.objects.filter(person=person).visible_to(access).order_by("created_at", "id")[:20]
    ):
        choices.append(
            (
                f"{SharedItemType.OBJECTIVE}:{objective.pk}",
                f"Objectif du plan ({theme_label(objective.theme)}) : {objective.label}",
            )
        )
    for note in Note.objects.filter(person=person).visible_to(access).order_by("-date", "-id")[:20]:
        choices.append(
            (
                f"{SharedItemType.NOTE}:{note.pk}",
                f"Note d'entretien du {note.date:%d/%m/%Y} ({note.get_medium_display().lower()})",
            )
        )
    return choices


RADIOS_SNIPPET = "dsfr/form_field_snippets/radioselect_snippet.html"
# A field required for some kinds of orientation only: shown with the kinds it serves
# (``referrals/referral_form.js`` hides it for the others), marked required for them.
KIND_FIELD_SNIPPET = "referrals/widgets/kind_field.html"


# The service of a referral is chosen among the results of a search of the directory, shown
# as radio buttons (``referrals/widgets/service_field.html``): a département holds
# thousands of services, too many for one list.
SERVICE_FIELD_SNIPPET = "referrals/widgets/service_field.html"
SERVICE_RESULTS = 10
SERVICE_QUERY_MAX = 100
SERVICE_SEARCH_ID = "id_service_search"


class ServiceResults(NamedTuple):
    services: list[Service]  # with their structure and commune
    total: int  # how many the search found


def for_kinds(field: forms.Field, *kinds: str, required_for: str) -> forms.Field:
    """``field``, shown for these kinds of orientation only and said required for them
    (``required_for``); ``ReferralForm.clean`` requires it."""
    field.kinds = " ".join(kinds)  # type: ignore[attr-defined]
    field.required_for = required_for  # type: ignore[attr-defined]
    field.template_name = KIND_FIELD_SNIPPET  # type: ignore[attr-defined]
    return field


class ReferralForm(BinomeForm):
    """Orient a person: to the binôme, to social support, to a service, or ask a
    reorientation."""

    kind = forms.ChoiceField(
        label="Type d'orientation",
        choices=[c for c in ReferralKind.choices if c[0] != ReferralKind.RSA],
        widget=RadioButtons,
        template_name=RADIOS_SNIPPET,  # type: ignore[call-arg]
    )
    to_organisation = for_kinds(
        forms.ModelChoiceField(
            label="Organisation destinataire",
            queryset=Organisation.objects.none(),
            required=False,
            help_text="Les organisations du territoire et ses partenaires déclarés.",
        ),
        ReferralKind.GLOBAL,
        ReferralKind.SOCIAL,
        required_for="obligatoire pour l'accompagnement global ou social",
    )
    service = for_kinds(
        forms.ModelChoiceField(
            label="Service de l'annuaire",
            queryset=Service.objects.none(),
            required=False,
            widget=RadioButtons,
            help_text="Y compris d'une structure sans compte dans Binôme (elle reçoit un lien "
            "sécurisé par courriel).",
            error_messages={
                "invalid_choice": "Ce service ne peut pas être choisi : choisissez un service "
                "publié de l'annuaire du département de la personne, trouvé par la recherche."
            },
        ),
        ReferralKind.SERVICE,
        required_for="obligatoire pour une orientation vers un service",
    )
    service.template_name = SERVICE_FIELD_SNIPPET  # type: ignore[attr-defined]
    requested_kind = for_kinds(
        forms.ChoiceField(
            label="Accompagnement demandé (réorientation)",
            choices=[("", "—"), *Kind.choices],
            required=False,
        ),
        ReferralKind.REORIENTATION,
        required_for="obligatoire pour une demande de réorientation",
    )
    reason = forms.CharField(
        label="Motif de l'orientation",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        error_messages={"required": "Indiquez le motif de l'orientation."},
    )
    barriers = forms.MultipleChoiceField(
        label="Freins concernés",
        choices=theme_choices,
        required=False,
        widget=Checkboxes,
        template_name=CHECKBOXES_SNIPPET,  # type: ignore[call-arg]
    )
    urgency = forms.ChoiceField(
        label="Urgence",
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=InlineRadioSelect,
        template_name=RADIOS_SNIPPET,  # type: ignore[call-arg]
    )
    items = forms.MultipleChoiceField(
        label="Éléments du dossier transmis",
        required=False,
        widget=Checkboxes,
        template_name=CHECKBOXES_SNIPPET,  # type: ignore[call-arg]
        help_text="Seuls les éléments cochés seront visibles du destinataire.",
    )
    attachments = MultipleFileField(
        label="Pièces jointes",
        required=False,
        help_text=f"PDF, PNG ou JPEG, {MAX_ATTACHMENTS} documents de 5 Mo au plus.",
    )
    consent_now = forms.ChoiceField(
        label="Consentement de la personne à cette orientation",
        choices=[
            ("", "Déjà enregistré dans le dossier"),
            (ConsentMethod.ORAL, "Recueilli à l'oral aujourd'hui : l'enregistrer"),
            (ConsentMethod.WRITTEN, "Recueilli par écrit aujourd'hui : l'enregistrer"),
        ],
        required=False,
        help_text="Une orientation vers une autre organisation exige le consentement de la "
        "personne, nommant le destinataire.",
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        person: Person,
        access: FileAccess,
        organisation: Organisation,
        accompaniment: Accompaniment | None,
        service_query: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        self.accompaniment = accompaniment
        self.service_query = " ".join(service_query.split())[:SERVICE_QUERY_MAX]
        # One's own organisation too: its dedicated counselors (accompagnement global).
        self.fields["to_organisation"].queryset = recipient_organisations(
            person.department_id, None
        )
        self.fields["to_organisation"].label_from_instance = lambda o: (
            f"{o.name} (mon organisation : ses conseillers dédiés)"
            if o.pk == organisation.pk
            else o.name
        )
        # The services allowed: those published in the person's département, and the one the
        # form was opened on (from its page in the directory). The posted choice is checked
        # against them; only the search's results are shown (``service_results``).
        services = Service.objects.filter(
            status=PublicationStatus.PUBLISHED, department_id=person.department_id
        )
        wanted = self.initial.get("service")
        if wanted:
            services = Service.objects.filter(
                Q(pk__in=services.values("pk")) | Q(pk=wanted, status=PublicationStatus.PUBLISHED)
            )
        self.fields["service"].queryset = services.select_related("structure")
        self.fields["service"].widget.choices = []
        self.service_wanted: int | None = wanted
        self.fields["items"].choices = shared_item_choices(person, access)
        if accompaniment is None:
            self.fields["kind"].choices = [
                c
                for c in ReferralKind.choices
                if c[0] not in (ReferralKind.REORIENTATION, ReferralKind.RSA)
            ]
        self.fields["idempotency_key"].initial = uuid.uuid4()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind in (ReferralKind.GLOBAL, ReferralKind.SOCIAL) and not data.get("to_organisation"):
            self.add_error("to_organisation", "Choisissez l'organisation destinataire.")
        if kind == ReferralKind.SERVICE and not data.get("service"):
            self.add_error("service", "Choisissez le service de l'annuaire.")
        if kind == ReferralKind.REORIENTATION and not data.get("requested_kind"):
            self.add_error("requested_kind", "Choisissez l'accompagnement demandé.")
        return data

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor, label, message) of each error, for the summary at the top of the page:
        a radio or checkbox group's anchor is its first box."""
        summary = []
        for name, errors in self.errors.items():
            if name == "__all__" or name not in self.fields:
                continue
            bound = self[name]
            multiple = isinstance(bound.field.widget, forms.RadioSelect | Checkboxes)
            anchor = f"{bound.auto_id}_0" if multiple else bound.auto_id
            if name == "service":  # its search comes first, and is always there
                anchor = SERVICE_SEARCH_ID
            summary += [(str(anchor), str(bound.label), str(error)) for error in errors]
        return summary

    @cached_property
    def service_results(self) -> ServiceResults:
        """The services offered as radio buttons, and how many the search found: the search's
        first results among the allowed services (``search_services``, the directory's own
        ranking, scoped to the person's département), after the service already chosen
        (posted, or the one the form was opened on) when the search does not show it."""
        results: list[Service] = []
        total = 0
        if self.service_query and self.person.department_id:
            found = search_services(
                text=self.service_query,
                department=self.person.department_id,
                per_page=SERVICE_RESULTS,
            )
            results, total = found.services, found.total
        chosen = parse_id(self.data.get("service")) if self.is_bound else None
        chosen = chosen or self.service_wanted
        if chosen is not None and chosen not in {service.pk for service in results}:
            service = (
                self.fields["service"]
                .queryset.select_related("structure", "commune")
                .filter(pk=chosen)
                .first()
            )
            if service is not None:
                results.insert(0, service)
        return ServiceResults(results, total)

    def shared_items(self) -> list[tuple[str, int]]:
        chosen = []
        for value in self.cleaned_data.get("items") or []:
            item_type, _, item_id = value.partition(":")
            chosen.append((item_type, int(item_id)))
        return chosen


class AcceptForm(BinomeForm):
    appointment_at = forms.DateTimeField(
        label="Date et heure du rendez-vous",
        required=False,
        widget=DATETIME_WIDGET,
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
        help_text="Pour l'accompagnement global : le rendez-vous du diagnostic partagé.",
        error_messages={"invalid": "Date invalide : utilisez le format jj/mm/aaaa hh:mm."},
    )
    place = forms.CharField(label="Lieu du rendez-vous", max_length=200, required=False)
    first_step = forms.CharField(
        label="Ou : première étape prévue",
        max_length=300,
        required=False,
        help_text="Par exemple : appel de la personne cette semaine.",
    )
    message = forms.CharField(
        label="Message à l'orienteur",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not self.errors
            and data.get("appointment_at") is None
            and not (data.get("first_step") or "").strip()
        ):
            self.add_error(
                "appointment_at", "Indiquez la date du rendez-vous ou la première étape prévue."
            )
        when = data.get("appointment_at")
        if when is not None and when < timezone.now() - timedelta(minutes=5):
            self.add_error("appointment_at", "Cette date est passée : indiquez une date à venir.")
        return data


class DeclineForm(BinomeForm):
    reason = forms.ChoiceField(
        label="Motif du refus",
        choices=[c for c in DeclineReason.choices if c[0] != DeclineReason.MAINTAINED],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif du refus."},
    )
    message = forms.CharField(
        label="Message à l'orienteur",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        help_text="Obligatoire pour le motif « Autre motif ».",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == DeclineReason.OTHER and not (data.get("message") or "").strip():
            self.add_error("message", "Précisez le motif du refus.")
        return data


OUTCOMES = {
    Status.STARTED: "La personne a commencé",
    Status.COMPLETED: "La personne a terminé",
    Status.ABANDONED: "La personne a abandonné",
    Status.NO_SHOW: "La personne n'est pas venue",
}


class OutcomeForm(BinomeForm):
    outcome = forms.ChoiceField(
        label="Suite de l'orientation",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la suite de l'orientation."},
    )
    on = forms.DateField(
        label="Date",
        required=False,
        widget=DATE_WIDGET,
        error_messages={"invalid": "Date invalide : utilisez le format jj/mm/aaaa."},
    )
    message = forms.CharField(
        label="Précisions",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = referral.allowed_transitions()
        self.fields["outcome"].choices = [(k, v) for k, v in OUTCOMES.items() if k in allowed]


class WithdrawForm(BinomeForm):
    message = forms.CharField(
        label="Pourquoi retirer cette orientation ?", max_length=4000, required=False
    )


class ReorientForm(BinomeForm):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[("reorient", "Réorienter"), ("maintain", "Maintenir l'accompagnement actuel")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez : réorienter ou maintenir."},
    )
    new_organisation = forms.ModelChoiceField(
        label="Nouvelle organisation référente",
        queryset=Organisation.objects.none(),
        required=False,
    )
    referent = forms.ModelChoiceField(
        label="Nouveau ou nouvelle référente",
        queryset=User.objects.none(),
        required=False,
        help_text="Un membre de la nouvelle organisation.",
    )
    message = forms.CharField(
        label="Motif de la décision",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages={"required": "Indiquez le motif de la décision."},
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_organisation"].queryset = recipient_organisations(department_id, None)
        self.fields["referent"].queryset = User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(organisation__department_id=department_id)
            .exclude(organisation__kind=OrganisationKind.CHILDCARE)
            .values("user_id")
        ).order_by("last_name", "first_name")
        self.fields["referent"].label_from_instance = lambda u: u.get_full_name()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reorient":
            if not data.get("new_organisation"):
                self.add_error("new_organisation", "Choisissez la nouvelle organisation.")
            if not data.get("referent"):
                self.add_error("referent", "Choisissez le ou la nouvelle référente.")
        return data


class AssignForm(BinomeForm):
    referrals = forms.ModelMultipleChoiceField(
        label="Orientations",
        queryset=Referral.objects.none(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Cochez au moins une orientation."},
    )
    to_user = forms.ModelChoiceField(
        label="Attribuer à",
        queryset=User.objects.none(),
        required=False,
        empty_label="Personne (toute l'équipe)",
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["referrals"].queryset = Referral.objects.received_by(organisation.pk)
        self.fields["to_user"].queryset = assignable_members(organisation)
        self.fields["to_user"].label_from_instance = lambda u: u.get_full_name()


def assignable_members(organisation: Organisation) -> QuerySet[User]:
    """The members an inbox's referrals may be assigned to, by name."""
    return User.objects.filter(
        pk__in=Membership.objects.active().filter(organisation=organisation).values("user_id")
    ).order_by("last_name", "first_name")


# The same members, compiled once per process: the inbox reads them on every page.
_ASSIGNABLE = PreparedQuery(
    lambda p: assignable_members(Organisation(pk=p.organisation)).values(
        "pk", "first_name", "last_name"
    ),
    organisation=int,
)


def assign_choices(organisation: Organisation) -> list[tuple[str, str]]:
    """The members an inbox's referrals may be assigned to, as (id, name): the choices of
    :class:`AssignForm`, read in one plain query for the inbox's own select (without
    building the form)."""
    return [
        (str(row["pk"]), f"{row['first_name']} {row['last_name']}".strip())
        for row in _ASSIGNABLE.run(organisation=organisation.pk)
    ]


class SettingsForm(BinomeForm, forms.ModelForm):
    class Meta:
        model = ReferralSettings
        fields = ["reminder_days", "expiry_days", "urgent_hours"]
        error_messages = {
            "reminder_days": {"min_value": "Au moins un jour."},
            "expiry_days": {"min_value": "Au moins un jour."},
            "urgent_hours": {
                "min_value": f"Entre {URGENT_HOURS_MIN} et {URGENT_HOURS_MAX} heures.",
                "max_value": f"Entre {URGENT_HOURS_MIN} et {URGENT_HOURS_MAX} heures.",
            },
        }
        help_texts = {
            "urgent_hours": f"Entre {URGENT_HOURS_MIN} et {URGENT_HOURS_MAX} heures "
            "(48 par défaut) à compter de l'envoi ; le destinataire est relancé à mi-délai "
            "puis à l'échéance.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left empty (or not posted): the territory's current value is kept.
        self.fields["urgent_hours"].required = False

    def clean_urgent_hours(self) -> int:
        value = self.cleaned_data["urgent_hours"]
        if value is None:
            return int(self.instance.urgent_hours or DEFAULT_URGENT_HOURS)
        if not URGENT_HOURS_MIN <= value <= URGENT_HOURS_MAX:
            raise forms.ValidationError(f"Entre {URGENT_HOURS_MIN} et {URGENT_HOURS_MAX} heures.")
        return int(value)

    def clean_reminder_days(self) -> int:
        value = self.cleaned_data["reminder_days"]
        if not 1 <= value <= 90:
            raise forms.ValidationError("Entre 1 et 90 jours.")
        return int(value)

    def clean_expiry_days(self) -> int:
        value = self.cleaned_data["expiry_days"]
        if not 1 <= value <= 180:
            raise forms.ValidationError("Entre 1 et 180 jours.")
        return int(value)


class PartnerForm(BinomeForm):
    organisation = forms.ModelChoiceField(
        label="Organisation d'un autre département",
        queryset=Organisation.objects.none(),
        error_messages={"required": "Choisissez l'organisation partenaire."},
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            Organisation.objects.filter(is_active=True)
            .exclude(department_id=department_id)
            .exclude(partnerships__department_id=department_id)
            .order_by("department_id", "name")
        )
        self.fields["organisation"].label_from_instance = lambda o: f"{o.name} ({o.department_id})"
