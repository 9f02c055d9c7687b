"""The gateway's codec server: the Temporal UI shows staff the payloads of a real
history in clear, and nobody else."""

import json
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from google.protobuf import json_format
from pydantic import ValidationError
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment

from definitions.accounts import Role
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from gateway.app import create_app
from store.database import Store
from tests.conftest import SCRIPTS, api_headers, server_port, start_event
from worker.payload_codec import encrypted_converter
from worker.settings import Settings

UI_ORIGIN = "https://temporal.example.org"
TITLE = "Crue de la Lys à Armentières"


@pytest_asyncio.fixture(loop_scope="session")
async def encrypted_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=encrypted_converter(secrets.token_bytes(32)),
        test_server_existing_path=str(SCRIPTS / "temporal-test-server"),
        port=server_port(),
    )
    yield env
    await env.shutdown()


async def _started_input(env: WorkflowEnvironment) -> str:
    """The input of an event workflow, as its history holds it (encrypted), in the
    JSON the Temporal UI posts."""
    declaration = EventDeclaration(type=EventType.INONDATION, communes=["59017"], title=TITLE)
    event_id = f"inondation-codec-{uuid.uuid4().hex[:6]}"
    handle = await start_event(env.client, "no-worker-polls", declaration, event_id)
    history = await handle.fetch_history()
    await handle.terminate()
    started = history.events[0].workflow_execution_started_event_attributes
    return json_format.MessageToJson(started.input)


async def test_staff_read_a_history_s_payloads_and_nobody_else_does(
    encrypted_env: WorkflowEnvironment, store: Store
) -> None:
    sealed = await _started_input(encrypted_env)
    assert TITLE not in sealed and "YmluYXJ5L2VuY3J5cHRlZA" in sealed
    app = create_app(encrypted_env.client, store, "unused", temporal_ui_origins=[UI_ORIGIN])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        staff = {**api_headers(store, Role.STAFF), "Origin": UI_ORIGIN, "X-Namespace": "default"}
        decoded = await gateway.post("/codec/decode", content=sealed, headers=staff)
        union = await gateway.post(
            "/codec/decode", content=sealed, headers=api_headers(store, Role.UD, department="59")
        )
        anonymous = await gateway.post("/codec/decode", content=sealed)
        preflight = await gateway.options(
            "/codec/decode",
            headers={
                "Origin": UI_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        elsewhere = await gateway.options(
            "/codec/decode",
            headers={
                "Origin": "https://ailleurs.example.org",
                "Access-Control-Request-Method": "POST",
            },
        )
        encoded = await gateway.post("/codec/encode", content=decoded.content, headers=staff)
        again = await gateway.post("/codec/decode", content=encoded.content, headers=staff)

    assert decoded.status_code == 200, decoded.text
    payloads = json_format.Parse(decoded.content, Payloads())
    start = json.loads(payloads.payloads[0].data)
    assert start["declaration"]["title"] == TITLE
    assert decoded.headers["access-control-allow-origin"] == UI_ORIGIN
    assert (union.status_code, anonymous.status_code) == (403, 401)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in elsewhere.headers
    assert "YmluYXJ5L2VuY3J5cHRlZA" in encoded.text and TITLE not in encoded.text
    assert json_format.Parse(again.content, Payloads()) == payloads


@pytest.mark.parametrize("origins", ["*", "https://ui.example.org,*", "ui.example.org"])
def test_a_wildcard_or_bare_ui_origin_is_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="origine invalide"):
        Settings(temporal_ui_origins=origins)
