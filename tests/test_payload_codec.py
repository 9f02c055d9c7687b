"""Payload encryption: Temporal's history never holds personal data in clear."""

import base64
import secrets
import uuid

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.loader import Definitions
from definitions.temporal_names import designation_workflow_id
from store.database import Store
from tests.conftest import SCRIPTS, candidates_asked, server_port, start_event, until_status
from worker.payload_codec import EncryptionCodec, PayloadKeyError, encrypted_converter, parse_key
from worker.temporal_workers import Messaging, running_workers

SECRET = "Rappeler Camille au +33639980001"


async def test_payloads_round_trip_and_need_the_right_key() -> None:
    key, other = secrets.token_bytes(32), secrets.token_bytes(32)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=SECRET.encode())
    [sealed] = await EncryptionCodec(key).encode([plain])
    assert SECRET.encode() not in sealed.data
    assert await EncryptionCodec(key).decode([sealed]) == [plain]
    with pytest.raises(PayloadKeyError):
        await EncryptionCodec(other).decode([sealed])


async def test_a_changed_key_still_reads_what_the_previous_one_wrote() -> None:
    """Running events' histories stay encrypted with the key they were written with:
    after a change of key, processes read them with the previous one and write with
    the new one only."""
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=SECRET.encode())
    [written_before] = await EncryptionCodec(old).encode([plain])
    rotated = EncryptionCodec(new, previous=[old])
    assert await rotated.decode([written_before]) == [plain]
    [written_after] = await rotated.encode([plain])
    assert await EncryptionCodec(new).decode([written_after]) == [plain]
    with pytest.raises(PayloadKeyError):
        await EncryptionCodec(old).decode([written_after])


def test_keys_are_checked() -> None:
    assert len(parse_key(base64.b64encode(secrets.token_bytes(32)).decode())) == 32
    with pytest.raises(PayloadKeyError, match="32 octets"):
        parse_key(base64.b64encode(b"short").decode())
    with pytest.raises(PayloadKeyError, match="base64"):
        parse_key("pas de la base64 !")


async def test_history_holds_no_personal_data_in_clear(
    store_with_network: Store, definitions: Definitions, messaging: Messaging
) -> None:
    """Down to the designation: candidates' phones and emails travel in payloads."""
    converter = encrypted_converter(secrets.token_bytes(32))
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=converter,
        test_server_existing_path=str(SCRIPTS / "temporal-test-server"),
        port=server_port(),
    )
    event_id = f"attentat-test-{uuid.uuid4().hex[:6]}"
    try:
        async with running_workers(
            env.client, store_with_network, "codec-test", definitions, messaging
        ):
            declaration = EventDeclaration(
                type=EventType.ATTENTAT, communes=["59350"], title=SECRET
            )
            handle = await start_event(env.client, "codec-test", declaration, event_id)
            status = await until_status(handle, candidates_asked(1))
            child = env.client.get_workflow_handle(designation_workflow_id(event_id, 1))
            history = (await handle.fetch_history()).to_json()
            history += (await child.fetch_history()).to_json()
            await handle.terminate()
    finally:
        await env.shutdown()
    assert status.title == SECRET
    assert status.designation is not None
    assert status.designation.attempts[0].name == "Alix Martin"
    for clear in ("639980001", "Rappeler", "639980101", "representant-1@example.org", "Alix"):
        assert clear not in history
    assert (
        "binary/encrypted"
        in base64.b64decode(history.split('"encoding": "')[1].split('"')[0]).decode()
        or "YmluYXJ5L2VuY3J5cHRlZA" in history
    )
