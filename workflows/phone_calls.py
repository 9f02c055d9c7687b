"""How a workflow calls someone: one call per question, placed on the calls
queue (held to the provider's calls-per-second rate), given up when it could
no longer be answered in time."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions.outgoing import Channel, idempotency_key
    from definitions.temporal_names import voice_task_queue
    from definitions.voice_calls import CallRequest
    from workflows.send_policy import SEND_RETRY, SEND_TIMEOUT

MINIMUM_WINDOW = timedelta(minutes=1)


def call_request(
    *,
    event_id: str,
    step: str,
    contact_id: str,
    phone: str,
    speech: str,
    code: str | None = None,
    instance: str = "",
) -> CallRequest:
    """The call for ``step`` to one person (``instance`` tells apart the same step
    asked again on purpose, as for messages): asked again, it has the same key, so
    it is placed once."""
    return CallRequest(
        key=idempotency_key(
            workflow.info().workflow_id, step + instance, contact_id, Channel.VOICE
        ),
        event_id=event_id,
        step=step,
        to=phone,
        speech=speech,
        code=code,
    )


async def place_call(request: CallRequest, within: timedelta) -> str | None:
    """None once the provider has the call, else why it was not placed."""
    try:
        await workflow.execute_activity(
            stubs.place_call,
            request,
            task_queue=voice_task_queue(workflow.info().task_queue),
            start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=max(within, MINIMUM_WINDOW),
            retry_policy=SEND_RETRY,
        )
    except ActivityError as error:
        return str(error.cause)
    return None
