import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.organisations.models import Membership, Organisation, Role

VALID_SIRET = "73282932000074"  # a real, well-formed SIRET (Luhn key right)


def create(client, **data):
    payload = {"departement": "83", "name": "Secours populaire — Toulon", "kind": "association"}
    payload.update(data)
    return client.post(reverse("organisations:create") + "?departement=83", payload)


def test_territory_admin_creates_an_organisation_with_siret_and_commune(client_for):
    response = create(client_for("claire"), siret="732 829 320 00074", commune="83137")
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Secours populaire — Toulon")
    assert organisation.siret == VALID_SIRET
    assert organisation.commune_id == "83137"
    assert organisation.department_id == "83"
    assert AuditEvent.objects.filter(
        kind=AuditKind.ORGANISATION_CREATED, target_id=str(organisation.pk)
    ).exists()


def test_invalid_siret_is_refused_with_a_clear_message(client_for):
    response = create(client_for("claire"), siret="73282932000075")
    assert response.status_code == 200
    assert "Ce numéro SIRET n&#x27;est pas valide" in response.content.decode()
    assert not Organisation.objects.filter(name="Secours populaire — Toulon").exists()


@pytest.mark.parametrize(
    ("commune", "message"),
    [("99999", "Commune inconnue"), ("29232", "n&#x27;est pas dans le département 83")],
)
def test_unknown_or_foreign_commune_is_refused(client_for, commune, message):
    response = create(client_for("claire"), commune=commune)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organisation.objects.filter(name="Secours populaire — Toulon").exists()


def test_missing_name_says_which_field(client_for):
    response = create(client_for("claire"), name="")
    assert "Indiquez le nom de l&#x27;organisation." in response.content.decode()


def test_professional_cannot_create_and_outsider_gets_404(client_for):
    assert create(client_for("ines")).status_code == 403
    assert create(client_for("charlie")).status_code == 404
    assert not Organisation.objects.filter(name="Secours populaire — Toulon").exists()


def test_admin_invites_a_new_member_who_activates_her_account(
    client_for, orgs, django_capture_on_commit_callbacks
):
    client = client_for("claire")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organisations:member_invite", args=[orgs["dep83"].pk]),
            {
                "email": "Julie.Moreau@var.test",
                "first_name": "Julie",
                "last_name": "Moreau",
                "role": "professional",
                "job_title": "Assistante sociale",
            },
        )
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="julie.moreau@var.test")
    assert membership.organisation == orgs["dep83"]
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Département du Var" in mail.outbox[0].subject
    link = re.search(r"http://\S+", body).group(0)
    path = link.split("127.0.0.1:8000", 1)[1]
    invited = Client()
    assert "Activer votre compte" in invited.get(path).content.decode()
    password = "Un-mot-de-passe-solide-2026"
    response = invited.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    assert "Bonjour Julie" in invited.get("/").content.decode()
    # The link works once.
    assert Client().get(path).status_code == 400
    assert AuditEvent.objects.filter(kind=AuditKind.MEMBER_INVITED).exists()


def test_inviting_an_existing_member_twice_is_refused(client_for, orgs):
    response = client_for("claire").post(
        reverse("organisations:member_invite", args=[orgs["dep83"].pk]),
        {
            "email": "marc.lefevre@var.test",
            "first_name": "Marc",
            "last_name": "Lefèvre",
            "role": "professional",
        },
    )
    assert response.status_code == 200
    assert "est déjà membre" in response.content.decode()
    assert mail.outbox == []


