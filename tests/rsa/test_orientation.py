"""« À orienter », the orientation decision (one by one, in bulk, delegated, reorientation),
the référent de parcours and the contrat d'engagement."""

from __future__ import annotations

import datetime
from typing import Any

import lxml.html
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from binome.access.models import AuditEvent, AuditKind
from binome.notifications.models import Notification
from binome.people.models import Person
from binome.referrals.models import Referral, ReferralKind, Status
from binome.rsa import orientations
from binome.rsa.models import Beneficiary, Dossier, Orientation, OrientationKind
from binome.support.models import EventKind, TimelineEvent
from tests.factories import make_organisation
from tests.rsa.conftest import RsaTerritory


def to_orient_url() -> str:
    return reverse("rsa:to_orient", args=["83"])


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert orientations.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert orientations.add_months(datetime.date(2026, 12, 7), 1) == datetime.date(2027, 1, 7)


def test_the_manager_sees_the_persons_to_orient_by_deadline(
    rsa_var: RsaTerritory, django_assert_num_queries
) -> None:
    client = rsa_var.var.client(rsa_var.mia)
    client.get(to_orient_url())  # the session's first request warms its caches
    with django_assert_num_queries(9):
        response = client.get(to_orient_url())
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.first_name for row in rows] == ["Hélène", "Noël", "Farid"]  # not Gaëlle
    html = response.content.decode()
    assert "Sans domicile fixe" in html and "1234567A" in html and "Marié(e)" in html
    read = AuditEvent.objects.filter(kind=AuditKind.READ, actor=rsa_var.mia).latest("pk")
    assert sorted(read.person_ids) == sorted(row.person_id for row in rows)


def test_the_list_filters_by_name_deadline_and_no_fixed_address(rsa_var: RsaTerritory) -> None:
    client = rsa_var.var.client(rsa_var.mia)
    names = lambda **q: [r.first_name for r in client.get(to_orient_url(), q).context["rows"]]  # noqa: E731
    assert names(q="lefevre") == ["Hélène", "Noël"]
    assert names(due="week") == ["Hélène"]
    assert names(sdf="on") == ["Farid"]
    assert names(due="nonsense") == ["Hélène", "Noël", "Farid"]  # ignored, not a 500


def test_the_list_is_the_orientation_managers_only(rsa_var: RsaTerritory) -> None:
    var = rsa_var.var
    for user in (var.alice, var.bob, var.dan, var.charlie):
        assert var.client(user).get(to_orient_url()).status_code == 404
    assert var.client(rsa_var.mia).get(reverse("rsa:to_orient", args=["91"])).status_code == 404


def test_one_orientation_is_notified_to_the_referent_body(rsa_var: RsaTerritory) -> None:
    helene = rsa_var.people["Hélène"]
    client = rsa_var.var.client(rsa_var.mia)
    url = reverse("rsa:orient", args=[helene.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": OrientationKind.SOCIAL,
            "referent_body": rsa_var.ccas.pk,
            "employment_situation": "long_term",
            "qualification": "none",
            "aspirations": "Retrouver un logement d'abord",
            "obstacles": ["housing", "health"],
        },
    )
    assert response.status_code == 302, response.content.decode()
    orientation = Orientation.objects.get(beneficiary=helene)
    today = timezone.localdate()
    assert (orientation.kind, orientation.referent_body) == ("sociale", rsa_var.ccas)
    assert orientation.notified_on == today
    assert orientation.contract_due_on == orientations.add_months(today, 1)
    assert orientation.obstacles == ["housing", "health"]
    # The CCAS's inbox holds it, as a referral « orientation RSA ».
    referral = Referral.objects.received_by(rsa_var.ccas.pk).get()
    assert referral == orientation.referral and referral.kind == ReferralKind.RSA
    assert referral.person == helene.person and referral.status == Status.SENT
    assert Notification.objects.filter(recipient=rsa_var.ccas_worker).exists()
    line = TimelineEvent.objects.get(person=helene.person, kind=EventKind.RSA)
    assert line.summary.startswith("Orientation RSA sociale vers CCAS de Toulon")
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_ORIENTED, person_id=helene.person_id)
    # She left the list.
    rows = client.get(to_orient_url()).context["rows"]
    assert [row.first_name for row in rows] == ["Noël", "Farid"]


