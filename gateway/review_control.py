"""What staff do with an event's after-action review, for the API and the CLI alike:
read where it stands, add an action to its plan."""

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from definitions.review import PlannedAction, ReviewStatus
from definitions.temporal_names import PLAN_ACTION_UPDATE, STATUS_QUERY, review_workflow_id
from gateway import event_control
from gateway.committee_control import check_people
from store.database import Store

NO_REVIEW = (
    "l'événement n'a pas de retour d'expérience en cours (il commence à la levée du "
    "dispositif : tocsin close EVENT)"
)


async def status(client: Client, event_id: str) -> ReviewStatus:
    handle = client.get_workflow_handle(review_workflow_id(event_id))
    try:
        return await handle.query(STATUS_QUERY, result_type=ReviewStatus)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        await event_control.status(client, event_id)
        raise event_control.EventConflictError(NO_REVIEW) from error


async def plan_action(
    client: Client, store: Store, event_id: str, action: PlannedAction
) -> ReviewStatus:
    """Answers once the owner has been told."""
    check_people(store, [action.owner_id])
    return await event_control.update_workflow(
        client,
        review_workflow_id(event_id),
        PLAN_ACTION_UPDATE,
        action,
        event_id=event_id,
        result_type=ReviewStatus,
        not_running=NO_REVIEW,
    )
