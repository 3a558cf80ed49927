"""Password reset requests are throttled per address and per client address, with the
same answer whether the address has an account, and no e-mail beyond the limit."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind

RESET = reverse("accounts:password_reset")
DONE = reverse("accounts:password_reset_done")


def ask(client: Client, email: str) -> Any:
    response = client.post(RESET, {"email": email})
    # The same answer, whoever asks and however often.
    assert response.status_code == 302
    assert response["Location"] == DONE
    return response


def test_three_links_per_address_then_no_email(personas: dict[str, Any]) -> None:
    for variant in (
        "ines.benali@francetravail.test",
        "INES.benali@francetravail.test",
        " Ines.Benali@FranceTravail.test ",
        "ines.benali@francetravail.test",
        "ines.benali@francetravail.test",
    ):
        ask(Client(), variant)
    assert len(mail.outbox) == 3
    assert all(message.to == ["ines.benali@francetravail.test"] for message in mail.outbox)
    rows = AuditEvent.objects.filter(kind=AuditKind.PASSWORD_RESET_REQUESTED)
    assert rows.count() == 5
    assert rows.filter(what__startswith="Limite atteinte").count() == 2
    # Another account is not affected.
    ask(Client(), "marc.lefevre@var.test")
    assert mail.outbox[-1].to == ["marc.lefevre@var.test"]


def test_nine_requests_per_client_address_then_no_email(personas: dict[str, Any]) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(9):
        ask(client, f"inconnu{i}@exemple.test")
    assert mail.outbox == []
    # The tenth request from the address, for a real account, sends nothing either.
    ask(client, "ines.benali@francetravail.test")
    assert mail.outbox == []
    # From another address, the link leaves.
    ask(Client(REMOTE_ADDR="198.51.100.9"), "ines.benali@francetravail.test")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ines.benali@francetravail.test"]


def test_the_limit_is_the_same_for_unknown_addresses(db: None) -> None:
    for _ in range(5):
        ask(Client(), "personne@nulle-part.test")
    assert mail.outbox == []
    rows = AuditEvent.objects.filter(kind=AuditKind.PASSWORD_RESET_REQUESTED)
    assert [row.actor_label for row in rows] == ["personne@nulle-part.test"] * 5