def test_bulk_orientation_applies_to_every_checked_person(rsa_var: RsaTerritory) -> None:
    noel, farid = rsa_var.people["Noël"], rsa_var.people["Farid"]
    client = rsa_var.var.client(rsa_var.mia)
    url = reverse("rsa:orient_bulk", args=["83"])
    page = client.get(url, {"b": [noel.pk, farid.pk]})
    assert page.status_code == 200 and len(page.context["beneficiaries"]) == 2
    response = client.post(
        url,
        {
            "b": [noel.pk, farid.pk],
            "kind": OrientationKind.EMPLOYMENT,
            "referent_body": rsa_var.var.france_travail.pk,
        },
    )
    assert response.status_code == 302
    oriented = Orientation.objects.filter(referent_body=rsa_var.var.france_travail)
    assert sorted(o.beneficiary.first_name for o in oriented) == ["Farid", "Noël"]
    assert Referral.objects.filter(kind=ReferralKind.RSA).count() == 2


def test_bad_decisions_get_a_french_message_and_write_nothing(rsa_var: RsaTerritory) -> None:
    helene = rsa_var.people["Hélène"]
    client = rsa_var.var.client(rsa_var.mia)
    url = reverse("rsa:orient", args=[helene.pk])
    no_kind = client.post(url, {"referent_body": rsa_var.ccas.pk})
    assert no_kind.status_code == 400
    assert "Choisissez le type d" in no_kind.content.decode()
    delegated_to_ccas = client.post(url, {"kind": "delegated", "referent_body": rsa_var.ccas.pk})
    assert delegated_to_ccas.status_code == 400
    assert "agence France Travail" in delegated_to_ccas.content.decode()
    elsewhere = make_organisation("CCAS d'Évry", "ccas", department="91")
    outside = client.post(url, {"kind": "sociale", "referent_body": elsewhere.pk})
    assert outside.status_code == 400
    nobody = client.post(reverse("rsa:orient_bulk", args=["83"]), {"kind": "sociale"})
    assert nobody.status_code == 302  # back to the list, with its message
    assert not Orientation.objects.exists() and not Referral.objects.exists()


def test_delegation_to_france_travail_waits_for_its_referent(rsa_var: RsaTerritory) -> None:
    farid = rsa_var.people["Farid"]
    client = rsa_var.var.client(rsa_var.mia)
    response = client.post(
        reverse("rsa:orient", args=[farid.pk]),
        {"kind": "delegated", "referent_body": rsa_var.var.france_travail.pk},
    )
    assert response.status_code == 302
    orientation = Orientation.objects.get(beneficiary=farid)
    assert orientation.delegated and orientation.kind == "" and orientation.contract_due_on is None
    assert orientation.label == "Déléguée à France Travail"


def test_a_reorientation_replaces_the_former_and_restarts_the_clocks(
    rsa_var: RsaTerritory,
) -> None:
    helene = rsa_var.people["Hélène"]
    mia = rsa_var.mia
    first = orientations.orient(
        beneficiary=helene,
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=mia,
        organisation=rsa_var.var.departement,
    )
    long_ago = timezone.localdate() - datetime.timedelta(days=40)
    Orientation.objects.filter(pk=first.pk).update(
        notified_on=long_ago, contract_due_on=orientations.add_months(long_ago, 1)
    )
    second = orientations.orient(
        beneficiary=helene,
        decision=orientations.Decision(
            referent_body=rsa_var.var.france_travail, kind=OrientationKind.EMPLOYMENT
        ),
        by=mia,
        organisation=rsa_var.var.departement,
    )
    first.refresh_from_db()
    assert first.replaced_at is not None
    assert first.referral is not None and first.referral.status == Status.WITHDRAWN
    assert second.contract_due_on == orientations.add_months(timezone.localdate(), 1)
    assert list(Orientation.objects.current().filter(beneficiary=helene)) == [second]
    assert TimelineEvent.objects.filter(summary__startswith="Réorientation RSA").exists()


