"""The Temporal worker: every workflow and activity of Tocsin on one task queue."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.event_preparation import EventPreparationActivities
from activities.event_records import EventRecordActivities
from definitions.loader import Definitions
from store.database import Store
from workflows.major_event import MajorEventWorkflow

ACTIVITY_THREADS = 16
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def build_worker(client: Client, store: Store, task_queue: str, definitions: Definitions) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MajorEventWorkflow],
        activities=[
            *EventRecordActivities(store).all,
            *EventPreparationActivities(store, definitions).all,
        ],
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix="activity"),
        max_concurrent_activities=ACTIVITY_THREADS,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
