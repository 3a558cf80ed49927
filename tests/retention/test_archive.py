"""The intermediate archive, optional per territory: at the end of its retention a file is
archived instead of anonymised — out of every professional's reach, read only by the
territory's archivist with a reason each time — then anonymised at the end of the archive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from binome.access.models import AuditEvent, AuditKind
from binome.accounts.models import User
from binome.organisations.models import TerritoryRole, TerritoryRoleKind
from binome.people.models import Person
from binome.retention import actions, archive
from binome.retention.contact import add_months
from binome.retention.models import Anonymisation, Archive, ArchiveOutcome, ArchiveSettings
from binome.support.models import Accompaniment, TimelineEvent
from binome.support.space import reads_of_file
from tests.conftest import login_as
from tests.factories import SmallTerritory, make_member
from tests.retention.conftest import age_file, days_until_deadline_is, today

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Contentieux possibles sur les aides versées : délai de recours de trois ans."


def turn_archive_on(small_var: SmallTerritory, years: int = 3) -> ArchiveSettings:
    return archive.set_archive_settings(
        department_id="83",
        enabled=True,
        years=years,
        justification=JUSTIFICATION,
        by=small_var.alice,
    )


def archivist(small_var: SmallTerritory) -> User:
    """Ève, the Var's data protection officer: a member of the département, archivist."""
    eve = make_member("Ève", small_var.departement)
    TerritoryRole.objects.create(user=eve, department_id="83", role=TerritoryRoleKind.ARCHIVIST)
    TOTPDevice.objects.create(user=eve, name="Ève", confirmed=True)
    return eve


def territory_admin(small_var: SmallTerritory) -> User:
    claire = make_member("Claire", small_var.departement)
    TerritoryRole.objects.create(
        user=claire, department_id="83", role=TerritoryRoleKind.TERRITORY_ADMIN
    )
    TOTPDevice.objects.create(user=claire, name="téléphone", confirmed=True)
    return claire


def archive_file(small_var: SmallTerritory) -> Person:
    """Zoé's closed file: told 30 days before the end of its retention, then past it."""
    person = small_var.person
    age_file(person, days_until_deadline_is(30))
    assert actions.run().notified == 1
    age_file(person, 31)
    report = actions.run()
    assert (report.archived, report.anonymised) == (1, 0)
    person.refresh_from_db()
    return person


def test_the_job_archives_instead_of_anonymising_when_the_territory_keeps_an_archive(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file, years=3)
    person = closed_file.person
    age_file(person, days_until_deadline_is(30))
    report = actions.run()
    assert report.notified == 1
    told = AuditEvent.objects.get(kind=AuditKind.RETENTION_NOTICE, person_id=person.pk)
    assert told.what.startswith("Archive annoncée")

    age_file(person, 31)
    report = actions.run()
    assert (report.archived, report.anonymised) == (1, 0)
    assert report.by_department == {"83": {"archive": 1}}
    person.refresh_from_db()
    # Whole: nothing is erased while the file is archived.
    assert (person.first_name, person.last_name) == ("Zoé", "Exemple")
    assert not Anonymisation.objects.filter(person=person).exists()
    ends_on = add_months(today(), 36)
    assert person.archived_until == ends_on
    found = Archive.objects.current().get(person=person)
    assert (found.ends_on, found.run_id) == (ends_on, report.pk)
    line = AuditEvent.objects.get(kind=AuditKind.FILE_ARCHIVED, person_id=person.pk)
    assert line.details == {"ends_on": ends_on.isoformat()}
    assert f"{ends_on:%d/%m/%Y}" in line.what
    assert TimelineEvent.objects.filter(person=person, summary__startswith="Dossier archivé")
    # Idempotent: a second run archives nothing more, anonymises nothing.
    again = actions.run()
    assert (again.archived, again.anonymised, again.notified) == (0, 0, 0)


def test_without_the_setting_the_file_is_anonymised(closed_file: SmallTerritory) -> None:
    person = closed_file.person
    age_file(person, days_until_deadline_is(30))
    actions.run()
    age_file(person, 31)
    report = actions.run()
    assert (report.archived, report.anonymised) == (0, 1)
    person.refresh_from_db()
    assert person.archived_until is None and person.first_name == "Personne"


def test_a_held_file_or_an_open_accompaniment_is_never_archived(
    small_var: SmallTerritory,
) -> None:
    turn_archive_on(small_var)
    claire = territory_admin(small_var)
    person = small_var.person  # her accompaniment is open
    age_file(person, days_until_deadline_is(-40))
    report = actions.run()
    assert (report.kept, report.archived) == (1, 0)
    person.refresh_from_db()
    assert person.archived_until is None
    actions.set_legal_hold(person=person, reason="Réquisition judiciaire", by=claire)
    assert actions.run().archived == 0


