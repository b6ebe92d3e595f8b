"""Property-based run of schemathesis over the whole OpenAPI: no 5xx, no response that breaks the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from yuexiu.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    """Calling the WSGI app directly fires request_finished, which closes the database connection and
    with it the test's transaction on PostgreSQL; Django's own test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(reference_data: None) -> None:
    """The Yuexiu organisations and 2004–2026 holidays, so that valid requests reach real data."""


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=False)
def test_the_api_never_fails_and_always_matches_its_schema(case, api_data):
    response = case.call()
    case.validate_response(response)
