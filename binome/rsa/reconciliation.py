"""« À rapprocher »: the adults of a flow whose file in Binôme is in doubt.

The import never merges a doubtful match silently: it keeps the flow's identity on the
beneficiary, with the files that may be hers (``candidates``), and leaves no file touched.
A human of the territory (an orientation manager) then decides, one person at a time:

- :func:`same_person`: « c'est la même personne » — the dossier's person is linked to the
  chosen candidate's file (which receives the flow's NIR when it had none);
- :func:`different_person`: « personne différente » — a new file is created for her, held by
  the département's service as the import's files are.

Either way the person leaves the list and, bound by the rights and duties, enters « à
orienter » with the deadline the flow started. Each decision is one transaction with its
audit row and the line of the file's timeline; refusals are ``ValidationError`` in French.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from binome.access.audit import record
from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.core.text import normalize
from binome.organisations.models import Organisation, OrganisationKind
from binome.people import crypto
from binome.people.models import Person
from binome.rsa.models import Beneficiary, MatchStatus
from binome.rsa.orientations import is_orientation_manager
from binome.support.actions import trace
from binome.support.models import EventKind


def to_reconcile(department_id: str) -> QuerySet[Beneficiary]:
    """The département's persons « à rapprocher », the oldest flows first."""
    return (
        Beneficiary.objects.filter(
            dossier__department_id=department_id, match_status=MatchStatus.TO_RECONCILE
        )
        .select_related("dossier", "dossier__first_import")
        .order_by("dossier__first_import_id", "id")
    )


def _locked(beneficiary: Beneficiary, by: User) -> Beneficiary:
    if not is_orientation_manager(by, beneficiary.dossier.department_id):
        raise PermissionDenied
    locked = (
        Beneficiary.objects.select_for_update(of=("self",))
        .select_related("dossier")
        .get(pk=beneficiary.pk)
    )
    if locked.match_status != MatchStatus.TO_RECONCILE:
        raise ValidationError(
            f"{locked.first_name} {locked.last_name} a déjà été rapprochée d'un dossier."
        )
    return locked


def _done(locked: Beneficiary, person: Person, status: MatchStatus) -> None:
    locked.person = person
    locked.match_status = status
    locked.nir_encrypted = ""
    locked.save(update_fields=["person", "match_status", "nir_encrypted"])
    locked.candidates.clear()


@transaction.atomic
def same_person(
    *,
    beneficiary: Beneficiary,
    person: Person,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Beneficiary:
    """« C'est la même personne »: link the flow's person to the file ``person``, one of
    the candidates the import found."""
    locked = _locked(beneficiary, by)
    if not locked.candidates.filter(pk=person.pk).exists():
        raise ValidationError(
            f"Le dossier de {person.full_name} n'est pas parmi ceux que l'import a proposés "
            "pour cette personne."
        )
    file = Person.objects.select_for_update().get(pk=person.pk)
    if file.merged_into_id is not None:
        raise ValidationError(
            f"Le dossier de {file.full_name} a été fusionné dans un autre : choisissez le dossier "
            "conservé."
        )
    if locked.nir_hash and file.nir_hash and locked.nir_hash != file.nir_hash:
        raise ValidationError(
            f"Le NIR du flux diffère de celui du dossier de {file.full_name} : ce n'est pas la "
            "même personne."
        )
    nir = crypto.decrypt(locked.nir_encrypted) if locked.nir_encrypted else ""
    if nir and not file.nir_hash:
        file.set_nir(nir)
        file.save(update_fields=["nir_hash", "nir_encrypted"])
    _done(locked, file, MatchStatus.MATCHED)
    dossier = locked.dossier
    trace(
        EventKind.RSA,
        AuditKind.RSA_RECONCILED,
        person=file,
        by=by,
        organisation=organisation,
        target=locked,
        summary=(
            f"Rapprochée du dossier RSA {dossier.body} n° {dossier.number} "
            f"({locked.get_role_display().lower()}) par {by.get_full_name()}"
        ),
        request=request,
        details={"decision": "same", "dossier": dossier.number},
    )
    return locked


def _holder(department_id: str) -> Organisation:
    holder = (
        Organisation.objects.filter(department_id=department_id, kind=OrganisationKind.DEPARTMENT)
        .order_by("pk")
        .first()
    )
    if holder is None:
        raise ValidationError(
            f"Aucun service du département n'est déclaré dans Binôme pour le {department_id} : "
            "le dossier créé n'aurait pas d'organisation détentrice."
        )
    return holder


@transaction.atomic
def different_person(
    *,
    beneficiary: Beneficiary,
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> Beneficiary:
    """« Personne différente »: none of the candidates is her; create her file from what
    the flow said."""
    locked = _locked(beneficiary, by)
    dossier = locked.dossier
    holder = _holder(dossier.department_id)
    file = Person(
        department_id=dossier.department_id,
        organisation=holder,
        first_name=locked.first_name,
        last_name=locked.last_name,
        birth_name=(
            locked.birth_name if normalize(locked.birth_name) != normalize(locked.last_name) else ""
        ),
        birth_date=locked.birth_date,
        france_travail_id=locked.france_travail_id.upper(),
        caf_number=dossier.matricule,
        created_by=by,
    )
    if locked.nir_encrypted:
        file.set_nir(crypto.decrypt(locked.nir_encrypted))
    file.save()
    record(
        AuditKind.PERSON_CREATED,
        actor=by,
        organisation=holder,
        target=file,
        person_id=file.pk,
        what=f"Dossier de {file.full_name}, au rapprochement du dossier RSA n° {dossier.number}",
        request=request,
    )
    _done(locked, file, MatchStatus.CREATED)
    trace(
        EventKind.RSA,
        AuditKind.RSA_RECONCILED,
        person=file,
        by=by,
        organisation=organisation,
        target=locked,
        summary=(
            f"Dossier créé pour le dossier RSA {dossier.body} n° {dossier.number} "
            f"({locked.get_role_display().lower()}) : personne différente des dossiers "
            f"proposés, selon {by.get_full_name()}"
        ),
        request=request,
        details={"decision": "different", "dossier": dossier.number},
    )
    return locked
