"""Placing calls with the real twilio client against the Twilio-compatible server:
one call per question, whatever the retries, lost answers and crashes; a
permanent refusal stops. Each call is counted once in the metrics, placed and
as it ended."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
import requests
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment
from twilio.request_validator import RequestValidator

from activities.voice import VoiceActivities, VoiceSettings
from definitions.metrics import CALLS_ENDED, MESSAGES_SENT, TocsinMetrics
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
    idempotency_key,
)
from definitions.voice_calls import VOICE_STATUS_WEBHOOK, CallRequest
from gateway.twilio_voice import VoiceWebhooks, voice_router
from gateway.twilio_webhooks import TwilioWebhooks
from store import outbox
from store.database import Store
from store.outbox import OutboxClaim, OutboxMark
from tests.conftest import NO_GATEWAY, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.prometheus_text import scrape
from worker.ports import free_port
from worker.sandbox.twilio_server import Fault, TwilioSandbox

TO = "+33639980101"
PUBLIC_URL = NO_GATEWAY
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
        public_url=PUBLIC_URL,
        base_url=sandbox.base_url,
        timeout_seconds=0.5,
    )
    return VoiceActivities(store, settings)


async def _attempt(caller: VoiceActivities, meter: MetricMeter = MetricMeter.noop) -> SendResult:
    """One activity attempt, as a Temporal retry would run it (in a worker thread)."""
    environment = ActivityEnvironment()
    environment.metric_meter = meter
    return await asyncio.to_thread(environment.run, caller.place_call, REQUEST)


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


async def test_each_call_is_counted_once_placed_and_once_ended(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    """Placed (whatever the retries) by the worker; ended by the gateway's status
    callbacks, whose final status counts once however late or repeated."""
    address = f"127.0.0.1:{free_port()}"
    served = PrometheusConfig(bind_address=address, counters_total_suffix=True)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=served))
    caller = _caller(store, twilio_sandbox)
    for _ in range(2):
        placed = await _attempt(caller, runtime.metric_meter)
    metrics = TocsinMetrics(runtime.metric_meter)
    never_asked = await Client.connect("127.0.0.1:1", lazy=True)
    webhooks = TwilioWebhooks(store, never_asked, metrics, TWILIO_AUTH_TOKEN, PUBLIC_URL)
    app = FastAPI()
    app.include_router(voice_router(VoiceWebhooks(store, webhooks, metrics, PUBLIC_URL)))
    signer = RequestValidator(TWILIO_AUTH_TOKEN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL
    ) as gateway:
        for progress in ("ringing", "in-progress", "completed", "completed", "busy"):
            form = {"CallSid": placed.provider_id, "CallStatus": progress}
            signature = signer.compute_signature(PUBLIC_URL + VOICE_STATUS_WEBHOOK, form)
            answer = await gateway.post(
                VOICE_STATUS_WEBHOOK, data=form, headers={"X-Twilio-Signature": signature}
            )
            assert answer.status_code == 204
    samples = await scrape(address)
    assert samples.total(f"{MESSAGES_SENT}_total", channel="voice") == 1
    assert samples.total(f"{CALLS_ENDED}_total", status="completed") == 1
    assert samples.total(f"{CALLS_ENDED}_total") == 1
