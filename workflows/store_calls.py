"""Calling the activities that read or write Tocsin's own store and definitions:
quick, and retried until the database answers, since nothing else can stand in.

They run as local activities, in the worker that runs the workflow: no task is
dispatched through the server, and several of them fit in one workflow task. A
national activation made about ten such round trips per department and the first
SMS of an event waited behind ten of them.
"""

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

Result = TypeVar("Result")

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
LOCAL_STORE_CALLS_PATCH = "local-store-calls"
"""Runs recorded before it called the store through ordinary activities."""


async def call_store(
    activity_name: str, *args: object, result_type: type[Result] | None = None
) -> Result:
    options: dict[str, Any] = {
        "args": list(args),
        "result_type": result_type,
        "start_to_close_timeout": STORE_TIMEOUT,
        "retry_policy": STORE_RETRY,
    }
    if workflow.patched(LOCAL_STORE_CALLS_PATCH):
        return await workflow.execute_local_activity(activity_name, **options)
    return await workflow.execute_activity(activity_name, **options)
