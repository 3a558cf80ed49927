"""The API against its own OpenAPI document, with requests generated from it.

Schemathesis reads ``/api/v1/openapi.json`` from the application itself (WSGI, in process)
and sends, for each operation, requests built from the document: valid ones and ones at
the edges of what the parameters allow. Each answer is checked: never a 5xx, a status the
document declares, a body that matches its declared schema and content type. Bounded so
that the whole run stays well under a minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from binome.directory.models import PublicationStatus, Service, Structure
from binome.wsgi import application

# Every answer: not a 5xx, a status, content type, headers and body as the document
# declares them. Not « a schema-valid request is accepted »: a commune code of the right
# shape that is not a commune is answered 400 with its French message, by design.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(db: None) -> Iterator[Any]:
    # As Django's test client does: the application is called inside the test's
    # transaction, whose connection the end of each request must not close.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_every_answer_of_the_api_conforms_to_its_document(
    api_schema: Any, services: dict[str, Any], api_token: tuple[Any, str]
) -> None:
    headers = {"Authorization": f"Bearer {api_token[1]}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    statuses: dict[str, list[int]] = defaultdict(list)
    assert len(operations) == 4  # the four operations of the document (test_openapi.py)
    # A path's id drawn at random is almost never a published row: half of the cases ask
    # for one that is.
    published = {
        "/services/{id}": list(
            Service.objects.filter(status=PublicationStatus.PUBLISHED).values_list("pk", flat=True)[
                :50
            ]
        ),
        "/structures/{id}": list(
            Structure.objects.filter(status=PublicationStatus.PUBLISHED).values_list(
                "pk", flat=True
            )[:50]
        ),
    }
    for operation in operations:

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_within_the_document(case: Any, data: Any) -> None:
            ids = next((v for k, v in published.items() if case.operation.path.endswith(k)), [])
            if ids and data.draw(st.booleans()):
                case.path_parameters["id"] = data.draw(st.sampled_from(ids))
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[case.operation.label].append(response.status_code)

        answers_within_the_document()
    # The token was accepted and a good share of the requests found what they asked for:
    # the checks above ran on real answers, not only on refusals.
    for label, codes in statuses.items():
        assert codes.count(200) >= len(codes) // 4, (label, sorted(set(codes)))
