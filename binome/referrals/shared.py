"""What of the file travels with a referral: exactly the items the sender chose.

The receiver sees them on the referral's page even without being on the person's team.
A diagnostic travels with its themes (barriers and situations), its professional part and
its conclusion — not the comments, which carry their own visibility. An objective travels
with its actions. A fixed number of queries, whatever the number of items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from binome.referrals.models import Referral, SharedItemType
from binome.support.models import Action, Diagnostic, DiagnosticTheme, Note, Objective


@dataclass
class SharedContent:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.diagnostics or self.objectives or self.notes)


def shared_content(referral: Referral) -> SharedContent:
    ids: dict[str, list[int]] = {t: [] for t in SharedItemType.values}
    for item_type, item_id in referral.shared_items.values_list("item_type", "item_id"):
        ids[item_type].append(item_id)
    content = SharedContent()
    person_id = referral.person_id
    if ids[SharedItemType.DIAGNOSTIC]:
        content.diagnostics = list(
            Diagnostic.objects.filter(pk__in=ids[SharedItemType.DIAGNOSTIC], person_id=person_id)
            .select_related("recorded_by", "organisation")
            .prefetch_related(
                Prefetch(
                    "answers",
                    queryset=DiagnosticTheme.objects.exclude(level="none").order_by("id"),
                    to_attr="barriers",
                )
            )
            .order_by("-made_on", "-id")
        )
    if ids[SharedItemType.OBJECTIVE]:
        objectives: Any = Objective.objects.filter(
            pk__in=ids[SharedItemType.OBJECTIVE], person_id=person_id
        )
        content.objectives = list(
            objectives.prefetch_related(
                Prefetch("actions", queryset=Action.objects.order_by("due_on", "id"))
            ).order_by("created_at", "id")
        )
    if ids[SharedItemType.NOTE]:
        content.notes = list(
            Note.objects.filter(pk__in=ids[SharedItemType.NOTE], person_id=person_id)
            .select_related("author", "organisation")
            .order_by("-date", "-id")
        )
    return content
