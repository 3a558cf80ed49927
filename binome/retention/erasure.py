"""What anonymisation erases, declared once, and the erasure of a batch of files in one
statement per table.

Every text of a model that belongs to a person's file is either listed here as erased
(``ERASED``: the field and what it becomes), on a row deleted whole (``DELETED``: the
uploaded files), or listed as structural with the reason it stays (``STRUCTURAL``). A
field with a closed list of choices is a code, not a text: it stays. A test walks every
model linked to a person and fails on a text that is in none of these lists.

The models are named by their label (``"steering.ComiteCase"``) so that retention reads the
rows of the apps above it without importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Case, CharField, Expression, Model, QuerySet, Value, When
from django.db.models.functions import Cast, Concat, TruncMonth
from django.utils import timezone

from binome.accounts.models import User
from binome.core.text import normalize
from binome.notifications.models import RETENTION as NOTIFICATION_RETENTION
from binome.notifications.models import Notification, NotificationKind
from binome.people.models import Person
from binome.support.models import Accompaniment, EventKind

ANONYMOUS_FIRST_NAME = "Personne"
ANONYMOUS_LAST_NAME = "anonymisée"


def _timeline_kinds() -> Expression:
    """A timeline line keeps its kind's label: its summary names people and places."""
    return Case(
        *(When(kind=kind, then=Value(str(label))) for kind, label in EventKind.choices),
        default=Value("Événement"),
    )


type Replacement = Any | Callable[[], Any]


@dataclass(frozen=True)
class Erased:
    """The fields of a model erased on the rows of the files anonymised: ``person`` is the
    lookup from the model to the person's id."""

    label: str
    person: str
    values: Mapping[str, Replacement]

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)

    def resolved(self) -> dict[str, Any]:
        return {name: value() if callable(value) else value for name, value in self.values.items()}


@dataclass(frozen=True)
class Deleted:
    """Rows deleted whole, with the files they hold on the storage."""

    label: str
    person: str
    file_field: str

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.label)


# The notifications whose body may quote the person's name (the others say « une
# personne »): the name is replaced in those still kept.
QUOTING_NOTIFICATIONS = (NotificationKind.RSA,)
# The person herself is erased apart (her account, her search key): ``erase_persons``.
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "france_travail_id",
    "caf_number",
    "nir_hash",
    "nir_encrypted",
    "search_name",
)

ERASED: tuple[Erased, ...] = (
    Erased(
        "people.HouseholdMember",
        "person_id",
        {"first_name": "", "birth_date": lambda: TruncMonth("birth_date")},
    ),
    Erased("people.Consent", "person_id", {"document": "", "document_type": ""}),
    Erased(
        "support.Accompaniment",
        "person_id",
        {"extension_justification": "", "exit_situation": "", "followup_situation": ""},
    ),
    Erased("support.Transition", "accompaniment__person_id", {"reason": ""}),
    Erased("support.Extension", "accompaniment__person_id", {"justification": ""}),
    Erased("support.TeamMember", "person_id", {"join_reason": "", "leave_reason": ""}),
    Erased("support.JoinRequest", "person_id", {"reason": "", "decline_reason": ""}),
    Erased("support.Note", "person_id", {"text": ""}),
    Erased("support.Appointment", "person_id", {"place": "", "with_whom": ""}),
    Erased("support.TimelineEvent", "person_id", {"summary": _timeline_kinds}),
    Erased(
        "support.Diagnostic",
        "person_id",
        {"project": "", "qualification": "", "recommendation_reason": ""},
    ),
    Erased("support.DiagnosticComment", "person_id", {"text": ""}),
    # The plan keeps its objectives' themes and statuses and its actions' statuses.
    Erased("support.Objective", "person_id", {"label": "Objectif"}),
    Erased("support.Action", "person_id", {"label": "Action"}),
    Erased(
        "referrals.Referral",
        "person_id",
        {"reason": "", "answer_message": "", "first_step": "", "outcome_message": ""},
    ),
    Erased("referrals.ReferralEvent", "referral__person_id", {"message": "", "details": dict}),
    Erased(
        "childcare.ChildcareRequest",
        "person_id",
        {"schedule": "", "withdrawn_reason": "", "eligibility_reason": ""},
    ),
    Erased(
        "childcare.RequestChild",
        "request__person_id",
        {"first_name": "", "birth_date": lambda: TruncMonth("birth_date")},
    ),
    Erased(
        "childcare.Solicitation", "request__person_id", {"place_details": "", "decline_details": ""}
    ),
    Erased("childcare.Placement", "person_id", {"end_details": "", "followup_situation": ""}),
    Erased(
        "rsa.Beneficiary",
        "person_id",
        {
            "first_name": "",
            "last_name": "",
            "birth_name": "",
            "birth_date": lambda: TruncMonth("birth_date"),
            "nir_hash": "",
            "nir_encrypted": "",
            "france_travail_id": "",
        },
    ),
    Erased("rsa.Orientation", "person_id", {"aspirations": "", "reorientation_reason": ""}),
    # The comité's pseudonymised summary still tells a life: its texts go, its bands stay.
    Erased(
        "steering.ComiteCase",
        "person_id",
        {"barriers": "", "tried": "", "question": "", "decision": ""},
    ),
)

DELETED: tuple[Deleted, ...] = (Deleted("referrals.Attachment", "referral__person_id", "file"),)

