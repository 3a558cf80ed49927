"""Everything Binôme holds about a person, for her right of access (RGPD, article 15): a
machine-readable JSON and the same content as a readable PDF.

What is given is what the person may see by the rules of the shared secret: her identity,
household, consents, appointments, accompaniments, the diagnostics, notes and plan items
shared with her (« l'équipe et la personne »), her referrals (their kind, recipient and
steps, not the professionals' messages between them), and the list of professionals who
read her file. The same content whether the team downloads it at her request or she does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from binome.people.models import Consent, HouseholdMember, Person
from binome.referrals.models import Referral
from binome.support import space
from binome.support.models import (
    Appointment,
    Diagnostic,
    DiagnosticComment,
    Visibility,
)
from binome.support.referential import theme

SHARED = Visibility.TEAM_AND_PERSON


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else None


def _theme(code: str) -> str:
    try:
        return str(theme(code).label)
    except KeyError:
        return code


def person_data(person: Person) -> dict[str, Any]:
    """The person's data, JSON-serialisable, keys in French (she reads them)."""
    accompaniments = space.accompaniments_of(person)
    diagnostics = (
        Diagnostic.objects.filter(person=person, visibility=SHARED)
        .prefetch_related("answers")
        .order_by("made_on", "id")
    )
    comments = DiagnosticComment.objects.filter(person=person, visibility=SHARED).select_related(
        "answer"
    )
    comments_by_answer: dict[int, list[str]] = {}
    for comment in comments:
        comments_by_answer.setdefault(comment.answer_id, []).append(comment.text)
    return {
        "document": "Données détenues par Binôme (droit d'accès, RGPD article 15)",
        "etabli_le": _moment(timezone.now()),
        "identite": {
            "dossier": person.pk,
            "prenom": person.first_name,
            "nom": person.last_name,
            "nom_de_naissance": person.birth_name,
            "date_de_naissance": _day(person.birth_date),
            "sexe": person.get_sex_display(),
            "telephone": person.phone,
            "courriel": person.email,
            "adresse": person.address,
            "commune": person.commune.name if person.commune else "",
            "identifiant_france_travail": person.france_travail_id,
            "numero_allocataire": person.caf_number,
            "nir_enregistre": person.has_nir,
            "organisation_detentrice": person.organisation.name,
            "dossier_cree_le": _moment(person.created_at),
        },
        "foyer": [
            {
                "prenom": member.first_name,
                "lien": member.get_relation_display(),
                "date_de_naissance": _day(member.birth_date),
            }
            for member in HouseholdMember.objects.filter(person=person)
        ],
        "consentements": [
            {
                "objet": consent.get_scope_display(),
                "destinataire": (
                    consent.organisation.name
                    if consent.organisation
                    else consent.structure.name
                    if consent.structure
                    else ""
                ),
                "recueilli": consent.get_method_display(),
                "donne_le": _day(consent.given_on),
                "retire_le": _moment(consent.withdrawn_at),
            }
            for consent in Consent.objects.filter(person=person).select_related(
                "organisation", "structure"
            )
        ],
        "accompagnements": [
            {
                "type": acc.get_kind_display(),
                "etat": acc.get_state_display(),
                "debut": _day(acc.started_on),
                "fin_prevue": _day(acc.planned_end_on),
                "sortie": _day(acc.ended_on),
                "motif_de_sortie": acc.get_exit_reason_display() if acc.exit_reason else "",
                "equipe": [
                    {
                        "professionnel": member.user.get_full_name(),
                        "organisation": member.organisation.name,
                        "role": member.get_role_display(),
                    }
                    for member in getattr(acc, "current_team", [])
                ],
            }
            for acc in accompaniments
        ],
        "diagnostics": [
            {
                "fait_le": _day(diagnostic.made_on),
                "etat": diagnostic.get_status_display(),
                "projet_professionnel": diagnostic.project,
                "themes": [
                    {
                        "theme": _theme(answer.theme),
                        "niveau": answer.get_level_display(),
                        "situations": list(answer.situations),
                        "commentaires": comments_by_answer.get(answer.pk, []),
                    }
                    for answer in diagnostic.answers.all()
                ],
            }
            for diagnostic in diagnostics
        ],
        "plan": [
            {
                "objectif": objective.label,
                "theme": _theme(objective.theme),
                "etat": objective.get_status_display(),
                "actions": [
                    {
                        "action": action.label,
                        "etat": action.get_status_display(),
                        "echeance": _day(action.due_on),
                        "realisee_le": _day(action.done_on),
                    }
                    for action in objective.actions.all()
                ],
            }
            for objective in space.person_objectives(space.plan_accompaniment(accompaniments))
        ],
        "notes_partagees": [
            {"date": _day(note.date), "modalite": note.get_medium_display(), "texte": note.text}
            for note in space.person_notes(person)
        ],
        "rendez_vous": [
            {
                "date": _moment(appointment.at),
                "lieu": appointment.place,
                "avec": appointment.with_whom,
                "etat": appointment.get_status_display(),
            }
            for appointment in Appointment.objects.filter(person=person).order_by("at", "id")
        ],
        "orientations": [
            {
                "type": referral.get_kind_display(),
                "etat": referral.get_status_display(),
                "envoyee_le": _moment(referral.sent_at),
                "par": referral.sender_organisation.name,
                "vers": (
                    referral.to_organisation.name
                    if referral.to_organisation
                    else referral.structure.name
                    if referral.structure
                    else ""
                ),
                "repondue_le": _moment(referral.answered_at),
                "close_le": _moment(referral.closed_at),
            }
            for referral in Referral.objects.filter(person=person)
            .select_related("sender_organisation", "to_organisation", "structure")
            .order_by("sent_at", "id")
        ],
        "consultations_du_dossier": [
            {
                "date": _moment(read.created_at),
                "professionnel": read.actor_label,
                "organisation": read.organisation_label,
                "consulte": read.what,
            }
            for read in space.reads_of_file(person)
        ],
    }


def render_pdf(data: dict[str, Any]) -> bytes:
    """The same content, readable: one section per part."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s at start-up

    html = render_to_string("retention/person_data_pdf.html", {"data": data})
    pdf = HTML(string=html).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
