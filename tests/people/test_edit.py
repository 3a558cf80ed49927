"""Correcting a person's file: identity, contact details, identifiers and household, by the
team, traced in the timeline (seen by the person) and the audit log, never over someone
else's save."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from binome.access.models import AuditEvent, AuditKind
from binome.people.changes import person_version
from binome.people.models import HouseholdMember, Person
from binome.support import actions
from binome.support.demo import NADIA_NIR
from binome.support.models import EventKind, Kind, TeamRole, TimelineEvent, Visibility

SPACE = reverse("space:home")
OTHER_NIR_BODY = "1850983137123"
OTHER_NIR = OTHER_NIR_BODY + stdnum_nir.calc_check_digits(OTHER_NIR_BODY)


def edit_url(person: Person) -> str:
    return reverse("people:edit", args=[person.pk])


def file_url(person: Person) -> str:
    return reverse("people:detail", args=[person.pk])


def form_data(person: Person, **overrides: str) -> dict[str, str]:
    """What the edit form sends for the file as it is now, with ``overrides``."""
    person.refresh_from_db()
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_name": person.birth_name,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
        "commune": person.commune.insee_code if person.commune else "",
        "france_travail_id": person.france_travail_id,
        "caf_number": person.caf_number,
        "version": person_version(person),
    }
    data.update(overrides)
    return data


def corrections(person: Person) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(kind=AuditKind.PERSON_UPDATED, person_id=person.pk).order_by("id")
    )


def test_ines_corrects_a_typo_and_nadia_sees_it(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    ines = client_for("ines")
    page = ines.get(edit_url(nadia_file)).content.decode()
    assert 'value="Belkacem"' in page and 'value="Toulon (83000)"' in page

    response = ines.post(edit_url(nadia_file), form_data(nadia_file, last_name="Belkacim"))
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[nadia_file.pk])
    nadia_file.refresh_from_db()
    assert nadia_file.last_name == "Belkacim"
    assert "belkacim" in nadia_file.search_name  # the duplicates matching follows
    event = TimelineEvent.objects.filter(person=nadia_file, kind=EventKind.PERSON).latest("id")
    assert event.summary == "Dossier corrigé : Nom : Belkacem → Belkacim"
    assert event.visibility == Visibility.TEAM_AND_PERSON
    assert event.actor == personas["ines"]
    [audit] = corrections(nadia_file)
    assert audit.what == event.summary and audit.actor == personas["ines"]
    assert audit.details == {"fields": ["last_name"]}
    assert "Nadia BELKACIM" in client_for("marc").get(file_url(nadia_file)).content.decode()
    space = client_for("nadia").get(SPACE).content.decode()
    assert "Nadia Belkacim" in space
    assert "Une erreur ? Dites-le à votre conseiller ou à votre travailleur social" in space

    # And back, with a new phone number: its values stay out of the trace.
    response = ines.post(
        edit_url(nadia_file),
        form_data(nadia_file, last_name="Belkacem", phone="07 98 76 54 32"),
    )
    assert response.status_code == 302
    nadia_file.refresh_from_db()
    assert (nadia_file.last_name, nadia_file.phone) == ("Belkacem", "07 98 76 54 32")
    last = corrections(nadia_file)[-1]
    assert last.what == "Dossier corrigé : Nom : Belkacim → Belkacem ; Téléphone modifié"
    assert last.details == {"fields": ["last_name", "phone"]}
    space = client_for("nadia").get(SPACE).content.decode()
    assert "Nadia Belkacem" in space and "07 98 76 54 32" in space


def test_saving_unchanged_writes_nothing(client_for: Any, nadia_file: Person) -> None:
    response = client_for("ines").post(edit_url(nadia_file), form_data(nadia_file))
    assert response.status_code == 302
    assert corrections(nadia_file) == []


def test_the_space_shows_identity_but_never_the_nir_nor_internal_ids(
    client_for: Any, nadia_file: Person
) -> None:
    space = client_for("nadia").get(SPACE).content.decode()
    assert "12/04/1988" in space and "12 rue Victor Clappier" in space and "Toulon" in space
    for secret in (NADIA_NIR[:13], "3456789B", "7654321"):
        assert secret not in space


def test_the_nir_field_only_for_who_may_see_the_nir(client_for: Any, nadia_file: Person) -> None:
    ines_page = client_for("ines").get(edit_url(nadia_file)).content.decode()
    assert 'name="nir"' not in ines_page  # dedicated counselor: no NIR
    assert NADIA_NIR not in ines_page
    marc_page = client_for("marc").get(edit_url(nadia_file)).content.decode()
    assert 'name="nir"' in marc_page and NADIA_NIR in marc_page  # social worker
    # A NIR posted by who may not see it is ignored.
    before = nadia_file.nir_hash
    response = client_for("ines").post(edit_url(nadia_file), form_data(nadia_file, nir=OTHER_NIR))
    assert response.status_code == 302
    nadia_file.refresh_from_db()
    assert nadia_file.nir_hash == before
    assert corrections(nadia_file) == []


def test_marc_changes_the_nir_stored_as_creation_does(client_for: Any, nadia_file: Person) -> None:
    response = client_for("marc").post(
        edit_url(nadia_file), form_data(nadia_file, nir=f"{OTHER_NIR[:1]} {OTHER_NIR[1:]}")
    )
    assert response.status_code == 302
    nadia_file.refresh_from_db()
    assert nadia_file.nir == OTHER_NIR
    assert (
        Person.objects.matching(
            department_id="83", first_name="", last_name="", birth_date=None, nir=OTHER_NIR
        ).get()
        == nadia_file
    )
    [audit] = corrections(nadia_file)
    assert audit.what == "Dossier corrigé : NIR modifié"
    assert audit.details == {"fields": ["nir"]}
    for trace in (audit.what, str(audit.details)):
        assert OTHER_NIR[:13] not in trace and NADIA_NIR[:13] not in trace


def test_a_wrong_nir_key_is_refused_and_nothing_is_written(
    client_for: Any, nadia_file: Person
) -> None:
    wrong = OTHER_NIR_BODY + f"{(int(OTHER_NIR[-2:]) + 1) % 97:02d}"
    before = nadia_file.nir_hash
    response = client_for("marc").post(
        edit_url(nadia_file), form_data(nadia_file, nir=wrong, last_name="Belkacim")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ce NIR (numéro de sécurité sociale) n&#x27;est pas valide" in body
    assert 'value="Belkacim"' in body  # the input is kept
    nadia_file.refresh_from_db()
    assert (nadia_file.nir_hash, nadia_file.last_name) == (before, "Belkacem")
    assert corrections(nadia_file) == []


def test_bad_identity_gets_french_messages(client_for: Any, nadia_file: Person) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client_for("ines").post(
        edit_url(nadia_file),
        form_data(nadia_file, birth_date=tomorrow, first_name="", email="pas-un-mail"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "La date de naissance ne peut pas être dans le futur." in body
    assert "Indiquez le prénom." in body
    assert "Saisissez une adresse de courriel valide." in body
    assert corrections(nadia_file) == []


def test_a_concurrent_edit_is_refused_and_shows_what_changed(
    client_for: Any, nadia_file: Person
) -> None:
    opened = form_data(nadia_file)  # Inès opens the form
    marc_saves = client_for("marc").post(
        edit_url(nadia_file), form_data(nadia_file, phone="07 11 22 33 44")
    )
    assert marc_saves.status_code == 302

    ines = client_for("ines")
    response = ines.post(edit_url(nadia_file), {**opened, "last_name": "Belkacim"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Modifié entre-temps" in body
    assert "Marc" in body and "a corrigé ce dossier le" in body
    assert "07 11 22 33 44" in body and "06 12 34 56 78" in body  # saved meanwhile / typed
    assert 'value="Belkacim"' in body  # nothing typed is lost
    nadia_file.refresh_from_db()
    assert (nadia_file.last_name, nadia_file.phone) == ("Belkacem", "07 11 22 33 44")
    assert len(corrections(nadia_file)) == 1

    # Saving again applies her version, knowingly.
    again = ines.post(
        edit_url(nadia_file),
        {**opened, "last_name": "Belkacim", "version": person_version(nadia_file)},
    )
    assert again.status_code == 302
    nadia_file.refresh_from_db()
    assert (nadia_file.last_name, nadia_file.phone) == ("Belkacim", "06 12 34 56 78")


def test_a_form_without_version_is_refused(client_for: Any, nadia_file: Person) -> None:
    response = client_for("ines").post(
        edit_url(nadia_file), form_data(nadia_file, last_name="Belkacim", version="")
    )
    assert response.status_code == 200
    assert "Modifié entre-temps" in response.content.decode()
    assert corrections(nadia_file) == []


def test_a_correction_that_makes_a_duplicate_is_refused(
    personas: dict[str, Any], orgs: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    other = actions.create_person(
        data={
            "first_name": "Julien",
            "last_name": "Moreau",
            "birth_date": date(1985, 9, 23),
            "nir": OTHER_NIR,
            "france_travail_id": "1234567A",
        },
        by=personas["ines"],
        organisation=orgs["ft_toulon"],
        kind=Kind.GLOBAL,
        role=TeamRole.DEDICATED_COUNSELOR,
    )
    response = client_for("ines").post(
        edit_url(nadia_file),
        form_data(nadia_file, first_name="Julien", last_name="Moreaux", birth_date="1985-09-23"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "une identité proche et la même date de naissance" in body
    assert "« Doublons de personnes »" in body
    assert "Moreau" not in body.replace('value="Moreaux"', "")  # the other file stays unseen

    response = client_for("marc").post(edit_url(nadia_file), form_data(nadia_file, nir=OTHER_NIR))
    assert "Un autre dossier du département a le même NIR" in response.content.decode()
    response = client_for("ines").post(
        edit_url(nadia_file), form_data(nadia_file, france_travail_id=" 1234567a ")
    )
    assert "a le même identifiant France Travail" in response.content.decode()
    nadia_file.refresh_from_db()
    assert (nadia_file.first_name, nadia_file.nir, nadia_file.france_travail_id) == (
        "Nadia",
        NADIA_NIR,
        "3456789B",
    )
    assert corrections(nadia_file) == []
    assert other.pk != nadia_file.pk


def test_only_the_team_corrects_the_file(client_for: Any, nadia_file: Person) -> None:
    expected = {"charlie": 404, "karim": 404, "paul": 404, "sophie": 404, "claire": 403}
    for persona, status in expected.items():
        client = client_for(persona)
        assert client.get(edit_url(nadia_file)).status_code == status, persona
        posted = client.post(edit_url(nadia_file), form_data(nadia_file, last_name="Pirate"))
        assert posted.status_code == status, persona
    nadia_file.refresh_from_db()
    assert nadia_file.last_name == "Belkacem"
    assert corrections(nadia_file) == []
    page = client_for("ines").get(file_url(nadia_file)).content.decode()
    assert edit_url(nadia_file) in page and "Corriger l'identité ou les coordonnées" in page


def test_a_household_member_is_corrected_then_removed(
    personas: dict[str, Any], client_for: Any, nadia_file: Person
) -> None:
    yanis = HouseholdMember.objects.get(person=nadia_file)
    edit = reverse("people:household_edit", args=[nadia_file.pk, yanis.pk])
    remove = reverse("people:household_remove", args=[nadia_file.pk, yanis.pk])
    ines = client_for("ines")
    file_page = ines.get(file_url(nadia_file)).content.decode()
    assert edit in file_page and remove in file_page
    assert 'value="Yanis"' in ines.get(edit).content.decode()

    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    refused = ines.post(edit, {"relation": "child", "first_name": "Yannis", "birth_date": future})
    assert "La date de naissance ne peut pas être dans le futur." in refused.content.decode()

    response = ines.post(
        edit, {"relation": "child", "first_name": "Yannis", "birth_date": "2021-06-04"}
    )
    assert response.status_code == 302
    yanis.refresh_from_db()
    assert (yanis.first_name, yanis.birth_date) == ("Yannis", date(2021, 6, 4))
    changed = AuditEvent.objects.filter(
        kind=AuditKind.HOUSEHOLD_CHANGED, person_id=nadia_file.pk
    ).latest("id")
    assert changed.what == (
        "Foyer : enfant corrigé(e) (Yannis) — Prénom : Yanis → Yannis ; "
        "Date de naissance : 03/06/2021 → 04/06/2021"
    )
    assert changed.actor == personas["ines"]
    assert TimelineEvent.objects.filter(person=nadia_file, summary=changed.what).exists()

    assert client_for("charlie").post(remove).status_code == 404
    assert client_for("claire").post(remove).status_code == 403
    assert ines.post(remove).status_code == 302
    assert not HouseholdMember.objects.filter(person=nadia_file).exists()
    removed = AuditEvent.objects.filter(
        kind=AuditKind.HOUSEHOLD_CHANGED, person_id=nadia_file.pk
    ).latest("id")
    assert removed.what == "Foyer : enfant retiré(e) (Yannis)"
    assert TimelineEvent.objects.filter(person=nadia_file, summary=removed.what).exists()
    assert ines.post(remove).status_code == 404  # already removed


def test_a_long_correction_still_fits_its_timeline_line(
    client_for: Any, nadia_file: Person
) -> None:
    long_names = {name: name[0].upper() * 100 for name in ("first_name", "last_name", "birth_name")}
    response = client_for("ines").post(edit_url(nadia_file), form_data(nadia_file, **long_names))
    assert response.status_code == 302
    [audit] = corrections(nadia_file)
    assert audit.what == "Dossier corrigé : prénom, nom, nom de naissance modifiés"
    assert audit.details == {"fields": ["first_name", "last_name", "birth_name"]}
