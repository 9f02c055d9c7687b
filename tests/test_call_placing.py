"""Placing calls with the real twilio client against the Twilio-compatible server:
one call per question, whatever the retries, lost answers and crashes; a
permanent refusal stops."""

import asyncio
from datetime import UTC, datetime

import pytest
import requests
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.voice import VoiceActivities, VoiceSettings
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
    idempotency_key,
)
from definitions.voice_calls import CallRequest
from store import outbox
from store.database import Store
from store.outbox import OutboxClaim, OutboxMark
from tests.conftest import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from worker.sandbox.twilio_server import Fault, TwilioSandbox

TO = "+33639980101"
REQUEST = CallRequest(
    key=idempotency_key(
        "attentat-20261207-k3f9/designation-1",
        "designation_request#1",
        "unccas-representant-1",
        Channel.VOICE,
    ),
    event_id="attentat-20261207-k3f9",
    step="designation_request#1",
    to=TO,
    speech="Message de l'UNCCAS. Tapez 1 pour accepter, 2 pour refuser.",
    code="4821",
)


def _caller(store: Store, sandbox: TwilioSandbox) -> VoiceActivities:
    """A provider answer slower than the client's timeout is an answer lost."""
    settings = VoiceSettings(
        TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN,
        sender="+33639989999",
        public_url="http://tocsin.test",
        base_url=sandbox.base_url,
        timeout_seconds=0.5,
    )
    return VoiceActivities(store, settings)


async def _attempt(caller: VoiceActivities) -> SendResult:
    """One activity attempt, as a Temporal retry would run it (in a worker thread)."""
    return await asyncio.to_thread(ActivityEnvironment().run, caller.place_call, REQUEST)


def _row(store: Store) -> OutboxEntry:
    with store.session() as session:
        entry = outbox.entry(session, REQUEST.key)
    assert entry is not None
    return entry


async def test_a_call_asked_twice_is_placed_once(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    caller = _caller(store, twilio_sandbox)
    first, again = await _attempt(caller), await _attempt(caller)
    [call] = twilio_sandbox.calls_to(TO)
    assert first.provider_id == again.provider_id == call.sid
    row = _row(store)
    assert row.channel is Channel.VOICE and row.status is OutboxStatus.QUEUED
    assert row.body == REQUEST.speech


async def test_a_lost_answer_is_reconciled_with_the_provider_not_placed_again(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    twilio_sandbox.faults.append(Fault.TIMEOUT_AFTER_ACCEPT)
    caller = _caller(store, twilio_sandbox)
    with pytest.raises(requests.Timeout):
        await _attempt(caller)
    assert _row(store).status is OutboxStatus.SENDING
    result = await _attempt(caller)
    [call] = twilio_sandbox.calls_to(TO)
    assert result.provider_id == call.sid and _row(store).provider_id == call.sid


async def test_a_worker_killed_before_the_provider_call_places_one_call(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    """The row a worker left when it died after marking the call ``sending``."""
    with store.session() as session:
        claim = OutboxClaim(
            key=REQUEST.key,
            event_id=REQUEST.event_id,
            channel=Channel.VOICE,
            step=REQUEST.step,
            recipient=REQUEST.to,
            body=REQUEST.speech,
        )
        outbox.claim_all(session, [claim], datetime.now(UTC))
        outbox.mark_all(session, [OutboxMark(REQUEST.key, OutboxStatus.SENDING)], datetime.now(UTC))
        session.commit()
    result = await _attempt(_caller(store, twilio_sandbox))
    [call] = twilio_sandbox.calls_to(TO)
    assert result.provider_id == call.sid


async def test_a_number_the_provider_refuses_is_not_called_again(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    twilio_sandbox.faulty_numbers[TO] = Fault.INVALID_NUMBER
    caller = _caller(store, twilio_sandbox)
    for _ in range(2):
        with pytest.raises(ApplicationError) as refused:
            await _attempt(caller)
        assert refused.value.type == PERMANENT_DELIVERY_ERROR and refused.value.non_retryable
    assert twilio_sandbox.calls_to(TO) == []
    row = _row(store)
    assert row.status is OutboxStatus.FAILED and row.error_code == "21211"
