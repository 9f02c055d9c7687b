"""Requests no client of Tocsin should send: bodies past the ceiling (declared or
chunked), bytes that are not UTF-8, the wrong content type. Each gets a 4xx with a
reason, and nothing is started or recorded."""

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from gateway.body_limit import MAX_BODY_BYTES
from store.database import Store
from store.tables import InboundSmsRow
from tests.conftest import api_headers, in_process_gateway

PUBLIC_URL = "https://tocsin.example.org"
DECLARATION = b'{"type": "inondation", "communes": ["59350"], "title": "Essai", "exercise": true}'


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(
    time_skipping_env: WorkflowEnvironment, store: Store
) -> AsyncIterator[httpx.AsyncClient]:
    client = time_skipping_env.client
    async with in_process_gateway(client, store, PUBLIC_URL, api_headers(store)) as http:
        yield http


async def _events(gateway: httpx.AsyncClient) -> list[object]:
    response = await gateway.get("/api/events")
    assert response.status_code == 200
    events: list[object] = response.json()
    return events


async def test_bodies_past_the_ceiling_are_refused_before_they_are_read(
    gateway: httpx.AsyncClient,
) -> None:
    before = await _events(gateway)
    huge = DECLARATION[:-1] + b', "padding": "' + b"x" * MAX_BODY_BYTES + b'"}'
    declared = await gateway.post(
        "/api/events", content=huge, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert "trop volumineuse" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    chunked = await gateway.post(
        "/api/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    assert await _events(gateway) == before


async def test_bytes_that_are_not_utf8_and_wrong_content_types_are_refused(
    gateway: httpx.AsyncClient,
) -> None:
    before = await _events(gateway)
    latin1 = DECLARATION.replace(b"Essai", "Essai à Lille".encode("latin-1"))
    for content, content_type in (
        (latin1, "application/json"),
        (b"\xff\xfe\x00{", "application/json"),
        (DECLARATION, "text/plain"),
        (b"type=inondation&communes=59350", "application/x-www-form-urlencoded"),
    ):
        response = await gateway.post(
            "/api/events", content=content, headers={"Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
        assert response.headers["content-type"].startswith("application/json")
    assert await _events(gateway) == before


async def test_webhook_bodies_of_the_wrong_kind_record_nothing(
    gateway: httpx.AsyncClient, store: Store
) -> None:
    for content, content_type in (
        (b'{"From": "+33639980077", "Body": "OUI 4821"}', "application/json"),
        (b"From=%2B33639980077&Body=OUI+\xff\xfe", "application/x-www-form-urlencoded"),
        (b"\x00" * 1000, "application/octet-stream"),
    ):
        response = await gateway.post(
            "/webhooks/twilio/sms", content=content, headers={"Content-Type": content_type}
        )
        assert response.status_code == 403, (content_type, response.status_code)
    with store.session() as session:
        assert session.exec(select(InboundSmsRow)).all() == []