def orient_helene_to_france_travail(rsa_var: RsaTerritory) -> Orientation:
    return orientations.orient(
        beneficiary=rsa_var.people["Hélène"],
        decision=orientations.Decision(
            referent_body=rsa_var.var.france_travail, kind=OrientationKind.EMPLOYMENT
        ),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )


def test_the_referent_body_designates_its_member_and_records_the_contract(
    rsa_var: RsaTerritory,
) -> None:
    orientation = orient_helene_to_france_travail(rsa_var)
    alice = rsa_var.var.alice  # France Travail Toulon
    client = rsa_var.var.client(alice)
    received = client.get(reverse("rsa:received", args=[rsa_var.var.france_travail.pk]))
    assert [o.pk for o in received.context["page"].object_list] == [orientation.pk]
    assert client.get(reverse("rsa:orientation", args=[orientation.pk])).status_code == 200
    response = client.post(reverse("rsa:designate", args=[orientation.pk]), {"referent": alice.pk})
    assert response.status_code == 302
    orientation.refresh_from_db()
    assert orientation.referent == alice
    assert orientation.referral is not None and orientation.referral.status == Status.ACCEPTED
    assert AuditEvent.objects.filter(kind=AuditKind.RSA_REFERENT).count() == 1
    signed = timezone.localdate().isoformat()
    response = client.post(reverse("rsa:contract", args=[orientation.pk]), {"signed_on": signed})
    assert response.status_code == 302
    orientation.refresh_from_db()
    assert orientation.contract_signed_on == timezone.localdate()
    assert TimelineEvent.objects.filter(
        person=orientation.person, kind=EventKind.RSA, summary__startswith="Contrat d'engagement"
    ).exists()


def test_referent_and_contract_refusals(rsa_var: RsaTerritory) -> None:
    orientation = orient_helene_to_france_travail(rsa_var)
    var = rsa_var.var
    # Outside the referent body: 404 everywhere, the orientation manager included.
    for user in (var.bob, var.charlie, rsa_var.ccas_worker, rsa_var.mia):
        client = var.client(user)
        assert client.get(reverse("rsa:orientation", args=[orientation.pk])).status_code == 404
        assert (
            client.post(
                reverse("rsa:designate", args=[orientation.pk]), {"referent": var.alice.pk}
            ).status_code
            == 404
        )
    client = var.client(var.alice)
    # The contract before the referent, a referent outside the body, a date to come, 31/02.
    early = client.post(
        reverse("rsa:contract", args=[orientation.pk]),
        {"signed_on": timezone.localdate().isoformat()},
    )
    assert early.status_code == 400 and "Désignez d" in early.content.decode()
    stranger = client.post(
        reverse("rsa:designate", args=[orientation.pk]), {"referent": var.bob.pk}
    )
    assert stranger.status_code == 400
    client.post(reverse("rsa:designate", args=[orientation.pk]), {"referent": var.alice.pk})
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    to_come = client.post(reverse("rsa:contract", args=[orientation.pk]), {"signed_on": future})
    assert to_come.status_code == 400 and "à venir" in to_come.content.decode()
    invalid = client.post(
        reverse("rsa:contract", args=[orientation.pk]), {"signed_on": "2026-02-31"}
    )
    assert invalid.status_code == 400
    with_action = orientation
    try:
        orientations.record_contract_signature(
            orientation=with_action,
            signed_on=orientation.notified_on - datetime.timedelta(days=1),
            by=var.alice,
        )
    except ValidationError as error:
        assert "précède la notification" in str(error)
    else:
        raise AssertionError("a signature before the notification was accepted")
    orientation.refresh_from_db()
    assert orientation.contract_signed_on is None


def test_the_referral_in_the_inbox_leads_to_the_referent_designation(
    rsa_var: RsaTerritory,
) -> None:
    orientation = orient_helene_to_france_travail(rsa_var)
    assert orientation.referral is not None
    page = rsa_var.var.client(rsa_var.var.alice).get(
        reverse("referrals:detail", args=[orientation.referral.pk])
    )
    body = page.content.decode()
    assert "Désigner le référent de parcours" in body
    assert reverse("rsa:received", args=[rsa_var.var.france_travail.pk]) in body
    assert reverse("referrals:accept", args=[orientation.referral.pk]) not in body


