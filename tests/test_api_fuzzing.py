"""The gateway's OpenAPI schema, fuzzed with schemathesis: whatever a script sends to
any operation (with a staff token, so that requests reach the handlers), the answer
is a success or a 4xx refusal, never a 5xx, against the real dev server."""

import asyncio
import os
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err
from schemathesis.specs.openapi.schemas import OpenApiSchema
from temporalio.testing import WorkflowEnvironment

from store.database import Store
from tests.conftest import Phone

EXAMPLES_PER_OPERATION = int(os.environ.get("TOCSIN_FUZZ_EXAMPLES", "8"))
"""Kept small in CI; ``make reliability`` asks for many more."""
SKIPPED = {"POST /webhooks/twilio/sms", "POST /webhooks/twilio/status"}
"""Signed by Twilio: without the signature they answer 403 whatever the body, which
tests/test_twilio_webhooks.py covers with bodies of every kind."""


def _explore(
    schema: OpenApiSchema, base_url: str, headers: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """Every operation with generated requests: those explored, and the 5xx answers
    by operation."""
    explored: list[str] = []
    failures: dict[str, str] = {}
    session = requests.Session()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        if operation.label in SKIPPED:
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def answers_without_server_error(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
            assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"

        try:
            answers_without_server_error()
        except AssertionError as error:
            failures[operation.label] = str(error)[:600]
        explored.append(operation.label)
    return explored, failures


async def test_no_operation_answers_a_server_error(
    dev_env: WorkflowEnvironment, store: Store, live_phone: Phone
) -> None:
    schema = schemathesis.openapi.from_dict((await live_phone.http.get("/openapi.json")).json())
    headers = {"Authorization": live_phone.http.headers["Authorization"]}
    explored, failures = await asyncio.to_thread(_explore, schema, live_phone.public_url, headers)
    assert failures == {}
    assert {"POST /api/events", "GET /r/{token}", "GET /q/{token}"} <= set(explored)