def test_an_archived_file_is_out_of_every_professionals_reach(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file)
    alice = closed_file.alice
    person = closed_file.person
    former_team = closed_file.client(alice)
    identity = {
        "first_name": "Zoé",
        "last_name": "Exemple",
        "birth_date": "1990-05-04",
        "kind": "global",
        "role": "member",
    }
    join_url = reverse("support:join", args=[person.pk])
    # Before: her file opens, the identity search finds her.
    assert former_team.get(reverse("people:detail", args=[person.pk])).status_code == 200
    found = former_team.post(reverse("people:create"), identity).content.decode()
    assert join_url in found
    # Her situation six months after the exit is still expected: she is on the worklist.
    Accompaniment.objects.filter(person=person).update(followup_due_on=today() - timedelta(days=1))
    assert "Zoé" in former_team.get(reverse("support:worklist")).content.decode()
    archive_file(closed_file)

    for name in ("people:detail", "people:edit", "retention:file_access"):
        assert former_team.get(reverse(name, args=[person.pk])).status_code == 404, name
    assert (
        closed_file.client(closed_file.bob)
        .get(reverse("people:detail", args=[person.pk]))
        .status_code
        == 404
    )
    worklist = former_team.get(reverse("support:worklist")).content.decode()
    assert "Zoé" not in worklist
    # The identity search (the professionals' « directory » of persons) does not find her.
    from binome.people.models import Person as PersonModel
    from binome.support.access import findable_persons, visible_persons

    assert not findable_persons(PersonModel.objects.all(), alice).filter(pk=person.pk)
    assert not visible_persons(PersonModel.objects.all(), alice).filter(pk=person.pk)
    # Not proposed: a new file is opened for her, the archived one stays out of reach.
    search = former_team.post(reverse("people:create"), identity)
    assert search.status_code == 302 and join_url not in search.content.decode()
    new_file = PersonModel.objects.exclude(pk=person.pk).get(first_name="Zoé")
    assert search["Location"] == reverse("people:detail", args=[new_file.pk])


def test_the_archivist_lists_and_reads_an_archived_file_with_a_reason(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file)
    person = archive_file(closed_file)
    eve = archivist(closed_file)
    client = login_as(Client(), eve)
    listing = client.get(reverse("retention:archive_list", args=["83"]))
    html = listing.content.decode()
    assert listing.status_code == 200
    assert f"n° {person.pk}" in html and "Zoé" not in html  # numbers, never a name
    assert JUSTIFICATION in html

    url = reverse("retention:archive_read", args=["83", person.pk])
    asked = client.get(url)
    assert asked.status_code == 200
    assert "Zoé" not in asked.content.decode()  # nothing before the reason
    assert not AuditEvent.objects.filter(kind=AuditKind.ARCHIVE_READ).exists()

    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 400
    assert "Indiquez le motif de la consultation." in refused.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditKind.ARCHIVE_READ).exists()

    read = client.post(url, {"reason": "Demande d'accès de la personne du 2 mars"})
    page = read.content.decode()
    assert read.status_code == 200
    assert "Zoé" in page and "EXEMPLE" in page.upper()
    assert 'name="reason"' not in page  # read-only: the file, no form
    line = AuditEvent.objects.get(kind=AuditKind.ARCHIVE_READ)
    assert (line.actor, line.person_id, line.department_id) == (eve, person.pk, "83")
    assert line.details == {"reason": "Demande d'accès de la personne du 2 mars"}
    assert line.get_kind_display() == "Consultation d'archive"
    # Each read is its own line.
    client.post(url, {"reason": "Réquisition du tribunal"})
    assert AuditEvent.objects.filter(kind=AuditKind.ARCHIVE_READ, person_id=person.pk).count() == 2
    # « Qui a consulté mon dossier » tells the person of the archivist's reads.
    assert eve.pk in {read.actor_id for read in reads_of_file(person)}


