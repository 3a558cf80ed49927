"""Login lockouts: per account whatever the case of its e-mail, per client address, and the
client address read behind our reverse proxies."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from binome.access.models import AuditEvent, AuditKind

LOGIN = "/connexion/"
KARIM = "Karim.Haddad@caf83.test"
ACCOUNT_LOCKED = "Trop de tentatives de connexion ont échoué pour ce compte"
ADDRESS_LOCKED = "Trop de tentatives de connexion ont échoué depuis votre adresse réseau"


def post_login(client: Client, email: str, password: str, **headers: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password}, headers=headers)


def test_five_failures_lock_every_case_variant_of_the_email(personas: dict[str, Any]) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(Client(), KARIM, "mauvais").status_code == 200
    # The fifth failure already answers with the lock.
    assert post_login(Client(), KARIM, "mauvais").status_code == 429
    for variant in ("karim.haddad@CAF83.test", "  KARIM.HADDAD@caf83.test  ", KARIM):
        response = post_login(Client(), variant, settings.DEMO_PASSWORD)
        assert response.status_code == 429, variant
        assert ACCOUNT_LOCKED in response.content.decode()


def test_failures_spread_over_case_variants_add_up(personas: dict[str, Any]) -> None:
    variants = ["karim.haddad@caf83.test", "KARIM.haddad@caf83.test", " Karim.Haddad@Caf83.Test"]
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post_login(Client(), variants[i % 3], "mauvais").status_code == 200
    # Four failures: the right password still opens the session, and resets the count.
    assert post_login(Client(), KARIM, settings.DEMO_PASSWORD).status_code == 302
    for i in range(settings.AXES_FAILURE_LIMIT):
        post_login(Client(), variants[i % 3], "mauvais")
    response = post_login(Client(), KARIM, settings.DEMO_PASSWORD)
    assert response.status_code == 429
    assert AccessAttempt.objects.get().username == "karim.haddad@caf83.test"


def test_thirty_failures_from_one_address_lock_it_for_every_account(
    personas: dict[str, Any],
) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit == 30
    for i in range(limit - 1):
        assert post_login(attacker, f"essai{i}@exemple.test", "mauvais").status_code == 200
    # 29 failures: the address is not locked yet.
    assert (
        post_login(
            Client(REMOTE_ADDR="203.0.113.7"), personas["ines"].email, settings.DEMO_PASSWORD
        ).status_code
        == 302
    )
    assert post_login(attacker, "essai-final@exemple.test", "mauvais").status_code == 200
    # The thirty-first attempt from the address is refused, even for an account that
    # never failed and with its right password, with the French page.
    response = post_login(
        Client(REMOTE_ADDR="203.0.113.7"), personas["marc"].email, settings.DEMO_PASSWORD
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert ADDRESS_LOCKED in page
    assert '<html lang="fr"' in page
    assert AuditEvent.objects.filter(
        kind=AuditKind.LOCKOUT, ip_address="203.0.113.7", actor_label=personas["marc"].email
    ).exists()
    # Another address is not affected.
    assert (
        post_login(
            Client(REMOTE_ADDR="198.51.100.9"), personas["marc"].email, settings.DEMO_PASSWORD
        ).status_code
        == 302
    )


def test_without_proxy_x_forwarded_for_is_ignored(personas: dict[str, Any], settings: Any) -> None:
    settings.PROXY_COUNT = 0
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(3):
        # A new spoofed address each time does not escape the lock of the real one.
        post_login(client, f"essai{i}@exemple.test", "mauvais", x_forwarded_for=f"10.0.0.{i}")
    failure = AuditEvent.objects.filter(kind=AuditKind.LOGIN_FAILED).first()
    assert failure is not None and failure.ip_address == "203.0.113.7"
    assert {a.ip_address for a in AccessAttempt.objects.all()} == {"203.0.113.7"}
    response = post_login(
        client, personas["ines"].email, settings.DEMO_PASSWORD, x_forwarded_for="10.0.0.99"
    )
    assert response.status_code == 429


def test_behind_one_proxy_the_address_it_added_is_the_client(
    personas: dict[str, Any], settings: Any
) -> None:
    settings.PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    proxy = "10.0.0.2"
    for i in range(3):
        # The client wrote the first entry; the proxy appended the address it saw.
        post_login(
            Client(REMOTE_ADDR=proxy),
            f"essai{i}@exemple.test",
            "mauvais",
            x_forwarded_for=f"192.0.2.{i}, 203.0.113.7",
        )
    failures = AuditEvent.objects.filter(kind=AuditKind.LOGIN_FAILED)
    assert {f.ip_address for f in failures} == {"203.0.113.7"}
    assert {a.ip_address for a in AccessAttempt.objects.all()} == {"203.0.113.7"}
    locked = post_login(
        Client(REMOTE_ADDR=proxy),
        personas["ines"].email,
        settings.DEMO_PASSWORD,
        x_forwarded_for="203.0.113.7",
    )
    assert locked.status_code == 429
    # Another client behind the same proxy logs in, and its login line has its address.
    other = post_login(
        Client(REMOTE_ADDR=proxy),
        personas["ines"].email,
        settings.DEMO_PASSWORD,
        x_forwarded_for="198.51.100.4",
    )
    assert other.status_code == 302
    login = AuditEvent.objects.filter(kind=AuditKind.LOGIN).first()
    assert login is not None and login.ip_address == "198.51.100.4"


def test_behind_two_proxies_the_outer_one_names_the_client(
    personas: dict[str, Any], settings: Any
) -> None:
    settings.PROXY_COUNT = 2
    post_login(
        Client(REMOTE_ADDR="10.0.0.3"),
        "essai@exemple.test",
        "mauvais",
        x_forwarded_for="192.0.2.1, 203.0.113.7, 10.0.0.2",
    )
    failure = AuditEvent.objects.get(kind=AuditKind.LOGIN_FAILED)
    assert failure.ip_address == "203.0.113.7"


def test_a_malformed_forwarded_address_falls_back_to_the_peer(
    personas: dict[str, Any], settings: Any
) -> None:
    settings.PROXY_COUNT = 1
    response = post_login(
        Client(REMOTE_ADDR="10.0.0.2"), "essai@exemple.test", "mauvais", x_forwarded_for="n'importe"
    )
    assert response.status_code == 200
    assert AuditEvent.objects.get(kind=AuditKind.LOGIN_FAILED).ip_address == "10.0.0.2"


def test_the_magic_link_limit_counts_the_client_behind_the_proxy(
    personas: dict[str, Any], settings: Any
) -> None:
    settings.PROXY_COUNT = 1
    for i in range(9):
        Client(REMOTE_ADDR="10.0.0.2").post(
            "/connexion/lien/",
            {"email": f"personne{i}@exemple.test"},
            headers={"x_forwarded_for": "203.0.113.7"},
        )
    rows = AuditEvent.objects.filter(kind=AuditKind.MAGIC_LINK_REQUESTED)
    assert {row.ip_address for row in rows} == {"203.0.113.7"}
