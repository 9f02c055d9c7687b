"""What staff do to an event (activate, read, close), for the API and the CLI alike."""

from datetime import UTC, datetime

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from definitions.event import CloseRequest, EventDeclaration, EventStart, EventStatus
from definitions.event_ids import new_event_id
from definitions.temporal_names import CLOSE_UPDATE, MAJOR_EVENT_WORKFLOW, STATUS_QUERY
from definitions.territory import load_territory
from definitions.territory.declared_area import area_problems


class EventNotFoundError(LookupError):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"événement inconnu : {event_id}")


class EventNotClosableError(RuntimeError):
    """The event is already being closed, or is closed."""


class DeclarationRefusedError(ValueError):
    """The declaration names places that do not exist; nothing was started."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_area(declaration: EventDeclaration) -> None:
    problems = area_problems(declaration, load_territory())
    if problems:
        raise DeclarationRefusedError(problems)


async def activate(
    client: Client, task_queue: str, declaration: EventDeclaration, declared_by: str
) -> str:
    """Start the event's workflow once its area is checked, and give back its id."""
    check_area(declaration)
    event_id = new_event_id(declaration.type, datetime.now(UTC).date())
    await client.start_workflow(
        MAJOR_EVENT_WORKFLOW,
        EventStart(event_id=event_id, declaration=declaration, declared_by=declared_by),
        id=event_id,
        task_queue=task_queue,
    )
    return event_id


async def status(client: Client, event_id: str) -> EventStatus:
    handle = client.get_workflow_handle(event_id)
    try:
        return await handle.query(STATUS_QUERY, result_type=EventStatus)
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise EventNotFoundError(event_id) from error
        raise


async def close(client: Client, event_id: str, request: CloseRequest) -> EventStatus:
    """Stand the event down and wait until it is closed."""
    handle = client.get_workflow_handle(event_id)
    try:
        return await handle.execute_update(CLOSE_UPDATE, request, result_type=EventStatus)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise EventNotClosableError(reason) from error
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        try:
            description = await handle.describe()
        except RPCError as describe_error:
            raise EventNotFoundError(event_id) from describe_error
        if description.raw_description.workflow_execution_info.status in (
            WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        ):
            raise EventNotClosableError("l'événement est déjà clos") from error
        raise
