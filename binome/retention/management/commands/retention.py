"""``binome retention run [--dry-run] [--date AAAA-MM-JJ]``: the retention job by hand.

With ``--dry-run`` nothing is written: the command prints what a run would do, per
organisation (files to tell the team about, to anonymise, told and waiting, kept), the
counts of the intermediate archive (files to archive, archives at their end to anonymise),
then the files to anonymise. Without it, it runs the job as the worker does and prints its
report (also in the audit log and on the territory administrators' page).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from binome.organisations.models import Organisation
from binome.retention import actions


class Command(BaseCommand):
    help = "Conservation des dossiers : annoncer, puis anonymiser les dossiers sans contact."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        running = sub.add_parser("run", help="passer le traitement de conservation")
        running.add_argument("--dry-run", action="store_true", help="à blanc : rien n'est écrit")
        running.add_argument("--date", help="date de référence (AAAA-MM-JJ), aujourd'hui sinon")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options.get("date"):
            try:
                today = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"La date « {options['date']} » n'est pas au format AAAA-MM-JJ.", returncode=2
                ) from None
        if options["dry_run"]:
            self._dry_run(today)
            return
        report = actions.run(today=today)
        self.stdout.write(
            f"{report.notified} dossier(s) signalé(s) à leur équipe, "
            f"{report.anonymised} anonymisé(s) (dont {report.archive_expired} en fin d'archive), "
            f"{report.archived} archivé(s), {report.kept} conservé(s) "
            f"(accompagnement, RSA ou motif légal) ; {report.duration_ms} ms."
        )
        for name in report.audit_partitions_created:
            self.stdout.write(f"  journal d'audit : mois créé {name}")
        for name in report.audit_partitions_dropped:
            self.stdout.write(f"  journal d'audit : mois expiré supprimé {name}")

    def _dry_run(self, today: date | None) -> None:
        plan = actions.plan(today=today or timezone.localdate())
        counts = plan.by_organisation()
        names = dict(Organisation.objects.filter(pk__in=counts).values_list("pk", "name"))
        self.stdout.write("À blanc : rien n'est écrit.")
        self.stdout.write("organisation ; à signaler ; à anonymiser ; en attente ; conservés")
        for pk, row in sorted(counts.items(), key=lambda item: names.get(item[0], "")):
            self.stdout.write(
                f"{names.get(pk, pk)} ; {row['notify']} ; {row['anonymise']} ; "
                f"{row['waiting']} ; {row['kept']}"
            )
        self.stdout.write(f"Archive intermédiaire — à archiver : {len(plan.archive)}")
        self.stdout.write(
            "Archive intermédiaire — archives arrivées à échéance → à anonymiser : "
            f"{len(plan.archive_expired)}"
        )
        self.stdout.write(f"Dossiers qui seraient anonymisés : {len(plan.anonymise)}")
        for candidate in plan.anonymise:
            self.stdout.write(
                f"  dossier n° {candidate.person_id} ({candidate.department_id}), "
                f"dernier contact le {candidate.last_contact_on:%d/%m/%Y}"
            )
