"""Calling the activities that read or write Tocsin's own store and definitions:
quick, and retried until the database answers, since nothing else can stand in.

Reads run as local activities, in the worker that runs the workflow: no task is
dispatched through the server, and several of them fit in one workflow task (a
national activation made about ten round trips per department). Writes stay ordinary
activities: a local activity also runs in workflow task attempts that Temporal then
discards, and the attempt that commits may differ (more answers arrived meanwhile),
so a crisis-log entry numbered in the discarded attempt would take the place of the
committed one in the append-only log.

A read is known by its activity's name: a workflow module that imported the stubs
otherwise than through the sandbox's passthrough would hold copies of them.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import workflows.activity_stubs as stubs
    from definitions import temporal_names as names
    from definitions.awaited_replies import ReplyCodeClosure

Arg = TypeVar("Arg")
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
"""Stubs are named as their activities (tests/test_activity_contracts.py checks it)."""


@overload
async def call_store(activity: Callable[[], Awaitable[Result]]) -> Result: ...


@overload
async def call_store(activity: Callable[[Arg], Awaitable[Result]], arg: Arg, /) -> Result: ...


async def call_store(activity: Callable[..., Awaitable[Result]], *args: Any) -> Result:
    """``activity`` is one of workflows/activity_stubs.py: its types are the call's."""
    if activity.__name__ in STORE_READS:
        return await workflow.execute_local_activity(
            activity,
            args=list(args),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
    return await workflow.execute_activity(
        activity, args=list(args), start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
    )


async def close_reply_codes(task_keys: list[str]) -> None:
    """The calling workflow's codes of these tasks, answered or no longer awaited."""
    if task_keys:
        await call_store(
            stubs.close_reply_codes,
            ReplyCodeClosure(workflow_id=workflow.info().workflow_id, task_keys=task_keys),
        )


async def close_all_reply_codes() -> None:
    """Every code of the calling workflow, as it ends."""
    await call_store(
        stubs.close_reply_codes, ReplyCodeClosure(workflow_id=workflow.info().workflow_id)
    )
