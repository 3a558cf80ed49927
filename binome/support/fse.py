"""The FSE+ questionnaire of a global accompaniment: the common indicators of Regulation (EU)
2021/1057, Annex I, asked at entry (the activation), at exit and six months after the exit.

One row per global accompaniment (:class:`FseAnswers`) holds the three stages: the export
reads one join, and a stage is complete when its ``*_recorded_at`` is set (its form asks
every answer of the stage). The answers are the person's own; what Binôme already knows is
only *proposed* (:func:`proposals`) and a professional confirms it with the person.

The age is never asked: it is computed from the birth date at the entry. The situations the
regulation treats as sensitive (disability, third-country national, foreign background,
minority, homelessness or housing exclusion, rural area) accept « refuse de répondre »; the
others do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from binome.support.models import (
    BARRIER_LEVELS,
    Accompaniment,
    BarrierLevel,
    Diagnostic,
    ExitReason,
    FollowupOutcome,
    Kind,
    State,
)

HOUSING_THEME = "logement"


class Gender(models.TextChoices):
    FEMALE = "femme", "Femme"
    MALE = "homme", "Homme"
    NON_BINARY = "non_binaire", "Non binaire"


class LabourStatus(models.TextChoices):
    """One answer; a long-term unemployed person (12 months or more, 6 under 25) is also
    counted as unemployed in the export, as the indicators do."""

    UNEMPLOYED = "chomeur", "Demandeur ou demandeuse d'emploi (moins d'un an)"
    LONG_TERM_UNEMPLOYED = (
        "chomeur_longue_duree",
        "Demandeur ou demandeuse d'emploi de longue durée (un an ou plus, six mois avant 25 ans)",
    )
    INACTIVE = "inactif", "Inactif ou inactive (ni en emploi ni en recherche)"
    EMPLOYED = "en_emploi", "En emploi, y compris indépendant"


class Education(models.TextChoices):
    ISCED_0_2 = "cite_0_2", "Au plus le collège (CITE 0 à 2 : sans diplôme, brevet)"
    ISCED_3_4 = "cite_3_4", "Lycée ou post-bac non supérieur (CITE 3 et 4 : CAP, BEP, bac)"
    ISCED_5_8 = "cite_5_8", "Enseignement supérieur (CITE 5 à 8 : bac+2 et au-delà)"


class YesNo(models.TextChoices):
    YES = "oui", "Oui"
    NO = "non", "Non"


class Declinable(models.TextChoices):
    YES = "oui", "Oui"
    NO = "non", "Non"
    REFUSED = "refus", "Refuse de répondre"


class Stage(models.TextChoices):
    ENTRY = "entree", "Entrée"
    EXIT = "sortie", "Sortie"
    FOLLOWUP = "six_mois", "Six mois après la sortie"


# The questions of each stage, in the order of the forms and of the export.
ENTRY_FIELDS = (
    "gender",
    "labour_status",
    "education",
    "disability",
    "third_country",
    "foreign_background",
    "minority",
    "homeless",
    "rural",
)
DECLINABLE_FIELDS = (
    "disability",
    "third_country",
    "foreign_background",
    "minority",
    "homeless",
    "rural",
)
EXIT_FIELDS = ("exit_job_searching", "exit_in_training", "exit_qualification", "exit_employed")
FOLLOWUP_FIELDS = ("followup_employed", "followup_improved")
STAGE_FIELDS = {
    Stage.ENTRY: ENTRY_FIELDS,
    Stage.EXIT: EXIT_FIELDS,
    Stage.FOLLOWUP: FOLLOWUP_FIELDS,
}


def _choice(label: str, choices: Any) -> models.CharField[str, str]:
    return models.CharField(label, max_length=24, choices=choices, blank=True, default="")


class FseAnswers(models.Model):
    """The FSE+ answers of one global accompaniment, at its three stages."""

    accompaniment = models.OneToOneField(
        Accompaniment,
        on_delete=models.CASCADE,
        related_name="fse",
        verbose_name="accompagnement",
    )
    # At entry.
    gender = _choice("genre", Gender.choices)
    labour_status = _choice("situation sur le marché du travail", LabourStatus.choices)
    education = _choice("niveau d'études", Education.choices)
    disability = _choice("situation de handicap", Declinable.choices)
    third_country = _choice("ressortissant(e) d'un pays tiers", Declinable.choices)
    foreign_background = _choice("d'origine étrangère", Declinable.choices)
    minority = _choice("appartenant à une minorité", Declinable.choices)
    homeless = _choice("sans domicile ou exclu(e) du logement", Declinable.choices)
    rural = _choice("habitant une zone rurale", Declinable.choices)
    entry_recorded_at = models.DateTimeField("entrée renseignée le", null=True, blank=True)
    # At exit.
    exit_job_searching = _choice("à la recherche d'un emploi", YesNo.choices)
    exit_in_training = _choice("suit un enseignement ou une formation", YesNo.choices)
    exit_qualification = _choice("a obtenu une qualification", YesNo.choices)
    exit_employed = _choice("exerce un emploi, y compris indépendant", YesNo.choices)
    exit_recorded_at = models.DateTimeField("sortie renseignée le", null=True, blank=True)
    # Six months after the exit.
    followup_employed = _choice("exerce un emploi, y compris indépendant", YesNo.choices)
    followup_improved = _choice("situation améliorée sur le marché du travail", YesNo.choices)
    followup_recorded_at = models.DateTimeField("six mois renseignés le", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = "données FSE+ du participant"
        verbose_name_plural = "données FSE+ des participants"

    def __str__(self) -> str:
        return f"Données FSE+ de l'accompagnement n° {self.accompaniment_id}"

    def recorded_at(self, stage: str) -> Any:
        return getattr(self, f"{_PREFIX[stage]}_recorded_at")


_PREFIX: dict[str, str] = {Stage.ENTRY: "entry", Stage.EXIT: "exit", Stage.FOLLOWUP: "followup"}


def question(name: str) -> models.Field[Any, Any]:
    """The model field of one question (its label and choices make the form)."""
    field = FseAnswers._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def recorded_field(stage: str) -> str:
    return f"{_PREFIX[stage]}_recorded_at"


# --- Which stage is asked, and what is missing ----------------------------------------


def stage_open(accompaniment: Accompaniment, stage: str, today: date | None = None) -> bool:
    """A stage is asked once it happened: the entry once the global accompaniment is
    activated, the exit once it ended (not after a « non pertinent » decision: the person
    never entered), the six months once they passed."""
    if accompaniment.kind != Kind.GLOBAL or accompaniment.activated_on is None:
        return False
    if stage == Stage.ENTRY:
        return True
    ended = (
        accompaniment.state == State.ENDED and accompaniment.exit_reason != ExitReason.NOT_PERTINENT
    )
    if stage == Stage.EXIT:
        return ended
    today = today or timezone.localdate()
    due = accompaniment.followup_due_on
    return ended and due is not None and due <= today


@dataclass(frozen=True)
class StageStatus:
    stage: str
    label: str
    complete: bool
    recorded_at: Any


def statuses(
    accompaniment: Accompaniment, answers: FseAnswers | None, today: date | None = None
) -> list[StageStatus]:
    """The stages asked so far of this accompaniment, complete or to complete."""
    return [
        StageStatus(
            stage,
            Stage(stage).label,
            answers is not None and answers.recorded_at(stage) is not None,
            answers.recorded_at(stage) if answers is not None else None,
        )
        for stage in Stage.values
        if stage_open(accompaniment, stage, today)
    ]


# --- What Binôme proposes ------------------------------------------------------------

GENDER_OF_SEX = {"F": Gender.FEMALE, "M": Gender.MALE}
EMPLOYED_REASONS = {
    ExitReason.DURABLE_JOB,
    ExitReason.TRANSITION_JOB,
    ExitReason.BUSINESS,
}
EMPLOYED_OUTCOMES = {
    FollowupOutcome.DURABLE_JOB,
    FollowupOutcome.TRANSITION_JOB,
    FollowupOutcome.BUSINESS,
}


def _housing_barrier(accompaniment: Accompaniment) -> str | None:
    """The housing theme's level in the last validated diagnostic, None if not assessed."""
    diagnostic = (
        Diagnostic.objects.validated()
        .filter(person_id=accompaniment.person_id)
        .order_by("-made_on", "-id")
        .first()
    )
    if diagnostic is None:
        return None
    answer = diagnostic.answers.filter(theme=HOUSING_THEME).first()
    if answer is None or answer.level in ("", BarrierLevel.NOT_ADDRESSED):
        return None
    return answer.level


