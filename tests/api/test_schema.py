"""The OpenAPI schema: a golden file, and a schemathesis run over every operation.

When the API changes on purpose, regenerate the golden file and review the diff:

    DEBUG=false KB_TESTING=true .venv/bin/python manage.py spectacular --file schema/openapi.yaml
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi import checks as openapi_checks

from incidents.services import api_token_create

GOLDEN = Path(settings.BASE_DIR) / "schema" / "openapi.yaml"


def generated_schema() -> str:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode("utf-8")


def test_the_schema_matches_the_golden_file():
    assert generated_schema() == GOLDEN.read_text(encoding="utf-8"), (
        "The API schema changed. If that is intended, regenerate schema/openapi.yaml "
        "(see this module's docstring) and commit it with the change."
    )


def test_the_schema_and_docs_are_served(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/stories/" in response.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


api = schemathesis.openapi.from_path(GOLDEN)
api.app = get_wsgi_application()


@pytest.fixture
def fuzz_data(stories, curator):
    """Stories to find, and a curator token so writes get past authentication too.

    Requests go straight to the WSGI app, so, as Django's test client does, the per-request
    "close old connections" handlers are disconnected: they would close the connection that
    holds the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {api_token_create(user=curator, name='fuzz')[1]}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@api.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_gets_a_server_error_or_breaks_the_schema(case, fuzz_data):
    case.call_and_validate(
        headers=fuzz_data,
        checks=[
            schemathesis.checks.not_a_server_error,
            openapi_checks.status_code_conformance,
            openapi_checks.content_type_conformance,
            openapi_checks.response_schema_conformance,
            openapi_checks.response_headers_conformance,
        ],
    )
