"""Sending SMS with the real twilio client against the Twilio-compatible server:
once, whatever the retries, timeouts and crashes; permanent refusals stop."""

import asyncio
import json
import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import outbox_ledger
from activities.sms import LOOKUP_PAGE, SmsActivities
from definitions.loader import Definitions
from definitions.outgoing import (
    PERMANENT_DELIVERY_ERROR,
    Channel,
    OutboxEntry,
    OutboxStatus,
    SendResult,
    SmsRequest,
    idempotency_key,
)
from definitions.temporal_names import sms_task_queue
from store import outbox
from store.database import Store
from store.outbox import OutboxClaim, OutboxMark
from tests.conftest import BOTH_DATABASES, SCRIPTS, sms_sender
from tests.sms_burst import SmsBurstWorkflow
from worker.sandbox.twilio_server import Fault, TwilioSandbox
from worker.temporal_workers import Messaging, running_workers

TO = "+33639980042"


def _sender(store: Store, sandbox: TwilioSandbox) -> SmsActivities:
    return sms_sender(store, sandbox, timeout=0.5)


def _request(step: str = "support_request") -> SmsRequest:
    return SmsRequest(
        key=idempotency_key("inondation-20261122-k3f9", step, "ccas-59350-direction", Channel.SMS),
        event_id="inondation-20261122-k3f9",
        step=step,
        to=TO,
        body="UNCCAS - INONDATION Nord (59) : votre centre est-il mobilisé ? OK 5532",
    )


async def _attempt(sender: SmsActivities, request: SmsRequest) -> SendResult:
    """One activity attempt, as a Temporal retry would run it (in a worker thread)."""
    return await asyncio.to_thread(ActivityEnvironment().run, sender.send_sms, request)


def _row(store: Store, key: str) -> OutboxEntry:
    with store.session() as session:
        return next(entry for entry in outbox.entries(session) if entry.key == key)


