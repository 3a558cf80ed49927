"""A person logs in to their space with a link sent by e-mail: valid, expired, reused, forged."""

from __future__ import annotations

import re
import time
from typing import Any

from django.core import mail, signing
from django.urls import reverse

from binome.access.models import AuditEvent, AuditKind
from binome.accounts import tokens

REQUEST = reverse("accounts:magic_link_request")
SAME_ANSWER = "Si cette adresse correspond à l&#x27;espace d&#x27;une personne accompagnée"


def _link(client: Any, email: str) -> str:
    response = client.post(REQUEST, {"email": email})
    assert SAME_ANSWER in response.content.decode()
    match = re.search(r"/connexion/lien/[^/\s]+/", mail.outbox[-1].body)
    assert match is not None
    return match.group(0)


def test_valid_link_logs_nadia_in_once(client: Any, personas: dict[str, Any]) -> None:
    link = _link(client, "NADIA.belkacem@exemple.test")
    assert mail.outbox[-1].to == [personas["nadia"].email]
    # Opening the link does not log in (mail scanners follow links): the button does.
    page = client.get(link)
    assert page.status_code == 200
    assert "Ouvrir mon espace" in page.content.decode()
    assert client.get(reverse("space:home")).status_code == 302
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == reverse("space:home")
    assert client.get(reverse("space:home")).status_code == 200
    assert AuditEvent.objects.filter(
        kind=AuditKind.LOGIN, actor=personas["nadia"], what__contains="lien envoyé par e-mail"
    ).exists()
    # Reused: refused.
    client.post(reverse("accounts:logout"))
    assert client.get(link).status_code == 400
    assert client.post(link).status_code == 400
    assert AuditEvent.objects.filter(kind=AuditKind.MAGIC_LINK_REFUSED).exists()


class _SixteenMinutesAgo(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - 16 * 60)


def test_expired_link_is_refused(client: Any, personas: dict[str, Any]) -> None:
    nadia = personas["nadia"]
    data = {"u": nadia.pk, "s": tokens._state(nadia)}
    fresh = signing.dumps(data, salt=tokens._MAGIC_SALT)
    assert tokens.read_magic_link_token(fresh) == nadia
    old = _SixteenMinutesAgo(salt=tokens._MAGIC_SALT).sign_object(data)
    assert tokens.read_magic_link_token(old) is None
    assert client.get(reverse("accounts:magic_link_login", args=[old])).status_code == 400


def test_forged_link_is_refused(client: Any, personas: dict[str, Any]) -> None:
    link = _link(client, personas["nadia"].email)
    forged = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    assert client.get(forged).status_code == 400
    assert client.post(forged).status_code == 400
    assert client.get(reverse("space:home")).status_code == 302


def test_same_answer_for_unknown_address_and_professionals(
    client: Any, personas: dict[str, Any]
) -> None:
    for email in ("inconnue@exemple.test", personas["ines"].email):
        response = client.post(REQUEST, {"email": email})
        assert SAME_ANSWER in response.content.decode()
    assert mail.outbox == []
    assert AuditEvent.objects.filter(kind=AuditKind.MAGIC_LINK_REQUESTED).count() == 2


def test_requests_are_throttled(client: Any, personas: dict[str, Any]) -> None:
    for _ in range(5):
        response = client.post(REQUEST, {"email": personas["nadia"].email})
        assert SAME_ANSWER in response.content.decode()
    assert len(mail.outbox) == 3


def test_bad_email_gets_a_field_message(client: Any, db: None) -> None:
    response = client.post(REQUEST, {"email": "pas-une-adresse"})
    assert response.status_code == 200
    assert "Saisissez une adresse de courriel valide" in response.content.decode()
    assert mail.outbox == []
