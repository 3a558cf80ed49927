"""The privacy page promises only what the code does: each promise on it is marked
(``data-promesse``) and has its code here; a promise without code fails, and so does code
here whose promise left the page. Its durations are read from the settings."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from binome.access import audit
from binome.retention import actions, archive, audit_partitions, erasure, tasks
from binome.retention.models import ArchiveSettings, LegalHold
from binome.support import space


def _urls(*names: str) -> Callable[[], None]:
    def check() -> None:
        for name in names:
            args = {"retention:erase": ["83"], "retention:hold": ["83"]}.get(name)
            if name in {"retention:file_access", "people:edit"}:
                args = [1]
            if name == "space:consent_withdraw":
                args = [1]
            assert reverse(name, args=args)

    return check


def _audit_log_kept_and_append_only() -> None:
    assert callable(audit_partitions.maintain)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'access_auditevent_no_update_delete' "
            "AND tgrelid = 'access_auditevent'::regclass"
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'access_auditevent'")
        assert cursor.fetchone()[0] == "p"  # partitioned: expiry drops a month


def _reads_recorded() -> None:
    assert callable(audit.record_read)


def _files_anonymised() -> None:
    assert callable(actions.anonymise_due)
    assert callable(erasure.erase_persons) and erasure.ERASED and erasure.STRUCTURAL
    assert hasattr(tasks.retention_run, "defer")  # the nightly job


def _team_told() -> None:
    assert callable(actions.send_notice)


def _files_kept() -> None:
    kept = {actions.KeptReason.OPEN_ACCOMPANIMENT, actions.KeptReason.RSA, actions.KeptReason.HOLD}
    assert len(kept) == 3
    assert LegalHold._meta.get_field("reason")


def _intermediate_archive() -> None:
    assert callable(archive.archive_many) and callable(actions.anonymise_expired)
    assert ArchiveSettings._meta.get_field("justification")
    assert reverse("retention:archive_read", args=["83", 1])


def _reads_listed() -> None:
    assert callable(space.reads_of_file)
    assert reverse("space:home")


PROMISES: dict[str, Callable[[], None]] = {
    "consultations-enregistrees": _reads_recorded,
    "conservation-dossiers": _files_anonymised,
    "avertissement-equipe": _team_told,
    "conservations-prolongees": _files_kept,
    "archive-intermediaire": _intermediate_archive,
    "journal-audit": _audit_log_kept_and_append_only,
    "droit-acces": _urls("retention:my_data", "retention:file_access"),
    "liste-consultations": _reads_listed,
    "rectification": _urls("people:edit"),
    "retrait-consentement": _urls("space:consent_withdraw"),
    "effacement": _urls("retention:erase"),
}


def promises_on_page(client: Client) -> list[str]:
    html = client.get(reverse("core:privacy")).content.decode()
    return re.findall(r'data-promesse="([^"]+)"', html)


@pytest.mark.django_db
def test_every_promise_has_its_code_and_every_code_its_promise(client: Client) -> None:
    on_page = promises_on_page(client)
    assert len(on_page) == len(set(on_page))
    without_code = sorted(set(on_page) - PROMISES.keys())
    assert not without_code, f"Promesses sans code : {without_code}"
    gone = sorted(PROMISES.keys() - set(on_page))
    assert not gone, f"Code dont la promesse a quitté la page : {gone}"
    for check in PROMISES.values():
        check()


@pytest.mark.django_db
def test_the_durations_are_the_settings(client: Client) -> None:
    html = client.get(reverse("core:privacy")).content.decode()
    assert "deux ans après le dernier contact" in html
    assert "conservé un an" in html
    with override_settings(
        BINOME_RETENTION_MONTHS=18, BINOME_AUDIT_RETENTION_MONTHS=6, BINOME_RETENTION_NOTICE_DAYS=45
    ):
        html = client.get(reverse("core:privacy")).content.decode()
    assert "18 mois après le dernier contact" in html
    assert "conservé 6 mois" in html
    assert "prévenue 45 jours avant" in html


@pytest.mark.django_db
def test_the_intermediate_archive_is_read_from_the_territories_settings(client: Client) -> None:
    html = client.get(reverse("core:privacy")).content.decode()
    assert "Aucun territoire n'a choisi d'archive intermédiaire" in html
    ArchiveSettings.objects.create(
        department_id="83", enabled=True, years=5, justification="Recours contentieux possibles"
    )
    ArchiveSettings.objects.create(department_id="29", enabled=False, years=2)
    html = client.get(reverse("core:privacy")).content.decode()
    assert "Aucun territoire n'a choisi" not in html
    assert "Var : archive de 5 ans. Justification : « Recours contentieux possibles »" in html
    assert "Finistère" not in html
