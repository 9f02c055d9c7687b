"""Calling the activities that read or write Tocsin's own store and definitions:
quick, and retried until the database answers, since nothing else can stand in.

Reads run as local activities, in the worker that runs the workflow: no task is
dispatched through the server, and several of them fit in one workflow task (a
national activation made about ten round trips per department). Writes stay ordinary
activities: a local activity also runs in workflow task attempts that Temporal then
discards, and the attempt that commits may differ (more answers arrived meanwhile),
so a crisis-log entry numbered in the discarded attempt would take the place of the
committed one in the append-only log.
"""

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from definitions import temporal_names as names
    from definitions.awaited_replies import ReplyCodeClosure

Result = TypeVar("Result")

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
STORE_READS = frozenset(
    {
        names.BUSY_REPRESENTATIVES,
        names.LOAD_NEIGHBOURS,
        names.LOAD_ON_CALL_STAFF,
        names.LOAD_PEOPLE,
        names.LOAD_PERSON,
        names.LOAD_PROTOCOL,
        names.LOAD_ROSTER,
        names.LOAD_STATE_RECIPIENTS,
        names.LOAD_SUPPORT_TARGETS,
        names.LOAD_TEMPLATES,
        names.RESOLVE_TERRITORY,
        names.UNANSWERED_QUESTIONNAIRES,
    }
)


async def call_store(
    activity_name: str, *args: object, result_type: type[Result] | None = None
) -> Result:
    options: dict[str, Any] = {
        "args": list(args),
        "result_type": result_type,
        "start_to_close_timeout": STORE_TIMEOUT,
        "retry_policy": STORE_RETRY,
    }
    if activity_name in STORE_READS:
        return await workflow.execute_local_activity(activity_name, **options)
    return await workflow.execute_activity(activity_name, **options)


async def close_reply_codes(task_keys: list[str]) -> None:
    """The calling workflow's codes of these tasks, answered or no longer awaited."""
    if task_keys:
        await call_store(
            names.CLOSE_REPLY_CODES,
            ReplyCodeClosure(workflow_id=workflow.info().workflow_id, task_keys=task_keys),
        )


async def close_all_reply_codes() -> None:
    """Every code of the calling workflow, as it ends."""
    await call_store(
        names.CLOSE_REPLY_CODES, ReplyCodeClosure(workflow_id=workflow.info().workflow_id)
    )
