"""Where ``next`` may send the user, and numbers past PostgreSQL's bigint in URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from binome.core.http import parse_id, safe_next
from binome.core.middleware import BoundedPathIntsMiddleware
from binome.directory.models import Service
from binome.people.models import Person

BIGINT_PAST = str(2**63)
UNSAFE_NEXT = [
    "abc",
    "//evil.example",
    "https://evil.example",
    "/\\evil",
    "javascript:alert(1)",
    "/a\r\nSet-Cookie: x=1",
    "",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_safe_next_keeps_only_a_local_path(target: str) -> None:
    request = RequestFactory().get("/")
    assert safe_next(request, target) == reverse("site:home")


def test_safe_next_keeps_a_local_path_with_its_query() -> None:
    request = RequestFactory().get("/")
    assert (
        safe_next(request, "/annuaire/?q=cr%C3%A8che&page=2") == "/annuaire/?q=cr%C3%A8che&page=2"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (12, 12),
        ("abc", None),
        ("", None),
        (None, None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("١٢", None),
        (str(2**63 - 1), 2**63 - 1),
        (BIGINT_PAST, None),
        ("1" * 5000, None),
        ("12\x00", None),
    ],
)
def test_parse_id(value: object, expected: int | None) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize("target", ["abc", "https://evil.example"])
def test_login_with_a_bare_word_or_another_site_as_next_logs_in_to_the_home_page(
    personas: dict[str, Any], target: str
) -> None:
    client = Client()
    response = client.post(
        f"/connexion/?next={target}",
        {"username": personas["ines"].email, "password": settings.DEMO_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("site:home")
    assert client.session["_auth_user_id"] == str(personas["ines"].pk)


def test_second_factor_keeps_the_whole_next_with_its_parameters(
    personas: dict[str, Any],
) -> None:
    wanted = "/annuaire/?q=creche&categorie=famille"
    response = Client().post(
        "/connexion/",
        {"username": personas["claire"].email, "password": settings.DEMO_PASSWORD, "next": wanted},
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == [wanted]


def test_switching_organisation_with_a_bare_word_as_next_goes_home(
    client_for: Any, orgs: dict[str, Any]
) -> None:
    response = client_for("ines").post(
        reverse("organisations:switch"),
        {"organisation": orgs["ft_toulon"].pk, "next": "abc"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("site:home")


def test_an_id_past_bigint_in_a_path_is_a_404(client_for: Any) -> None:
    response = client_for("ines").get(f"/personnes/{BIGINT_PAST}/")
    assert response.status_code == 404


def test_a_view_is_never_given_a_path_int_past_bigint() -> None:
    """Whatever the view does with it (raw SQL, arithmetic), it is not called."""
    request = RequestFactory().get("/")
    middleware = BoundedPathIntsMiddleware(lambda request: HttpResponse())
    with pytest.raises(Http404):
        middleware.process_view(request, HttpResponse, (), {"pk": 2**63, "other": 1})
    assert middleware.process_view(request, HttpResponse, (), {"pk": 2**63 - 1}) is None


def nadia(personas: dict[str, Any]) -> Person:
    return Person.objects.get(user=personas["nadia"])


@pytest.mark.parametrize("page", [BIGINT_PAST, "99999999999999999999999", "-3", "abc"])
def test_a_page_number_past_bigint_shows_a_page(
    client_for: Any, personas: dict[str, Any], page: str
) -> None:
    response = client_for("ines").get(
        reverse("people:detail", args=[nadia(personas).pk]), {"page": page}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("service", ["abc", BIGINT_PAST, "-1", "²"])
def test_a_service_that_is_not_an_id_is_ignored_by_the_referral_form(
    client_for: Any, personas: dict[str, Any], service: str
) -> None:
    response = client_for("ines").get(
        reverse("referrals:create", args=[nadia(personas).pk]),
        {"kind": "service", "service": service},
    )
    assert response.status_code == 200


def test_a_service_id_in_the_query_is_still_chosen(
    client_for: Any, personas: dict[str, Any]
) -> None:
    from binome.site.demo import load_demo_directory

    load_demo_directory()
    service = Service.objects.filter(department_id="83", status="published").first()
    assert service is not None
    response = client_for("ines").get(
        reverse("referrals:create", args=[nadia(personas).pk]),
        {"kind": "service", "service": str(service.pk)},
    )
    assert response.status_code == 200
    assert str(response.context["form"]["service"].value()) == str(service.pk)


@pytest.mark.parametrize("structure", [BIGINT_PAST, "abc"])
def test_a_structure_past_bigint_is_ignored_by_the_consent_form(
    client_for: Any, personas: dict[str, Any], structure: str
) -> None:
    response = client_for("ines").get(
        reverse("people:consent_add", args=[nadia(personas).pk]), {"structure": structure}
    )
    assert response.status_code == 200


def test_a_nul_character_in_a_query_parameter_is_refused_with_its_name(
    client_for: Any,
) -> None:
    response = client_for("claire").get(reverse("organisations:create"), {"departement": "\x00"})
    assert response.status_code == 400
    assert "Le champ « departement » contient un caractère invisible" in response.content.decode()


def test_a_nul_character_in_a_posted_field_is_refused_and_nothing_is_written(
    client_for: Any,
) -> None:
    from binome.organisations.models import Organisation

    before = Organisation.objects.count()
    response = client_for("claire").post(
        reverse("organisations:create") + "?departement=83",
        {"departement": "83\x00", "name": "Nouvelle\x00"},
    )
    assert response.status_code == 400
    assert Organisation.objects.count() == before


def test_a_nul_character_in_the_path_is_refused(client_for: Any) -> None:
    response = client_for("claire").get("/annuaire/territoire/8%003/imports/")
    assert response.status_code == 400
    assert "adresse de la page contient un caractère invisible" in response.content.decode()
