"""The FSE+ questionnaire of a global accompaniment, recorded stage by stage."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from binome.access.models import AuditKind
from binome.accounts.models import User
from binome.organisations.models import Organisation
from binome.support.actions.locks import lock_accompaniment
from binome.support.actions.timeline import trace
from binome.support.fse import (
    DECLINABLE_FIELDS,
    STAGE_FIELDS,
    Declinable,
    FseAnswers,
    Stage,
    question,
    recorded_field,
    stage_open,
)
from binome.support.models import Accompaniment, EventKind

NOT_YET = {
    Stage.ENTRY: "Les données d'entrée se renseignent une fois l'accompagnement global activé.",
    Stage.EXIT: "Les données de sortie se renseignent après la sortie de l'accompagnement.",
    Stage.FOLLOWUP: "Les données à six mois se renseignent six mois après la sortie.",
}


def _check_answers(stage: str, answers: dict[str, str]) -> dict[str, str]:
    """Every question of the stage answered with one of its choices; « refuse de répondre »
    only where the regulation allows it."""
    fields = STAGE_FIELDS[Stage(stage)]
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for name in fields:
        value = answers.get(name, "")
        field = question(name)
        allowed = {choice for choice, _ in field.choices or ()}
        if value == Declinable.REFUSED and name not in DECLINABLE_FIELDS:
            errors[name] = "Cette question n'admet pas « refuse de répondre »."
        elif value not in allowed:
            errors[name] = f"Répondez à la question « {field.verbose_name} »."
        else:
            cleaned[name] = value
    unknown = set(answers) - set(fields)
    if unknown:
        errors[sorted(unknown)[0]] = "Cette question n'appartient pas à cette étape."
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def record_fse_answers(
    *,
    accompaniment: Accompaniment,
    stage: str,
    answers: dict[str, str],
    by: User,
    organisation: Organisation,
    request: HttpRequest | None = None,
) -> FseAnswers:
    """The person's answers of one stage (entry, exit, six months); recorded again, they
    replace the previous ones (a correction). The timeline says the stage was answered,
    never the answers: they are sensitive."""
    if stage not in Stage.values:
        raise ValidationError("Cette étape du questionnaire FSE+ n'existe pas.")
    accompaniment = lock_accompaniment(accompaniment)
    if not stage_open(accompaniment, stage):
        raise ValidationError(NOT_YET[Stage(stage)])
    cleaned = _check_answers(stage, answers)
    found, _ = FseAnswers.objects.get_or_create(accompaniment=accompaniment)
    corrected = found.recorded_at(stage) is not None
    for name, value in cleaned.items():
        setattr(found, name, value)
    setattr(found, recorded_field(stage), timezone.now())
    found.updated_by = by
    found.save(update_fields=[*cleaned, recorded_field(stage), "updated_by"])
    label = Stage(stage).label.lower()
    summary = f"Questionnaire FSE+ ({label}) {'corrigé' if corrected else 'renseigné'}"
    trace(
        EventKind.ACCOMPANIMENT,
        AuditKind.FSE_ANSWERS_RECORDED,
        person=accompaniment.person,
        by=by,
        organisation=organisation,
        accompaniment=accompaniment,
        target=found,
        summary=summary,
        request=request,
        details={"stage": stage, "corrected": corrected},
    )
    return found
