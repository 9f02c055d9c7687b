"""What staff do to an event (activate, read, designate, broadcast, change its alert
level, extend, close),
for the API and the CLI alike. Their store reads and area checks run in a thread:
the gateway's event loop serves the other requests meanwhile."""

from datetime import UTC, datetime
from typing import TypeVar

from anyio import to_thread
from pydantic import BaseModel
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from definitions.alert_levels import AlertLevelChange
from definitions.committee import CommitteePhaseRequest
from definitions.designation import RepresentativeChange
from definitions.event import CloseRequest, EventDeclaration, EventStart
from definitions.event_ids import new_event_id
from definitions.event_status import EventStatus
from definitions.mobilisation import (
    AreaExtension,
    SituationReport,
)
from definitions.temporal_names import (
    ALERT_LEVEL_UPDATE,
    BROADCAST_UPDATE,
    CHANGE_REPRESENTATIVE_UPDATE,
    CLOSE_UPDATE,
    ENTER_COMMITTEE_UPDATE,
    EXTEND_AREA_UPDATE,
    MAJOR_EVENT_WORKFLOW,
    STATUS_QUERY,
)
from definitions.territory import load_territory
from definitions.territory.declared_area import area_problems
from store import directory
from store.database import Store

Result = TypeVar("Result")


class EventNotFoundError(LookupError):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"événement inconnu : {event_id}")


class EventConflictError(RuntimeError):
    """The event refuses the request in its present state (closing, closed,
    already searching for a representative…)."""


class UnknownContactError(LookupError):
    def __init__(self, contact_id: str) -> None:
        super().__init__(f"contact inconnu dans l'annuaire : {contact_id}")


class UnreachableContactError(ValueError):
    def __init__(self, contact_id: str) -> None:
        super().__init__(f"le contact {contact_id} n'a ni téléphone ni email dans l'annuaire")


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
    await to_thread.run_sync(check_area, declaration)
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
        current: EventStatus = await handle.query(STATUS_QUERY, result_type=EventStatus)
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise EventNotFoundError(event_id) from error
        raise
    return current


async def close(client: Client, event_id: str, request: CloseRequest) -> EventStatus:
    """Stand the event down and wait until it is closed."""
    return await _update(client, event_id, CLOSE_UPDATE, request)


async def change_representative(
    client: Client, store: Store, event_id: str, change: RepresentativeChange
) -> EventStatus:
    """Designate ``change.contact_id`` (or search anew) and wait until it is done.
    The event, then the contact, are checked here: the workflow trusts what it is given."""
    await status(client, event_id)
    if change.contact_id is not None:
        await to_thread.run_sync(check_contact, store, change.contact_id)
    return await _update(client, event_id, CHANGE_REPRESENTATIVE_UPDATE, change)


def check_contact(store: Store, contact_id: str) -> None:
    """The contact exists and can be reached."""
    with store.session() as session:
        contact = directory.contact(session, contact_id)
    if contact is None:
        raise UnknownContactError(contact_id)
    if not contact.phone and not contact.email:
        raise UnreachableContactError(contact_id)


async def broadcast(client: Client, event_id: str, report: SituationReport) -> EventStatus:
    """Hand a point de situation to every department; they send it at their pace."""
    return await _update(client, event_id, BROADCAST_UPDATE, report)


async def change_alert_level(
    client: Client, event_id: str, change: AlertLevelChange
) -> EventStatus:
    """Record the level the prefecture announced; every mobilised centre is told."""
    return await _update(client, event_id, ALERT_LEVEL_UPDATE, change)


async def extend(client: Client, event_id: str, extension: AreaExtension) -> EventStatus:
    """Grow the area once every place named exists; codes are written the canonical way."""
    current = await status(client, event_id)
    added = EventDeclaration(
        type=current.type,
        communes=extension.communes,
        departments=extension.departments,
        title=current.title,
    )
    await to_thread.run_sync(check_area, added)
    cleaned = extension.model_copy(
        update={"communes": added.communes, "departments": added.departments}
    )
    return await _update(client, event_id, EXTEND_AREA_UPDATE, cleaned)


async def enter_committee(
    client: Client, event_id: str, request: CommitteePhaseRequest
) -> EventStatus:
    """End the acute phase; answers once the liaison with the committees runs."""
    return await _update(client, event_id, ENTER_COMMITTEE_UPDATE, request)


async def _update(client: Client, event_id: str, name: str, argument: BaseModel) -> EventStatus:
    return await update_workflow(
        client, event_id, name, argument, event_id=event_id, result_type=EventStatus
    )


async def query_status(
    client: Client, workflow_id: str, *, event_id: str, result_type: type[Result], not_running: str
) -> Result:
    """The status of one of the event's workflows; a missing workflow as an unknown
    event, or as ``not_running`` (the event is not in the phase it serves)."""
    try:
        found: Result = await client.get_workflow_handle(workflow_id).query(
            STATUS_QUERY, result_type=result_type
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        await status(client, event_id)
        raise EventConflictError(not_running) from error
    return found


async def update_workflow(
    client: Client,
    workflow_id: str,
    name: str,
    argument: BaseModel,
    *,
    event_id: str,
    result_type: type[Result],
    not_running: str | None = None,
) -> Result:
    """An update to one of the event's workflows; its refusal as a conflict, and a
    missing workflow as the event being closed, or as ``not_running`` (the event
    is not in the phase that workflow serves)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        updated: Result = await handle.execute_update(name, argument, result_type=result_type)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise EventConflictError(reason) from error
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        try:
            description = await client.get_workflow_handle(event_id).describe()
        except RPCError as describe_error:
            raise EventNotFoundError(event_id) from describe_error
        if description.raw_description.workflow_execution_info.status in (
            WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        ):
            raise EventConflictError("l'événement est déjà clos") from error
        if not_running is not None:
            raise EventConflictError(not_running) from error
        raise
    return updated