def test_nobody_else_reads_the_archive(closed_file: SmallTerritory) -> None:
    turn_archive_on(closed_file)
    person = archive_file(closed_file)
    claire = territory_admin(closed_file)  # administers the territory, not its archivist
    list_url = reverse("retention:archive_list", args=["83"])
    read_url = reverse("retention:archive_read", args=["83", person.pk])
    clients = {
        "former team": closed_file.client(closed_file.alice),
        "steering": closed_file.client(closed_file.dan),
        "outsider": closed_file.client(closed_file.charlie),
        "territory admin": login_as(Client(), claire),
    }
    for who, client in clients.items():
        assert client.get(list_url).status_code == 404, who
        assert client.get(read_url).status_code == 404, who
        assert client.post(read_url, {"reason": "curiosité"}).status_code == 404, who
    assert not AuditEvent.objects.filter(kind=AuditKind.ARCHIVE_READ).exists()
    # The Essonne's archivist does not read the Var's archive.
    other = make_member("Olga", closed_file.departement)
    TerritoryRole.objects.create(user=other, department_id="91", role=TerritoryRoleKind.ARCHIVIST)
    TOTPDevice.objects.create(user=other, name="Olga", confirmed=True)
    assert login_as(Client(), other).get(read_url).status_code == 404
    assert (
        login_as(Client(), other)
        .get(reverse("retention:archive_read", args=["91", person.pk]))
        .status_code
        == 404
    )
    # Not archived: no archive page for the file.
    eve = archivist(closed_file)
    other_person = make_member("Paul", closed_file.departement)  # any id that is no archive
    assert (
        login_as(Client(), eve)
        .get(reverse("retention:archive_read", args=["83", other_person.pk + 10_000]))
        .status_code
        == 404
    )


def test_at_the_end_of_the_archive_the_file_is_anonymised(closed_file: SmallTerritory) -> None:
    turn_archive_on(closed_file, years=1)
    person = archive_file(closed_file)
    archived_until = person.archived_until
    assert archived_until is not None
    before_end = archived_until - timedelta(days=1)
    assert actions.run(today=before_end).anonymised == 0

    dry = actions.run(today=archived_until, dry_run=True)
    assert (dry.archive_expired, dry.anonymised) == (1, 1)
    person.refresh_from_db()
    assert person.first_name == "Zoé"  # the dry run wrote nothing

    report = actions.run(today=archived_until)
    assert (report.anonymised, report.archive_expired, report.archived) == (1, 1, 0)
    assert report.by_department == {"83": {"anonymise": 1, "archive_expired": 1}}
    person.refresh_from_db()
    assert (person.first_name, person.archived_until) == ("Personne", None)
    found = Archive.objects.get(person=person)
    assert found.outcome == ArchiveOutcome.ANONYMISED and found.closed_at is not None
    assert Anonymisation.objects.get(person=person).cause == "retention"
    assert AuditEvent.objects.filter(kind=AuditKind.FILE_ANONYMISED, person_id=person.pk)
    assert actions.run(today=archived_until).anonymised == 0  # idempotent


def test_a_hold_keeps_an_archived_file_past_the_end_of_its_archive(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file, years=1)
    person = archive_file(closed_file)
    claire = territory_admin(closed_file)
    actions.set_legal_hold(person=person, reason="Contentieux en cours", by=claire)
    report = actions.run(today=person.archived_until)
    assert (report.anonymised, report.kept) == (0, 1)
    person.refresh_from_db()
    assert person.first_name == "Zoé" and person.archived_until is not None


def test_the_dry_run_counts_what_would_be_archived_and_the_archives_at_their_end(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file, years=1)
    person = closed_file.person
    age_file(person, days_until_deadline_is(30))
    actions.run()
    age_file(person, 31)
    dry = actions.run(dry_run=True)
    assert (dry.archived, dry.anonymised) == (1, 0)
    assert dry.by_department == {"83": {"archive": 1}}
    assert not Archive.objects.exists()
    plan = actions.plan(today=today())
    assert [c.person_id for c in plan.archive] == [person.pk] and not plan.anonymise

    actions.run()
    person.refresh_from_db()
    later = person.archived_until
    plan = actions.plan(today=later)
    assert [c.person_id for c in plan.archive_expired] == [person.pk]
    dry = actions.run(today=later, dry_run=True)
    assert dry.by_department == {"83": {"anonymise": 1, "archive_expired": 1}}

    from io import StringIO

    out = StringIO()
    call_command("retention", "run", "--dry-run", "--date", later.isoformat(), stdout=out)
    text = out.getvalue()
    assert "archives arrivées à échéance → à anonymiser : 1" in text
    assert "à archiver : 0" in text


