"""Calling the activities that read or write Tocsin's own store and definitions:
quick, and retried until the database answers, since nothing else can stand in."""

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

Result = TypeVar("Result")

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


async def call_store(
    activity_name: str, *args: object, result_type: type[Result] | None = None
) -> Result:
    return await workflow.execute_activity(
        activity_name,
        args=list(args),
        result_type=result_type,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
