"""Every operation of the OpenAPI schema, as the running server publishes it, on requests
schemathesis generates from it: none answers 5xx (bad input is 4xx with the error body,
never a server error). An admin token goes with every request, so each reaches its route.

Bounded: 25 examples an operation, drawn the same on every run (derandomize). The job
routes (``POST /jobs/{kind}``) stay in: a request that happens to be a valid job gets a
1-second time limit, so nothing long runs; a token's third job at once is refused (429)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from arbiter.service.app import create_app

pytestmark = pytest.mark.xdist_group("api-schema")

MAX_EXAMPLES = 25
TIME_LIMIT_S = 1


@pytest.fixture(scope="module")
def admin_headers(api_server) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_server.token('admin')}"}


@pytest.fixture(scope="module")
def api_schema(api_server, admin_headers) -> Any:
    return schemathesis.openapi.from_url(
        f"{api_server.url}/api/v1/openapi.json", headers=admin_headers, timeout=30
    )


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the app's schema: the tests cover a new route by itself."""
    paths = create_app().openapi()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_request_is_a_server_error(api_schema, admin_headers, method, path):
    operation = api_schema[path][method]
    long_job = method == "POST" and path.startswith("/api/v1/jobs/") and "{" not in path

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        if long_job:  # a request that is a valid job runs for a second at most
            case.query = {**(case.query or {}), "time_limit_s": TIME_LIMIT_S}
            if isinstance(case.body, dict):
                case.body = {**case.body, "time_limit_s": TIME_LIMIT_S}
        case.call_and_validate(headers=admin_headers, checks=[not_a_server_error], timeout=30)

    check()


def test_the_schema_names_every_route(api_server, api_schema):
    paths = set(api_schema.raw_schema["paths"])
    for route in (
        "/api/v1/health",
        "/api/v1/catalog/offers",
        "/api/v1/catalog/import",
        "/api/v1/jobs/plan",
        "/api/v1/jobs/{job_id}/result",
        "/api/v1/plans/{plan_id}",
        "/api/v1/tokens/{token_id}",
    ):
        assert route in paths
    security = api_schema.raw_schema["components"]["securitySchemes"]
    assert {s["type"] for s in security.values()} == {"http", "apiKey"}