# Texts that stay, with why: "app.Model.field" → the reason.
STRUCTURAL: dict[str, str] = {
    "support.TimelineEvent.target_type": "le type de l'objet visé (nom d'un modèle)",
    "support.DiagnosticTheme.situations": "les codes des situations du référentiel",
    "support.DiagnosticValidation.side": "le côté qui valide (professionnel, social)",
    "rsa.Beneficiary.activity": "le code d'activité du flux de la CAF (une nomenclature)",
    "referrals.Referral.contact_email": "l'adresse de la structure destinataire",
    "referrals.ReferralEvent.actor_label": "le nom du professionnel ou de la structure qui a agi",
    "referrals.ReferralLink.nonce": "le jeton aléatoire d'un lien déjà envoyé",
    "referrals.ReferralMilestones.kind": "le type de l'orientation (un code), copié d'elle "
    "pour les chiffres",
    "referrals.ReferralLink.email": "l'adresse de la structure qui a reçu le lien",
    "retention.LegalHold.reason": (
        "le motif légal posé par l'administrateur : il justifie pourquoi le dossier a été gardé"
    ),
    "retention.Anonymisation.reason": (
        "le motif d'effacement d'un dossier créé par erreur, écrit par l'administrateur"
    ),
    "retention.RetentionNotice.recipient_ids": "les numéros des professionnels prévenus",
    "retention.Archive.reason": (
        "le motif du rétablissement d'un dossier archivé par erreur, écrit par l'administrateur"
    ),
}


def erased_fields() -> dict[str, set[str]]:
    """``{"app.Model": {field, …}}`` of what anonymisation erases or deletes."""
    found: dict[str, set[str]] = {"people.Person": set(PERSON_FIELDS)}
    for erased in ERASED:
        found.setdefault(erased.label, set()).update(erased.values)
    for deleted in DELETED:
        found[deleted.label] = {field.name for field in deleted.model._meta.concrete_fields}
    return found


def keep_ages(person_ids: list[int]) -> None:
    """Write each accompaniment's age at its start and at its activation before the birth
    date loses its day."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Accompaniment._meta.db_table} a
                SET age_at_start = COALESCE(
                        a.age_at_start, date_part('year', age(a.started_on, p.birth_date))),
                    age_at_activation = COALESCE(
                        a.age_at_activation,
                        date_part('year', age(a.activated_on, p.birth_date)))
                FROM {Person._meta.db_table} p
                WHERE p.id = a.person_id AND a.person_id = ANY(%s)""",  # noqa: S608 (table names from the models)
            [person_ids],
        )


def erase_persons(person_ids: list[int]) -> None:
    """Erase what identifies the persons ``person_ids`` and tells of them in free text, one
    statement per table; keep the structure (dates, kinds, states, outcomes, barrier levels,
    the commune). Their uploaded files are deleted from the storage once committed."""
    if not person_ids:
        return
    keep_ages(person_ids)
    _unquote_notifications(person_ids)
    user_ids = list(
        Person.objects.filter(pk__in=person_ids, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    Person.objects.filter(pk__in=person_ids).update(
        first_name=ANONYMOUS_FIRST_NAME,
        last_name=ANONYMOUS_LAST_NAME,
        birth_name="",
        birth_date=TruncMonth("birth_date"),
        phone="",
        email="",
        address="",
        france_travail_id="",
        caf_number="",
        nir_hash="",
        nir_encrypted="",
        search_name=normalize(f"{ANONYMOUS_FIRST_NAME} {ANONYMOUS_LAST_NAME}"),
        user=None,
    )
    if user_ids:
        User.objects.filter(pk__in=user_ids).update(
            first_name="",
            last_name="",
            phone="",
            # Unique, and shaped as an address that reaches no one.
            email=Concat(
                Value("anonyme-"),
                Cast("id", output_field=CharField()),
                Value("@personne.invalid"),
                output_field=CharField(),
            ),
            is_active=False,
            password="!",  # noqa: S106 (Django's mark of an unusable password)
        )
    for deleted in DELETED:
        rows = deleted.model._default_manager.filter(**{f"{deleted.person}__in": person_ids})
        _delete_files_on_commit(deleted.model, deleted.file_field, rows)
        rows.delete()
    consent = apps.get_model("people.Consent")
    _delete_files_on_commit(
        consent,
        "document",
        consent._default_manager.filter(person_id__in=person_ids).exclude(document=""),
    )
    for erased in ERASED:
        erased.model._default_manager.filter(**{f"{erased.person}__in": person_ids}).update(
            **erased.resolved()
        )


def _unquote_notifications(person_ids: list[int]) -> None:
    """The kept notifications that quote one of these persons' names say « une personne »."""
    names = [
        f"{first} {last.upper()}"
        for first, last in Person.objects.filter(pk__in=person_ids).values_list(
            "first_name", "last_name"
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Notification._meta.db_table} n
                SET title = replace(n.title, x.name, 'une personne'),
                    body = replace(n.body, x.name, 'une personne')
                FROM unnest(%s::text[]) AS x(name)
                WHERE n.kind = ANY(%s) AND n.created_at >= %s
                  AND (strpos(n.body, x.name) > 0 OR strpos(n.title, x.name) > 0)""",  # noqa: S608
            [
                names,
                [str(kind) for kind in QUOTING_NOTIFICATIONS],
                timezone.now() - NOTIFICATION_RETENTION,
            ],
        )


def _delete_files_on_commit(model: type[Model], field_name: str, rows: QuerySet[Any]) -> None:
    storage = model._meta.get_field(field_name).storage  # type: ignore[union-attr]
    names = [name for name in rows.values_list(field_name, flat=True) if name]
    if names:
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