def test_the_territory_admin_turns_the_archive_on_with_a_justification(
    small_var: SmallTerritory,
) -> None:
    claire = territory_admin(small_var)
    client = login_as(Client(), claire)
    url = reverse("retention:archive_settings", args=["83"])
    refused = client.post(url, {"enabled": "on", "years": "3", "justification": " "})
    assert refused.status_code == 400
    assert "Indiquez la justification écrite" in refused.content.decode()
    assert not ArchiveSettings.objects.exists()
    too_long = client.post(url, {"enabled": "on", "years": "11", "justification": "x"})
    assert too_long.status_code == 400
    assert "ne dépasse pas 10 ans" in too_long.content.decode()
    done = client.post(url, {"enabled": "on", "years": "4", "justification": JUSTIFICATION})
    assert done.status_code == 302
    found = ArchiveSettings.objects.get(department_id="83")
    assert (found.enabled, found.years, found.justification) == (True, 4, JUSTIFICATION)
    line = AuditEvent.objects.get(kind=AuditKind.ARCHIVE_SETTINGS_CHANGED)
    assert line.actor == claire and "4 ans" in line.what
    page = client.get(reverse("retention:territory", args=["83"])).content.decode()
    assert "archivés 4 ans" in page
    # A professional does not set it.
    assert small_var.client(small_var.alice).post(url, {"years": "3"}).status_code == 403
    with pytest.raises(ValidationError):
        archive.set_archive_settings(
            department_id="83", enabled=True, years=0, justification="x", by=claire
        )


def test_the_territory_admin_restores_a_file_archived_by_mistake(
    closed_file: SmallTerritory,
) -> None:
    turn_archive_on(closed_file)
    person = archive_file(closed_file)
    claire = territory_admin(closed_file)
    client = login_as(Client(), claire)
    url = reverse("retention:archive_restore", args=["83"])
    refused = client.post(url, {"restore-person": str(person.pk), "restore-reason": ""})
    assert refused.status_code == 400
    done = client.post(
        url, {"restore-person": str(person.pk), "restore-reason": "Rendez-vous non saisi"}
    )
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.archived_until is None
    found = Archive.objects.get(person=person)
    assert (found.outcome, found.closed_by, found.reason) == (
        ArchiveOutcome.RESTORED,
        claire,
        "Rendez-vous non saisi",
    )
    assert AuditEvent.objects.filter(kind=AuditKind.FILE_RESTORED, person_id=person.pk)
    assert (
        closed_file.client(closed_file.alice)
        .get(reverse("people:detail", args=[person.pk]))
        .status_code
        == 200
    )
    # Without a new contact, archived again once the notice period is over.
    assert actions.run().archived == 0
    assert actions.run(today=today() + timedelta(days=30)).archived == 1


def test_the_archivist_finds_the_archive_from_the_home_page(small_var: SmallTerritory) -> None:
    eve = archivist(small_var)
    home = login_as(Client(), eve).get(reverse("site:home")).content.decode()
    assert reverse("retention:archive_list", args=["83"]) in home
    assert reverse("retention:archive_list", args=["83"]) not in (
        small_var.client(small_var.alice).get(reverse("site:home")).content.decode()
    )


def test_the_territory_admin_grants_the_archivist_role(small_var: SmallTerritory) -> None:
    claire = territory_admin(small_var)
    eve = make_member("Eve", small_var.departement)
    list_url = reverse("retention:archive_list", args=["83"])
    assert login_as(Client(), eve).get(list_url).status_code == 404
    granted = login_as(Client(), claire).post(
        reverse("organisations:territory_roles", args=["83"]),
        {"email": eve.email, "role": TerritoryRoleKind.ARCHIVIST},
    )
    assert granted.status_code == 302
    assert eve.territory_roles.get().get_role_display().startswith("Archiviste")
    # Reading the archive asks for a second factor, as administering does.
    refused = login_as(Client(), eve).get(list_url)
    assert refused.status_code == 302
    assert refused.url.startswith(reverse("accounts:otp_setup"))
    TOTPDevice.objects.create(user=eve, name="Eve", confirmed=True)
    assert login_as(Client(), eve).get(list_url).status_code == 200


def test_an_archived_file_is_never_proposed_as_a_duplicate(closed_file: SmallTerritory) -> None:
    from binome.people.duplicates import probable_duplicates
    from binome.support import actions as support_actions
    from binome.support.models import Kind, TeamRole

    twin = support_actions.create_person(
        data={
            "first_name": "Zoé",
            "last_name": "Exemple",
            "birth_date": closed_file.person.birth_date,
        },
        by=closed_file.alice,
        organisation=closed_file.france_travail,
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    pairs = {(pair.first.pk, pair.second.pk) for pair in probable_duplicates("83")}
    assert (closed_file.person.pk, twin.pk) in pairs
    turn_archive_on(closed_file)
    person = archive_file(closed_file)
    assert not probable_duplicates("83")
    claire = territory_admin(closed_file)
    merge = reverse("people:merge", args=["83", person.pk, twin.pk])
    assert login_as(Client(), claire).get(merge).status_code == 404