def _cells(row: Any) -> list[str]:
    for br in row.iter("br"):
        br.tail = f" {br.tail or ''}"
    return [" ".join(cell.text_content().split()) for cell in row.findall("td")]


def test_the_lists_rows_show_what_is_known_escaped(rsa_var: RsaTerritory) -> None:
    """The rows are written in Python: each cell as the template wrote it, every text from the
    flows or the files escaped, each link to its own person."""
    today = timezone.localdate()
    people = rsa_var.people
    farid, noel, helene = people["Farid"], people["Noël"], people["Hélène"]
    script, company = "Farid <script>alert(1)</script>", "Benali & Fils"
    Beneficiary.objects.filter(pk=farid.pk).update(first_name=script, last_name=company)
    Person.objects.filter(pk=farid.person_id).update(first_name=script, last_name=company)
    Dossier.objects.filter(pk=farid.dossier_id).update(family_situation="")  # not known
    Beneficiary.objects.filter(pk=noel.pk).update(
        orientation_due_on=today - datetime.timedelta(days=2)
    )
    asked = orientations.orient(
        beneficiary=helene,
        decision=orientations.Decision(referent_body=rsa_var.ccas, kind=OrientationKind.SOCIAL),
        by=rsa_var.mia,
        organisation=rsa_var.var.departement,
    )
    Orientation.objects.filter(pk=asked.pk).update(
        reorientation_asked_at=timezone.now(), reorientation_reason="<b>Emploi</b> & logement"
    )

    response = rsa_var.var.client(rsa_var.mia).get(to_orient_url())
    html = response.content.decode()
    assert "<script>" not in html and "<b>Emploi" not in html
    assert "Farid &lt;script&gt;alert(1)&lt;/script&gt;" in html and "Benali &amp; Fils" in html
    reorientations, persons = lxml.html.fromstring(html).findall(".//table")

    (reorientation,) = reorientations.findall("./tbody/tr")
    assert _cells(reorientation) == [
        "Hélène LEFÈVRE",
        "CCAS de Toulon",
        f"{today:%d/%m/%Y}",
        "<b>Emploi</b> & logement",
        "Réorienter Hélène LEFÈVRE",
    ]
    assert [a.get("href") for a in reorientation.iter("a")] == [
        reverse("people:detail", args=[helene.person_id]),
        reverse("rsa:orient", args=[helene.pk]),
    ]

    noel_row, farid_row = persons.findall("./tbody/tr")
    due = today - datetime.timedelta(days=2)
    assert _cells(noel_row) == [
        "Choisir Noël Lefèvre",
        "Noël Lefèvre Conjoint, né(e) le 09/02/1983 — RSA n° 1001",
        "Marié(e), 1 enfant(s)",
        "Droit ouvert et versable",
        "—",
        f"Dépassé : {due:%d/%m/%Y}",
        "Orienter Noël Lefèvre",
    ]
    assert noel_row.find(".//p").get("class") == "fr-badge fr-badge--sm fr-badge--error"
    assert _cells(farid_row) == [
        f"Choisir {script} {company}",
        f"{script} {company} Demandeur, né(e) le 02/01/1990 — RSA n° 1002",
        "—",
        "Nouvelle demande en attente de décision du département Sans domicile fixe",
        "1234567A",
        f"{farid.orientation_due_on:%d/%m/%Y}",
        f"Orienter {script} {company}",
    ]
    checkbox = farid_row.find(".//input")
    assert (checkbox.get("name"), checkbox.get("value")) == ("b", str(farid.pk))
    label = farid_row.find(".//label")
    assert label.get("for") == checkbox.get("id") == f"choisir-{farid.pk}"
    assert [a.get("href") for a in farid_row.iter("a")] == [
        reverse("people:detail", args=[farid.person_id]),
        reverse("rsa:orient", args=[farid.pk]),
    ]
