"""Queue again the background jobs left « doing » by a worker that died (``binome worker``
runs it before it starts; the worker also does it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from binome.core.background import retry_stalled_jobs


class Command(BaseCommand):
    help = "Remettre en file les tâches de fond laissées en cours par un worker arrêté."

    def handle(self, *args: Any, **options: Any) -> None:
        retried = retry_stalled_jobs()
        if retried:
            self.stdout.write(
                f"{len(retried)} tâche(s) reprise(s), leur worker s'était arrêté : "
                + ", ".join(str(job_id) for job_id in retried)
            )
