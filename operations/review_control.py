"""What staff do with an event's after-action review, for the API and the CLI alike:
read where it stands, add an action to its plan."""

from anyio import to_thread
from temporalio.client import Client

from definitions.review import PlannedAction, ReviewStatus
from definitions.temporal_names import PLAN_ACTION_UPDATE, review_workflow_id
from operations import event_control
from operations.committee_control import check_people
from store.database import Store

NO_REVIEW = (
    "l'événement n'a pas de retour d'expérience en cours (il commence à la levée du "
    "dispositif : tocsin close EVENT)"
)


async def status(client: Client, event_id: str) -> ReviewStatus:
    return await event_control.query_status(
        client,
        review_workflow_id(event_id),
        event_id=event_id,
        result_type=ReviewStatus,
        not_running=NO_REVIEW,
    )


async def plan_action(
    client: Client, store: Store, event_id: str, action: PlannedAction
) -> ReviewStatus:
    """Answers once the owner has been told."""
    await to_thread.run_sync(check_people, store, [action.owner_id])
    return await event_control.update_workflow(
        client,
        review_workflow_id(event_id),
        PLAN_ACTION_UPDATE,
        action,
        event_id=event_id,
        result_type=ReviewStatus,
        not_running=NO_REVIEW,
    )
