"""Publishing the guide of good practice to the network, for the CLI and the console
alike: one diffusion workflow per type and scope; asked again while it runs, the
running one is followed rather than a second started."""

import asyncio
from collections.abc import Callable
from typing import Any

from anyio import to_thread
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from definitions.event_type import EventType
from definitions.guide import (
    GuideDiffusionProgress,
    GuideDiffusionStart,
    guide_diffusion_workflow_id,
)
from definitions.temporal_names import GUIDE_DIFFUSION_WORKFLOW, GUIDE_PROGRESS_QUERY
from definitions.territory import load_territory

PROGRESS_EVERY_SECONDS = 1.0


class UnknownDepartmentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"département inconnu : {code}")


async def start(
    client: Client, task_queue: str, event_type: EventType, department: str | None
) -> WorkflowHandle[Any, GuideDiffusionProgress]:
    """The diffusion started, or the one already running for this type and scope."""
    if department is not None:
        territory = await to_thread.run_sync(load_territory)
        if territory.department(department) is None:
            raise UnknownDepartmentError(department)
    return await client.start_workflow(
        GUIDE_DIFFUSION_WORKFLOW,
        GuideDiffusionStart(event_type=event_type, department=department),
        id=guide_diffusion_workflow_id(event_type, department),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=GuideDiffusionProgress,
    )


async def publish(
    client: Client,
    task_queue: str,
    event_type: EventType,
    department: str | None,
    on_progress: Callable[[GuideDiffusionProgress], None] = lambda _: None,
) -> GuideDiffusionProgress:
    """The diffusion's final count; ``on_progress`` is told of each change meanwhile."""
    handle = await start(client, task_queue, event_type, department)
    result = asyncio.ensure_future(handle.result())
    shown = -1
    while not result.done():
        await asyncio.wait([result], timeout=PROGRESS_EVERY_SECONDS)
        if result.done():
            break
        progress = await handle.query(GUIDE_PROGRESS_QUERY, result_type=GuideDiffusionProgress)
        if progress.edition is not None and progress.done != shown:
            shown = progress.done
            on_progress(progress)
    final: GuideDiffusionProgress = await result
    return final
