"""Waiting for a worker process to take work: it polls only after seconds of imports
and reading the territory, and a clock started before that measures the wrong thing."""

import asyncio

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from definitions.temporal_names import email_task_queue, sms_task_queue

POLL_WAIT_SECONDS = 60.0


async def until_polled(client: Client, task_queue: str, workers: int = 1) -> None:
    """Until that many workers poll Tocsin's queues: workflows and activities on the
    main one, activities on the SMS and email ones."""
    polled = (
        (task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        (task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        (sms_task_queue(task_queue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        (email_task_queue(task_queue), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    )
    async with asyncio.timeout(POLL_WAIT_SECONDS):
        for name, task_type in polled:
            request = DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=name),
                task_queue_type=task_type,
            )
            while True:
                found = await client.workflow_service.describe_task_queue(request)
                if len(found.pollers) >= workers:
                    break
                await asyncio.sleep(0.1)
