"""The two pages measured at the national volume (``bench/bench_childcare.py``) make a
fixed number of queries, whatever the number of providers that fit or of requests received:
the matching page of a request to send, and the provider's inbox (its places page)."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from binome.childcare import actions
from binome.childcare.models import ChildcareRequest, Provider
from tests.childcare.conftest import Essonne, request_data
from tests.factories import make_childcare_provider

# Session, user, memberships and header, the request and its person's file (access, the
# read logged), its children, its solicitations (the providers already asked), the matching
# query; no placement to look for before an acceptance.
MATCHING_PAGE_QUERIES = 12
# Session, user, memberships and header, the provider with its label's CAF, the 50 first
# solicitations (those awaiting an answer first) with their requests. (The places' form,
# with its list of CAFs, is on a page of its own.)
INBOX_PAGE_QUERIES = 7


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # the session's first touch
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_matching_page_makes_the_same_queries_however_many_providers_fit(
    essonne: Essonne,
) -> None:
    client = essonne.var.client(essonne.charlie)
    response = client.post(
        reverse("childcare:request_create", args=[essonne.parent.pk]),
        request_data(child_ids=[str(essonne.parent.household.get().pk)]),
    )
    assert response.status_code == 302
    url = reverse("childcare:request_detail", args=[ChildcareRequest.objects.get().pk])
    before = count_queries(client, url)
    for index in range(4):
        make_childcare_provider(f"Micro-crèche {index}", kind="micro_creche")
    content = client.get(url).content.decode()
    assert all(f"Micro-crèche {index}" in content for index in range(4))
    assert count_queries(client, url) == before == MATCHING_PAGE_QUERIES


def test_the_provider_inbox_makes_the_same_queries_however_many_requests(
    essonne: Essonne,
) -> None:
    client = essonne.var.client(essonne.nina)
    url = reverse("childcare:provider_places", args=[essonne.creche.organisation_id])
    organisation = essonne.charlie.memberships.get().organisation
    child = essonne.parent.household.get()
    assert child.birth_date is not None

    def send_one() -> None:
        childcare_request = actions.create_request(
            person=essonne.parent,
            organisation=organisation,
            accompaniment=None,
            children=[("Léo", child.birth_date)],  # type: ignore[list-item]
            reason="formation",
            reason_on=None,
            needed_on=timezone.localdate(),
            schedule="De 9 h à 17 h",
            urgency="place",
            single_parent=False,
            qpv=False,
            rsa=False,
            radius_km=15,
            by=essonne.charlie,
            consent_now=True,
        )
        actions.send(
            childcare_request=childcare_request,
            providers=[Provider.objects.get(pk=essonne.creche.pk)],
            by=essonne.charlie,
            organisation=organisation,
        )

    send_one()
    before = count_queries(client, url)
    for _ in range(4):
        send_one()
    assert client.get(url).content.decode().count("/garde-enfants/sollicitations/") >= 5
    assert count_queries(client, url) == before == INBOX_PAGE_QUERIES
