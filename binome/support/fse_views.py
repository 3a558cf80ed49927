"""The FSE+ questionnaire of a global accompaniment, stage by stage, by its team."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from binome.core.typing import AuthenticatedRequest
from binome.support import actions
from binome.support.fse import STAGE_FIELDS, FseAnswers, Stage, proposals, stage_open
from binome.support.fse_forms import FseStageForm
from binome.support.views import _accompaniment_for, form_page

INTROS = {
    Stage.ENTRY: (
        "Le Fonds social européen (FSE+) demande ces informations à l'entrée dans "
        "l'accompagnement. Posez les questions à la personne ; elle peut refuser de répondre "
        "aux questions sur sa situation personnelle. L'âge est calculé à partir de la date de "
        "naissance."
    ),
    Stage.EXIT: "Le FSE+ demande la situation de la personne à sa sortie de l'accompagnement.",
    Stage.FOLLOWUP: "Le FSE+ demande la situation de la personne six mois après sa sortie.",
}


@login_required
@require_http_methods(["GET", "POST"])
def fse_stage(request: AuthenticatedRequest, pk: int, stage: str) -> HttpResponse:
    if stage not in Stage.values:
        raise Http404
    label = Stage(stage).label.lower()
    accompaniment, access = _accompaniment_for(request, pk, what=f"Questionnaire FSE+ ({label})")
    if not stage_open(accompaniment, stage):
        messages.info(request, actions.fse.NOT_YET[Stage(stage)])
        return redirect("people:detail", accompaniment.person_id)
    found = FseAnswers.objects.filter(accompaniment=accompaniment).first()
    fields = STAGE_FIELDS[Stage(stage)]
    proposed = proposals(accompaniment, stage)
    if found is not None and found.recorded_at(stage) is not None:
        initial = {name: getattr(found, name) for name in fields}
        proposed = {}
    else:
        initial = dict(proposed)
    form = FseStageForm(
        request.POST if request.method == "POST" else None,
        stage=stage,
        proposed=proposed,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_fse_answers(
                accompaniment=accompaniment,
                stage=stage,
                answers=form.cleaned_data,
                by=request.user,
                organisation=access.acting_organisation(request.current_membership),
                request=request,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"Le questionnaire FSE+ ({label}) est enregistré.")
            return redirect("people:detail", accompaniment.person_id)
    return form_page(
        request,
        accompaniment.person,
        form,
        title=f"Questionnaire FSE+ : {label}",
        intro=INTROS[Stage(stage)],
    )