def test_existing_user_invited_elsewhere_gets_a_notice_without_link(
    client_for, orgs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("claire").post(
            reverse("organisations:member_invite", args=[orgs["dep83"].pk]),
            {
                "email": "ines.benali@francetravail.test",
                "first_name": "Inès",
                "last_name": "Benali",
                "role": "professional",
            },
        )
    assert response.status_code == 302
    assert "Vous avez déjà un compte" in mail.outbox[0].body


def test_admin_deactivates_a_member_who_then_loses_access(client_for, orgs, personas):
    membership = personas["marc"].memberships.get()
    response = client_for("claire").post(
        reverse("organisations:member_deactivate", args=[orgs["dep83"].pk, membership.pk])
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert (
        client_for("marc").get(reverse("organisations:detail", args=[orgs["dep83"].pk])).status_code
        == 404
    )
    assert AuditEvent.objects.filter(kind=AuditKind.MEMBER_DEACTIVATED).exists()


def test_last_admin_cannot_be_removed(client_for, orgs, personas):
    membership = personas["claire"].memberships.get()
    response = client_for("claire").post(
        reverse("organisations:member_deactivate", args=[orgs["dep83"].pk, membership.pk]),
        follow=True,
    )
    assert "dernier administrateur" in response.content.decode()
    membership.refresh_from_db()
    assert membership.is_active and membership.role == Role.ADMIN


def test_role_change_is_audited(client_for, orgs, personas):
    membership = personas["marc"].memberships.get()
    client_for("claire").post(
        reverse("organisations:member_role", args=[orgs["dep83"].pk, membership.pk]),
        {"role": "admin"},
    )
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(kind=AuditKind.ROLE_CHANGED)
    assert "marc.lefevre@var.test" in event.what and event.actor == personas["claire"]


def test_user_switches_current_organisation(client_for, orgs):
    client = client_for("ines")
    assert "France Travail La Seyne-sur-Mer" in client.get("/").content.decode()
    response = client.post(
        reverse("organisations:switch"),
        {"organisation": orgs["ft_la_seyne"].pk, "next": "/"},
        follow=True,
    )
    assert (
        "Vous travaillez maintenant pour France Travail La Seyne-sur-Mer"
        in response.content.decode()
    )
    assert client.session["current_organisation_id"] == orgs["ft_la_seyne"].pk


def test_switching_to_a_foreign_organisation_is_refused(client_for, orgs):
    client = client_for("ines")
    response = client.post(
        reverse("organisations:switch"), {"organisation": orgs["dep83"].pk}, follow=True
    )
    assert "Vous n&#x27;êtes pas membre de cette organisation." in response.content.decode()
    assert "current_organisation_id" not in client.session


def test_organisation_list_shows_only_the_users_territories(client_for):
    body = client_for("charlie").get(reverse("organisations:list")).content.decode()
    assert "France Travail Évry" in body
    assert "CAF du Var" not in body
    body = client_for("ines").get(reverse("organisations:list") + "?q=creche").content.decode()
    assert "Crèche AVIP Les Petits Pas" in body and "CAF du Var" not in body


def test_busy_pages_have_pinned_query_counts(client_for, orgs, django_assert_max_num_queries):
    client = client_for("ines")
    # The home page « À traiter »: one query per block (pinned in tests/site/test_today.py).
    with django_assert_max_num_queries(18):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("organisations:list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert (
            client.get(reverse("organisations:detail", args=[orgs["ft_toulon"].pk])).status_code
            == 200
        )


def test_territory_admin_grants_and_revokes_a_role(client_for, personas):
    client = client_for("claire")
    response = client.post(
        reverse("organisations:territory_roles", args=["83"]),
        {"email": "marc.lefevre@var.test", "role": "orientation_manager"},
    )
    assert response.status_code == 302
    role = personas["marc"].territory_roles.get()
    assert AuditEvent.objects.filter(kind=AuditKind.TERRITORY_ROLE_GRANTED).exists()
    client.post(reverse("organisations:territory_role_revoke", args=["83", role.pk]))
    assert not personas["marc"].territory_roles.exists()
    assert AuditEvent.objects.filter(kind=AuditKind.TERRITORY_ROLE_REVOKED).exists()


def test_territory_role_for_an_outsider_is_refused(client_for):
    response = client_for("claire").post(
        reverse("organisations:territory_roles", args=["83"]),
        {"email": "charlie.durand@francetravail.test", "role": "steering"},
    )
    assert "Aucun utilisateur actif de ce territoire" in response.content.decode()


def test_organisation_list_is_paginated_keeping_the_filters(client_for, orgs):
    from binome.organisations.models import OrganisationKind

    for number in range(35):
        Organisation.objects.create(
            name=f"Association {number:02d}", kind=OrganisationKind.ASSOCIATION, department_id="83"
        )
    body = (
        client_for("ines").get(reverse("organisations:list") + "?type=association").content.decode()
    )
    assert "35 organisations" in body
    assert 'href="?type=association&amp;page=2"' in body
    page2 = client_for("ines").get(reverse("organisations:list") + "?type=association&page=2")
    assert "Association 34" in page2.content.decode()


def test_expired_invitation_link_gets_a_clear_page(personas, settings):
    from binome.accounts.models import User
    from binome.accounts.tokens import make_invitation_token

    user = User.objects.create_user(email="tardif@var.test", first_name="Léo", last_name="Tardif")
    token = make_invitation_token(user)
    settings.INVITATION_TIMEOUT_DAYS = -1  # seven days have passed
    response = Client().get(reverse("accounts:accept_invitation", args=[token]))
    assert response.status_code == 400
    assert "Ce lien d'invitation n'est plus valable" in response.content.decode()
