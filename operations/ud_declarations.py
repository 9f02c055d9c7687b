"""A departmental union's real declaration: on-call staff are told by a workflow of
its own, started beside the event's, so that the event's history is unchanged."""

from temporalio.client import Client

from definitions.accounts import Account
from definitions.event import EventDeclaration
from definitions.staff_notice import StaffNoticeStart, staff_notice_workflow_id
from definitions.temporal_names import STAFF_NOTICE_WORKFLOW


async def tell_staff(
    client: Client,
    task_queue: str,
    event_id: str,
    declaration: EventDeclaration,
    account: Account,
) -> None:
    await client.start_workflow(
        STAFF_NOTICE_WORKFLOW,
        StaffNoticeStart(
            event_id=event_id,
            declaration=declaration,
            declared_by=f"{account.name} ({account.login})",
        ),
        id=staff_notice_workflow_id(event_id),
        task_queue=task_queue,
    )
