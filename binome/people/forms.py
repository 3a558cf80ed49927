from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.utils import timezone

from binome.core.documents import check_document
from binome.core.forms import BinomeForm
from binome.core.widgets import UploadInput
from binome.directory.models import PublicationStatus, Structure
from binome.organisations.models import Organisation
from binome.people.models import (
    ConsentMethod,
    ConsentScope,
    HouseholdRelation,
    Person,
    compact_nir,
    validate_birth_date,
    validate_nir,
)
from binome.territories.forms import CommuneField

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PersonIdentityForm(BinomeForm, forms.ModelForm):
    """The person's identity, contact and identifiers, with their checks: the new file's form
    (``binome.support.forms.PersonForm``, which adds the first accompaniment) and the
    correction's."""

    commune = CommuneField(label="Commune de résidence", required=False)
    nir = forms.CharField(
        label="NIR (numéro de sécurité sociale)",
        required=False,
        max_length=21,
        help_text="15 chiffres (clé comprise). Il sera chiffré et visible seulement du "
        "référent et du travailleur social.",
    )

    class Meta:
        model = Person
        fields = [
            "first_name",
            "last_name",
            "birth_name",
            "birth_date",
            "sex",
            "phone",
            "email",
            "address",
            "france_travail_id",
            "caf_number",
        ]
        widgets = {"birth_date": DATE_WIDGET}
        help_texts = {
            "birth_name": "Si différent du nom d'usage.",
            "france_travail_id": "Par exemple 1234567A.",
        }
        error_messages = {
            "first_name": {"required": "Indiquez le prénom."},
            "last_name": {"required": "Indiquez le nom."},
            "birth_date": {
                "required": "Indiquez la date de naissance.",
                "invalid": "Date de naissance invalide : utilisez le format jj/mm/aaaa.",
            },
        }

    field_order = [*Meta.fields[:4], "sex", "phone", "email", "address", "commune", "nir"]

    def clean_nir(self) -> str:
        value = compact_nir(self.cleaned_data.get("nir") or "")
        if value:
            validate_nir(value)
        return value

    def clean_france_travail_id(self) -> str:
        return (self.cleaned_data.get("france_travail_id") or "").strip().upper()


class PersonEditForm(PersonIdentityForm):
    """The correction of a file: the creation's fields and checks, without the first
    accompaniment; the NIR only for who may see it; the version the form was opened on."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, with_nir: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_nir:
            del self.fields["nir"]
        else:
            self.fields["nir"].help_text = (
                "15 chiffres (clé comprise). Chiffré, visible seulement du référent et du "
                "travailleur social. Videz le champ pour le retirer."
            )


class HouseholdMemberForm(BinomeForm):
    relation = forms.ChoiceField(
        label="Lien", choices=HouseholdRelation.choices, initial=HouseholdRelation.CHILD
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=100,
        error_messages={"required": "Indiquez le prénom."},
    )
    birth_date = forms.DateField(
        label="Date de naissance",
        required=False,
        widget=DATE_WIDGET,
        validators=[validate_birth_date],
        error_messages={"invalid": "Date invalide : utilisez le format jj/mm/aaaa."},
    )


class ConsentForm(BinomeForm):
    scope = forms.ChoiceField(label="Objet du consentement", choices=ConsentScope.choices)
    recipient = forms.ModelChoiceField(
        label="Organisation destinataire",
        queryset=Organisation.objects.none(),
        required=False,
        help_text="Pour une orientation : l'organisation nommée (ou la structure ci-dessous).",
    )
    # A structure of the directory without an account, chosen from the referral's page.
    structure = forms.ModelChoiceField(
        label="Structure de l'annuaire destinataire",
        queryset=Structure.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    method = forms.ChoiceField(label="Recueilli", choices=ConsentMethod.choices)
    given_on = forms.DateField(
        label="Donné le",
        widget=DATE_WIDGET,
        error_messages={
            "required": "Indiquez la date du consentement.",
            "invalid": "Date invalide : utilisez le format jj/mm/aaaa.",
        },
    )
    document = forms.FileField(
        label="Document signé",
        required=False,
        widget=UploadInput(accept=".pdf,.png,.jpg,.jpeg"),
        help_text="PDF, PNG ou JPEG, 5 Mo au plus.",
        error_messages={
            "empty": "Le document signé est vide : joignez un PDF ou une image PNG ou JPEG."
        },
    )

    def __init__(self, *args: Any, department_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The territory's organisations and its declared partners of other départements.
        self.fields["recipient"].queryset = (
            Organisation.objects.filter(
                Q(department_id=department_id) | Q(partnerships__department_id=department_id),
                is_active=True,
            )
            .distinct()
            .order_by("name")
        )
        self.fields["given_on"].initial = timezone.localdate()
        self.fields["structure"].queryset = Structure.objects.filter(
            status=PublicationStatus.PUBLISHED
        )

    def clean_document(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("document")
        if not upload:
            return None
        check_document(upload, limit=settings.CONSENT_DOCUMENT_MAX_BYTES)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("scope") == ConsentScope.REFER
            and data.get("recipient")
            and data.get("structure")
        ):
            self.add_error(
                "recipient",
                "Un consentement nomme une organisation ou une structure, pas les deux.",
            )
        if (
            data.get("scope") == ConsentScope.REFER
            and not data.get("recipient")
            and not data.get("structure")
        ):
            self.add_error(
                "recipient", "Choisissez l'organisation vers laquelle la personne sera orientée."
            )
        if data.get("method") == ConsentMethod.SIGNED_DOCUMENT and not data.get("document"):
            self.add_error("document", "Joignez le document signé (PDF ou image).")
        given_on = data.get("given_on")
        if given_on and given_on > timezone.localdate():
            self.add_error("given_on", "La date du consentement ne peut pas être dans le futur.")
        return data