def proposals(accompaniment: Accompaniment, stage: str) -> dict[str, str]:
    """The answers Binôme proposes from what the file says; the person confirms them."""
    proposed: dict[str, str] = {}
    if stage == Stage.ENTRY:
        gender = GENDER_OF_SEX.get(accompaniment.person.sex)
        if gender:
            proposed["gender"] = gender
        level = _housing_barrier(accompaniment)
        if level is not None:
            proposed["homeless"] = Declinable.YES if level in BARRIER_LEVELS else Declinable.NO
    elif stage == Stage.EXIT:
        reason = accompaniment.exit_reason
        if reason in EMPLOYED_REASONS:
            proposed.update(exit_employed=YesNo.YES, exit_job_searching=YesNo.NO)
        elif reason:
            proposed["exit_employed"] = YesNo.NO
        if reason == ExitReason.TRAINING:
            proposed["exit_in_training"] = YesNo.YES
        elif reason:
            proposed["exit_in_training"] = YesNo.NO
    elif stage == Stage.FOLLOWUP:
        outcome = accompaniment.followup_outcome
        if outcome and outcome != FollowupOutcome.NO_NEWS:
            employed = outcome in EMPLOYED_OUTCOMES
            proposed["followup_employed"] = YesNo.YES if employed else YesNo.NO
            if employed or outcome == FollowupOutcome.TRAINING:
                proposed["followup_improved"] = YesNo.YES
    return proposed


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