@BOTH_DATABASES
async def test_a_message_is_sent_once_even_when_asked_twice(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    sender = _sender(store, twilio_sandbox)
    first = await _attempt(sender, _request())
    again = await _attempt(sender, _request())
    assert first.provider_id == again.provider_id
    [message] = twilio_sandbox.sent_to(TO)
    assert message.sid == first.provider_id and message.from_ == "+33639989999"
    row = _row(store, first.key)
    assert (row.status, row.provider_calls) == (OutboxStatus.QUEUED, 1)


def _outbox_command(store: Store, *args: str) -> str:
    listed = subprocess.run(
        [str(SCRIPTS / "tocsin"), "outbox", *args],
        env={**os.environ, "TOCSIN_DATABASE_URL": store.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return listed.stdout


async def test_the_outbox_command_shows_the_provider_id_and_the_key(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    """What an operator needs to find a message in the provider's console."""
    result = await _attempt(_sender(store, twilio_sandbox), _request())
    [message] = twilio_sandbox.sent_to(TO)
    [entry] = json.loads(_outbox_command(store, "--json"))
    assert (entry["provider_id"], entry["key"]) == (message.sid, result.key)
    assert (entry["status"], entry["recipient"]) == ("queued", "+33 6 ** ** ** 42")
    assert entry["body"] == _request().body
    text = _outbox_command(store)
    assert message.sid in text and result.key in text and "+33 6 ** ** ** 42" in text


@BOTH_DATABASES
async def test_transient_errors_are_retried_and_send_exactly_one(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    twilio_sandbox.faults.extend([Fault.SERVER_ERROR, Fault.RATE_LIMITED])
    sender = _sender(store, twilio_sandbox)
    for expected in (r"indisponible \(500\)", r"indisponible \(429\)"):
        with pytest.raises(ApplicationError, match=expected) as raised:
            await _attempt(sender, _request())
        assert not raised.value.non_retryable
        assert _row(store, _request().key).status is OutboxStatus.PENDING
    result = await _attempt(sender, _request())
    assert [m.sid for m in twilio_sandbox.sent_to(TO)] == [result.provider_id]
    assert _row(store, result.key).provider_calls == 3
    assert not result.duplicate_suspected


@BOTH_DATABASES
async def test_a_lost_answer_is_reconciled_with_the_provider_not_resent(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    twilio_sandbox.faults.append(Fault.TIMEOUT_AFTER_ACCEPT)
    sender = _sender(store, twilio_sandbox)
    with pytest.raises(requests.Timeout):
        await _attempt(sender, _request())
    assert _row(store, _request().key).status is OutboxStatus.SENDING
    result = await _attempt(sender, _request())
    [message] = twilio_sandbox.sent_to(TO)
    assert result.provider_id == message.sid
    assert _row(store, result.key).provider_calls == 1


def _left_sending(store: Store, request: SmsRequest) -> None:
    """The row of a worker that died after marking the message ``sending``."""
    with store.session() as session:
        claim = OutboxClaim(
            key=request.key,
            event_id=request.event_id,
            channel=Channel.SMS,
            step=request.step,
            recipient=request.to,
            body=request.body,
        )
        outbox.claim_all(session, [claim], datetime.now(UTC))
        outbox.mark_all(session, [OutboxMark(request.key, OutboxStatus.SENDING)], datetime.now(UTC))
        session.commit()


@BOTH_DATABASES
async def test_a_crash_before_the_provider_call_sends_once_and_is_counted(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    request = _request()
    sender = _sender(store, twilio_sandbox)
    _left_sending(store, request)
    result = await _attempt(sender, request)
    assert len(twilio_sandbox.sent_to(TO)) == 1
    assert result.duplicate_suspected
    assert _row(store, request.key).provider_calls == 2


async def test_a_duplicate_is_reported_only_when_the_provider_may_have_the_message(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    """A message the provider's list shows it never had leaves without a warning;
    when the list is longer than the look-up reads, an unread one may be it."""
    sender = _sender(store, twilio_sandbox)
    request = _request()
    _left_sending(store, request)
    with structlog.testing.capture_logs() as quiet:
        await _attempt(sender, request)
    assert [m.body for m in twilio_sandbox.sent_to(TO)] == [request.body]
    assert "sms.possible_duplicate" not in {line["event"] for line in quiet}

    others = [
        _request(f"situation_report_{n}").model_copy(update={"body": f"Point n°{n}"})
        for n in range(LOOKUP_PAGE)
    ]
    await asyncio.to_thread(ActivityEnvironment().run, sender.send_sms_batch, others)
    reminder = _request("support_reminder")
    _left_sending(store, reminder)
    with structlog.testing.capture_logs() as warned:
        await _attempt(sender, reminder)
    assert len(twilio_sandbox.sent_to(TO)) == LOOKUP_PAGE + 2
    assert [line["step"] for line in warned if line["event"] == "sms.possible_duplicate"] == [
        "support_reminder"
    ]


@BOTH_DATABASES
async def test_a_permanent_refusal_is_not_retried(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    twilio_sandbox.faults.append(Fault.INVALID_NUMBER)
    sender = _sender(store, twilio_sandbox)
    for _ in range(2):
        with pytest.raises(ApplicationError) as raised:
            await _attempt(sender, _request())
        assert raised.value.non_retryable and raised.value.type == PERMANENT_DELIVERY_ERROR
        assert raised.value.details == ("21211",)
    row = _row(store, _request().key)
    assert (row.status, row.error_code, row.provider_calls) == (OutboxStatus.FAILED, "21211", 1)
    assert twilio_sandbox.sent_to(TO) == []


async def test_the_sms_queue_keeps_to_its_rate(
    dev_env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
) -> None:
    """Thirty SMS asked for at once, at most five a second: the counts per second
    of what reached the provider show the limit the server enforces."""
    rate, count = 5.0, 30
    limited = replace(messaging, sms_per_second=rate)
    requests = [
        SmsRequest(
            key=f"burst-{task_queue}/{n}",
            event_id="inondation-20261122-k3f9",
            step="situation_report",
            to=f"+336399802{n:02d}",
            body=f"Point de situation {n}",
        )
        for n in range(count)
    ]
    burst_queue = f"{task_queue}-burst"
    async with (
        running_workers(dev_env.client, store, task_queue, definitions, limited),
        Worker(dev_env.client, task_queue=burst_queue, workflows=[SmsBurstWorkflow]),
    ):
        sent = await dev_env.client.execute_workflow(
            SmsBurstWorkflow.run,
            args=[sms_task_queue(task_queue), requests],
            id=f"burst-{task_queue}",
            task_queue=burst_queue,
        )
    assert sent == count
    moments = sorted(message.date_created for message in twilio_sandbox.messages)
    assert len(moments) == count
    busiest_second = max(
        sum(1 for other in moments if timedelta(0) <= other - moment < timedelta(seconds=1))
        for moment in moments
    )
    span = (moments[-1] - moments[0]).total_seconds()
    print(f"rate limit {rate}/s: {count} SMS over {span:.1f} s, busiest second {busiest_second}")
    assert busiest_second <= 2 * rate
    assert count / span <= rate * 1.25


async def test_a_batch_heartbeats_while_a_slow_provider_keeps_it_busy(
    store: Store, twilio_sandbox: TwilioSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat says the worker is alive whatever one call takes: Temporal hands
    the batch to another worker only when this one died."""
    monkeypatch.setattr(outbox_ledger, "HEARTBEAT_EVERY_SECONDS", 0.1)
    twilio_sandbox.timeout_delay = 0.3
    twilio_sandbox.faults.extend([Fault.TIMEOUT_AFTER_ACCEPT] * 3)
    sender = sms_sender(store, twilio_sandbox, timeout=5.0)
    requests = [_request(step) for step in ("support_request", "support_reminder", "escalation")]
    beats: list[tuple[object, ...]] = []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)
    results = await asyncio.to_thread(environment.run, sender.send_sms_batch, requests)
    assert [item.result is not None for item in results] == [True, True, True]
    assert len(beats) >= 5, beats


def _rename_outbox(store: Store, old: str, new: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


@BOTH_DATABASES
async def test_a_batch_whose_outcomes_cannot_be_written_is_retried_and_sends_none_twice(
    store: Store, twilio_sandbox: TwilioSandbox
) -> None:
    """A batch writes its outcomes together: when the database fails after the
    messages left, the batch fails, and its retry finds them at the provider."""
    twilio_sandbox.timeout_delay = 0.4
    twilio_sandbox.faults.extend([Fault.TIMEOUT_AFTER_ACCEPT] * 2)
    sender = sms_sender(store, twilio_sandbox, timeout=5.0)
    batch = [
        _request().model_copy(update={"key": f"{_request().key}-{n}", "to": f"+3363998004{n}"})
        for n in (1, 2)
    ]
    sending = asyncio.create_task(
        asyncio.to_thread(ActivityEnvironment().run, sender.send_sms_batch, batch)
    )
    async with asyncio.timeout(10):
        while True:
            if twilio_sandbox.messages:
                break
            await asyncio.sleep(0.01)
    _rename_outbox(store, "outbox", "outbox_away")
    with pytest.raises(DBAPIError):
        await sending
    _rename_outbox(store, "outbox_away", "outbox")
    assert {_row(store, request.key).status for request in batch} == {OutboxStatus.SENDING}
    results = await asyncio.to_thread(ActivityEnvironment().run, sender.send_sms_batch, batch)
    sids = {message.to: message.sid for message in twilio_sandbox.messages}
    assert len(twilio_sandbox.messages) == 2
    for request, item in zip(batch, results, strict=True):
        assert item.result is not None and item.result.provider_id == sids[request.to]
        row = _row(store, request.key)
        assert (row.status, row.provider_id) == (OutboxStatus.QUEUED, sids[request.to])
