"""One call rate for the whole deployment: two workers' voice pollers share the calls
of one burst, and the provider receives them at ``TOCSIN_CALLS_PER_SECOND``, not at
that rate once per worker. The rate is the calls task queue's, kept by the Temporal
server (a real one: the time-skipping server keeps none)."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from definitions.loader import Definitions
from definitions.outgoing import Channel, idempotency_key
from definitions.temporal_names import voice_task_queue
from definitions.voice_calls import CallRequest
from store.database import Store
from worker.sandbox.twilio_server import TwilioSandbox
from worker.temporal_workers import Messaging, build_workers, shut_down
from workflows import activity_stubs as stubs
from workflows.send_policy import SEND_RETRY, SEND_TIMEOUT

RATE = 4.0
CALLS = 17
WORKERS = 2
UNHURRIED = (CALLS - RATE) / RATE
"""The least time the calls take: the server hands the queue's tokens out once a
second, so a second's worth may leave at once, then RATE a second. Two workers
each keeping the rate would place them in half that."""


@workflow.defn(sandboxed=False)
class PlaceCalls:
    """Asks the calls task queue for every call at once, as an escalation calling
    many centres does (from a queue of its own: the deployment's main workers poll
    the main one)."""

    @workflow.run
    async def run(self, voice_queue: str, requests: list[CallRequest]) -> None:
        await asyncio.gather(
            *(
                workflow.execute_activity(
                    stubs.place_call,
                    request,
                    task_queue=voice_queue,
                    start_to_close_timeout=SEND_TIMEOUT,
                    retry_policy=SEND_RETRY,
                )
                for request in requests
            )
        )


def _requests(event_id: str) -> list[CallRequest]:
    return [
        CallRequest(
            key=idempotency_key(event_id, "staff_alert", f"astreinte-{n}", Channel.VOICE),
            event_id=event_id,
            step="staff_alert",
            to=f"+336399803{n:02d}",
            speech="Message de Tocsin pour l'astreinte UNCCAS. Exercice de débit.",
        )
        for n in range(CALLS)
    ]


@contextlib.asynccontextmanager
async def _deployment(
    env: WorkflowEnvironment,
    store: Store,
    task_queue: str,
    definitions: Definitions,
    messaging: Messaging,
) -> AsyncIterator[None]:
    """WORKERS workers as a deployment builds them, each with its own identity."""
    workers: list[Worker] = []
    for number in range(1, WORKERS + 1):
        client = await Client.connect(
            env.client.service_client.config.target_host,
            namespace=env.client.namespace,
            data_converter=env.client.data_converter,
            identity=f"worker-{number}",
        )
        workers += build_workers(client, store, task_queue, definitions, messaging)
    running = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield
    finally:
        await shut_down(workers)
        await asyncio.gather(*running, return_exceptions=True)


async def test_two_workers_keep_one_call_rate_at_the_provider(
    dev_env: WorkflowEnvironment,
    store: Store,
    definitions: Definitions,
    messaging: Messaging,
    twilio_sandbox: TwilioSandbox,
) -> None:
    task_queue = f"appels-{uuid.uuid4().hex[:8]}"
    twilio_sandbox.reports_progress = False
    event_id = f"attentat-debit-{uuid.uuid4().hex[:6]}"
    async with (
        _deployment(
            dev_env, store, task_queue, definitions, replace(messaging, calls_per_second=RATE)
        ),
        Worker(dev_env.client, task_queue=f"{task_queue}-essai", workflows=[PlaceCalls]),
    ):
        handle = await dev_env.client.start_workflow(
            PlaceCalls.run,
            args=[voice_task_queue(task_queue), _requests(event_id)],
            id=event_id,
            task_queue=f"{task_queue}-essai",
        )
        await handle.result()
        history = await handle.fetch_history()
    callers = {
        event.activity_task_started_event_attributes.identity
        for event in history.events
        if event.HasField("activity_task_started_event_attributes")
    }
    moments = sorted(call.date_created for call in twilio_sandbox.calls)
    span = (moments[-1] - moments[0]).total_seconds()
    print(f"{len(moments)} calls in {span:.2f} s by {sorted(callers)}")
    assert len(moments) == CALLS
    assert callers == {"worker-1", "worker-2"}
    assert span >= UNHURRIED, span
