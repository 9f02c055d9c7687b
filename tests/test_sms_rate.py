"""One SMS rate for the whole deployment: three ``tocsin worker`` processes on one
Temporal server send two departments' support requests, and the provider receives
them at ``TOCSIN_SMS_PER_SECOND``, not at that rate once per process."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from definitions.temporal_names import SEND_SMS_BATCH, mobilisation_workflow_id
from tests.fault_injection import (
    CI_SIZE,
    SUPPORT_REQUEST_MARK,
    FaultStack,
    running_fault_stack,
)

pytestmark = pytest.mark.heavy
RATE = 20.0
WINDOW = timedelta(seconds=5)
WORKERS = 3
DEPARTMENTS = ["59", "44"]
"""290 SMS in seven batches of at most fifty: about fifteen seconds at 20 a second,
and enough batches in flight that more than one worker process sends."""
SIZE = replace(CI_SIZE, sms_per_second=RATE)
JITTER = 0.1
"""Slots are 1/RATE apart, but the sandbox stamps each SMS when its event loop (the
test's, busy with the SMTP sandbox and the delivery callbacks) reads it, on a
shared 2-core machine: arrivals ran up to 0.3 s late, and a late one bunches with
the next. Three processes each keeping the rate would send three times as many."""


@pytest_asyncio.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    async with running_fault_stack(tmp_path_factory.mktemp("sms-rate"), SIZE) as running:
        for _ in range(WORKERS - 1):
            await running.start_worker()
        yield running


def _busiest_window(moments: list[datetime]) -> int:
    """The most messages received within any WINDOW (both ends counted)."""
    return max(
        sum(1 for other in moments if timedelta(0) <= other - moment <= WINDOW)
        for moment in moments
    )


async def _sms_senders(stack: FaultStack, event_id: str) -> set[str]:
    """The workers (identities) that ran the departments' SMS batches."""
    senders: set[str] = set()
    for department in DEPARTMENTS:
        workflow_id = mobilisation_workflow_id(event_id, department)
        events = (await stack.client.get_workflow_handle(workflow_id).fetch_history()).events
        batches = {
            event.event_id
            for event in events
            if event.activity_task_scheduled_event_attributes.activity_type.name == SEND_SMS_BATCH
        }
        senders |= {
            event.activity_task_started_event_attributes.identity
            for event in events
            if event.activity_task_started_event_attributes.scheduled_event_id in batches
        }
    return senders


async def test_three_worker_processes_keep_one_rate_at_the_provider(stack: FaultStack) -> None:
    since = stack.mark()
    wanted = sum(stack.expected(department).sms for department in DEPARTMENTS)
    event_id = await stack.activate(DEPARTMENTS, "Débit partagé")
    async with asyncio.timeout(120):
        while True:
            received = [
                message
                for message in stack.twilio.messages[since.sms :]
                if SUPPORT_REQUEST_MARK in message.body
            ]
            if len(received) >= wanted:
                break
            await asyncio.sleep(0.2)
    senders = await _sms_senders(stack, event_id)
    await stack.stand_down(event_id)

    every_sms = sorted(message.date_created for message in stack.twilio.messages[since.sms :])
    requests = sorted(message.date_created for message in received)
    rate = (len(requests) - 1) / (requests[-1] - requests[0]).total_seconds()
    busiest = _busiest_window(every_sms)
    print(f"{len(requests)} SMS at {rate:.2f}/s by {len(senders)} workers; busiest 5 s: {busiest}")
    assert len(requests) == wanted
    assert len(senders) > 1, senders
    assert abs(rate - RATE) <= 0.05 * RATE, rate
    assert busiest <= (1 + JITTER) * RATE * WINDOW.total_seconds(), busiest
